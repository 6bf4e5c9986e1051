"""Items built as moto builds them, cheaper (writes.py and projection.py build theirs here)."""

from __future__ import annotations

from typing import Any

from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.utilities import bytesize

# moto's LimitedSizeDict refuses an attribute that takes the item past this many bytes.
ITEM_SIZE_LIMIT = 405000


def new_item(hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]) -> Item:
    """`Item(hash_key, range_key, attrs)`, measuring each attribute once."""
    item: Any = Item.__new__(Item)
    item.hash_key = hash_key
    item.range_key = range_key
    stored = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.__init__(stored)
    size = 0
    for key, value in attrs.items():
        typed = DynamoType(value)
        size += bytesize(key) + typed.size()
        if size > ITEM_SIZE_LIMIT:
            raise ItemSizeTooLarge
        dict.__setitem__(stored, key, typed)
    item.attrs = stored
    return item
