"""A stored item's projection (local/fast_dynamodb/projection.py through `StoredItem.project`) answers as moto's
`Item.project`: the same Item, attribute for attribute and in the same order, or the same error, for projections
of top-level names (the fast path) and any other (moto's own), over seeded random items holding every attribute
type, numbers written oddly, binary sets (on which moto's projection fails) and numbers beyond 38 digits."""

from __future__ import annotations

import base64
import random
from typing import Any

import pytest
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from local.fast_dynamodb.storage import StoredItem, _freeze

NAMES = ["s", "n", "b", "ss", "ns", "bs", "m", "null", "bool", "list", "text", "count"]
NUMBERS = ["1", "1.0", "1e1", "01.50", "-0", "2.5", "-4", "100", "0.000", "1" * 45]


def _value(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    kind = rng.choice(["S", "N", "B", "SS", "NS", "BS", "NULL", "BOOL", *(["L", "M"] if depth < 2 else [])])
    if kind == "S":
        return {"S": rng.choice(["x", "", "naïve", "12"])}
    if kind == "N":
        return {"N": rng.choice(NUMBERS)}
    if kind == "B":
        return {"B": base64.b64encode(rng.choice([b"\x00\xff", b"", b"z"])).decode()}
    if kind == "SS":
        return {"SS": rng.sample(["p", "q", "r", "s"], rng.randint(1, 4))}
    if kind == "NS":
        return {"NS": rng.sample(["1", "2.50", "1e2", "-3"], rng.randint(1, 4))}
    if kind == "BS":
        return {"BS": [base64.b64encode(raw).decode() for raw in rng.sample([b"\x01", b"\x02\x03", b"z"], 2)]}
    if kind == "NULL":
        return {"NULL": True}
    if kind == "BOOL":
        return {"BOOL": rng.random() < 0.5}
    if kind == "L":
        return {"L": [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]}
    return {"M": {name: _value(rng, depth + 1) for name in rng.sample(NAMES, rng.randint(0, 3))}}


def _stored(attrs: dict[str, Any]) -> Item:
    item = Item(hash_key=DynamoType({"S": "key"}), range_key=None, attrs={"pk": {"S": "key"}, **attrs})
    _freeze(item)  # as a FastTable stores it
    assert type(item) is StoredItem
    return item


def _item(rng: random.Random) -> Item:
    return _stored({name: _value(rng) for name in rng.sample(NAMES, rng.randint(0, len(NAMES)))})


def _described(item: Item) -> list[tuple[str, str, str]]:
    """The item as a response shows it: every attribute, in order, its type and value spelled out."""
    return [(name, value.type, repr(value.to_regular_json())) for name, value in item.attrs.items()]


def _outcome(projection: Any) -> Any:
    try:
        item = projection()
    except Exception as error:
        return type(error)
    return (item.hash_key, item.range_key, _described(item), item.size())


def _assert_same(paths: list[list[str]], item: Item) -> None:
    fast, moto = _outcome(lambda: item.project(paths)), _outcome(lambda: Item.project(item, paths))
    assert fast == moto


@pytest.mark.parametrize("seed", range(20))
def test_projections_of_top_level_names_give_moto_s_item(seed: int) -> None:
    # Given random items of every attribute type, and projections of some of their names (missing ones,
    # repeated ones and the key included), in random orders
    rng = random.Random(seed)
    for _ in range(50):
        item = _item(rng)
        paths = [[name] for name in rng.choices(["pk", *NAMES, "missing"], k=rng.randint(1, 8))]
        # When both project (twice: the stored item learns whether it converts), Then the items are equal,
        # attribute for attribute, in the same order, or both projections fail alike
        _assert_same(paths, item)
        _assert_same(paths, item)


def test_a_null_and_a_map_are_both_kept() -> None:
    # Given an item with a NULL and a map (moto.core.utils.merge_dicts would drop the NULL: moto's projection
    # merges with botocore's, which does not)
    item = _stored({"null": {"NULL": True}, "m": {"M": {"a": {"NULL": True}, "b": {"N": "1"}}}})
    # When both project the NULL, then the map, and the other way round, Then the answers are moto's
    _assert_same([["null"], ["m"]], item)
    _assert_same([["m"], ["null"]], item)
    assert set(item.project([["null"], ["m"]]).attrs) == {"null", "m"}


def test_nested_paths_and_list_elements_are_moto_s_own() -> None:
    # Given items with maps and lists
    item = _stored({"m": {"M": {"a": {"N": "1e1"}, "b": {"S": "x"}}}, "list": {"L": [{"N": "01.50"}, {"S": "y"}]}})
    # When a projection names a nested attribute or a list element, Then the answer is moto's
    for paths in ([["m", "a"]], [["list[0]"]], [["pk"], ["m", "b"], ["list[3]"]], [["list[0]"], ["m"]]):
        _assert_same(paths, item)


def test_strings_and_booleans_are_shared_with_the_stored_item_numbers_are_converted_as_moto_does() -> None:
    # Given a stored item with a string, a boolean and a number written oddly
    item = _stored({"text": {"S": "hello"}, "flag": {"BOOL": True}, "count": {"N": "01.50"}})
    # When projected
    projected = item.project([["text"], ["flag"], ["count"]])
    # Then the string and boolean values are the stored ones, and the number is what moto's projection makes of it
    assert projected.attrs["text"].value is item.attrs["text"].value
    assert projected.attrs["flag"].value is True
    assert projected.attrs["count"].value == Item.project(item, [["count"]]).attrs["count"].value == "1.50"


def test_an_item_moto_cannot_convert_fails_every_projection_as_moto_s_does() -> None:
    # Given stored items holding what moto's whole-item conversion refuses: a binary set, a number of 45 digits
    for unconvertible in ({"BS": ["AQ=="]}, {"N": "1" * 45}):
        item = _stored({"odd": unconvertible, "text": {"S": "x"}})
        # When another attribute is projected, Then it fails as moto's projection fails
        with pytest.raises(Exception) as moto_error:
            Item.project(item, [["text"]])
        with pytest.raises(moto_error.type):
            item.project([["text"]])
