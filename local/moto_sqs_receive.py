"""moto's SQS ReceiveMessage without its two dearest steps, giving the same messages.

Once local/moto_sqs_attributes.py took the attribute maps away, what was left of moto 5.2.5's `receive_message`
(cProfile of the load soak, docs/LOCAL_CLOUD.md "Where the time goes") was, per message received:

- the receipt handle: 185 letters, each drawn with `random.choice`, i.e. two Python calls around one
  `getrandbits(5)` (redrawn while the 5 bits are 26 or more). Here the same draws are made from the same
  generator (moto's `mock_random`, which a test may seed), without the two calls around each: the same handles.
- `deepcopy(message)`, so that filtering the message attributes asked for leaves the stored message as it was:
  every field of the message copied, the message attributes (the part the filter replaces) copied before they
  are filtered. Here the message is copied field by field as `deepcopy` would (one memo for all, so shared
  objects stay shared), the attributes filtered first and only the kept ones copied; a field that cannot
  change in place (a string, a number, None) is the same object in a deep copy anyway.

Everything else in `receive_message` is moto's code as it was. Each replaced or relied-on function is
fingerprinted against the source it was written against; another moto (or Python's `random`) stops the start with
`MotoChanged`. tests/unit/local/test_moto_sqs_replacements.py lives one queue life with moto's own code and with
these, from one seed, and requires the same answers."""

from __future__ import annotations

import string
from collections.abc import Callable
from copy import copy, deepcopy
from typing import Any

from moto.core.utils import unix_time
from moto.sqs import models, utils
from moto.sqs.models import Message, SQSBackend

from local.fast_dynamodb.moto_contract import MotoChanged, fingerprint
from local.request_overhead import choice_changed, drawn_as_choices

WRITTEN_AGAINST = {
    "generate_receipt_handle": "10853f98152c8dab",
    "SQSBackend.receive_message": "065f3e5e7d214408",
    "_filter_message_attributes": "2e61eb0503c8ea0a",
}
HANDLE_LENGTH = 185
HANDLE_LETTERS = string.ascii_lowercase
ATOMIC = frozenset({str, int, float, bool, bytes, type(None)})  # deepcopy returns these themselves (not subclasses)
# (owner, name, moto's own) for each replaced function; filled by install(), read by the test that compares.
ORIGINALS: list[tuple[Any, str, Any]] = []


def _sources() -> dict[str, Callable[..., Any]]:
    return {
        "generate_receipt_handle": utils.generate_receipt_handle,
        "SQSBackend.receive_message": SQSBackend.receive_message,
        "_filter_message_attributes": models._filter_message_attributes,
    }


def current_fingerprints() -> dict[str, str]:
    return {name: fingerprint(function) for name, function in _sources().items()}


def generate_receipt_handle() -> str:
    """moto's: 185 `random.choice(string.ascii_lowercase)` of moto's generator, the same draws made directly."""
    return drawn_as_choices(utils.random, HANDLE_LETTERS, HANDLE_LENGTH)


def received_copy(message: Message, message_attribute_names: list[str]) -> Message:
    """`deepcopy(message)` then `_filter_message_attributes` on the copy, copying only what the filter keeps."""
    duplicate = copy(message)
    memo: dict[int, Any] = {id(message): duplicate}
    models._filter_message_attributes(duplicate, message_attribute_names)
    for name, value in vars(duplicate).items():
        if type(value) not in ATOMIC:
            setattr(duplicate, name, deepcopy(value, memo))
    return duplicate


def receive_message(
    self: SQSBackend,
    queue_name: str,
    count: int,
    wait_seconds_timeout: int,
    visibility_timeout: int,
    message_attribute_names: list[str] | None = None,
) -> list[Message]:
    """moto's `SQSBackend.receive_message`, each message received copied by `received_copy`."""
    if message_attribute_names is None:
        message_attribute_names = []
    queue = self.get_queue(queue_name)
    result: list[Message] = []
    previous_result_count = len(result)

    polling_end = unix_time() + wait_seconds_timeout
    currently_pending_groups = deepcopy(queue.pending_message_groups)

    while True:
        if result or (wait_seconds_timeout and unix_time() > polling_end):
            break

        messages_to_dlq: list[Message] = []

        for message in queue.messages:
            if not message.visible:
                continue

            if message in queue.pending_messages:
                queue.pending_messages.remove(message)
                currently_pending_groups = deepcopy(queue.pending_message_groups)

            if message.group_id and queue.fifo_queue and message.group_id in currently_pending_groups:
                continue

            if (
                queue.dead_letter_queue is not None
                and queue.redrive_policy
                and message.approximate_receive_count >= queue.redrive_policy["maxReceiveCount"]
            ):
                messages_to_dlq.append(message)
                continue

            queue.pending_messages.add(message)
            message.mark_received(visibility_timeout=visibility_timeout)
            message_copy = received_copy(message, message_attribute_names)
            if not self.is_message_valid_based_on_retention_period(queue_name, message):
                break
            result.append(message_copy)
            if len(result) >= count:
                break

        for message in messages_to_dlq:
            queue._messages.remove(message)
            queue.dead_letter_queue.add_message(message)  # type: ignore

        if previous_result_count == len(result):
            if wait_seconds_timeout == 0:
                break

            queue.wait_for_messages(1)
            continue

        previous_result_count = len(result)

    return result


def install() -> None:
    """Idempotent; process-wide (every moto SQS backend, in process and in the server thread)."""
    if ORIGINALS:
        return
    changed = sorted(name for name, found in current_fingerprints().items() if WRITTEN_AGAINST[name] != found)
    changed += choice_changed(utils.random)
    if changed:
        raise MotoChanged(
            f"local/moto_sqs_receive.py was written against other sources of: {', '.join(changed)}; "
            "read the new source, re-check the replacements, then update WRITTEN_AGAINST"
        )
    for owner, name, replacement in (
        (models, "generate_receipt_handle", generate_receipt_handle),
        (SQSBackend, "receive_message", receive_message),
    ):
        ORIGINALS.append((owner, name, getattr(owner, name)))
        setattr(owner, name, replacement)


if __name__ == "__main__":
    for name, value in current_fingerprints().items():
        print(f'    "{name}": "{value}",')
