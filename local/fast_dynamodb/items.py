"""Items built as moto builds them, cheaper (writes.py and projection.py build theirs here)."""

from __future__ import annotations

from typing import Any

from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.utilities import bytesize

from local.fast_dynamodb.answers import FrozenAttributes

# moto's LimitedSizeDict refuses an attribute that takes the item past this many bytes.
ITEM_SIZE_LIMIT = 405000


class MeasuredItem(Item):
    """An Item never changed once made (stored in a FastTable, or projected for one answer), so its size (which
    moto measures for every item a Query, Scan or BatchGetItem walks, walking every attribute, and a BatchGetItem
    twice) is measured once."""

    def size(self) -> int:
        known: int | None = self.__dict__.get("_size")
        if known is None:
            known = self.__dict__["_size"] = Item.size(self)
        return known


def new_item(hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any], measured: bool = False) -> Item:
    """`Item(hash_key, range_key, attrs)`, measuring each attribute once; values already DynamoTypes are kept as
    they are (moto would wrap them again). `measured`: a MeasuredItem, which keeps the size measured here, with
    FrozenAttributes (answers.py)."""
    item: Any = Item.__new__(MeasuredItem if measured else Item)
    item.hash_key = hash_key
    item.range_key = range_key
    stored = LimitedSizeDict.__new__(FrozenAttributes if measured else LimitedSizeDict)
    dict.__init__(stored)
    size = 0
    for key, value in attrs.items():
        typed = value if type(value) is DynamoType else DynamoType(value)
        size += bytesize(key) + typed.size()
        if size > ITEM_SIZE_LIMIT:
            raise ItemSizeTooLarge
        dict.__setitem__(stored, key, typed)
    item.attrs = stored
    if measured:
        item.__dict__["_size"] = size  # Item.size() sums the same terms
    return item


def held_item(hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]) -> Item:
    """`Item(hash_key, range_key, attrs)` for an item a table already held, so valid once: not measured (a
    MeasuredItem measures itself when first asked), a plain moto Item (moto's own engine changes its items in place)."""
    item: Any = Item.__new__(Item)
    item.hash_key = hash_key
    item.range_key = range_key
    stored = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.__init__(stored, {key: DynamoType(value) for key, value in attrs.items()})
    item.attrs = stored
    return item
