"""DynamoDB's request quotas that moto 5.2.5 gets wrong, set right (docs/LOCAL_CLOUD.md, "What the local cloud
emulates"). What moto already enforces as DynamoDB does is left alone and only tested
(tests/integration/test_dynamodb_limits.py): TransactWriteItems ≤ 100 actions, BatchGetItem ≤ 100 keys, items
≤ 400 KB (moto's own measure, see the docs).

- **BatchWriteItem ≤ 25 requests**: moto writes any number; DynamoDB refuses the call.
- **TransactGetItems ≤ 100 items**: moto still refuses more than 25, DynamoDB's old quota (raised to 100 in
  2022), so a read DynamoDB serves would fail locally.

Both patches touch moto's DynamoDB request handler (`moto.dynamodb.responses.DynamoHandler`) and check, before
patching, that what they replace is what they were written against: a moto upgrade that changes it stops the
local cloud with a clear error instead of silently losing the quota."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.dynamodb import responses
from moto.dynamodb.exceptions import MockValidationException

BATCH_WRITE_MAX_REQUESTS = 25
TRANSACT_GET_MAX_ITEMS = 100
_MOTO_TRANSACT_GET_MAX_ITEMS = 25  # moto 5.2.5's responses.TRANSACTION_MAX_ITEMS
_applied = False


class MotoChanged(RuntimeError):
    """moto no longer looks like the version these patches were written for (5.2.5)."""


def _refuse_oversized_batch_writes(batch_write_item: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(batch_write_item)
    def checked(handler: Any) -> Any:
        request_items = handler.body.get("RequestItems") or {}
        for table_name, requests in request_items.items():
            if len(requests) > BATCH_WRITE_MAX_REQUESTS:
                raise MockValidationException(
                    f"1 validation error detected: Value at 'requestItems.{table_name}.member' failed to satisfy "
                    f"constraint: Member must have length less than or equal to {BATCH_WRITE_MAX_REQUESTS}"
                )
        if sum(len(requests) for requests in request_items.values()) > BATCH_WRITE_MAX_REQUESTS:
            raise MockValidationException("Too many items requested for the BatchWriteItem call")
        return batch_write_item(handler)

    return checked


def enforce_dynamodb_limits() -> None:
    """Idempotent; affects every moto DynamoDB backend of this process (server and mock_aws alike)."""
    global _applied
    if _applied:
        return
    handler = responses.DynamoHandler
    if not callable(getattr(handler, "batch_write_item", None)) or not callable(
        getattr(handler, "transact_get_items", None)
    ):
        raise MotoChanged("moto's DynamoHandler has no batch_write_item/transact_get_items to patch")
    if getattr(responses, "TRANSACTION_MAX_ITEMS", None) != _MOTO_TRANSACT_GET_MAX_ITEMS:
        raise MotoChanged(
            "moto.dynamodb.responses.TRANSACTION_MAX_ITEMS is no longer 25: check TransactGetItems' quota "
            "(local/moto_dynamodb_limits.py) and drop the patch if moto now allows DynamoDB's 100"
        )
    responses.TRANSACTION_MAX_ITEMS = TRANSACT_GET_MAX_ITEMS  # read by DynamoHandler.transact_get_items only
    handler.batch_write_item = _refuse_oversized_batch_writes(handler.batch_write_item)  # type: ignore[method-assign]
    _applied = True
