"""SQS's message size quota as SQS measures it (docs/LOCAL_CLOUD.md, "What the local cloud emulates").

A message may hold at most its queue's `MaximumMessageSize` (1,024 to 1,048,576 bytes; 1 MiB unless the
template says otherwise), counting the body **and** every message attribute (its name, data type and value)
in UTF-8 bytes; a batch at most 1 MiB in all. moto 5.2.5 compares the body's length in *characters* and
leaves attributes out, so a body of accented or CJK text, or a message with large attributes, passes locally
and fails on AWS. This patch measures as SQS does, before anything of the message or batch is stored.

It wraps moto's `SQSBackend.send_message` and `send_message_batch`, after checking they still take what it
was written against (moto 5.2.5): a moto upgrade that changes them stops the local cloud with a clear error."""

from __future__ import annotations

import base64
import functools
import inspect
from collections.abc import Callable
from typing import Any

from moto.sqs.exceptions import BatchRequestTooLong, InvalidParameterValue
from moto.sqs.models import SQSBackend

BATCH_MAX_BYTES = 1_048_576
_applied = False


class MotoChanged(RuntimeError):
    """moto no longer looks like the version this patch was written for (5.2.5)."""


def _value_bytes(value: dict[str, Any]) -> int:
    if "StringValue" in value:
        return len(str(value["StringValue"]).encode())
    binary = value.get("BinaryValue", b"")
    return len(binary) if isinstance(binary, bytes) else len(base64.b64decode(binary))


def message_bytes(body: str, attributes: dict[str, dict[str, Any]] | None) -> int:
    """A message's size as SQS counts it against MaximumMessageSize: body and attributes, in bytes."""
    size = len(body.encode())
    for name, value in (attributes or {}).items():
        size += len(name.encode()) + len(str(value.get("DataType", "")).encode()) + _value_bytes(value)
    return size


def _refuse_oversized(backend: SQSBackend, queue_name: str, body: str, attributes: Any) -> int:
    # The attribute moto's own send_message reads; `Queue.attributes` would build the queue's whole attribute map
    # (every name converted, the messages listed three times for the approximate counts) for each message sent.
    limit = int(backend.get_queue(queue_name).maximum_message_size)  # type: ignore[attr-defined] # set by setattr
    size = message_bytes(body, attributes)
    if size > limit:
        raise InvalidParameterValue(
            f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes."
        )
    return size


def _checked_send(send_message: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(send_message)
    def send(backend: SQSBackend, queue_name: str, message_body: str, *args: Any, **kwargs: Any) -> Any:
        attributes = kwargs.get("message_attributes", args[0] if args else None)
        _refuse_oversized(backend, queue_name, message_body, attributes)
        return send_message(backend, queue_name, message_body, *args, **kwargs)

    return send


def _checked_batch(send_message_batch: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(send_message_batch)
    def send(backend: SQSBackend, queue_name: str, entries: dict[str, dict[str, Any]]) -> Any:
        total = sum(
            _refuse_oversized(backend, queue_name, entry["MessageBody"], entry.get("MessageAttributes"))
            for entry in entries.values()
        )
        if total > BATCH_MAX_BYTES:
            raise BatchRequestTooLong(total)
        return send_message_batch(backend, queue_name, entries)

    return send


def enforce_sqs_limits() -> None:
    """Idempotent; affects every moto SQS backend of this process (server and mock_aws alike)."""
    global _applied
    if _applied:
        return
    send_params = list(inspect.signature(SQSBackend.send_message).parameters)
    batch_params = list(inspect.signature(SQSBackend.send_message_batch).parameters)
    if send_params[:4] != ["self", "queue_name", "message_body", "message_attributes"] or batch_params != [
        "self",
        "queue_name",
        "entries",
    ]:
        raise MotoChanged(f"moto's SQSBackend.send_message{send_params} / send_message_batch{batch_params} changed")
    SQSBackend.send_message = _checked_send(SQSBackend.send_message)  # type: ignore[method-assign]
    SQSBackend.send_message_batch = _checked_batch(SQSBackend.send_message_batch)  # type: ignore[method-assign]
    _applied = True
