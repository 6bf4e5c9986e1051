"""What the fast path takes from moto's DynamoDB internals, checked before anything is patched.

Each patch replaces or wraps a moto function whose behaviour it reproduces line for line (the
differential test proves the answers equal), so a moto whose code differs must stop the start, not
run with a fast path that no longer matches it: every function named below is fingerprinted (a hash
of its source), every attribute the patches read is looked up on a real table, and the version is
the pinned one. Upgrading moto means reading the new source, re-checking the patches, and updating
the fingerprints (`python -m local.fast_dynamodb.moto_contract` prints them)."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from typing import Any

import moto

PINNED_MOTO = "5.2.5"


class MotoChanged(RuntimeError):
    """moto's DynamoDB internals are not the ones the fast path was written against."""


def _functions() -> dict[str, Callable[..., Any]]:
    from botocore.utils import merge_dicts
    from moto.core import parse, responses, serialize
    from moto.dynamodb import comparisons
    from moto.dynamodb import responses as dynamodb_responses
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.table import SecondaryIndex, StreamRecord, StreamShard, Table
    from moto.dynamodb.models.utilities import dynamo_to_dict, find_nested_key
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser  # type: ignore[attr-defined]
    from moto.dynamodb.parsing.validators import (
        ActionCountValidator,
        EmptyStringKeyValueValidator,
        ExecuteOperations,
        ExpressionAttributeResolvingProcessor,
        ExpressionAttributeValueProcessor,
        NoneExistingPathChecker,
        OverlappingPathsValidator,
        TypeMismatchValidator,
        UpdateExpressionFunctionEvaluator,
        UpdateExpressionValidator,
        UpdateHashRangeKeyValidator,
        Validator,
    )
    from moto.dynamodb.responses import DynamoHandler, DynamoResult
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    from local.fast_dynamodb import values

    named = [
        Table.__init__,
        Table.put_item,
        Table.get_item,
        Table.delete_item,
        Table.query,
        Table.scan,
        Table.all_items,
        Table._item_comes_before_dct,
        Table.sorted_items,
        Table._generate_attr_to_sort_by,
        Table._get_last_evaluated_key,
        Table.set_stream_specification,
        DynamoDBBackend.update_item,
        DynamoDBBackend.transact_write_items,
        DynamoDBBackend.get_item,
        DynamoDBBackend.put_item,
        DynamoDBBackend.delete_item,
        DynamoDBBackend.query,
        DynamoDBBackend.scan,
        DynamoDBBackend.create_table,
        DynamoDBBackend.update_table,
        StreamShard.add,
        StreamRecord.__init__,
        Item.__init__,
        LimitedSizeDict.__setitem__,
        Item.size,
        Item.project,
        Item.to_regular_json,
        DynamoType.to_regular_json,
        find_nested_key,
        merge_dicts,
        DynamoHandler.transact_get_items,
        DynamoHandler.batch_write_item,
        DynamoHandler._contains_duplicates,
        dynamodb_responses.validate_put_has_empty_keys,
        Table.attribute_keys.fget,  # type: ignore[attr-defined]
        comparisons.get_expected,
        comparisons.get_filter_expression,
        comparisons.ConditionExpressionParser.parse,
        comparisons.ConditionExpressionParser.__init__,
        comparisons.ConditionExpressionParser._lookup_expression_attribute_value,
        comparisons.create_condition_expression_parser,
        DynamoHandler.dynamodb_backend.fget,  # type: ignore[attr-defined]
        DynamoResult.__init__,
        dynamo_to_dict,
        DynamoDBStreamsBackend.get_records,
        SecondaryIndex.project,
        Validator.__init__,
        UpdateExpressionValidator.get_ast_processors,
        Validator.validate,
        ActionCountValidator.verify_action_counts,
        OverlappingPathsValidator.check_for_overlapping_paths,
        UpdateHashRangeKeyValidator.check_for_hash_or_range_key,
        DynamoHandler.update_item,
        DynamoHandler.transact_write_items,
        DepthFirstTraverser.nodes_to_be_processed,
        DepthFirstTraverser.process,
        DepthFirstTraverser.traverse_node_recursively,
        DepthFirstTraverser.pre_processing_of_child,
        DepthFirstTraverser.traverse,
        # expressions.py skips a walk with nothing to process, knowing what each processor puts into the tree
        ExpressionAttributeValueProcessor._processing_map,
        ExpressionAttributeValueProcessor.replace_expression_attribute_value_with_value,
        ExpressionAttributeResolvingProcessor._processing_map,
        ExpressionAttributeResolvingProcessor.pre_processing_of_child,
        ExpressionAttributeResolvingProcessor.disable_resolving,
        ExpressionAttributeResolvingProcessor.process_expression_path_node,
        UpdateExpressionFunctionEvaluator._processing_map,
        UpdateExpressionFunctionEvaluator.process_function,
        NoneExistingPathChecker._processing_map,
        ExecuteOperations._processing_map,
        ExecuteOperations.process_update_expression_value,
        TypeMismatchValidator._processing_map,
        TypeMismatchValidator.check_for_type_mismatch,
        EmptyStringKeyValueValidator._processing_map,
        EmptyStringKeyValueValidator.check_for_empty_string_key_value,
        responses.BaseResponse.serialized,
        responses.ActionResult.execute_result,
        serialize.ResponseSerializer._serialize,
        serialize.ResponseSerializer._serialize_type_structure,
        serialize.ResponseSerializer._serialize_structure_member,
        serialize.ResponseSerializer._serialize_type_timestamp,
        serialize.ResponseSerializer._serialize_type_blob,
        serialize.ResponseSerializer._serialize_type_integer,
        serialize.ResponseSerializer._serialize_type_float,
        serialize.ResponseSerializer._default_serialize,
        serialize.ResponseSerializer.get_serialized_name,
        serialize.ResponseSerializer._base64,
        serialize.BaseJSONSerializer._serialized_result_to_response,
        serialize.BaseJSONSerializer._serialize_body,
        serialize.BaseJSONSerializer._serialize_type_map,
        serialize.BaseJSONSerializer._serialize_type_list,
        serialize.BaseJSONSerializer._serialize_type_structure,
        serialize.BaseJSONSerializer._serialize_type_string,
        serialize.BaseJSONSerializer._get_protocol_specific_content_type,
        serialize.AttributePicker.__call__,
        serialize.XFormedAttributePicker.get_possible_keys,
        responses.BaseResponse.parse_parameters,
        parse.RequestParser.parse,
        parse.RequestParser._parse_shape,
        parse.RequestParser._parse_list,
        parse.RequestParser._parse_map,
        parse.RequestParser._default_handle,
        parse.BaseJSONParser._parse_structure,
        parse.BaseJSONParser._parse_blob,
        parse.BaseJSONParser._parse_timestamp,
        parse.BaseJSONParser._parse_float,
        parse.BaseJSONParser._parse_integer,
        parse.BaseJSONParser._parse_body_as_json,
        parse.JSONParser._do_parse,
        parse.JSONParser._parse_json_body,
        parse.default_blob_parser,
        values.MOTOS_CAST_VALUE.fget,
        DynamoType.is_number,
        DynamoType.is_set,
        DynamoType.is_list,
        DynamoType.is_map,
        DynamoType.is_null,
    ]
    return {function.__qualname__: function for function in named}


