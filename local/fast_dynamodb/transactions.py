"""TransactWriteItems and TransactGetItems without copying tables, and with DynamoDB's conflicts in
eventual-consistency mode.

moto's TransactWriteItems deep-copies every table it touches before it starts, runs the actions one
by one (checking each condition, then writing), and on any failure puts the copies back in place of
the tables. `transact_write_items` below is that same loop, action for action and error for error
(moto 5.2.5 `DynamoDBBackend.transact_write_items`, fingerprinted), under the locks of the tables it
touches; what it overwrites goes into a Journal (the previous Items: nobody changes them, so no
copies) and is put back on failure, and the stream records it wrote are taken back. Tables the fast
path leaves to moto are copied as moto copies them.

In eventual-consistency mode a transaction first *holds* its items (all or none), stays in flight for
the configured window, then commits as above and lets go. Another transaction touching a held item is
cancelled (`TransactionCanceledException`, reason `TransactionConflict` for that item, `None` for the
others); a PutItem, UpdateItem or DeleteItem on a held item fails with `TransactionConflictException`
(`refuse_if_held`); a TransactGetItems on a held item is cancelled the same way. In strong mode nothing
is held: transactions are serialised by the table locks and never conflict (moto's behaviour)."""

from __future__ import annotations

import contextlib
import copy
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    DynamodbException,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

from local.fast_dynamodb import consistency
from local.fast_dynamodb.expressions import parse_condition
from local.fast_dynamodb.locking import locked
from local.fast_dynamodb.storage import FastTable, Journal

TRANSACTION_CONFLICT = ("TransactionConflict", "Transaction is ongoing for the item", None)
ItemIdentity = tuple[str, str, DynamoType, DynamoType | None]


class TransactionConflictException(DynamodbException):
    error_type = "com.amazonaws.dynamodb.v20120810#TransactionConflictException"

    def __init__(self) -> None:
        super().__init__(self.error_type, "Transaction is ongoing for the item")


_holds: dict[ItemIdentity, object] = {}
_holds_guard = threading.Lock()
_holder = threading.local()


def _own_token() -> object | None:
    return getattr(_holder, "token", None)


def item_identity(backend: DynamoDBBackend, table_name: str | None, attributes: Any) -> ItemIdentity | None:
    """The item a request addresses (its account, table and key), or None if it names no such thing."""
    table = backend.tables.get(table_name) if isinstance(table_name, str) else None
    if table is None or not isinstance(attributes, dict):
        return None
    try:
        hash_key = DynamoType(attributes[table.hash_key_attr])
        range_key = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
    except (KeyError, TypeError, IndexError, AttributeError):
        return None
    return (backend.account_id, table.name, hash_key, range_key)


def refuse_if_held(backend: DynamoDBBackend, table_name: str, attributes: Any) -> None:
    """A single-item write on an item an in-flight transaction holds fails, as on DynamoDB."""
    if not _holds:
        return
    identity = item_identity(backend, table_name, attributes)
    holder = _holds.get(identity) if identity is not None else None
    if holder is not None and holder is not _own_token():
        raise TransactionConflictException()


def _hold(identities: list[ItemIdentity | None], token: object) -> None:
    with _holds_guard:
        conflicts = {index for index, identity in enumerate(identities) if identity is not None and identity in _holds}
        if conflicts:
            raise TransactionCanceledException(
                [TRANSACTION_CONFLICT if index in conflicts else (None, None, None) for index in range(len(identities))]
            )
        for identity in identities:
            if identity is not None:
                _holds[identity] = token


def _release(identities: list[ItemIdentity | None], token: object) -> None:
    with _holds_guard:
        for identity in identities:
            if identity is not None and _holds.get(identity) is token:
                del _holds[identity]


@contextlib.contextmanager
def held(backend: DynamoDBBackend, table_name: str, key: dict[str, Any]) -> Iterator[None]:
    """Holds one item as an in-flight transaction would (eventual mode), until the block ends: what a
    caller then meets on it, without timing a real transaction's window."""
    identity = item_identity(backend, table_name, key)
    if identity is None:
        raise ValueError(f"no item {key!r} in a table {table_name!r}")
    token = object()
    _hold([identity], token)
    try:
        yield
    finally:
        _release([identity], token)


