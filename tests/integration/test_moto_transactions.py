"""The local cloud's TransactWriteItems (local/fast_dynamodb/transactions.py): all or nothing, with the
reasons DynamoDB gives, without moto's copy of every table a transaction touches."""

from typing import Any

import boto3
import pytest

TABLE = "transactions-under-test"


@pytest.fixture
def table(aws: dict[str, str]) -> Any:
    client = boto3.client("dynamodb")
    client.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    )
    client.put_item(TableName=TABLE, Item={"pk": {"S": "counter"}, "n": {"N": "1"}})
    return client


def _put_new(pk: str) -> dict[str, Any]:
    return {"Put": {"TableName": TABLE, "Item": {"pk": {"S": pk}}, "ConditionExpression": "attribute_not_exists(pk)"}}


def _add_one() -> dict[str, Any]:
    return {
        "Update": {
            "TableName": TABLE,
            "Key": {"pk": {"S": "counter"}},
            "UpdateExpression": "ADD n :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }


def _counter(client: Any) -> int:
    return int(client.get_item(TableName=TABLE, Key={"pk": {"S": "counter"}})["Item"]["n"]["N"])


def test_every_write_is_applied_when_every_condition_holds(table: Any) -> None:
    table.transact_write_items(TransactItems=[_put_new("a"), _add_one()])

    assert _counter(table) == 2
    assert "Item" in table.get_item(TableName=TABLE, Key={"pk": {"S": "a"}})


def test_one_refused_condition_cancels_every_write_and_says_which(table: Any) -> None:
    table.put_item(TableName=TABLE, Item={"pk": {"S": "taken"}})

    with pytest.raises(table.exceptions.TransactionCanceledException) as cancelled:
        table.transact_write_items(TransactItems=[_add_one(), _put_new("b"), _put_new("taken")])

    codes = [reason["Code"] for reason in cancelled.value.response["CancellationReasons"]]
    assert codes == ["None", "None", "ConditionalCheckFailed"]
    assert _counter(table) == 1
    assert "Item" not in table.get_item(TableName=TABLE, Key={"pk": {"S": "b"}})


def test_a_write_failing_half_way_is_undone(table: Any) -> None:
    wrong_type = {
        "Update": {
            "TableName": TABLE,
            "Key": {"pk": {"S": "counter"}},
            "UpdateExpression": "ADD n :text",
            "ExpressionAttributeValues": {":text": {"S": "not a number"}},
        }
    }

    with pytest.raises(table.exceptions.ClientError):
        table.transact_write_items(TransactItems=[_put_new("c"), wrong_type])

    assert "Item" not in table.get_item(TableName=TABLE, Key={"pk": {"S": "c"}})
    assert _counter(table) == 1


def test_two_operations_on_one_item_are_refused(table: Any) -> None:
    with pytest.raises(table.exceptions.ClientError, match="multiple operations"):
        table.transact_write_items(TransactItems=[_add_one(), _add_one()])
