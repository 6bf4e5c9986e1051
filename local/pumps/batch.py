"""How a Lambda's answer to a batch is read, as the event source mapping reads it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from local.lambda_runner import LambdaRunner, LocalFunction

log = logging.getLogger("local.pumps")


@dataclass(frozen=True)
class BatchOutcome:
    function_error: bool  # the function raised or timed out: the whole batch failed
    failed_ids: tuple[str, ...]  # itemIdentifiers reported in batchItemFailures

    @property
    def succeeded(self) -> bool:
        return not self.function_error and not self.failed_ids


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
