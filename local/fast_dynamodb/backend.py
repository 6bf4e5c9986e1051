"""The patches on moto's DynamoDB backend: which moto method each operation now runs through.

Every DynamoDBBackend operation below takes the lock of the table(s) it touches (locking.py); tables
are adopted as FastTables when created (storage.py); UpdateItem and TransactWriteItems run the
copy-free versions (writes.py, transactions.py); in eventual mode single-item writes are refused on
items an in-flight transaction holds. moto's request handlers (responses.py) are untouched but for
TransactGetItems, which reads under the locks of its tables, and BatchWriteItem (batch_writes.py).

Backends of the accounts in `vanilla_accounts` (the differential test's reference) run moto's
methods untouched: the patches are installed once per process, on moto's classes, and decide per call."""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any

from moto.dynamodb import responses as dynamodb_responses
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.models import DynamoDBStreamsBackend
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

from local.fast_dynamodb import (
    batch_writes,
    consistency,
    parsing,
    reads,
    results,
    serialization,
    transactions,
    values,
    writes,
)
from local.fast_dynamodb.locking import ddl_lock, locked
from local.fast_dynamodb.storage import FastTable, adoptable

vanilla_accounts: set[str] = set()
_original: dict[str, Callable[..., Any]] = {}
_batch = threading.local()  # the tables whose locks this thread's BatchGetItem or BatchWriteItem holds


def is_fast(backend: Any) -> bool:
    return backend.account_id not in vanilla_accounts


@contextlib.contextmanager
def _table_locked(backend: DynamoDBBackend, table_name: Any) -> Iterator[None]:
    try:
        table = backend.get_table(table_name)
    except Exception:
        yield
        return
    with locked([table]):
        yield


