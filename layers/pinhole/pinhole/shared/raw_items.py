"""Reads of many items of which the caller needs a few attributes, answered as DynamoDB's raw items (attribute
name → {"S": ...}) for a small converter in the DAL, instead of a PynamoDB model per item.

`Model.batch_get` builds a model per item (every attribute's default set, then each value deserialised through
its attribute): for the 500 posts a ranked first page reads to rank, that was as much CPU as the read itself
(docs/BENCHMARKS.md, "The ranked home feed"), and the follow, mute and block edges a feed page checks (50 each)
cost more as models than their read. These calls go through the model's own connection (its table, its
region, its retries; no DescribeTable) and send what PynamoDB sends: the same requests, the same grants. The pushed
entries of a ranked first page (500) are read the same way."""

from collections.abc import Sequence
from typing import Any

from pynamodb.expressions.condition import Condition
from pynamodb.models import Model

from pinhole.shared.parallel import BATCH_GET_MAX, chunks

RawItem = dict[str, dict[str, Any]]


def _typed_key(model: type[Model], key: Any) -> RawItem:
    """A key as `Model.batch_get` takes it (the hash key, or (hash key, range key)), in DynamoDB's typed form."""
    hash_attribute, range_attribute = model._hash_key_attribute(), model._range_key_attribute()
    hash_value, range_value = key if range_attribute else (key, None)
    typed = {hash_attribute.attr_name: {hash_attribute.attr_type: hash_attribute.serialize(hash_value)}}
    if range_attribute:
        typed[range_attribute.attr_name] = {range_attribute.attr_type: range_attribute.serialize(range_value)}
    return typed


def batch_get_raw(
    model: type[Model], keys: Sequence[Any], attributes: list[str], consistent_read: bool = False
) -> list[RawItem]:
    """The items of these `keys` (as `Model.batch_get` takes them: hash keys, or (hash, range) pairs), projected
    on `attributes`: one BatchGetItem per 100 keys, one after the other, as `Model.batch_get` sends them (callers
    wanting them at once chunk with pinhole.shared.parallel); the keys DynamoDB leaves unprocessed are asked again,
    as it does."""
    table = model.Meta.table_name
    connection = model._get_connection()
    found: list[RawItem] = []
    for chunk in chunks([_typed_key(model, key) for key in keys], BATCH_GET_MAX):
        pending = list(chunk)
        while pending:
            # typed keys, as Model.batch_get passes them (PynamoDB annotates them as str)
            answer = connection.batch_get_item(
                pending,  # type: ignore[arg-type]
                consistent_read=consistent_read or None,
                attributes_to_get=attributes,
            )
            found += answer.get("Responses", {}).get(table, [])
            pending = answer.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
    return found


def query_raw(
    model: type[Model],
    hash_key: str,
    range_key_condition: Condition | None,
    limit: int | None,
    attributes: list[str],
    scan_index_forward: bool = True,
    pages: int | None = None,
) -> list[RawItem]:
    """Up to `limit` items of the partition (None: all of them), projected on `attributes`, in the order asked:
    the pages `Model.query(..., limit=limit)` would read (more than one only if DynamoDB stops a page at 1 MB),
    at most `pages` of them."""
    connection = model._get_connection()
    found: list[RawItem] = []
    start: RawItem | None = None
    read = 0
    while (limit is None or len(found) < limit) and (pages is None or read < pages):
        read += 1
        answer = connection.query(
            hash_key,
            range_key_condition=range_key_condition,
            attributes_to_get=attributes,
            exclusive_start_key=start,
            limit=None if limit is None else limit - len(found),
            scan_index_forward=scan_index_forward,
        )
        found += answer.get("Items", [])
        start = answer.get("LastEvaluatedKey")
        if not start:
            break
    return found
