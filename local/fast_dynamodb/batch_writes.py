"""BatchWriteItem on FastTables: moto's handler, step for step, without its per-item overheads.

moto's `DynamoHandler.batch_write_item` validates each put (`validate_put_has_empty_keys`, which lists the
table's index keys again for every item), finds duplicates by comparing each item's JSON with every earlier
one's, and puts each item through `DynamoDBBackend.put_item`, which takes the table's lock again and parses
an empty condition twice (`get_expected({})`, `get_filter_expression(None, ...)`) to learn that nothing is
conditioned. Seeding a search index of 2.1 million entries made those overheads most of BatchWriteItem's
cost on the fast path (docs/BENCHMARKS.md, "People search"). Here the same steps run in the same order with
the same errors: the index keys are listed once per table, duplicates found by a set of the same JSON
strings, and each item stored by `writes.put_item` under the locks the whole request already holds
(backend.py), with the eventual mode's in-flight-transaction check an item write makes. Deletes and the
response are moto's. Sources: moto 5.2.5 `DynamoHandler.batch_write_item`, `validate_put_has_empty_keys`,
`DynamoHandler._contains_duplicates` (responses.py), fingerprinted in moto_contract.py."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.dynamodb.exceptions import MockValidationException
from moto.dynamodb.models.table import Table
from moto.dynamodb.models.utilities import dynamo_json_dump
from moto.dynamodb.responses import DynamoHandler

from local.fast_dynamodb import consistency, transactions, writes
from local.fast_dynamodb.storage import FastTable

EMPTY_KEY_IN_BATCH = (
    "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty "
    "string value. Key: {}"
)


class EmptyKeyCheck:
    """`validate_put_has_empty_keys(item, table, custom_error_msg=EMPTY_KEY_IN_BATCH)` with the table's key
    names listed once."""

    def __init__(self, table: Table) -> None:
        self.key_names = table.attribute_keys
        self.gsi_key_names = list(itertools.chain(*[gsi.schema_key_attrs for gsi in table.global_indexes]))
        self.first_gsi_name = table.global_indexes[0].name if table.global_indexes else None

    def __call__(self, item: dict[str, Any]) -> None:
        empty_str_fields = [
            key
            for (key, val) in item.items()
            if next(iter(val.keys())) in ["S", "B"] and next(iter(val.values())) == ""
        ]
        if not empty_str_fields:
            return
        empty_gsi_key = next((name for name in self.gsi_key_names if name in empty_str_fields), None)
        if empty_gsi_key:
            raise MockValidationException(
                "One or more parameter values are not valid. A value specified for a secondary index key is not "
                "supported. The AttributeValue for a key attribute cannot contain an empty string value. "
                f"IndexName: {self.first_gsi_name}, IndexKey: {empty_gsi_key}"
            )
        empty_key = next((name for name in self.key_names if name in empty_str_fields), None)
        if empty_key:
            raise MockValidationException(EMPTY_KEY_IN_BATCH.format(empty_key))


def _contains_duplicates(keys: list[str]) -> bool:
    return len(set(keys)) != len(keys)


def fast_batch_write_item(
    original: Callable[[DynamoHandler], Any], is_fast: Callable[[Any], bool]
) -> Callable[[DynamoHandler], Any]:
    """Wraps moto's handler: requests of fast accounts run `batch_write_item` below."""

    def handler(response: DynamoHandler) -> Any:
        if not is_fast(response.dynamodb_backend):
            return original(response)
        return batch_write_item(response)

    return handler


def batch_write_item(response: DynamoHandler) -> ActionResult:
    backend = response.dynamodb_backend
    table_batches = response.body["RequestItems"]
    put_requests: list[tuple[str, Table, dict[str, Any]]] = []
    delete_requests: list[tuple[str, Any]] = []
    for table_name, table_requests in table_batches.items():
        table = backend.get_table(table_name)
        check_empty_keys = EmptyKeyCheck(table)
        for table_request in table_requests:
            request_type = list(table_request.keys())[0]  # noqa: RUF015 - an empty request fails as in moto
            request = list(table_request.values())[0]  # noqa: RUF015
            if request_type == "PutRequest":
                item = request["Item"]
                check_empty_keys(item)
                put_requests.append((table_name, table, item))
            elif request_type == "DeleteRequest":
                delete_requests.append((table_name, request["Key"]))
    if _contains_duplicates([dynamo_json_dump(keys) for _, keys in delete_requests]) or _contains_duplicates(
        [dynamo_json_dump(item) for _, _, item in put_requests]
    ):
        raise MockValidationException("Provided list of item keys contains duplicates")
    for table_name, table, item in put_requests:
        if consistency.settings.eventual:
            transactions.refuse_if_held(backend, table_name, item)
        if isinstance(table, FastTable):
            writes.put_item(table, item)
        else:
            backend.put_item(table_name, item)
    for table_name, keys in delete_requests:
        backend.delete_item(table_name, keys)
    return ActionResult(
        {
            "ConsumedCapacity": [
                {"TableName": table_name, "CapacityUnits": 1.0, "Table": {"CapacityUnits": 1.0}}
                for table_name in table_batches
            ],
            "ItemCollectionMetrics": {},
            "UnprocessedItems": {},
        }
    )
