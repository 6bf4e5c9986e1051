"""A moto table whose items are never copied, whose partitions and indexes stay sorted, and whose
every write passes through one place (`_store`).

moto keeps a table as `items[hash][range] -> Item` and sorts every item of the table on each Query,
scans the whole table for an index Query, deep-copies what it returns and mutates an item in place
to update it. A `FastTable` keeps moto's `items` as they are (so moto's own code still runs on it
wherever the fast path falls back) and adds:
- copy on write: a stored Item is never changed again (an update stores a changed copy), so reads
  hand out the stored objects without copying them, and a stream record's images can be rendered
  when the record is read;
- each partition's items sorted (built on the first read of the partition, then maintained);
- the partition keys sorted (for Scan), built on the first Scan;
- every secondary index maintained on every write: per index partition key, its items, sorted on
  first read (`IndexState`); with a GSI lag (eventual-consistency mode) also a lagged copy of each
  GSI that receives each change `lag` after it happened;
- a lock per table (see local/fast_dynamodb/locking.py).

A transaction records what it overwrote in a `Journal` (the previous Item objects, which nobody
changes) and puts them back if it is cancelled; there is no copy of any table."""

from __future__ import annotations

import copy
import threading
import time
from bisect import bisect_left
from collections import deque
from collections.abc import Iterable
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import GlobalSecondaryIndex, SecondaryIndex, Table

from local.fast_dynamodb import answers, consistency, projection
from local.fast_dynamodb.items import MeasuredItem
from local.fast_dynamodb.ordering import ORDERED_TYPES, Ordering, Partition, SortValue, sort_value
from local.fast_dynamodb.streams import adopt_shard

# Attributes a FastTable adds to moto's Table; a deep copy (moto's backups) leaves them out.
FAST_ATTRIBUTES = frozenset({"_lock", "_base_ordering", "_partitions", "_hash_keys", "_hashes", "_indexes"})

_active = threading.local()


class Journal:
    """What a transaction changed, to put back if it is cancelled: the Items it replaced (never mutated,
    so no copies), the length of each stream before it, and the index changes the lagged GSIs receive
    only if it commits."""

    def __init__(self) -> None:
        self.writes: list[tuple[FastTable, DynamoType, DynamoType | None, Item | None]] = []
        self.index_changes: list[tuple[IndexState, Item | None, Item | None]] = []
        self.stream_lengths: dict[int, tuple[Any, int]] = {}

    def watch(self, table: Table) -> None:
        shard = table.stream_shard
        if shard is not None and id(shard) not in self.stream_lengths:
            self.stream_lengths[id(shard)] = (shard, len(shard.items))

    def __enter__(self) -> Journal:
        _active.journal = self
        return self

    def __exit__(self, *_: object) -> None:
        _active.journal = None

    def rollback(self) -> None:
        for table, hash_key, range_key, previous in reversed(self.writes):
            table._store(hash_key, range_key, previous, record=False)
        self.writes.clear()
        self.index_changes.clear()
        for shard, length in self.stream_lengths.values():
            del shard.items[length:]

    def commit(self) -> None:
        now = time.monotonic()
        for state, old, new in self.index_changes:
            state.pending.append((now, old, new))
        self.index_changes.clear()


def active_journal() -> Journal | None:
    return getattr(_active, "journal", None)


def _identity(item: Item) -> tuple[DynamoType, DynamoType | None]:
    return (item.hash_key, item.range_key)


class IndexView:
    """An index's items by index partition key."""

    __slots__ = ("partitions",)

    def __init__(self) -> None:
        self.partitions: dict[DynamoType, Partition] = {}

    def replace(self, state: IndexState, old: Item | None, new: Item | None) -> None:
        if old is not None and state.member(old):
            key = old.attrs[state.hash_attr]
            partition = self.partitions[key]
            partition.remove(_identity(old), old, state.ordering)
            if not partition.entries:
                del self.partitions[key]
        if new is not None and state.member(new):
            key = new.attrs[state.hash_attr]
            found = self.partitions.get(key)
            if found is None:
                found = self.partitions[key] = Partition()
            found.add(_identity(new), new, state.ordering)

    def clone(self) -> IndexView:
        copied = IndexView()
        for key, partition in self.partitions.items():
            twin = Partition(dict(partition.entries))
            twin.signatures = dict(partition.signatures)
            copied.partitions[key] = twin
        return copied


