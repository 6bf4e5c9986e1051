"""How a Lambda's answer to a batch is read, as the event source mapping reads it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from local.lambda_runner import REQUEST_LIMIT_BYTES, SYNC, LambdaRunner, LocalFunction, request_bytes

log = logging.getLogger("local.pumps")


@dataclass(frozen=True)
class BatchOutcome:
    function_error: bool  # the function raised or timed out: the whole batch failed
    failed_ids: tuple[str, ...]  # itemIdentifiers reported in batchItemFailures

    @property
    def succeeded(self) -> bool:
        return not self.function_error and not self.failed_ids


def fitting_batches(records: list[dict[str, Any]], limit: int = REQUEST_LIMIT_BYTES[SYNC]) -> Iterator[list[Any]]:
    """Consecutive runs of `records` whose `{"Records": [...]}` event fits Lambda's synchronous payload quota, as
    an event source mapping builds its batches ("up to the payload limit for synchronous invocation (6 MB)").
    A record too large on its own goes alone, and is refused like on AWS."""
    envelope = request_bytes({"Records": []})
    batch: list[dict[str, Any]] = []
    size = envelope
    for record in records:
        record_size = request_bytes(record) + (1 if batch else 0)  # and its comma
        if batch and size + record_size > limit:
            yield batch
            batch, size, record_size = [], envelope, record_size - 1
        batch.append(record)
        size += record_size
    if batch:
        yield batch


def invoke_batch(
    runner: LambdaRunner, function: LocalFunction, event: dict[str, Any], ids: list[str], report_failures: bool
) -> BatchOutcome:
    try:
        result = runner.invoke(function, event)
    except Exception:
        log.exception("%s failed on a batch of %d", function.name, len(ids))
        return BatchOutcome(function_error=True, failed_ids=tuple(ids))
    if not report_failures or not isinstance(result, dict):
        return BatchOutcome(function_error=False, failed_ids=())
    failures = result.get("batchItemFailures") or []
    failed = [item.get("itemIdentifier") if isinstance(item, dict) else None for item in failures]
    # Lambda treats a malformed or unknown identifier as a failure of the whole batch.
    if any(identifier not in ids for identifier in failed):
        log.error("%s reported an unknown batch item identifier; retrying the whole batch", function.name)
        return BatchOutcome(function_error=False, failed_ids=tuple(ids))
    return BatchOutcome(function_error=False, failed_ids=tuple(str(identifier) for identifier in failed))
