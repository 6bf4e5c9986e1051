"""local/fast_dynamodb/values.py: `DynamoType.cast_value` answers as moto's property for values of every type, so
hashing, equality and ordering (which go through it) answer as moto's; and a BatchGetItem's repeated keys are found
as moto finds them (reads.contains_duplicates)."""

from __future__ import annotations

import itertools
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType

from local.fast_dynamodb import reads, values

VALUES: list[dict[str, Any]] = [
    {"S": "x"},
    {"S": ""},
    {"S": "10"},
    {"N": "10"},
    {"N": "1e1"},
    {"N": "-0.5"},
    {"B": b"\x00\xff"},
    {"B": "AA=="},
    {"BOOL": True},
    {"BOOL": False},
    {"NULL": True},
    {"SS": ["a", "b"]},
    {"NS": ["1", "2.0"]},
    {"BS": [b"a"]},
    {"L": [{"S": "a"}, {"N": "1"}]},
    {"M": {"k": {"S": "v"}, "n": {"N": "2"}}},
]


def _motos(value: DynamoType) -> Any:
    return values.MOTOS_CAST_VALUE.fget(value)


def test_cast_value_answers_as_moto_s_for_every_type() -> None:
    values.install()
    for raw in VALUES:
        value = DynamoType(raw)
        assert value.cast_value == _motos(value)
        assert type(value.cast_value) is type(_motos(value))


def test_hashing_equality_and_order_answer_as_moto_s() -> None:
    values.install()
    scalars = [DynamoType(raw) for raw in VALUES if next(iter(raw)) in ("S", "N", "B", "BOOL")]
    for left, right in itertools.product(scalars, repeat=2):
        same_type = left.type == right.type
        assert (left == right) == (same_type and _motos(left) == _motos(right))
        assert (left != right) == (not same_type or _motos(left) != _motos(right))
        if same_type and left.type in ("S", "N"):
            assert (left < right) == (_motos(left) < _motos(right))
            assert (left >= right) == (_motos(left) >= _motos(right))
    assert hash(DynamoType({"S": "k"})) == hash(("S", "k"))
    assert {DynamoType({"S": "k"}): 1}.get(DynamoType({"S": "k"})) == 1


def test_a_batch_s_repeated_keys_are_found_as_moto_finds_them() -> None:
    # Given keys as moto's parser hands them: equal dicts in any order, near misses, and shapes moto alone handles
    key = {"pk": {"S": "a"}, "sk": {"N": "1"}}
    batches: list[list[Any]] = [
        [key, {"sk": {"N": "1"}, "pk": {"S": "a"}}],
        [key, {"pk": {"S": "a"}, "sk": {"S": "1"}}],
        [key, {"pk": {"S": "a"}}, {"pk": {"S": "a"}, "sk": {}}],
        [{"pk": {"S": "a"}, "sk": {}}, {"pk": {"S": "a"}, "sk": {}}],
        [{"pk": {"B": b"\x00"}}, {"pk": {"B": b"\x00"}}],
        [{"pk": {"SS": ["a"]}}, {"pk": {"SS": ["a"]}}],
        [{"pk": {"SS": ["a"]}}, {"pk": {"SS": ["b"]}}],
        [key],
        [],
    ]
    for keys in batches:
        # Then the fast check answers as moto's loop
        handler: Any = None  # neither reads its handler
        assert reads.contains_duplicates(handler, keys) == reads.MOTOS_CONTAINS_DUPLICATES(handler, keys), keys
