"""DynamoDB requests parsed by a converter compiled once per operation.

moto parses every request body by walking the operation's input shape from botocore's model, looking
the parse method up by name at every node (a BatchWriteItem of 25 small items is ~300 nodes). The
converter below is the same walk decided once: for each structure its members, under the same JSON
names, kept only when not null; lists and maps item by item; blobs base64-decoded, timestamps with
moto's parser, numbers as int or float, anything else as sent. It runs only where moto would use its
JSON parser with plain dicts (DynamoDB's case); otherwise moto's own parser runs. Source: moto 5.2.5
core/parse.py (`RequestParser`, `BaseJSONParser`, `JSONParser`), fingerprinted in moto_contract.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape
from moto.core.parse import PROTOCOL_PARSERS, JSONParser, default_blob_parser, default_timestamp_parser
from moto.core.request import determine_request_protocol

Converter = Callable[[Any], Any]
ShapeKey = tuple[str, str, str]


def _shape_key(shape: Shape) -> ShapeKey:
    return (shape.name, shape.type_name, repr(sorted(shape.serialization.items())))


def _converter(shape: Shape, compiling: dict[ShapeKey, Converter]) -> Converter:
    known = compiling.get(_shape_key(shape))
    if known is not None:
        return known
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        return _structure(shape, compiling)
    if kind == "list":
        assert isinstance(shape, ListShape)
        member = _converter(shape.member, compiling)
        return lambda node: [member(item) for item in node]
    if kind == "map":
        assert isinstance(shape, MapShape)
        key, value = _converter(shape.key, compiling), _converter(shape.value, compiling)
        return lambda node: {key(k): value(v) for k, v in node.items()}
    if kind == "blob":
        return default_blob_parser
    if kind == "timestamp":
        return default_timestamp_parser
    if kind in ("float", "double"):
        return float
    if kind in ("integer", "byte", "short", "long"):
        return int
    return _same


def _structure(shape: StructureShape, compiling: dict[ShapeKey, Converter]) -> Converter:
    if shape.is_document_type:
        return _same
    members: list[tuple[str, str, Converter]] = []
    # Members sent under their own name and kept as sent: a value holding one of them alone (every
    # DynamoDB AttributeValue but a binary, a list or a map) is that member, without the walk.
    as_sent: set[str] = set()

    def convert(value: Any) -> Any:
        if value is None:
            return None
        if type(value) is dict and len(value) == 1:
            for name, raw in value.items():
                if name in as_sent:
                    return {name: raw} if raw is not None else {}
        parsed: dict[str, Any] = {}
        for member_name, json_name, member_converter in members:
            raw = value.get(json_name)
            if raw is not None:
                parsed[member_name] = member_converter(raw)
        return parsed

    compiling[_shape_key(shape)] = convert
    for member_name, member in shape.members.items():
        json_name = member.serialization.get("name", member_name)
        member_converter = _converter(member, compiling)
        members.append((member_name, json_name, member_converter))
        if json_name == member_name and member_converter is _same:
            as_sent.add(member_name)
    return convert


def _same(value: Any) -> Any:
    return value


def _body_as_json(body: Any) -> Any:
    if not body:
        return {}
    try:
        text = body.decode("utf-8")
    except (UnicodeDecodeError, AttributeError):
        text = body
    try:
        return json.loads(text)
    except ValueError:
        return {"message": text}


@lru_cache(maxsize=256)
def compiled(operation_model: OperationModel) -> Converter:
    input_shape = operation_model.input_shape
    if input_shape is None:
        return lambda body: {}
    structure = _converter(input_shape, {})
    return lambda body: structure(_body_as_json(body))


def fast_parse_parameters(
    original: Callable[[Any, Any], None], is_fast: Callable[[Any], bool]
) -> Callable[[Any, Any], None]:
    """Wraps a handler's `parse_parameters`: requests of fast accounts through `compiled`."""
    from moto.core.responses import get_service_model

    def parse_parameters(response: Any, request: Any) -> None:
        if response.PROTOCOL_PARSER_MAP_TYPE is not dict or not is_fast(response):
            original(response, request)
            return
        service_model = get_service_model(response.boto3_service_name)
        operation_model = service_model.operation_model(response._get_action())
        if PROTOCOL_PARSERS[determine_request_protocol(service_model, request.content_type)] is not JSONParser:
            original(response, request)
            return
        response.params = compiled(operation_model)(request.data)

    return parse_parameters
