"""moto's SQS reading one queue attribute without building the queue's whole attribute map.

moto 5.2.5 answers "is content-based deduplication on?" and "how long are messages kept?" through
`Queue.attributes`, which builds every attribute the queue has (~20 names each converted from CamelCase by
`camelcase_to_underscores`, a character-by-character walk; the messages listed three times for the approximate
counts; the policies dumped to JSON) and reads one entry of it: six times per message sent to a FIFO queue (twice
in each of the two `_validate_message` calls of a batch entry, once in `Queue.add_message`, once in
`send_message`) and three times per message received (`is_message_valid_based_on_retention_period` asks
`get_queue_attributes`). That was most of the CPU of the local cloud's SendMessageBatch and ReceiveMessage
(docs/LOCAL_CLOUD.md, "Where the time goes").

Here each of those readers reads the attribute itself, shown as `Queue.attributes` shows it (a bool as
"true"/"false"), and `camelcase_to_underscores`, a pure function of its string, is remembered for the names moto's
SQS converts (the map is still built, for the same answer, where it is asked for whole: GetQueueAttributes,
CreateQueue of an existing name, and `SQSBackend.send_message`'s one read, left as it is because
local/moto_sqs_limits.py wraps that method). Everything else is moto's code as it was: the same checks in the same
order, the same errors, the same random draws (message ids, sequence numbers, receipt handles), the same clock
reads. Each replaced function is fingerprinted against the source it was written against; another moto stops the
start with `MotoChanged`. tests/unit/local/test_moto_sqs_replacements.py runs one queue life with moto's own code and
with these and requires the same answers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.core.utils import unix_time
from moto.sqs import models
from moto.sqs.exceptions import InvalidParameterValue, MissingParameter
from moto.sqs.models import DEDUPLICATION_TIME_IN_SECONDS, Message, Queue, SQSBackend, sqs_backends

from local.fast_dynamodb.moto_contract import MotoChanged, fingerprint

WRITTEN_AGAINST = {
    "camelcase_to_underscores": "084cdc5bab92db95",
    "Queue.attributes": "40cb990b121628d5",
    "Queue.add_message": "f27c9231c1f20433",
    "SQSBackend._validate_message": "39cb57c19e596164",
    "SQSBackend.get_queue_attributes": "58417223da457b5a",
    "SQSBackend.is_message_valid_based_on_retention_period": "cca23b94a5f3af9d",
}
# (owner, name, moto's own) for each replaced function; filled by install(), read by the test that compares.
ORIGINALS: list[tuple[Any, str, Any]] = []


def _sources() -> dict[str, Callable[..., Any]]:
    return {
        "camelcase_to_underscores": models.camelcase_to_underscores,
        "Queue.attributes": Queue.attributes.fget,  # type: ignore[attr-defined]
        "Queue.add_message": Queue.add_message,
        "SQSBackend._validate_message": SQSBackend._validate_message,
        "SQSBackend.get_queue_attributes": SQSBackend.get_queue_attributes,
        "SQSBackend.is_message_valid_based_on_retention_period": SQSBackend.is_message_valid_based_on_retention_period,
    }


def current_fingerprints() -> dict[str, str]:
    return {name: fingerprint(function) for name, function in _sources().items()}


def shown(value: Any) -> Any:
    """An attribute's value as `Queue.attributes` shows it."""
    return str(value).lower() if isinstance(value, bool) else value


def content_based_deduplication(queue: Queue) -> Any:
    """`queue.attributes.get("ContentBasedDeduplication")`: a FIFO attribute, absent from a standard queue's map."""
    return shown(queue.content_based_deduplication) if queue.fifo_queue else None  # type: ignore[attr-defined]


