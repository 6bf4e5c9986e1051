"""moto's DynamoDB handlers turn every result into plain dicts before serialising it, cheaper.

`DynamoResult(result)` (every DynamoDB response) runs moto's `dynamo_to_dict` over the whole result: per node an
`isinstance` for datetime, for DynamoType, a `hasattr(to_json)`, then dict and list, recursively, for each
attribute value of each item; a BatchGetItem of 100 posts is ~1,200 nodes. `dynamo_to_dict` here returns the
same for the nodes a DynamoDB result is made of (exact dicts, lists, strings, numbers, booleans, None, bytes and
DynamoTypes of every type but binary ones, dicts without `to_json` such as an Item's attributes) by dispatching on
the exact type, and hands every other node (binary DynamoTypes, datetimes, objects with `to_json`) to moto's own
function.

Each request's handler also looked its backend up (`dynamodb_backends[account][region]`, a lock and an
account check) once per key of a BatchGetItem; `dynamodb_backend` looks it up once per handler (moto makes a
handler per request) and again only if the request's account or region differ.
Both are checked against moto's by tests/unit/local/test_fast_dynamodb_results.py."""

from __future__ import annotations

from typing import Any

from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.utilities import dynamo_to_dict as moto_dynamo_to_dict

from local.fast_dynamodb.answers import FrozenAttributes, Walked

_AS_THEY_ARE = frozenset({str, int, float, bool, type(None), bytes})
_BINARY = frozenset({"B", "BS"})


def dynamo_to_dict(obj: Any) -> Any:
    kind = type(obj)
    if kind in _AS_THEY_ARE:
        return obj
    if kind is FrozenAttributes:  # a held item's: converted once (answers.py)
        converted = obj.converted
        if converted is None:
            converted = obj.converted = Walked({key: dynamo_to_dict(value) for key, value in obj.items()})
        return converted
    if kind is dict or (isinstance(obj, dict) and not hasattr(obj, "to_json")):  # an Item's attrs: a subclass
        return {key: dynamo_to_dict(value) for key, value in obj.items()}
    if kind is list:
        return [dynamo_to_dict(value) for value in obj]
    if kind is DynamoType and obj.type not in _BINARY:
        value = obj.value
        return {obj.type: value if type(value) in _AS_THEY_ARE else dynamo_to_dict(value)}
    return moto_dynamo_to_dict(obj)


def dynamodb_backend(handler: Any) -> Any:
    """`DynamoHandler.dynamodb_backend`, looked up once per handler, account and region."""
    account, region = handler.current_account, handler.region
    found = handler.__dict__.get("_fast_backend")
    if found is None or found[0] != account or found[1] != region:
        found = (account, region, dynamodb_backends[account][region])
        handler.__dict__["_fast_backend"] = found
    return found[2]
