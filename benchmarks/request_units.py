"""DynamoDB's request units of each call a benchmark makes, as DynamoDB bills them, measured on the local cloud's
fast DynamoDB from the items each call reads or writes (moto's own ConsumedCapacity is a constant).

DynamoDB's rules (docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html):
- GetItem, and each item of a BatchGetItem: the whole item's size (a projection does not lower it) rounded up to
  4 KB, one unit per 4 KB; an item that does not exist costs the minimum, one unit;
- Query: the sum of the sizes of the items it reads (before any filter), rounded up to 4 KB once;
- eventually consistent reads cost half of that;
- a write (PutItem, each put of a BatchWriteItem, UpdateItem): the item's size rounded up to 1 KB, one unit per
  KB; for an update, the item as it is after (DynamoDB bills the larger of before and after).
An item's size is moto's measure: attribute names' lengths plus their values'. Not counted: deletes (no feed page
makes them), a GSI's own write units, and a Query of a secondary index is charged by the index items as projected.
Calls must run one after another in one thread while metering (the benchmarks' SerialPool)."""

import math
import os
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024
READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan"})  # a write's own look at the old item is not billed


@dataclass
class _Call:
    operation: str
    consistent: bool
    items_read: list[tuple[str, int]] = field(default_factory=list)  # GetItem / BatchGetItem: each key asked
    query: tuple[str, int] | None = None  # the table and the bytes read
    items_written: list[tuple[str, int]] = field(default_factory=list)

    def read_units(self) -> dict[str, float]:
        """By table."""
        found: dict[str, float] = defaultdict(float)
        if self.operation not in READS:
            return found
        if self.query is not None:
            found[self.query[0]] += max(1, math.ceil(self.query[1] / READ_UNIT_BYTES))
        for table, size in self.items_read:
            found[table] += max(1, math.ceil(size / READ_UNIT_BYTES))
        return {table: units if self.consistent else units / 2 for table, units in found.items()}

    def write_units(self) -> dict[str, float]:
        found: dict[str, float] = defaultdict(float)
        for table, size in self.items_written:
            found[table] += max(1, math.ceil(size / WRITE_UNIT_BYTES))
        return found


def _consistent(operation: str, params: dict[str, Any]) -> bool:
    if operation == "BatchGetItem":
        return any(request.get("ConsistentRead") for request in params.get("RequestItems", {}).values())
    return bool(params.get("ConsistentRead"))


class RequestUnitMeter:
    """While `metering()`, each DynamoDB call's read and write units, by operation (see the module's rules)."""

    def __init__(self) -> None:
        self._current = threading.local()
        self.calls: list[_Call] = []
        self._on = False

    @contextmanager
    def installed(self) -> Iterator["RequestUnitMeter"]:
        """The meter's hooks in place (botocore's call, the fast DynamoDB's item reads, Query walks and puts)."""
        from botocore.client import BaseClient

        from local.fast_dynamodb import reads, storage, writes

        meter = self
        make_api_call = BaseClient._make_api_call

        def call(client: Any, operation: str, params: Any) -> Any:
            if not meter._on or client.meta.service_model.service_name != "dynamodb":
                return make_api_call(client, operation, params)
            meter._current.call = found = _Call(operation, _consistent(operation, params))
            try:
                return make_api_call(client, operation, params)
            finally:
                meter._current.call = None
                meter.calls.append(found)

        get_item = storage.FastTable.get_item

        def read_item(table: Any, hash_key: Any, range_key: Any = None, projection: Any = None) -> Any:
            current = meter._call()
            if current is not None:
                whole = get_item(table, hash_key, range_key)
                current.items_read.append((table.name, whole.size() if whole is not None else 0))
            return get_item(table, hash_key, range_key, projection)

        walk = reads._walk

        def walked(table: Any, *args: Any, **kwargs: Any) -> Any:
            page = walk(table, *args, **kwargs)
            current = meter._call()
            if current is not None:
                before = current.query[1] if current.query else 0
                current.query = (table.name, before + sum(item.size() for item in page[0]))
            return page

        put_item = writes.put_item

        def written(table: Any, *args: Any, **kwargs: Any) -> Any:
            item = put_item(table, *args, **kwargs)
            current = meter._call()
            if current is not None:
                current.items_written.append((table.name, item.size()))
            return item

        update_item = writes.update_item

        def updated(backend: Any, table: Any, *args: Any, **kwargs: Any) -> Any:
            item = update_item(backend, table, *args, **kwargs)
            current = meter._call()
            if current is not None:
                current.items_written.append((table.name, item.size()))
            return item

        BaseClient._make_api_call = call  # type: ignore[method-assign]
        storage.FastTable.get_item = read_item  # type: ignore[method-assign]
        reads._walk = walked
        writes.put_item, writes.update_item = written, updated
        try:
            yield self
        finally:
            BaseClient._make_api_call = make_api_call  # type: ignore[method-assign]
            storage.FastTable.get_item = get_item  # type: ignore[method-assign]
            reads._walk, writes.put_item, writes.update_item = walk, put_item, update_item

    def _call(self) -> _Call | None:
        return getattr(self._current, "call", None)

    @contextmanager
    def metering(self) -> Iterator[list[_Call]]:
        self.calls, self._on = [], True
        try:
            yield self.calls
        finally:
            self._on = False


def _table(name: str) -> str:
    """A table by the setting that names it: FEEDS_TABLE_NAME's table is `feeds`."""
    for variable, value in os.environ.items():
        if value == name and variable.endswith("_TABLE_NAME"):
            return variable.removesuffix("_TABLE_NAME").lower()
    return name


def units(calls: list[_Call]) -> dict[str, Any]:
    """Read and write units of these calls, in all and by operation and table."""
    rows: dict[str, dict[str, float]] = defaultdict(lambda: {"calls": 0, "read_units": 0.0, "write_units": 0.0})
    for found in calls:
        tables = {*found.read_units(), *found.write_units()}
        for table in tables or {"?"}:
            row = rows[f"{found.operation} {_table(table)}"]
            row["calls"] += 1 / max(1, len(tables))
            row["read_units"] += found.read_units().get(table, 0.0)
            row["write_units"] += found.write_units().get(table, 0.0)
    return {
        "read_units": round(sum(row["read_units"] for row in rows.values()), 1),
        "write_units": round(sum(row["write_units"] for row in rows.values()), 1),
        "by_call": {name: {key: round(value, 1) for key, value in row.items()} for name, row in sorted(rows.items())},
    }
