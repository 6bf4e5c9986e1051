"""local/fast_dynamodb/results.py answers as moto: `dynamo_to_dict` returns what moto's returns for every kind of
node a DynamoDB result holds, and the memoized `dynamodb_backend` is the backend of the request's account and
region, looked up again when they change."""

from __future__ import annotations

import base64
import datetime
from decimal import Decimal
from typing import Any

from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.utilities import dynamo_to_dict as moto_dynamo_to_dict

from local.fast_dynamodb.results import dynamo_to_dict, dynamodb_backend


class _SubclassedDict(dict[str, Any]):
    pass


def _attributes() -> dict[str, Any]:
    return {
        "s": {"S": "x"},
        "n": {"N": "1.50"},
        "b": {"B": base64.b64encode(b"\x00\xff").decode()},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
        "bs": {"BS": [base64.b64encode(b"a").decode()]},
        "m": {"M": {"inner": {"L": [{"S": "y"}, {"NULL": True}, {"BOOL": False}, {"M": {}}, {"B": "AA=="}]}}},
        "null": {"NULL": True},
        "bool": {"BOOL": True},
        "empty_list": {"L": []},
    }


def test_results_convert_as_moto_converts_them() -> None:
    # Given results made of every node DynamoDB handlers return: items' attributes as DynamoTypes (every type,
    # nested, binary ones as raw bytes and as base64 text), Items, datetimes, subclassed dicts, plain values
    attributes = {name: DynamoType(value) for name, value in _attributes().items()}
    raw_binary = DynamoType({"B": b"\x01\x02"})
    item = Item(hash_key=DynamoType({"S": "k"}), range_key=None, attrs=_attributes())
    results = [
        {"Item": attributes},
        {"Responses": {"posts": [attributes, dict(attributes)]}, "UnprocessedKeys": {}, "ConsumedCapacity": []},
        {"Items": [attributes], "Count": 1, "ScannedCount": 1, "LastEvaluatedKey": {"k": DynamoType({"S": "k"})}},
        {"Attributes": {"raw": raw_binary}},
        {"Item": item},
        {"Item": item.attrs},  # what GetItem and BatchGetItem answer: an Item's attributes, a dict subclass
        {"Table": {"CreationDateTime": datetime.datetime(2026, 12, 5, tzinfo=datetime.UTC), "Size": 1.5}},
        {"Wrapped": _SubclassedDict(a=DynamoType({"S": "x"})), "Decimal": Decimal("1.5"), "Bytes": b"x", "No": None},
        [attributes, None, 3, "text", True],
    ]
    for result in results:
        # When both convert it, Then the answers are equal, of the same types all the way down
        fast, moto = dynamo_to_dict(result), moto_dynamo_to_dict(result)
        assert fast == moto
        assert repr(fast) == repr(moto)


def test_the_backend_is_the_requests_and_follows_a_change_of_account() -> None:
    # Given a handler-like object of one account and region
    class Handler:
        current_account, region = "123456789012", "us-east-1"

    handler = Handler()
    # When the backend is asked for twice, Then it is that account's and region's, the same object
    first = dynamodb_backend(handler)
    assert first is dynamodb_backends["123456789012"]["us-east-1"]
    assert dynamodb_backend(handler) is first
    # And when the request's account changes, the other account's backend is answered
    handler.current_account = "210987654321"
    assert dynamodb_backend(handler) is dynamodb_backends["210987654321"]["us-east-1"]
