"""Projections (ProjectionExpression, and AttributesToGet as PynamoDB sends it) of stored items, cheaper.

moto's `Item.project` converts the whole item to plain Python (every attribute deep-copied and deserialised)
once per projected path, picks the path out of it, and serialises what it picked back: projecting the six
attributes ranking reads of a post item (`PostRepository.standings_of`) converted the item, caption and media
map included, six times. The ranked feed's first page projects 500 posts that way; it was half of the page's
CPU in the local cloud (docs/LOCAL_CLOUD.md, "Where the time goes").

When every path is one top-level attribute name (no nested path, no list element), `project` here converts
only the attribute each path names, with moto's own functions in moto's order (its deserializer, the
`merge_dicts` it imports from botocore, its serializer, and an Item built by items.new_item, which refuses
what moto's constructor refuses), but for strings and booleans, which those functions give back unchanged:
their DynamoTypes are the stored item's own (never changed: storage.py). The same Item, measured once
(items.MeasuredItem). moto's projection fails on an item whose whole conversion fails (a binary set anywhere
in it, a number of more than 38 digits), whatever is projected: the caller (`StoredItem.project`) hands such
items, and every other kind of path, to moto."""

from __future__ import annotations

import re
from typing import Any

from botocore.utils import merge_dicts  # moto's Item.project merges with this one
from moto.dynamodb.models.dynamo_type import DynamoType, Item, deserializer, serializer

from local.fast_dynamodb.items import new_item

_LIST_ELEMENT = re.compile(r"(.+)\[(\d+)\]$")  # moto's find_nested_key takes a path element like this for one

# Types whose values moto's deserializer and serializer hand back unchanged (a str stays {"S": str}, a bool
# {"BOOL": bool}): the stored DynamoType is the projected one.
_KEPT_AS_STORED = {"S": str, "BOOL": bool}


_last_checked: tuple[object, bool] = (None, False)  # a request's paths, asked about once per item it reads


def top_level_names(paths: list[list[str]]) -> bool:
    """Whether every path is one top-level attribute name, as moto's find_nested_key reads it."""
    global _last_checked
    checked, answer = _last_checked  # one tuple: read and replaced whole, whichever thread wrote it last
    if checked is not paths:  # held here, `paths` cannot be another list at the same address
        answer = all(len(path) == 1 and not _LIST_ELEMENT.match(path[0]) for path in paths)
        _last_checked = (paths, answer)
    return answer


def converts(item: Item) -> bool:
    """Whether moto's conversion of the whole item (which its projection makes) succeeds."""
    try:
        item.to_regular_json()
    except Exception:
        return False
    return True


def project(item: Item, paths: list[list[str]]) -> Item:
    """What `item.project(paths)` returns, for `paths` of top-level names and an item that `converts`."""
    attrs = item.attrs
    result: dict[str, Any] = {}
    for (name,) in paths:
        stored = attrs.get(name)
        if stored is None:
            continue
        if name in result:  # a name repeated: merged as moto merges it
            merge_dicts(result, {name: _plain(stored)})
        else:
            result[name] = _plain(stored)  # what merge_dicts does with a new key
    projected: dict[str, Any] = {}
    for name, value in result.items():
        stored = attrs[name]
        projected[name] = stored if value is stored.value and _kept(stored) else serializer.serialize(value)
    return new_item(item.hash_key, item.range_key, projected, measured=True)


def _kept(stored: DynamoType) -> bool:
    return type(stored.value) is _KEPT_AS_STORED.get(stored.type)


def _plain(stored: DynamoType) -> Any:
    """The attribute as moto's `Item.to_regular_json` has it."""
    return stored.value if _kept(stored) else deserializer.deserialize(stored.to_regular_json())