def add_message(self: Queue, message: Message) -> None:
    """moto's `Queue.add_message`, reading ContentBasedDeduplication alone."""
    if self.fifo_queue and (content_based_deduplication(self) == "true" or message.deduplication_id):
        for m in self._messages:
            if m.deduplication_id == message.deduplication_id:
                diff = message.sent_timestamp - m.sent_timestamp  # type: ignore
                if diff / 1000 < DEDUPLICATION_TIME_IN_SECONDS:
                    return

    with self._messages_lock:
        self._messages.append(message)
        self._messages_lock.notify_all()

    for arn, esm in self.lambda_event_source_mappings.items():
        if not esm.enabled:
            continue
        backend = sqs_backends[self.account_id][self.region]
        messages = backend.receive_message(
            self.name,
            esm.batch_size,
            self.receive_message_wait_time_seconds,  # type: ignore
            self.visibility_timeout,  # type: ignore
        )

        from moto.awslambda.utils import get_backend

        result = get_backend(self.account_id, self.region).send_sqs_batch(arn, messages, self.queue_arn)

        if result:
            for m in messages:
                backend.delete_message(self.name, m.receipt_handle)  # type: ignore[arg-type]
        else:
            for m in messages:
                backend.change_message_visibility(
                    self.name,
                    m.receipt_handle,  # type: ignore[arg-type]
                    visibility_timeout=0,
                )


def validate_message(
    self: SQSBackend,
    queue: Queue,
    message_body: str,
    delay_seconds: int,
    deduplication_id: str | None = None,
    group_id: str | None = None,
    validate_group_id: bool = True,
) -> None:
    """moto's `SQSBackend._validate_message`, reading ContentBasedDeduplication alone."""
    if queue.fifo_queue:
        if content_based_deduplication(queue) == "false" and not group_id:
            raise MissingParameter("MessageGroupId")

        if content_based_deduplication(queue) == "false" and group_id and not deduplication_id:
            raise InvalidParameterValue(
                "The queue should either have ContentBasedDeduplication enabled or "
                "MessageDeduplicationId provided explicitly"
            )

        if delay_seconds > 0:
            raise InvalidParameterValue(
                f"Value {delay_seconds} for parameter DelaySeconds is invalid. Reason: "
                "The request include parameter that is not valid for this queue type."
            )

    if len(message_body) > queue.maximum_message_size:  # type: ignore
        msg = f"One or more parameters are invalid. Reason: Message must be shorter than {queue.maximum_message_size} bytes."  # type: ignore  # noqa: E501
        raise InvalidParameterValue(msg)

    if group_id is None and queue.fifo_queue:
        raise MissingParameter("MessageGroupId")


def is_message_valid_based_on_retention_period(self: SQSBackend, queue_name: str, message: Message) -> bool:
    """moto's, reading MessageRetentionPeriod alone: `get_queue_attributes(name, ["MessageRetentionPeriod"])`
    finds the queue (QueueDoesNotExist otherwise), and holds the attribute unless its value is None (moto then
    fails on the missing key, as here)."""
    queue = self.get_queue(queue_name)
    retention_period = shown(queue.message_retention_period)  # type: ignore[attr-defined]
    if retention_period is None:
        raise KeyError("MessageRetentionPeriod")
    retain_until = retention_period + message.sent_timestamp / 1000  # type: ignore
    return not retain_until <= unix_time()


def install() -> None:
    """Idempotent; process-wide (every moto SQS backend, in process and in the server thread)."""
    if ORIGINALS:
        return
    changed = sorted(name for name, found in current_fingerprints().items() if WRITTEN_AGAINST[name] != found)
    if changed:
        raise MotoChanged(
            f"local/moto_sqs_attributes.py was written against other sources of: {', '.join(changed)}; "
            "read the new source, re-check the replacements, then update WRITTEN_AGAINST"
        )
    replacements: list[tuple[Any, str, Any]] = [
        (models, "camelcase_to_underscores", functools.lru_cache(maxsize=1024)(models.camelcase_to_underscores)),
        (Queue, "add_message", add_message),
        (SQSBackend, "_validate_message", validate_message),
        (SQSBackend, "is_message_valid_based_on_retention_period", is_message_valid_based_on_retention_period),
    ]
    for owner, name, replacement in replacements:
        ORIGINALS.append((owner, name, getattr(owner, name)))
        setattr(owner, name, replacement)


if __name__ == "__main__":
    for name, value in current_fingerprints().items():
        print(f'    "{name}": "{value}",')
