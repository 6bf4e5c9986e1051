"""Handlers' botocore parses JSON-protocol responses (DynamoDB, SQS, Cognito, ...) with converters compiled
once per output shape instead of walking the shape for every value.

Profiled on a 50-post feed page over HTTP on the fast DynamoDB (docs/LOCAL_CLOUD.md, "Where the time goes"),
botocore's `_handle_structure` was a fifth of the page's CPU: every attribute value of every item (`{"S": "x"}`
is a structure of ten members) is parsed by looking each of its members up, through `getattr` dispatch per
value. This parser does what botocore 1.44's `JSONParser` does — the same members in the same order, under
the same JSON names, `None` left out, lists kept sparse, blobs and timestamps through the parser's own
functions, documents kept as they are, tagged unions checked by botocore's own method — but each shape's
walk is compiled into closures once. Anything else (other protocols, event streams, error responses, custom
blob or timestamp parsers) is botocore's. `tests/unit/local/test_response_parsing.py` parses random values of
every output shape of the services the local cloud emulates with both and requires them equal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from botocore import parsers
from botocore.model import ListShape, MapShape, Shape, StructureShape

from local.fast_dynamodb.answers import Walked, walked_once

Converter = Callable[[Any], Any]
BOTOCORE_JSON_PARSER = parsers.JSONParser
_compiled: dict[tuple[int, str], tuple[Any, Converter]] = {}
_compiled_lock = threading.Lock()


def _same(value: Any) -> Any:
    return value


def _structure(shape: StructureShape, compiling: dict[str, Converter], parser: Any) -> Converter:
    if shape.is_document_type:
        return _same
    converters: list[tuple[str, str, Converter]] = []
    by_json_name: dict[str, tuple[str, Converter]] = {}
    tagged_union = shape.is_tagged_union

    def convert(value: Any) -> Any:
        if value is None:
            return None
        if tagged_union and parser._has_unknown_tagged_union_member(shape, value):
            return parser._handle_unknown_tagged_union_member(parser._get_first_key(value))
        if type(value) is dict and len(value) == 1 and by_json_name:
            # most structures of a response carry one member (every attribute value): look it up
            for json_name, raw in value.items():
                found = by_json_name.get(json_name)
                if found is None or raw is None:
                    return {}
                return {found[0]: found[1](raw)}
        parsed = {}
        for member_name, json_name, member_converter in converters:
            raw = value.get(json_name)
            if raw is not None:
                parsed[member_name] = member_converter(raw)
        return parsed

    compiling[shape.name] = convert  # before the members: shapes can be recursive (AttributeValue)
    for member_name, member in shape.members.items():
        json_name = member.serialization.get("name", member_name)
        converters.append((member_name, json_name, _converter(member, compiling, parser)))
    if len({json_name for _, json_name, _ in converters}) == len(converters):
        by_json_name.update((json_name, (name, converter)) for name, json_name, converter in converters)
    # else two members share a JSON name (botocore gives the value to both): no shortcut
    return convert


def _converter(shape: Shape, compiling: dict[str, Converter], parser: Any) -> Converter:
    if shape.type_name == "structure" and shape.name in compiling:
        known = compiling  # a recursive reference: resolved when called, after compiling has it
        name = shape.name
        return lambda value: known[name](value)
    if isinstance(shape, StructureShape):
        return _structure(shape, compiling, parser)
    if isinstance(shape, ListShape):
        member = _converter(shape.member, compiling, parser)
        if member is _same:
            return list
        return lambda node: [None if item is None else member(item) for item in node]
    if isinstance(shape, MapShape):
        return _map(shape, compiling, parser)
    if shape.type_name == "blob":
        return parser._blob_parser
    if shape.type_name == "timestamp":
        return parser._timestamp_parser
    return _same


def _map(shape: MapShape, compiling: dict[str, Converter], parser: Any) -> Converter:
    key, value = _converter(shape.key, compiling, parser), _converter(shape.value, compiling, parser)

    if key is _same and value is _same:
        walk: Converter = lambda node: {k: v for k, v in node.items()}  # noqa: E731
    else:
        walk = lambda node: {key(k): value(v) for k, v in node.items()}  # noqa: E731

    def convert(node: Any) -> Any:
        if type(node) is Walked:  # a held item's attributes, as written (local/fast_dynamodb/answers.py)
            return dict(walked_once(node, convert, walk))  # a new map each time, its values shared
        return walk(node)

    return convert


def compiled(shape: StructureShape) -> Converter:
    """The converter of an output shape, compiled once per service model and shape name. Clients of one service
    share its model's shape definitions (one botocore loader per local cloud process): the cache is bounded by
    the shapes of the services in use, and holds the definitions it is keyed by alive."""
    definitions = shape._shape_resolver._shape_map
    key = (id(definitions), shape.name)
    found = _compiled.get(key)
    if found is None:
        with _compiled_lock:
            found = _compiled.get(key)
            if found is None:
                found = (definitions, _converter(shape, {}, _DEFAULTS))
                _compiled[key] = found
    return found[1]


_DEFAULTS = parsers.JSONParser()  # botocore's blob and timestamp parsers, its tagged-union methods


class CompiledJSONParser(parsers.JSONParser):
    """botocore's JSONParser, its JSON bodies converted by compiled converters when it has the default blob and
    timestamp parsers (what every client of the local cloud has)."""

    def _handle_json_body(self, raw_body: Any, shape: Any) -> Any:
        if (
            isinstance(shape, StructureShape)
            and self._timestamp_parser is parsers.DEFAULT_TIMESTAMP_PARSER
            and getattr(self._blob_parser, "__func__", None) is parsers.ResponseParser._default_blob_parser
        ):
            return compiled(shape)(self._parse_body_as_json(raw_body))
        return super()._handle_json_body(raw_body, shape)


def install() -> None:
    """Every botocore client of this process parses JSON-protocol responses with CompiledJSONParser
    (idempotent); parsers already made (none: botocore makes one per response) keep botocore's."""
    parsers.PROTOCOL_PARSERS["json"] = CompiledJSONParser
