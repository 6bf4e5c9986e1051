"""DynamoDB and DynamoDB Streams responses serialised by a converter compiled once per operation.

moto serialises every response by walking the operation's output shape from botocore's model and,
for every member of every structure (each attribute value of each item: `{"S": ...}` is a structure of
ten members), building a picker context and trying up to six alias providers, each twice (the name and
its snake_case form). Reading a 50-post feed page spent more time there than in the DynamoDB backend.

`compiled(operation_model)` walks the same shapes once and returns a function that does, for a result
made of dicts and lists (what moto's DynamoDB and Streams handlers return), what moto's JSON
serializer does: the same members in the same order, looked up under the same candidate keys (moto's
alias providers, asked once per member: for a dict their answer depends on the shape only), the same
conversions (str, int, float, base64 for blobs, moto's own timestamp conversion), the same quirks (a
list item whose member shape has a serialization name is kept raw; a None member is left out).
Anything else (an object that is not a dict where a structure is expected) raises Fallback, and the
caller uses moto's serializer. Errors are always moto's. Source: moto 5.2.5 core/serialize.py
(`ResponseSerializer`, `BaseJSONSerializer`, `XFormedAttributePicker`), fingerprinted in moto_contract.py."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from enum import Enum
from functools import lru_cache
from typing import Any

from botocore import xform_name
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape
from moto import settings
from moto.core.serialize import (
    DEFAULT_ALIAS_PROVIDERS,
    AttributePickerContext,
    JSONSerializer,
    TimestampSerializer,
    get_serializer_class,
)

from local.fast_dynamodb.answers import Walked, walked_once

Converter = Callable[[Any], Any]
_SKIP = object()  # the serializer writes nothing for this value
_timestamps = TimestampSerializer(TimestampSerializer.TIMESTAMP_FORMAT_UNIX)


class Fallback(Exception):
    """A result this module does not serialise exactly as moto would; moto's serializer must."""


def _candidate_keys(shape: StructureShape, member_key: str, member: Shape) -> tuple[str, ...]:
    """The keys moto's XFormedAttributePicker tries, in order, for this member of a dict."""
    member.parent = shape  # as moto's serializer sets it
    context = AttributePickerContext(obj={}, key=member_key, shape=member)
    keys: list[str] = []
    for provider_class in DEFAULT_ALIAS_PROVIDERS:
        provider = provider_class(context)  # type: ignore[abstract]
        if provider.has_alias(member_key):
            alias = provider.get_alias(member_key)
            keys += [alias, xform_name(alias)]
    return tuple(keys)


def _shape_key(shape: Shape) -> tuple[str, str, str]:
    """botocore builds a new Shape each time a member is resolved: shapes are told apart by name and traits."""
    return (shape.name, shape.type_name, repr(sorted(shape.serialization.items())))


def _converter(shape: Shape, compiling: dict[tuple[str, str, str], Converter]) -> Converter:
    known = compiling.get(_shape_key(shape))
    if known is not None:
        return known
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        return _structure(shape, compiling)
    if kind == "list":
        assert isinstance(shape, ListShape)
        return _list(shape, compiling)
    if kind == "map":
        assert isinstance(shape, MapShape)
        return _map(shape, compiling)
    if kind == "string":
        return _string
    if kind in ("integer", "long"):
        return int
    if kind in ("float", "double"):
        return float
    if kind == "blob":
        return _blob
    if kind == "timestamp":
        timestamp_format = shape.serialization.get("timestampFormat", TimestampSerializer.TIMESTAMP_FORMAT_UNIX)
        return lambda value: _timestamps._convert_timestamp_to_str(value, timestamp_format)
    return _same


