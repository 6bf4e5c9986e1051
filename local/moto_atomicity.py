"""DynamoDB's guarantees that moto lacks under concurrency — as the local cloud provided them before
local/fast_dynamodb (which replaces this module). Kept as the `PINHOLE_DYNAMODB=moto` engine
(local/dynamodb_engine.py) so that the benchmarks can measure moto as it ran and the fast path side by
side in one run.

DynamoDB applies each item write, and each transaction, atomically: a condition is checked and the
write applied with nothing in between, and a read never sees half a transaction. moto checks and
applies in plain Python without a lock, so a thread switch between the check and the write could
let two writers both pass `attribute_not_exists` (not observed in our tests, where the GIL makes
the window small, but not guaranteed). The application's exact counters rest on that guarantee, so
the local cloud and the integration tests serialise moto's DynamoDB operations with one lock; the
cost is throughput the local cloud does not need.

moto also makes every TransactWriteItems deep-copy each whole table it touches (to roll back), so a
transaction's cost grows with the table: a few thousand messages in a table make each send take tens
of milliseconds under the lock. Under the lock a transaction can instead check every condition first
and then apply every write, as DynamoDB does, copying only the items it touches in case a write
fails half-way."""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
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


MAX_TRANSACTION_ITEMS = 100


def _key_of(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return key


def _refusal(backend: DynamoDBBackend, op: dict[str, Any], current: Any) -> tuple[Any, Any, Any]:
    """(None, None, None) if the operation's condition holds, else its cancellation reason."""
    expression = op.get("ConditionExpression")
    if expression is None:
        return (None, None, None)
    condition = get_filter_expression(
        expression, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    )
    if condition.expr(current):
        return (None, None, None)
    old = (
        current.to_json()["Attributes"]
        if current and op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
        else None
    )
    return ("ConditionalCheckFailed", "The conditional request failed", old)


def _apply(backend: DynamoDBBackend, op_type: str, op: dict[str, Any], key: dict[str, Any]) -> None:
    names, values = op.get("ExpressionAttributeNames") or {}, op.get("ExpressionAttributeValues") or {}
    if op_type == "Put":
        backend.put_item(
            op["TableName"], op["Item"], expression_attribute_names=names, expression_attribute_values=values
        )
    elif op_type == "Delete":
        backend.delete_item(op["TableName"], key, expression_attribute_names=names, expression_attribute_values=values)
    elif op_type == "Update":
        backend.update_item(
            op["TableName"],
            key,
            update_expression=op["UpdateExpression"],
            expression_attribute_names=names,
            expression_attribute_values=values,
        )


def _restore(backend: DynamoDBBackend, touched: list[tuple[str, dict[str, Any], Any]]) -> None:
    for table_name, key, before in reversed(touched):
        if before is None:
            backend.delete_item(table_name, key)
        else:
            backend.put_item(table_name, before.to_json()["Attributes"])


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """All conditions checked, then all writes applied (the caller holds the lock: nothing between)."""
    if len(transact_items) > MAX_TRANSACTION_ITEMS:
        raise TooManyTransactionsException()
    operations, reasons, seen = [], [], set()
    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(item.items()))
        if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
            raise ValueError("Unsupported transaction operation")
        key = _key_of(self, op_type, op)
        identity = (op["TableName"], str(sorted(key.items())))
        if identity in seen:
            raise MultipleTransactionsException()
        seen.add(identity)
        current = self.get_item(op["TableName"], key)
        reasons.append(_refusal(self, op, current))
        operations.append((op_type, op, key, current))
    if any(code is not None for code, _, _ in reasons):
        raise TransactionCanceledException(reasons)
    touched: list[tuple[str, dict[str, Any], Any]] = []
    try:
        for op_type, op, key, current in operations:
            if op_type != "ConditionCheck":
                touched.append((op["TableName"], key, copy.deepcopy(current)))
                _apply(self, op_type, op, key)
    except Exception:
        _restore(self, touched)
        raise


def serialising_lock() -> threading.RLock:
    """The one lock this engine runs every DynamoDB operation under (held by whoever must exclude them all)."""
    return _lock


def make_dynamodb_atomic() -> None:
    """Idempotent; affects every moto DynamoDB backend of this process."""
    global _applied
    if _applied:
        return
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    for name in _OPERATIONS:
        if hasattr(DynamoDBBackend, name):
            setattr(DynamoDBBackend, name, _serialised(getattr(DynamoDBBackend, name)))
    _applied = True
