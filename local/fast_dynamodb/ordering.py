"""Items in moto's order, kept sorted instead of sorted on every read.

moto orders items by comparing DynamoType values, i.e. their cast values: a string by its code points,
a number as a Decimal. An `Ordering` turns an item into the tuple of those values over the attributes
moto sorts by (the table's keys; for an index its keys, then the table's), so Python's tuple order is
moto's order. Only strings and numbers are ordered here: binary values (and attributes holding
different types, which moto itself cannot sort) leave a partition unordered, and the reads fall back
to moto's own code for it.

A `Partition` holds the items of one partition key (of the table or of an index). Its sorted lists
are built the first time a read asks for them and kept up to date from then on (an insert is a
bisect and a list insert), so a partition that is only written costs a dict entry per item."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Hashable
from decimal import Decimal
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType, Item

ORDERED_TYPES = frozenset({"S", "N"})
SortValue = str | Decimal
SortKey = tuple[SortValue, ...]
Signature = tuple[str, ...]


class Unordered(Exception):
    """A value the fast path does not order (binary, or a string that is not a str)."""


def sort_value(value: DynamoType) -> SortValue:
    if value.type == "S" and isinstance(value.value, str):
        return value.value
    if value.type == "N":
        return Decimal(value.value)
    raise Unordered(value.type)


class Ordering:
    """moto's order over `attributes` (each present on every item ordered)."""

    __slots__ = ("attributes",)

    def __init__(self, attributes: list[str]) -> None:
        self.attributes = tuple(attributes)

    def key(self, item: Item) -> SortKey:
        return tuple(sort_value(item.attrs[name]) for name in self.attributes)

    def signature(self, item: Item) -> Signature:
        return tuple(item.attrs[name].type for name in self.attributes)

    def key_of(self, values: dict[str, Any]) -> SortKey | None:
        """The sort key of a wire-format key (an ExclusiveStartKey); None if it lacks an attribute."""
        try:
            return tuple(sort_value(DynamoType(values[name])) for name in self.attributes)
        except (KeyError, TypeError, IndexError, Unordered):
            return None

    def signature_of(self, values: dict[str, Any]) -> Signature | None:
        try:
            return tuple(next(iter(values[name])) for name in self.attributes)
        except (KeyError, TypeError, StopIteration):
            return None


class Partition:
    """The items under one partition key, by identity (the item's table key), optionally sorted."""

    __slots__ = ("entries", "items", "keys", "signatures")

    def __init__(self, entries: dict[Hashable, Item] | None = None) -> None:
        self.entries: dict[Hashable, Item] = {} if entries is None else entries
        self.signatures: dict[Signature, int] = {}
        self.keys: list[SortKey] | None = None
        self.items: list[Item] | None = None

    def count(self, item: Item, ordering: Ordering) -> None:
        """Accounts for an item already in `entries` (when adopting moto's own dict)."""
        signature = ordering.signature(item)
        self.signatures[signature] = self.signatures.get(signature, 0) + 1

    def add(self, identity: Hashable, item: Item, ordering: Ordering) -> None:
        self.entries[identity] = item
        signature = ordering.signature(item)
        self.signatures[signature] = self.signatures.get(signature, 0) + 1
        if self.keys is None or self.items is None:
            return
        if len(self.signatures) > 1 or not _orderable(signature):
            self.keys = self.items = None
            return
        key = ordering.key(item)
        position = bisect_left(self.keys, key)
        self.keys.insert(position, key)
        self.items.insert(position, item)

    def remove(self, identity: Hashable, item: Item, ordering: Ordering) -> None:
        del self.entries[identity]
        signature = ordering.signature(item)
        left = self.signatures[signature] - 1
        if left:
            self.signatures[signature] = left
        else:
            del self.signatures[signature]
        if self.keys is None or self.items is None:
            return
        position = bisect_left(self.keys, ordering.key(item))
        del self.keys[position]
        del self.items[position]

    def ordered(self, ordering: Ordering) -> tuple[list[SortKey], list[Item]] | None:
        """The items in moto's order and their sort keys; None if moto's order is not one this module keeps."""
        if self.keys is None or self.items is None:
            if len(self.signatures) > 1 or not all(_orderable(signature) for signature in self.signatures):
                return None
            try:
                pairs = sorted(((ordering.key(item), item) for item in self.entries.values()), key=_first)
            except Unordered:
                return None
            self.keys = [key for key, _ in pairs]
            self.items = [item for _, item in pairs]
        return self.keys, self.items

    def signature(self) -> Signature | None:
        return next(iter(self.signatures)) if len(self.signatures) == 1 else None


def _first(pair: tuple[SortKey, Item]) -> SortKey:
    return pair[0]


def _orderable(signature: Signature) -> bool:
    return all(kind in ORDERED_TYPES for kind in signature)