def _write_identities(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[ItemIdentity | None]:
    identities = []
    for item in transact_items:
        op_type, op = next(iter(item.items()))
        attributes = op.get("Item") if op_type == "Put" else op.get("Key")
        identities.append(item_identity(backend, op.get("TableName"), attributes))
    return identities


def transact_write_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    tables = {
        op.get("TableName"): backend.tables[op.get("TableName")]
        for item in transact_items
        for _, op in [next(iter(item.items()))]
        if op.get("TableName") and op.get("TableName") in backend.tables
    }
    if not consistency.settings.eventual:
        with locked(tables.values()):
            _run(backend, transact_items, tables)
        return
    identities = _write_identities(backend, transact_items)
    token = object()
    _hold(identities, token)
    _holder.token = token
    try:
        if consistency.settings.transaction_window_s:
            time.sleep(consistency.settings.transaction_window_s)
        with locked(tables.values()):
            _run(backend, transact_items, tables)
    finally:
        _holder.token = None
        _release(identities, token)


def _run(backend: DynamoDBBackend, transact_items: list[dict[str, Any]], tables: dict[str, Table]) -> None:
    """moto's loop; the caller holds the tables' locks."""
    journal = Journal()
    copied = {name: copy.deepcopy(table) for name, table in tables.items() if not isinstance(table, FastTable)}
    for table in tables.values():
        journal.watch(table)

    def rollback() -> None:
        journal.rollback()
        for name, original in copied.items():
            backend.tables[name] = original

    target_items: set[tuple[str, str]] = set()

    def check_unicity(table_name: str, key: dict[str, Any]) -> None:
        item = (str(table_name), str(dict(sorted(key.items()))))
        if item in target_items:
            raise MultipleTransactionsException()
        target_items.add(item)

    errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
    with journal:
        for item in transact_items:
            original_item: dict[str, Any] | None = None
            if len(list(item.keys())) > 1:
                journal.commit()  # as moto: raised outside its rollback, so what ran before stays written
                raise TransactWriteSingleOpException
            try:
                op_type, op = next(iter(item.items()))
                if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                    raise ValueError("Unsupported transaction operation")
                table_name = op["TableName"]
                condition_expression = op.get("ConditionExpression")
                expression_attribute_names = op.get("ExpressionAttributeNames")
                expression_attribute_values = op.get("ExpressionAttributeValues")
                return_values_on_condition_check_failure = op.get("ReturnValuesOnConditionCheckFailure")
                if op_type == "Put":
                    attrs = op["Item"]
                    table = backend.get_table(table_name)
                    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                    if table.range_key_attr is not None:
                        key[table.range_key_attr] = attrs[table.range_key_attr]
                else:
                    key = op["Key"]
                check_unicity(table_name, key)
                current = backend.get_item(table_name, key)
                if condition_expression is not None:
                    condition_op = parse_condition(
                        condition_expression, expression_attribute_names, expression_attribute_values
                    )
                    if not condition_op.expr(current):
                        if return_values_on_condition_check_failure == "ALL_OLD" and current:
                            original_item = current.to_json()["Attributes"]
                        raise ConditionalCheckFailed(item=original_item)
                if op_type == "Put":
                    backend.put_item(
                        table_name,
                        op["Item"],
                        condition_expression=condition_expression,
                        expression_attribute_names=expression_attribute_names,
                        expression_attribute_values=expression_attribute_values,
                    )
                elif op_type == "Delete":
                    backend.delete_item(
                        table_name,
                        key,
                        condition_expression=condition_expression,
                        expression_attribute_names=expression_attribute_names,
                        expression_attribute_values=expression_attribute_values,
                    )
                elif op_type == "Update":
                    backend.update_item(
                        table_name,
                        key,
                        update_expression=op["UpdateExpression"],
                        condition_expression=condition_expression,
                        expression_attribute_names=expression_attribute_names,
                        expression_attribute_values=expression_attribute_values,
                    )
                errors.append((None, None, None))
            except (MultipleTransactionsException, MockValidationException):
                rollback()
                raise
            except ConditionalCheckFailed as e:
                errors.append(("ConditionalCheckFailed", str(e.message), original_item))  # type: ignore[arg-type]
            except Exception as e:
                errors.append((type(e).__name__, str(e), original_item))  # type: ignore[arg-type]
        if any(code is not None for code, _, _ in errors):
            rollback()
            raise TransactionCanceledException(errors)
    journal.commit()


def transact_get_items(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Wraps moto's TransactGetItems handler (a loop of GetItems) so it reads one committed state: the
    locks of every table it reads; in eventual mode, cancelled if an in-flight transaction holds an item."""

    def handler(response: Any) -> Any:
        backend = response.dynamodb_backend
        from local.fast_dynamodb.backend import is_fast

        if not is_fast(backend):
            return original(response)
        gets = [entry.get("Get", {}) for entry in response.body.get("TransactItems", [])]
        tables = [backend.tables[name] for name in {get.get("TableName") for get in gets} if name in backend.tables]
        with locked(tables):
            if consistency.settings.eventual and _holds:
                identities = [item_identity(backend, get.get("TableName"), get.get("Key")) for get in gets]
                held = [identity is not None and identity in _holds for identity in identities]
                if any(held):
                    raise TransactionCanceledException(
                        [TRANSACTION_CONFLICT if conflict else (None, None, None) for conflict in held]
                    )
            return original(response)

    return handler