class IndexState:
    """One secondary index, maintained: the items moto's index Query would consider, by index partition
    key, in the order moto's Query sorts them (index keys, then the table's)."""

    def __init__(self, table: Table, index: SecondaryIndex) -> None:
        self.index = index
        self.name = index.name
        self.is_global = isinstance(index, GlobalSecondaryIndex)
        hash_keys = [key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH"]
        range_keys = [key["AttributeName"] for key in index.schema if key["KeyType"] == "RANGE"]
        # Composite (multi-attribute) index keys are left to moto.
        self.supported = len(hash_keys) == 1 and len(range_keys) <= 1
        self.hash_attr = hash_keys[0] if hash_keys else ""
        self.range_attr = range_keys[0] if range_keys else None
        # As moto's Table.query builds them for an index.
        if range_keys:
            range_attrs: list[str | None] = [*range_keys, table.range_key_attr]
        else:
            acting = table.range_key_attr if self.is_global and table.range_key_attr else table.hash_key_attr
            range_attrs = [acting, table.range_key_attr]
        self.hash_attrs = [*hash_keys, table.hash_key_attr]
        self.range_attrs = range_attrs
        self.ordering = Ordering(table._generate_attr_to_sort_by(self.hash_attrs, range_attrs))
        self.current = IndexView()
        self.lagged: IndexView | None = None
        self.pending: deque[tuple[float, Item | None, Item | None]] = deque()

    def member(self, item: Item) -> bool:
        attrs = item.attrs
        return self.hash_attr in attrs and (self.range_attr is None or self.range_attr in attrs)

    def changed(self, old: Item | None, new: Item | None) -> None:
        self.current.replace(self, old, new)
        if self.lagged is None:
            return
        journal = active_journal()
        if journal is not None:
            journal.index_changes.append((self, old, new))
        else:
            self.pending.append((time.monotonic(), old, new))
        self.catch_up()

    def catch_up(self) -> None:
        """Applies to the lagged view every change older than the lag."""
        if self.lagged is None:
            return
        horizon = time.monotonic() - consistency.settings.gsi_lag_s
        pending = self.pending
        while pending and pending[0][0] <= horizon:
            _, old, new = pending.popleft()
            self.lagged.replace(self, old, new)

    def view(self, lagged: bool) -> IndexView:
        if lagged and self.lagged is not None:
            self.catch_up()
            return self.lagged
        return self.current

    def set_lag(self, enabled: bool) -> None:
        if enabled and self.lagged is None:
            self.lagged = self.current.clone()
            self.pending.clear()
        elif not enabled:
            self.lagged = None
            self.pending.clear()


class StoredItem(MeasuredItem):
    """An Item once a FastTable stores it: never changed again (its attributes are answers.FrozenAttributes), so
    its size is measured once (MeasuredItem), each projection of it is made once, and they share its values."""

    def project(self, projection_expressions: list[list[str]]) -> Item:
        """moto's projection (GetItem, BatchGetItem, Query and Scan call it), converting only the attributes
        named when every path is a top-level name (projection.py); whether moto's conversion of the whole item
        succeeds (when it fails, so does moto's projection) is learnt once, and so is each projection."""
        if not projection.top_level_names(projection_expressions):
            return Item.project(self, projection_expressions)
        converts: bool | None = self.__dict__.get("_converts")
        if converts is None:
            converts = self.__dict__["_converts"] = projection.converts(self)
        if not converts:
            return Item.project(self, projection_expressions)
        names = tuple(name for (name,) in projection_expressions)
        projections: dict[tuple[str, ...], Item] | None = self.__dict__.get("_projections")
        if projections is None:
            projections = self.__dict__["_projections"] = {}
        projected = projections.get(names)
        if projected is None:
            projected = projections[names] = projection.project(self, projection_expressions)
        return projected

    def __deepcopy__(self, memo: dict[int, Any]) -> Item:
        """A copy is a plain Item: it is made to be changed (an update), or kept by moto (a backup)."""
        copied = Item.__deepcopy__(self, memo)
        copied.__class__ = Item
        return copied


def _freeze(item: Item) -> None:
    if type(item) is not StoredItem:
        item.__class__ = StoredItem
    item.__dict__.pop("_size", None)  # a copy being updated may have measured itself half-way
    item.__dict__.pop("_converts", None)
    item.__dict__.pop("_projections", None)
    answers.freeze(item.attrs)


def adoptable(table: Table) -> bool:
    """Tables whose keys are strings or numbers (binary keys stay with moto's own code)."""
    return table.hash_key_type in ORDERED_TYPES and (
        table.range_key_attr is None or table.range_key_type in ORDERED_TYPES
    )


class FastTable(Table):
    """A moto Table with the structures above. Made by `adopt`, never constructed directly."""

    _lock: threading.RLock
    _base_ordering: Ordering
    _partitions: dict[DynamoType, Partition]
    _hash_keys: list[SortValue] | None
    _hashes: list[DynamoType] | None
    _indexes: dict[str, IndexState]

    @classmethod
    def adopt(cls, table: Table) -> FastTable:
        table.__class__ = cls
        assert isinstance(table, FastTable)
        table._lock = threading.RLock()
        table._base_ordering = Ordering(table._generate_attr_to_sort_by([table.hash_key_attr], [table.range_key_attr]))
        table._rebuild()
        adopt_shard(table.stream_shard)
        return table

    def set_stream_specification(self, streams: dict[str, Any] | None) -> None:
        Table.set_stream_specification(self, streams)
        adopt_shard(self.stream_shard)

    def _rebuild(self) -> None:
        self._hash_keys = self._hashes = None
        self._partitions = {}
        if self.range_key_attr is not None:
            for hash_key, entries in list(self.items.items()):
                if not entries:
                    del self.items[hash_key]
                    continue
                partition = self._partitions[hash_key] = Partition(entries)
                for item in entries.values():
                    partition.count(item, self._base_ordering)
        self.rebuild_indexes()

    def rebuild_indexes(self) -> None:
        """(Re)builds every index from the items: at adoption, and after UpdateTable changes the GSIs."""
        self._indexes = {}
        for index in self.all_indexes():
            state = IndexState(self, index)
            if not state.supported:
                continue
            for item in self._every_item():
                if state.member(item):
                    state.current.replace(state, None, item)
            state.set_lag(consistency.settings.lags_gsis)
            self._indexes[state.name] = state

    def set_gsi_lag(self, enabled: bool) -> None:
        for state in self._indexes.values():
            if state.is_global:
                state.set_lag(enabled)

    def _every_item(self) -> list[Item]:
        stored: dict[Any, Any] = self.items
        if self.range_key_attr is None:
            return list(stored.values())
        return [item for partition in stored.values() for item in partition.values()]

    def __deepcopy__(self, memo: dict[int, Any]) -> Table:
        """moto's backups copy the table: as a plain moto Table, without the fast structures."""
        clone: Any = Table.__new__(Table)
        memo[id(self)] = clone
        for name, value in self.__dict__.items():
            if name not in FAST_ATTRIBUTES:
                clone.__dict__[name] = copy.deepcopy(value, memo)
        return clone

    # Reads of single items: never create an empty partition (moto's defaultdict does).

    def get_item(
        self,
        hash_key: DynamoType,
        range_key: DynamoType | None = None,
        projection_expression: list[list[str]] | None = None,
    ) -> Item | None:
        if self.range_key_attr is None and range_key is not None:
            return Table.get_item(self, hash_key, range_key, projection_expression)
        if self.has_range_key and not range_key:
            return Table.get_item(self, hash_key, range_key, projection_expression)  # moto's validation error
        if range_key is not None:
            partition = self.items.get(hash_key)
            result = partition.get(range_key) if partition is not None else None
        else:
            result = self.items.get(hash_key)
        if projection_expression and result:
            result = result.project(projection_expression)
        return result

    # Every change of an item goes through here.

    def _store(
        self, hash_key: DynamoType, range_key: DynamoType | None, item: Item | None, record: bool = True
    ) -> Item | None:
        """Puts `item` (or nothing) at the key; returns what was there."""
        if item is not None:
            _freeze(item)
        if self.range_key_attr is not None:
            assert range_key is not None
            partition = self._partitions.get(hash_key)
            if partition is None:
                if item is None:
                    return None
                partition = self._new_partition(hash_key)
            previous = partition.entries.get(range_key)
            if previous is not None:
                partition.remove(range_key, previous, self._base_ordering)
            if item is not None:
                partition.add(range_key, item, self._base_ordering)
            elif not partition.entries:
                self._drop_partition(hash_key)
        else:
            stored: dict[Any, Any] = self.items
            previous = stored.get(hash_key)
            if item is not None:
                stored[hash_key] = item
                if previous is None:
                    self._hash_added(hash_key)
            elif previous is not None:
                del stored[hash_key]
                self._hash_removed(hash_key)
        if previous is None and item is None:
            return None
        for state in self._indexes.values():
            state.changed(previous, item)
        journal = active_journal()
        if record and journal is not None:
            journal.writes.append((self, hash_key, range_key, previous))
        return previous

    def _new_partition(self, hash_key: DynamoType) -> Partition:
        entries = self.items.get(hash_key)  # moto code may have left an empty dict behind
        partition = Partition(entries if entries is not None else {})
        if entries:
            for item in entries.values():
                partition.count(item, self._base_ordering)
        self.items[hash_key] = partition.entries
        self._partitions[hash_key] = partition
        self._hash_added(hash_key)
        return partition

    def _drop_partition(self, hash_key: DynamoType) -> None:
        del self._partitions[hash_key]
        self.items.pop(hash_key, None)
        self._hash_removed(hash_key)

    def _hash_added(self, hash_key: DynamoType) -> None:
        if self._hash_keys is None or self._hashes is None:
            return
        value = sort_value(hash_key)
        position = bisect_left(self._hash_keys, value)
        self._hash_keys.insert(position, value)
        self._hashes.insert(position, hash_key)

    def _hash_removed(self, hash_key: DynamoType) -> None:
        if self._hash_keys is None or self._hashes is None:
            return
        position = bisect_left(self._hash_keys, sort_value(hash_key))
        del self._hash_keys[position]
        del self._hashes[position]

    def hash_order(self) -> tuple[list[SortValue], list[DynamoType]]:
        """The partition keys that hold items, in moto's order (built on the first Scan)."""
        if self._hash_keys is None or self._hashes is None:
            present = [key for key, value in self.items.items() if value]
            pairs = sorted(((sort_value(key), key) for key in present), key=lambda pair: pair[0])
            self._hash_keys = [value for value, _ in pairs]
            self._hashes = [key for _, key in pairs]
        return self._hash_keys, self._hashes

    def partition(self, hash_key: DynamoType) -> Partition | None:
        return self._partitions.get(hash_key)

    def index_state(self, name: str) -> IndexState | None:
        return self._indexes.get(name)

    def put_held(self, item: Item) -> None:
        """An item the table already held (a restored snapshot's): stored and indexed as any write's, with no
        stream record and outside any transaction."""
        self._store(item.hash_key, item.range_key, item, record=False)

    def order_partitions(self, items: Iterable[Item]) -> None:
        """Sorts now the partitions holding these items, of the table and of its indexes, that their first read would
        sort: after a bulk put (`local.state.backends.put_items_held`), so that no read pays for ordering a partition
        that grew large without being read (the search benchmark's first Query of `user#s`, 21,317 items, spent
        ~150 ms of CPU sorting them). A partition already sorted costs a check."""
        for item in items:
            partition = self._partitions.get(item.hash_key)
            if partition is not None:
                partition.ordered(self._base_ordering)
            for state in self._indexes.values():
                if not state.member(item):
                    continue
                for view in (state.current, state.lagged):
                    index_partition = view.partitions.get(item.attrs[state.hash_attr]) if view is not None else None
                    if index_partition is not None:
                        index_partition.ordered(state.ordering)

    def put_item(self, *args: Any, **kwargs: Any) -> Item:
        from local.fast_dynamodb.writes import put_item

        return put_item(self, *args, **kwargs)

    def delete_item(self, hash_key: DynamoType, range_key: DynamoType | None) -> Item | None:
        item = self._store(hash_key, range_key, None)
        if item is not None and self.stream_shard is not None:
            self.stream_shard.add(item, None)
        return item

    def query(self, *args: Any, **kwargs: Any) -> tuple[list[Item], int, dict[str, Any] | None]:
        from local.fast_dynamodb.reads import query

        return query(self, *args, **kwargs)

    def scan(self, *args: Any, **kwargs: Any) -> tuple[list[Item], int, dict[str, Any] | None]:
        from local.fast_dynamodb.reads import scan

        return scan(self, *args, **kwargs)