def _structure(shape: StructureShape, compiling: dict[tuple[str, str, str], Converter]) -> Converter:
    if shape.is_document_type:
        return _same
    members: list[tuple[tuple[str, ...], str, Converter]] = []
    # For a dict of one key (every attribute value, `{"S": "x"}`): the members that key is a candidate of, in
    # member order; the loop below would find that key for exactly these members and nothing for the others.
    by_candidate: dict[str, list[tuple[str, Converter]]] = {}

    def convert(value: Any) -> Any:
        if value is None:
            return _SKIP
        if type(value) is not dict:
            raise Fallback(type(value).__name__)
        if len(value) == 1:
            for key, member_value in value.items():
                single: dict[str, Any] = {}
                if member_value is not None:
                    for name, member_converter in by_candidate.get(key, ()):
                        converted = member_converter(member_value)
                        if converted is not _SKIP:
                            single[name] = converted
                return single
        wrapper: dict[str, Any] = {}
        for candidates, name, member_converter in members:
            for candidate in candidates:
                if candidate in value:
                    member_value = value[candidate]
                    break
            else:
                continue
            if member_value is None:
                continue
            converted = member_converter(member_value)
            if converted is not _SKIP:
                wrapper[name] = converted
        return wrapper

    compiling[_shape_key(shape)] = convert
    for member_key, member in shape.members.items():
        members.append(
            (
                _candidate_keys(shape, member_key, member),
                member.serialization.get("name", member_key),
                _converter(member, compiling),
            )
        )
    for candidates, name, member_converter in members:
        for candidate in dict.fromkeys(candidates):
            by_candidate.setdefault(candidate, []).append((name, member_converter))
    return convert


def _list(shape: ListShape, compiling: dict[tuple[str, str, str], Converter]) -> Converter:
    member = shape.member
    keeps_raw = member.serialization.get("name", member.name) != member.name
    member_converter = _converter(member, compiling)

    def convert(value: Any) -> Any:
        converted_items = []
        for item in value:
            converted = member_converter(item)
            converted_items.append(item if keeps_raw or converted is _SKIP else converted)
        return converted_items

    return convert


def _map(shape: MapShape, compiling: dict[tuple[str, str, str], Converter]) -> Converter:
    value_shape = shape.value
    renamed = value_shape.serialization.get("name")
    value_converter = _converter(value_shape, compiling)

    def walk(value: Any) -> Any:
        converted_map: dict[str, Any] = {}
        for key, item in value.items():
            converted = value_converter(item)
            if converted is not _SKIP:
                converted_map[renamed or key] = converted
        return converted_map

    def written(value: Any) -> Walked:
        return Walked(walk(value))

    def convert(value: Any) -> Any:
        if type(value) is Walked:  # a held item's attributes: written once (answers.py)
            return walked_once(value, convert, written)
        return walk(value)

    return convert


def _string(value: Any) -> Any:
    if type(value) is str:  # what the lines below return for it
        return value
    if isinstance(value, Enum):
        value = value.value
    return str(value) if value not in [None, {}, []] else value


def _blob(value: Any) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return base64.b64encode(value).strip().decode("utf-8")


def _same(value: Any) -> Any:
    return value


@lru_cache(maxsize=256)
def compiled(operation_model: OperationModel) -> Converter:
    output_shape = operation_model.output_shape
    if output_shape is None:
        return lambda result: {}
    assert isinstance(output_shape, StructureShape)
    structure = _converter(output_shape, {})

    def convert(result: Any) -> dict[str, Any]:
        converted = structure(result)
        return {} if converted is _SKIP else converted

    return convert


def serialize(operation_model: OperationModel, result: Any, protocol: str) -> tuple[int, dict[str, str], str]:
    """(status, headers, body) as moto's JSON serializer makes them for a successful result."""
    service = operation_model.service_model
    if get_serializer_class(service.service_name, protocol) is not JSONSerializer:
        raise Fallback(protocol)
    if operation_model.has_event_stream_output:
        raise Fallback("event stream")
    body = compiled(operation_model)(result)
    status = operation_model.http.get("responseCode", 200)
    content_type = f"application/x-amz-json-{service.metadata.get('jsonVersion', '1.0')}"
    return status, {"Content-Type": content_type}, json.dumps(body, indent=4 if settings.PRETTIFY_RESPONSES else None)


def fast_serialized(original: Callable[[Any, Any], Any], is_fast: Callable[[Any], bool]) -> Callable[[Any, Any], Any]:
    """Wraps a handler's `serialized`: results of fast accounts through `serialize`, the rest moto's way."""
    from botocore.model import OperationNotFoundError
    from moto.core.responses import get_service_model

    def serialized(response: Any, action_result: Any) -> Any:
        result = action_result.result
        if isinstance(result, Exception) or not is_fast(response.current_account):
            return original(response, action_result)
        try:
            service_model = get_service_model(response.boto3_service_name)
            operation_model = service_model.operation_model(response._get_action())
            protocol = response.determine_response_protocol(service_model)
            status, headers, body = serialize(operation_model, result, protocol)
        except (Fallback, OperationNotFoundError):
            return original(response, action_result)
        headers.update(response.response_headers)
        return status, headers, body

    return serialized