def _single_table(name: str, refuse_held: int | None = None) -> Callable[..., Any]:
    """An operation on one table (its name first): under that table's lock. `refuse_held` is the position
    of the item or key argument to check against in-flight transactions (eventual mode)."""
    original = _original[name]

    @functools.wraps(original)
    def operation(self: DynamoDBBackend, table_name: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_fast(self):
            return original(self, table_name, *args, **kwargs)
        if refuse_held is None and table_name in getattr(_batch, "tables", ()):
            return original(self, table_name, *args, **kwargs)  # the batch holds the lock (re-entrant: no need)
        with _table_locked(self, table_name):
            if refuse_held is not None and consistency.settings.eventual and args:
                transactions.refuse_if_held(self, table_name, args[refuse_held])
            return original(self, table_name, *args, **kwargs)

    return operation


def _update_item(self: DynamoDBBackend, table_name: Any, key: Any, *args: Any, **kwargs: Any) -> Any:
    original = _original["update_item"]
    if not is_fast(self):
        return original(self, table_name, key, *args, **kwargs)
    with _table_locked(self, table_name):
        if consistency.settings.eventual:
            transactions.refuse_if_held(self, table_name, key)
        table = self.get_table(table_name)
        if isinstance(table, FastTable):
            return writes.update_item(self, table, key, *args, **kwargs)
        return original(self, table_name, key, *args, **kwargs)


def _create_table(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Table:
    with ddl_lock:
        table = _original["create_table"](self, *args, **kwargs)
        if is_fast(self) and adoptable(table):
            FastTable.adopt(table)
        return table


def _update_table(self: DynamoDBBackend, name: Any, *args: Any, **kwargs: Any) -> Table:
    if not is_fast(self):
        return _original["update_table"](self, name, *args, **kwargs)
    with ddl_lock, _table_locked(self, name):
        table = _original["update_table"](self, name, *args, **kwargs)
        if isinstance(table, FastTable):
            table.rebuild_indexes()
        return table


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if not is_fast(self):
        return _original["transact_write_items"](self, transact_items)
    transactions.transact_write_items(self, transact_items)
    return None


def _every_table(name: str) -> Callable[..., Any]:
    """PartiQL reads every table: it runs under all their locks."""
    original = _original[name]

    @functools.wraps(original)
    def operation(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        if not is_fast(self):
            return original(self, *args, **kwargs)
        with ddl_lock, locked(list(self.tables.values())):
            return original(self, *args, **kwargs)

    return operation


def _whole_batch_locked(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A BatchGetItem or BatchWriteItem takes the locks of its tables once, for the whole request, in name order
    (as a transaction does, so no two can deadlock), instead of one of them per key: its single-item writes take
    the lock again (re-entrant, uncontended), its reads (the GetItem per key moto's handler calls) do not. Seeding
    and the feed's parallel BatchGetItems spent a tenth of their time taking and waiting for a table lock per key
    (docs/BENCHMARKS.md, "The local cloud's DynamoDB").
    Answers are moto's; the batch is never interleaved with another write on its tables (DynamoDB allows that,
    moto's engine with one lock for all never did)."""

    @functools.wraps(original)
    def handler(response: DynamoHandler) -> Any:
        backend = response.dynamodb_backend
        if not is_fast(backend):
            return original(response)
        names = response.body.get("RequestItems") or {}
        tables = [backend.tables[name] for name in names if isinstance(name, str) and name in backend.tables]
        with locked(tables):
            _batch.tables = frozenset(table.name for table in tables)
            try:
                return original(response)
            finally:
                _batch.tables = frozenset()

    return handler


def _stream_read(name: str) -> Callable[..., Any]:
    """A stream read holds its table's lock: it never sees a record a cancelled transaction takes back."""
    original = getattr(DynamoDBStreamsBackend, name)

    @functools.wraps(original)
    def operation(self: DynamoDBStreamsBackend, first: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_fast(self):
            return original(self, first, *args, **kwargs)
        try:
            if name == "get_records":
                table = self.shard_iterators[first].stream_shard.table
            else:
                table = self._get_table_from_arn(first)
        except Exception:
            return original(self, first, *args, **kwargs)
        with locked([table]):
            return original(self, first, *args, **kwargs)

    return operation


_installed = False


def installed() -> bool:
    return _installed


def install_patches() -> None:
    """Idempotent; affects every moto DynamoDB backend of this process but those of `vanilla_accounts`."""
    global _installed
    if _installed:
        return
    from local.fast_dynamodb import expressions  # update expressions parsed once (the request handlers' too)

    for name in (
        "create_table",
        "update_table",
        "get_item",
        "put_item",
        "delete_item",
        "update_item",
        "query",
        "scan",
        "transact_write_items",
        "execute_statement",
        "execute_transaction",
        "batch_execute_statement",
    ):
        _original[name] = getattr(DynamoDBBackend, name)
    patched: dict[str, Callable[..., Any]] = {
        "create_table": _create_table,
        "update_table": _update_table,
        "get_item": _single_table("get_item"),
        "put_item": _single_table("put_item", refuse_held=0),
        "delete_item": _single_table("delete_item", refuse_held=0),
        "update_item": _update_item,
        "query": _single_table("query"),
        "scan": _single_table("scan"),
        "transact_write_items": _transact_write_items,
        "execute_statement": _every_table("execute_statement"),
        "execute_transaction": _every_table("execute_transaction"),
        "batch_execute_statement": _every_table("batch_execute_statement"),
    }
    for name, function in patched.items():
        setattr(DynamoDBBackend, name, function)
    for name in ("get_records", "get_shard_iterator"):
        setattr(DynamoDBStreamsBackend, name, _stream_read(name))
    DynamoHandler.transact_get_items = transactions.transact_get_items(  # type: ignore[method-assign,assignment]
        DynamoHandler.transact_get_items
    )
    DynamoHandler.batch_get_item = _whole_batch_locked(DynamoHandler.batch_get_item)  # type: ignore[method-assign,assignment]
    DynamoHandler.batch_write_item = _whole_batch_locked(  # type: ignore[method-assign,assignment]
        batch_writes.fast_batch_write_item(DynamoHandler.batch_write_item, is_fast)
    )
    dynamodb_responses.dynamo_to_dict = results.dynamo_to_dict  # what DynamoResult converts every result with
    DynamoHandler.dynamodb_backend = property(results.dynamodb_backend)  # type: ignore[method-assign,assignment]
    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        handler.serialized = serialization.fast_serialized(  # type: ignore[method-assign,assignment]
            handler.serialized, _account_is_fast
        )
    DynamoHandler.parse_parameters = parsing.fast_parse_parameters(  # type: ignore[method-assign,assignment]
        DynamoHandler.parse_parameters, _request_is_fast
    )
    expressions.install()
    values.install()
    DynamoHandler._contains_duplicates = reads.contains_duplicates  # type: ignore[method-assign,assignment]
    _installed = True


def _account_is_fast(account_id: str) -> bool:
    return account_id not in vanilla_accounts


def _request_is_fast(response: Any) -> bool:
    """Parsing comes before moto knows the account: it is looked up only when some account is moto's own."""
    return not vanilla_accounts or _account_is_fast(response.get_current_account())
