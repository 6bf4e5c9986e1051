"""The fast path's compiled request parser (local/fast_dynamodb/parsing.py) answers what moto's JSONParser
answers: random bodies of every DynamoDB operation's input shape (members present, absent, null, unknown;
one member alone, the shortcut every AttributeValue takes; lists, maps, blobs, timestamps), parsed by both."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import botocore.session
import pytest
from moto.core.parse import JSONParser

from local.fast_dynamodb.parsing import compiled
from tests.unit.local.test_response_parsing import _value

ROUNDS = 12


def _outcome(parse: Callable[[], Any]) -> Any:
    """The parameters, or the error (a null blob in a list fails both)."""
    try:
        return parse()
    except Exception as error:  # the error is the outcome compared
        return (type(error).__name__, str(error))


_dynamodb = botocore.session.get_session().get_service_model("dynamodb")


@pytest.mark.parametrize("operation", _dynamodb.operation_names)
def test_compiled_request_parser_answers_as_moto_s_parser(operation: str) -> None:
    # Given random request bodies of the operation's input shape
    model = _dynamodb.operation_model(operation)
    rng = random.Random(f"{operation}-requests")
    for _ in range(ROUNDS):
        body = json.dumps(_value(model.input_shape, rng, 0)).encode()

        # When both parse them
        request = {"method": "POST", "values": {}, "headers": {}, "body": body, "url_path": "/", "url_params": {}}
        moto_s = _outcome(lambda: JSONParser(model, map_type=dict).parse(request))  # noqa: B023

        # Then the parameters (or the errors) are the same
        assert _outcome(lambda: compiled(model)(body)) == moto_s, body  # noqa: B023


def test_an_attribute_value_of_one_member_is_parsed_as_sent() -> None:
    model = _dynamodb.operation_model("PutItem")
    item = {
        "pk": {"S": "user#1"},
        "n": {"N": "1.5"},
        "flag": {"BOOL": False},
        "nothing": {"NULL": True},
        "names": {"SS": ["a", "b"]},
        "blob": {"B": "AAE="},
        "map": {"M": {"inner": {"S": "x"}, "bytes": {"BS": ["AA=="]}}},
        "empty": {"S": None},
    }
    parsed = compiled(model)(json.dumps({"TableName": "t", "Item": item}).encode())["Item"]

    assert parsed == {
        **item,
        "blob": {"B": b"\x00\x01"},
        "map": {"M": {"inner": {"S": "x"}, "bytes": {"BS": [b"\x00"]}}},
        "empty": {},
    }
