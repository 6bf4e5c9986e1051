"""The compiled JSON response parser answers what botocore's JSONParser answers: random bodies of every output
shape of the JSON-protocol services the local cloud emulates (members present, absent, null, unknown; sparse
lists; maps; blobs; timestamps; documents; tagged unions, including unknown and invalid members), parsed by both."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import botocore.session
import pytest
from botocore import parsers
from botocore.model import ListShape, MapShape, Shape, StructureShape

from local.response_parsing import CompiledJSONParser, install

JSON_SERVICES = ["dynamodb", "dynamodbstreams", "sqs", "cognito-idp", "secretsmanager", "kms", "events", "logs"]
ROUNDS = 6  # random bodies per operation
_session = botocore.session.get_session()


def _value(shape: Shape, rng: random.Random, depth: int) -> Any:
    if isinstance(shape, StructureShape):
        if shape.is_document_type:
            return rng.choice([{"any": [1, "x", None]}, "text", 3])
        if depth > 5:
            return rng.choice([None, {}])
        members = list(shape.members.items())
        if shape.is_tagged_union:
            roll = rng.random()
            if roll < 0.05:
                return {"NotAMember": "x"}  # unknown to this client: SDK_UNKNOWN_MEMBER
            if roll < 0.08:
                return {}  # invalid: no member set
            name, member = rng.choice(members)
            return {member.serialization.get("name", name): _value(member, rng, depth + 1)}
        body: dict[str, Any] = {}
        for name, member in members:
            roll = rng.random()
            key = member.serialization.get("name", name)
            if roll < 0.5:
                body[key] = _value(member, rng, depth + 1)
            elif roll < 0.6:
                body[key] = None
        if rng.random() < 0.1:
            body["UnknownMember"] = "ignored"
        if rng.random() < 0.2 and members:  # one member only: the compiled parser's shortcut
            name, member = rng.choice(members)
            body = {member.serialization.get("name", name): _value(member, rng, depth + 1)}
        return body
    if isinstance(shape, ListShape):
        if depth > 5:
            return []
        return [None if rng.random() < 0.1 else _value(shape.member, rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if isinstance(shape, MapShape):
        if depth > 5:
            return {}
        return {f"k{index}": _value(shape.value, rng, depth + 1) for index in range(rng.randint(0, 3))}
    kind = shape.type_name
    if kind == "blob":
        return base64.b64encode(rng.randbytes(rng.randint(0, 8))).decode()
    if kind == "timestamp":
        return rng.choice([1_700_000_000 + rng.random(), 1_700_000_000, "2026-12-05T22:00:00Z"])
    if kind == "boolean":
        return rng.random() < 0.5
    if kind in ("integer", "long"):
        return rng.randint(-5, 10**12)
    if kind in ("double", "float"):
        return rng.random() * 1000
    return rng.choice(["", "text", "ünïcödé", "0"])


def _parsed(parser: parsers.ResponseParser, body: Any, shape: StructureShape) -> Any:
    response = {
        "status_code": 200,
        "headers": {"x-amzn-requestid": "request-1", "Content-Type": "application/x-amz-json-1.0"},
        "body": json.dumps(body).encode(),
        "context": {},
    }
    try:
        return parser.parse(response, shape)
    except Exception as error:  # the same failure is an equal answer
        return ("raised", type(error).__name__, str(error))


@pytest.mark.parametrize("service", JSON_SERVICES)
def test_compiled_parser_answers_as_botocore_for_every_output_shape(service: str) -> None:
    # Given random bodies of every output shape of the service
    model = _session.get_service_model(service)
    assert model.metadata["protocol"] == "json"
    rng = random.Random(f"{service}-20261205")
    compared = 0
    for operation in model.operation_names:
        shape = model.operation_model(operation).output_shape
        if not isinstance(shape, StructureShape) or shape.event_stream_name:
            continue
        for _ in range(ROUNDS):
            body = _value(shape, rng, 0)
            # When botocore and the compiled parser parse them, Then the answers are equal
            assert _parsed(CompiledJSONParser(), body, shape) == _parsed(parsers.JSONParser(), body, shape), (
                operation,
                body,
            )
            compared += 1
    assert compared >= ROUNDS * 3


def test_attribute_values_of_every_type_parse_as_botocore() -> None:
    # Given an item with every DynamoDB attribute type, nested
    shape = _session.get_service_model("dynamodb").operation_model("GetItem").output_shape
    item = {
        "s": {"S": "x"},
        "n": {"N": "1.5"},
        "b": {"B": base64.b64encode(b"\x00\xff").decode()},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
        "bs": {"BS": [base64.b64encode(b"a").decode()]},
        "m": {"M": {"inner": {"L": [{"S": "y"}, {"NULL": True}, {"BOOL": False}, {"M": {}}]}}},
        "null": {"NULL": True},
    }
    # When both parse it, Then they are equal, and blobs are bytes
    compiled = _parsed(CompiledJSONParser(), {"Item": item}, shape)
    assert compiled == _parsed(parsers.JSONParser(), {"Item": item}, shape)
    assert compiled["Item"]["b"] == {"B": b"\x00\xff"}


def test_custom_blob_parser_falls_back_to_botocore() -> None:
    # Given a parser made with a blob parser of its own
    shape = _session.get_service_model("dynamodb").operation_model("GetItem").output_shape
    parser = CompiledJSONParser(blob_parser=lambda value: ("custom", value))
    # When it parses a blob, Then its own blob parser converted it
    parsed = _parsed(parser, {"Item": {"b": {"B": "AA=="}}}, shape)
    assert parsed["Item"]["b"] == {"B": ("custom", "AA==")}


def test_install_makes_clients_parse_json_with_the_compiled_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given botocore's table of protocol parsers
    monkeypatch.setitem(parsers.PROTOCOL_PARSERS, "json", parsers.JSONParser)
    # When the local cloud installs the compiled parser
    install()
    # Then a client's parser factory makes it for the JSON protocol, and only for it
    assert type(parsers.ResponseParserFactory().create_parser("json")) is CompiledJSONParser
    assert type(parsers.ResponseParserFactory().create_parser("rest-json")) is parsers.RestJSONParser