FINGERPRINTS = {
    "Table.__init__": "a56181a75aa27005",
    "Table.put_item": "de23933013ef8426",
    "Table.get_item": "b08e98fe37b7e583",
    "Table.delete_item": "1594f7b07616c8cb",
    "Table.query": "002b4d00be6df07c",
    "Table.scan": "5ef1ab21eef06a74",
    "Table.all_items": "c80d2ee3c896acd0",
    "Table._item_comes_before_dct": "6d70f41f7cb059f4",
    "Table.sorted_items": "216dac1cd6b659d2",
    "Table._generate_attr_to_sort_by": "afef70e159fa8cb5",
    "Table._get_last_evaluated_key": "2d0fae62fcd41aae",
    "Table.set_stream_specification": "40d64546dbe98ef0",
    "DynamoDBBackend.update_item": "218984588dd689a5",
    "DynamoDBBackend.transact_write_items": "81db2cb7d94e39c9",
    "DynamoDBBackend.get_item": "290b95c46b38bc5a",
    "DynamoDBBackend.put_item": "f5d9a5042c77b89e",
    "DynamoDBBackend.delete_item": "083a4bb1af18f6fd",
    "DynamoDBBackend.query": "b8f2b308cd13edb4",
    "DynamoDBBackend.scan": "9b5227800f9a320c",
    "DynamoDBBackend.create_table": "2bb8105ad9fa618b",
    "DynamoDBBackend.update_table": "3fa85dce71a0cdca",
    "StreamShard.add": "357dc6da267e5dd7",
    "StreamRecord.__init__": "511904c6352cfd9a",
    "Item.__init__": "d9c12b62cb921831",
    "LimitedSizeDict.__setitem__": "d979580fdbe14f79",
    "Item.size": "9bc6ada96d33365c",
    "Item.project": "f411e6d8b56886f4",
    "Item.to_regular_json": "866aafe440d99a25",
    "DynamoType.to_regular_json": "a9fe48d6f3f9aa7e",
    "find_nested_key": "66e7b1b00236a811",
    "merge_dicts": "e37c91dbbe97c54f",
    "DynamoHandler.transact_get_items": "6275dc506a3f7c6b",
    "DynamoHandler.batch_write_item": "26221a09e2b2b1fd",
    "DynamoHandler._contains_duplicates": "a273c7e0abe7ae03",
    "validate_put_has_empty_keys": "e45d7ced392361f4",
    "Table.attribute_keys": "18979b69d53918a5",
    "get_expected": "426eee720dcdcdf6",
    "get_filter_expression": "0bb9e2d345c7f17f",
    "ConditionExpressionParser.parse": "5c9b63c5f49ed5d5",
    "ConditionExpressionParser.__init__": "4a3f092d6b0f1a26",
    "ConditionExpressionParser._lookup_expression_attribute_value": "a7ac783bd94ea73b",
    "create_condition_expression_parser": "a667986752c086a5",
    "DynamoHandler.dynamodb_backend": "49c0711cc1fdff50",
    "DynamoResult.__init__": "e2394775cd5ef6ad",
    "dynamo_to_dict": "80f600124c13ddcb",
    "DynamoDBStreamsBackend.get_records": "db8c6cb04430c08f",
    "SecondaryIndex.project": "b2eb603ebd167860",
    "Validator.__init__": "9489b532dd0fb359",
    "UpdateExpressionValidator.get_ast_processors": "918400bbecd67e83",
    "Validator.validate": "5a99f0d36c7b7b8e",
    "ActionCountValidator.verify_action_counts": "8cd8c9a3ae3a414a",
    "OverlappingPathsValidator.check_for_overlapping_paths": "2488117d3c3a1f22",
    "UpdateHashRangeKeyValidator.check_for_hash_or_range_key": "a453e5e1e3fe9d37",
    "DynamoHandler.update_item": "638893af1afd43d2",
    "DynamoHandler.transact_write_items": "61c163fff213f33a",
    "DepthFirstTraverser.nodes_to_be_processed": "1c2c84c8097e3517",
    "DepthFirstTraverser.process": "58328ec7c2f9b1f9",
    "DepthFirstTraverser.traverse_node_recursively": "d7f01d9b45cf9f64",
    "DepthFirstTraverser.pre_processing_of_child": "7081127933bb856d",
    "DepthFirstTraverser.traverse": "c78f8583f1961be7",
    "ExpressionAttributeValueProcessor._processing_map": "ba7ac722dd99eda0",
    "ExpressionAttributeValueProcessor.replace_expression_attribute_value_with_value": "a6fefee1548af8ab",
    "ExpressionAttributeResolvingProcessor._processing_map": "e0db7e67c8377b4b",
    "ExpressionAttributeResolvingProcessor.pre_processing_of_child": "09b25132a241ca9d",
    "ExpressionAttributeResolvingProcessor.disable_resolving": "d4de818056ee2ff4",
    "ExpressionAttributeResolvingProcessor.process_expression_path_node": "f39fb15e1cfb66d1",
    "UpdateExpressionFunctionEvaluator._processing_map": "963e6192c63605a1",
    "UpdateExpressionFunctionEvaluator.process_function": "536966a18d2a7414",
    "NoneExistingPathChecker._processing_map": "84f5f73e1879cce6",
    "ExecuteOperations._processing_map": "e60064603958af82",
    "ExecuteOperations.process_update_expression_value": "e4d7c6565bb0f147",
    "TypeMismatchValidator._processing_map": "55798dad6e83982f",
    "TypeMismatchValidator.check_for_type_mismatch": "1f26120bea5917fc",
    "EmptyStringKeyValueValidator._processing_map": "2c47430d926eba38",
    "EmptyStringKeyValueValidator.check_for_empty_string_key_value": "bea7647628829057",
    "BaseResponse.serialized": "af486a0ef1327162",
    "ActionResult.execute_result": "6333faa349b58671",
    "ResponseSerializer._serialize": "4eccca5bf02593ef",
    "ResponseSerializer._serialize_type_structure": "f9b47068f40ce489",
    "ResponseSerializer._serialize_structure_member": "437fdce43aa5ac84",
    "ResponseSerializer._serialize_type_timestamp": "d7a3cfcabffc13b1",
    "ResponseSerializer._serialize_type_blob": "acd7e746cf06090e",
    "ResponseSerializer._serialize_type_integer": "57e0b6b7148e79eb",
    "ResponseSerializer._serialize_type_float": "24c40ea849f6e0dc",
    "ResponseSerializer._default_serialize": "25ce8ddbb1a991c0",
    "ResponseSerializer.get_serialized_name": "2c23dcac85ccc396",
    "ResponseSerializer._base64": "5a3642d8c2a14b24",
    "BaseJSONSerializer._serialized_result_to_response": "99acea02e74ab1c4",
    "BaseJSONSerializer._serialize_body": "7bdc6c30f5112452",
    "BaseJSONSerializer._serialize_type_map": "faa32d1fa9a8bfc9",
    "BaseJSONSerializer._serialize_type_list": "f87b14fe9166e099",
    "BaseJSONSerializer._serialize_type_structure": "36873909cd0aeb4d",
    "BaseJSONSerializer._serialize_type_string": "44954e02145012ba",
    "BaseJSONSerializer._get_protocol_specific_content_type": "5ddd9df82bc13c06",
    "AttributePicker.__call__": "c15da8ec29c1afa4",
    "XFormedAttributePicker.get_possible_keys": "f0d20f55f37fd8a1",
    "BaseResponse.parse_parameters": "fd3d04c9194814f4",
    "RequestParser.parse": "1ea0fc054b3c13b6",
    "RequestParser._parse_shape": "86db10854efaf7e3",
    "RequestParser._parse_list": "e2539182995b831e",
    "RequestParser._parse_map": "a9e8feb4d5519e24",
    "RequestParser._default_handle": "88c1ab7f9c988be8",
    "BaseJSONParser._parse_structure": "2de165721ba4b69e",
    "BaseJSONParser._parse_blob": "4d0f79b18cc3bcc3",
    "BaseJSONParser._parse_timestamp": "667f2dc6de8df76f",
    "BaseJSONParser._parse_float": "573db54a0a95cd4e",
    "BaseJSONParser._parse_integer": "0116a93d91e98b69",
    "BaseJSONParser._parse_body_as_json": "41aa5265807a2654",
    "JSONParser._do_parse": "77abadf4c188a20c",
    "JSONParser._parse_json_body": "aafb837c5ffe3839",
    "default_blob_parser": "b4e8503d3331b904",
    "DynamoType.cast_value": "135da387dfcc7c1c",
    "DynamoType.is_number": "1acd1246a6710316",
    "DynamoType.is_set": "01b70f096bc58dfa",
    "DynamoType.is_list": "9cc3570f1cb8448b",
    "DynamoType.is_map": "6e6551375b6c2ac0",
    "DynamoType.is_null": "3f276b83b6b24669",
}

