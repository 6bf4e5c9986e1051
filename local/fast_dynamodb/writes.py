"""PutItem and UpdateItem on a FastTable: moto's code, step for step, except how items are built and
stored.

- moto builds an Item through a dict that re-measures the whole item on every attribute it adds
  (quadratic in the attribute count); `new_item` (items.py) measures each attribute once and refuses
  the same items, at the same attribute, with the same error.
- moto updates an item in place; here the update runs on a copy, which is then stored, so the stored
  Item is never changed after it is stored (readers share it; a stream record's old image is the
  previous Item itself, not a copy). If the update fails half-way, moto leaves the item half-updated:
  so does this (the half-updated copy is stored), since the differential test holds the fast path to
  moto's behaviour, faults included.
Sources: moto 5.2.5 `Table.put_item` (models/table.py) and `DynamoDBBackend.update_item`
(models/__init__.py); local/fast_dynamodb/moto_contract.py fails the start if either changes."""

from __future__ import annotations

import copy
import re
from typing import Any

from moto.dynamodb.comparisons import get_expected
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    InvalidAttributeTypeError,
    ItemSizeTooLarge,
    ItemSizeToUpdateTooLarge,
    MockValidationException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.parsing.executors import UpdateExpressionExecutor

from local.fast_dynamodb.expressions import FastUpdateExpressionValidator, parse_condition, parse_update_expression
from local.fast_dynamodb.items import ITEM_SIZE_LIMIT, new_item
from local.fast_dynamodb.storage import FastTable


def put_item(
    table: FastTable,
    item_attrs: dict[str, Any],
    expected: dict[str, Any] | None = None,
    condition_expression: str | None = None,
    expression_attribute_names: dict[str, str] | None = None,
    expression_attribute_values: dict[str, Any] | None = None,
    overwrite: bool = False,
    return_values_on_condition_check_failure: str | None = None,
) -> Item:
    if table.hash_key_attr not in item_attrs:
        raise MockValidationException(
            "One or more parameter values were invalid: Missing the key " + table.hash_key_attr + " in the item"
        )
    hash_value = DynamoType(item_attrs[table.hash_key_attr])
    if table.range_key_attr is not None:
        if table.range_key_attr not in item_attrs:
            raise MockValidationException(
                f"One or more parameter values were invalid: Missing the key {table.range_key_attr} in the item"
            )
        range_value: DynamoType | None = DynamoType(item_attrs[table.range_key_attr])
    else:
        range_value = None

    if hash_value.type != table.hash_key_type:
        raise InvalidAttributeTypeError(
            table.hash_key_attr, expected_type=table.hash_key_type, actual_type=hash_value.type
        )
    if range_value and range_value.type != table.range_key_type:
        raise InvalidAttributeTypeError(
            table.range_key_attr, expected_type=table.range_key_type, actual_type=range_value.type
        )

    table._validate_item_types(item_attrs)
    table._validate_key_sizes(item_attrs)

    if expected is None:
        expected = {}
        lookup_range_value = range_value
    else:
        expected_range_value = expected.get(table.range_key_attr, {}).get("Value")  # type: ignore[arg-type]
        lookup_range_value = range_value if expected_range_value is None else DynamoType(expected_range_value)
    current = table.get_item(hash_value, lookup_range_value)
    item = new_item(hash_value, range_value, item_attrs)

    # moto parses an absent condition too (twice: `Expected`, `ConditionExpression`), into an operator that holds
    # for any item; skipped when neither is given (batch_writes.py's puts, most PutItems)
    if not overwrite and (expected or condition_expression):
        if not get_expected(expected).expr(current):
            raise ConditionalCheckFailed
        condition_op = parse_condition(condition_expression, expression_attribute_names, expression_attribute_values)
        if not condition_op.expr(current):
            if return_values_on_condition_check_failure == "ALL_OLD" and current is not None:
                raise ConditionalCheckFailed(item=current.to_json()["Attributes"])
            raise ConditionalCheckFailed

    table._store(hash_value, range_value, item)
    if table.stream_shard is not None:
        table.stream_shard.add(current, item)
    return item


def update_item(
    backend: DynamoDBBackend,
    table: FastTable,
    key: dict[str, dict[str, Any]],
    update_expression: str,
    expression_attribute_names: dict[str, Any],
    expression_attribute_values: dict[str, Any],
    attribute_updates: dict[str, Any] | None = None,
    expected: dict[str, Any] | None = None,
    condition_expression: str | None = None,
    return_values_on_condition_check_failure: str | None = None,
) -> Item:
    if update_expression:
        update_expression_ast = parse_update_expression(update_expression)
        update_expression = re.sub(r"\s*([=\+-])\s*", "\\1", update_expression)

    if all([table.hash_key_attr in key, table.range_key_attr in key]):
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value: DynamoType | None = DynamoType(key[table.range_key_attr])  # type: ignore[index]
    elif table.hash_key_attr in key:
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = None
    else:
        hash_value = DynamoType(key)
        range_value = None

    current = table.get_item(hash_value, range_value)
    orig_item = current  # never changed once stored: the stream's old image needs no copy

    if not expected:
        expected = {}
    if not get_expected(expected).expr(current):
        raise ConditionalCheckFailed
    condition_op = parse_condition(condition_expression, expression_attribute_names, expression_attribute_values)
    if not condition_op.expr(current):
        if return_values_on_condition_check_failure == "ALL_OLD" and current is not None:
            raise ConditionalCheckFailed(item=current.to_json()["Attributes"])
        raise ConditionalCheckFailed

    if current is None:
        if update_expression:
            FastUpdateExpressionValidator(
                update_expression_ast,
                expression_attribute_names=expression_attribute_names,
                expression_attribute_values=expression_attribute_values,
                item=Item(hash_value, range_value, attrs={}),
                table=table,
            ).validate()
        data: dict[str, Any] = {table.hash_key_attr: {hash_value.type: hash_value.value}}
        if range_value:
            data.update({table.range_key_attr: {range_value.type: range_value.value}})  # type: ignore[dict-item]
        # As moto: the new item is stored with its keys only (a stream record of its own), then updated.
        table.put_item(data)
        current = table.get_item(hash_value, range_value)

    assert current is not None
    item: Item = copy.deepcopy(current)
    try:
        if attribute_updates:
            item.validate_no_empty_key_values(attribute_updates, table.attribute_keys)
        if update_expression:
            validator = FastUpdateExpressionValidator(
                update_expression_ast,
                expression_attribute_names=expression_attribute_names,
                expression_attribute_values=expression_attribute_values,
                item=item,
                table=table,
            )
            validated_ast = validator.validate()
            validated_ast.normalize()
            try:
                UpdateExpressionExecutor(validated_ast, item, expression_attribute_names).execute()
            except ItemSizeTooLarge as error:
                raise ItemSizeToUpdateTooLarge() from error
            if item.size() > ITEM_SIZE_LIMIT:
                # ADD grows a set already there in place, which moto's size check (on setting an attribute) never
                # sees: moto would store it. Refused as AWS does, the item left as it was.
                item = current
                raise ItemSizeToUpdateTooLarge()
        else:
            item.update_with_attribute_updates(attribute_updates)  # type: ignore[arg-type]
    finally:
        # moto changes the stored item in place, so what an error interrupts stays applied.
        table._store(hash_value, range_value, item)
    if table.stream_shard is not None:
        table.stream_shard.add(orig_item, item)
    return item
