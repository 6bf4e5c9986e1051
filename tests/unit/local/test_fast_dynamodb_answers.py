"""local/fast_dynamodb/answers.py: an item read again is answered from what its first read made, and that answer
is moto's own: every read (GetItem, BatchGetItem, Query, Scan, TransactGetItems; whole items and projections)
three times over seeded random items of every attribute type, against moto's untouched DynamoDB, at before-call
(the local cloud's handlers) and over the wire (a tester's boto3); a caller changing its answer changes no later
one; a changed item is answered with its new values; a held item's attributes refuse every change."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict

from local.fast_dynamodb.answers import FrozenAttributes, freeze
from tests.support.dynamodb_differential import REGION, Clients, Generator, both_implementations, outcome

PROJECTIONS = ["pk, sk, title, doc", "n, flag, tags, nums, list, note, title", "note, pk, note, sk"]


def _reads(partitions: list[str], keys: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    reads: list[tuple[str, dict[str, Any]]] = []
    for key in keys[:6]:
        reads.append(("get_item", {"TableName": "items", "Key": key}))
        reads += [("get_item", {"TableName": "items", "Key": key, "ProjectionExpression": p}) for p in PROJECTIONS]
    reads.append(("batch_get_item", {"RequestItems": {"items": {"Keys": keys}}}))
    reads += [
        ("batch_get_item", {"RequestItems": {"items": {"Keys": keys, "ProjectionExpression": p}}}) for p in PROJECTIONS
    ]
    for partition in partitions:
        query = {
            "TableName": "items",
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": partition}},
        }
        reads.append(("query", query))
        reads.append(("query", {**query, "ProjectionExpression": PROJECTIONS[1], "ScanIndexForward": False}))
    reads.append(("scan", {"TableName": "items"}))
    reads.append(("scan", {"TableName": "items", "ProjectionExpression": PROJECTIONS[0]}))
    reads.append(
        ("transact_get_items", {"TransactItems": [{"Get": {"TableName": "items", "Key": k}} for k in keys[:5]]})
    )
    return reads


def _same_answers(fast: Clients, reference: Clients, reads: list[tuple[str, dict[str, Any]]]) -> int:
    compared = 0
    for operation, request in reads:
        fast_answer, reference_answer = (_answer(clients, operation, request) for clients in (fast, reference))
        assert fast_answer == reference_answer, (operation, request)
        compared += 1
    return compared


def _answer(clients: Clients, operation: str, request: dict[str, Any]) -> Any:
    return outcome(lambda: getattr(clients.dynamodb, operation)(**copy.deepcopy(request)))


def _seeded(fast: Clients, reference: Clients, seed: int) -> tuple[list[str], list[dict[str, Any]]]:
    generator = Generator(seed)
    items = {}
    for _ in range(40):
        item = generator.item("items")
        items[(item["pk"]["S"], item["sk"]["S"])] = item
    for item in items.values():
        for clients in (fast, reference):
            clients.dynamodb.put_item(TableName="items", Item=item)
    keys = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in items]
    return sorted({pk for pk, _ in items}), keys


@pytest.mark.parametrize("direct", [True, False], ids=["before-call", "over-the-wire"])
def test_an_item_read_again_gets_moto_s_answer_every_time(direct: bool) -> None:
    with both_implementations(direct) as (fast, reference):
        # Given items of every attribute type, held by the fast DynamoDB and by moto's own
        partitions, keys = _seeded(fast, reference, seed=23)
        reads = _reads(partitions, keys)
        # When every read is made three times (the second and third from the answers the first made)
        compared = sum(_same_answers(fast, reference, reads) for _ in range(3))
        # Then every answer is moto's, and the later ones came from what the first made
        assert compared == 3 * len(reads) > 100
        table = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_table("items")
        held = table.get_item(DynamoType(keys[0]["pk"]), DynamoType(keys[0]["sk"]))
        assert held is not None and type(held.attrs) is FrozenAttributes and held.attrs.converted is not None
        assert held.attrs.converted.later, "the serializer kept its form of the item"


def test_a_caller_changing_its_answer_changes_no_later_answer() -> None:
    with both_implementations(direct=True) as (fast, reference):
        _, keys = _seeded(fast, reference, seed=5)
        key = keys[0]
        first = fast.dynamodb.get_item(TableName="items", Key=key)["Item"]
        expected = copy.deepcopy(first)
        # When a caller replaces, adds and removes values of its answer (as boto3's resource layer replaces them)
        first["pk"] = {"S": "changed"}
        first["added"] = {"N": "1"}
        first.pop("sk")
        # Then the next answer is the item as stored, through the resource layer too
        assert fast.dynamodb.get_item(TableName="items", Key=key)["Item"] == expected
        table = boto3.resource("dynamodb", region_name=REGION).Table("items")
        assert table.get_item(Key={"pk": key["pk"]["S"], "sk": key["sk"]["S"]})["Item"]["pk"] == key["pk"]["S"]
        assert fast.dynamodb.get_item(TableName="items", Key=key)["Item"] == expected


def test_a_changed_item_is_answered_with_its_new_values() -> None:
    with both_implementations(direct=True) as (fast, reference):
        partitions, keys = _seeded(fast, reference, seed=7)
        reads = _reads(partitions, keys)
        _same_answers(fast, reference, reads)  # every answer made once
        # When items are changed every way an item changes
        for clients in (fast, reference):
            clients.dynamodb.update_item(
                TableName="items",
                Key=keys[0],
                UpdateExpression="SET title = :t, note = :n REMOVE doc",
                ExpressionAttributeValues={":t": {"S": "new title"}, ":n": {"M": {"x": {"BS": [b"\x01"]}}}},
            )
            clients.dynamodb.put_item(TableName="items", Item={**keys[1], "title": {"S": "replaced"}})
            clients.dynamodb.delete_item(TableName="items", Key=keys[2])
        # Then every read answers the new values, as moto's does
        assert _same_answers(fast, reference, reads) == len(reads)
        item = fast.dynamodb.get_item(TableName="items", Key=keys[0])["Item"]
        assert item["title"] == {"S": "new title"} and "doc" not in item


@pytest.mark.parametrize(
    "change",
    [
        lambda attrs: attrs.__setitem__("a", DynamoType({"S": "y"})),
        lambda attrs: attrs.__delitem__("a"),
        lambda attrs: attrs.update(b=DynamoType({"S": "y"})),
        lambda attrs: attrs.pop("a"),
        lambda attrs: attrs.popitem(),
        lambda attrs: attrs.clear(),
        lambda attrs: attrs.setdefault("b", DynamoType({"S": "y"})),
    ],
    ids=["set", "delete", "update", "pop", "popitem", "clear", "setdefault"],
)
def test_a_held_item_s_attributes_refuse_every_change(change: Callable[[Any], Any]) -> None:
    attrs = LimitedSizeDict({"a": DynamoType({"S": "x"})})
    freeze(attrs)
    assert type(attrs) is FrozenAttributes

    with pytest.raises(TypeError, match="never change"):
        change(attrs)
    assert attrs == {"a": DynamoType({"S": "x"})}
    # a copy (made to be changed, or kept: a backup, a pickle) is a plain LimitedSizeDict again, equal to it
    pickled = pickle.loads(pickle.dumps(attrs))  # noqa: S301 - the test's own pickle
    for copied in (copy.copy(attrs), copy.deepcopy(attrs), pickled):
        assert type(copied) is LimitedSizeDict and copied == attrs
        copied["b"] = DynamoType({"S": "y"})
    assert attrs == {"a": DynamoType({"S": "x"})}
