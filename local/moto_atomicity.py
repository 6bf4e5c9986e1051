"""DynamoDB's guarantees that moto lacks under concurrency.

DynamoDB applies each item write, and each transaction, atomically: a condition is checked and the
write applied with nothing in between, and a read never sees half a transaction. moto checks and
applies in plain Python without a lock, so a thread switch between the check and the write could
let two writers both pass `attribute_not_exists` (not observed in our tests, where the GIL makes
the window small, but not guaranteed). The application's exact counters rest on that guarantee, so
the local cloud and the integration tests serialise moto's DynamoDB operations with one lock; the
cost is throughput the local cloud does not need."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

_OPERATIONS = (
    "get_item",
    "put_item",
    "update_item",
    "delete_item",
    "query",
    "scan",
    "batch_get_item",
    "batch_write_item",
    "transact_get_items",
    "transact_write_items",
    "execute_statement",
    "batch_execute_statement",
    "execute_transaction",
)
_lock = threading.RLock()
_applied = False


def _serialised(operation: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(operation)
    def run(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return operation(*args, **kwargs)

    return run


def make_dynamodb_atomic() -> None:
    """Idempotent; affects every moto DynamoDB backend of this process."""
    global _applied
    if _applied:
        return
    for name in _OPERATIONS:
        if hasattr(DynamoDBBackend, name):
            setattr(DynamoDBBackend, name, _serialised(getattr(DynamoDBBackend, name)))
    _applied = True