# Attributes of a freshly created moto Table that the patches read or write.
TABLE_ATTRIBUTES = (
    "name",
    "items",
    "hash_key_attr",
    "range_key_attr",
    "hash_key_type",
    "range_key_type",
    "table_key_attrs",
    "indexes",
    "global_indexes",
    "stream_shard",
    "stream_specification",
    "attr",
)


def fingerprint(function: Callable[..., Any]) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:16]


def current_fingerprints() -> dict[str, str]:
    return {name: fingerprint(function) for name, function in _functions().items()}


def check() -> None:
    """Raises MotoChanged naming everything that differs from what the patches were written against."""
    problems = []
    if moto.__version__ != PINNED_MOTO:
        problems.append(f"moto {moto.__version__} is installed, the fast path was written against {PINNED_MOTO}")
    for name, found in current_fingerprints().items():
        if FINGERPRINTS.get(name) != found:
            problems.append(f"{name} changed (source fingerprint {found}, expected {FINGERPRINTS.get(name)})")
    from moto.dynamodb.models.table import Table

    table = Table(  # type: ignore[abstract]
        "contract-check",
        account_id="000000000000",
        region="us-east-1",
        schema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        attr=[{"AttributeName": "pk", "AttributeType": "S"}],
    )
    problems += [f"Table has no attribute {name!r}" for name in TABLE_ATTRIBUTES if not hasattr(table, name)]
    if problems:
        raise MotoChanged(
            "local/fast_dynamodb cannot patch this moto: "
            + "; ".join(problems)
            + ". Read the new source, re-check the patches, then update local/fast_dynamodb/moto_contract.py."
        )


if __name__ == "__main__":
    for name, value in current_fingerprints().items():
        print(f'    "{name}": "{value}",')
