"""DynamoDB's request and item quotas, as the local cloud and the integration tests' moto enforce them: each
quota is accepted at its value and refused one past it, with DynamoDB's ValidationException. moto enforces
some itself; local/moto_dynamodb_limits.py adds BatchWriteItem's 25 and lifts moto's outdated TransactGetItems
quota (25) to DynamoDB's 100."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local.fast_dynamodb import install as install_fast_dynamodb
from local.moto_dynamodb_limits import enforce_dynamodb_limits

TABLES = ("things", "others")
KB = 1024


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    install_fast_dynamodb()  # as the local cloud and the integration tests run it
    enforce_dynamodb_limits()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        for table in TABLES:
            client.create_table(
                TableName=table,
                BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            )
        yield client


def put(n: int) -> dict[str, Any]:
    return {"PutRequest": {"Item": {"id": {"S": f"item-{n}"}}}}


def refused(call: Any) -> str:
    with pytest.raises(ClientError) as error:
        call()
    assert error.value.response["Error"]["Code"] == "ValidationException", error.value.response
    return str(error.value.response["Error"]["Message"])


def stored(dynamodb: Any, table: str = "things") -> int:
    return int(dynamodb.scan(TableName=table, Select="COUNT")["Count"])


def test_batch_write_item_takes_25_requests_and_refuses_26_writing_nothing(dynamodb: Any) -> None:
    dynamodb.batch_write_item(RequestItems={"things": [put(n) for n in range(25)]})
    message = refused(lambda: dynamodb.batch_write_item(RequestItems={"things": [put(n) for n in range(100, 126)]}))

    assert "Member must have length less than or equal to 25" in message
    assert stored(dynamodb) == 25


def test_batch_write_item_counts_the_requests_of_every_table_together(dynamodb: Any) -> None:
    requests = {"things": [put(n) for n in range(13)], "others": [put(n) for n in range(13)]}
    assert refused(lambda: dynamodb.batch_write_item(RequestItems=requests)) == (
        "Too many items requested for the BatchWriteItem call"
    )
    assert stored(dynamodb, "things") == stored(dynamodb, "others") == 0


def key(n: int, table: str = "things") -> dict[str, Any]:
    return {"TableName": table, "Key": {"id": {"S": f"item-{n}"}}}


def test_transact_get_items_takes_100_items_and_refuses_101(dynamodb: Any) -> None:
    # (moto alone refuses 26: DynamoDB's quota until 2022)
    dynamodb.batch_write_item(RequestItems={"things": [put(n) for n in range(25)]})
    found = dynamodb.transact_get_items(TransactItems=[{"Get": key(n)} for n in range(100)])["Responses"]

    assert sum(1 for response in found if "Item" in response) == 25
    message = refused(lambda: dynamodb.transact_get_items(TransactItems=[{"Get": key(n)} for n in range(101)]))
    assert "Member must have length less than or equal to 100" in message


def test_transact_write_items_takes_100_actions_and_refuses_101_writing_nothing(dynamodb: Any) -> None:
    def puts(count: int, offset: int = 0) -> list[dict[str, Any]]:
        return [{"Put": {"TableName": "things", "Item": {"id": {"S": f"t-{offset + n}"}}}} for n in range(count)]

    dynamodb.transact_write_items(TransactItems=puts(100))
    refused(lambda: dynamodb.transact_write_items(TransactItems=puts(101, offset=1000)))

    assert stored(dynamodb) == 100


def test_batch_get_item_takes_100_keys_and_refuses_101(dynamodb: Any) -> None:
    def keys(count: int) -> dict[str, Any]:
        return {"things": {"Keys": [key(n)["Key"] for n in range(count)]}}

    assert dynamodb.batch_get_item(RequestItems=keys(100))["Responses"] == {"things": []}
    message = refused(lambda: dynamodb.batch_get_item(RequestItems=keys(101)))
    assert "Member must have length less than or equal to 100" in message


def test_an_item_over_400_kb_is_refused_and_one_under_is_stored(dynamodb: Any) -> None:
    def item(name: str, size: int) -> dict[str, Any]:
        return {"id": {"S": name}, "blob": {"S": "x" * size}}

    dynamodb.put_item(TableName="things", Item=item("fits", 390 * KB))
    message = refused(lambda: dynamodb.put_item(TableName="things", Item=item("too-big", 401 * KB)))

    assert message == "Item size has exceeded the maximum allowed size"
    assert stored(dynamodb) == 1


def test_an_update_that_grows_an_item_past_400_kb_is_refused(dynamodb: Any) -> None:
    dynamodb.put_item(TableName="things", Item={"id": {"S": "growing"}, "a": {"S": "x" * (300 * KB)}})

    message = refused(
        lambda: dynamodb.update_item(
            TableName="things",
            Key={"id": {"S": "growing"}},
            UpdateExpression="SET b = :b",
            ExpressionAttributeValues={":b": {"S": "y" * (150 * KB)}},
        )
    )

    assert message == "Item size to update has exceeded the maximum allowed size"
    item = dynamodb.get_item(TableName="things", Key={"id": {"S": "growing"}})["Item"]
    assert "b" not in item


def test_an_add_to_a_set_that_grows_an_item_past_400_kb_is_refused_leaving_it_as_it_was(dynamodb: Any) -> None:
    # moto checks an item's size when an attribute is set, not when ADD grows a set already there
    def add(ids: range) -> Any:
        return dynamodb.update_item(
            TableName="things",
            Key={"id": {"S": "seen"}},
            UpdateExpression="ADD post_ids :ids",
            ExpressionAttributeValues={":ids": {"SS": [f"{n:026d}" for n in ids]}},
        )

    add(range(0, 7_500))
    add(range(7_500, 15_000))  # 390,000 bytes of ids: stored

    message = refused(lambda: add(range(15_000, 16_000)))  # 416,000 bytes

    assert message == "Item size to update has exceeded the maximum allowed size"
    item = dynamodb.get_item(TableName="things", Key={"id": {"S": "seen"}})["Item"]
    assert len(item["post_ids"]["SS"]) == 15_000


def test_the_patches_refuse_to_run_on_a_moto_they_were_not_written_for(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a moto whose TransactGetItems quota is not the 25 the patch replaces (here: already patched)
    from moto.dynamodb import responses

    from local import moto_dynamodb_limits

    monkeypatch.setattr(moto_dynamodb_limits, "_applied", False)
    monkeypatch.setattr(responses, "TRANSACTION_MAX_ITEMS", 50)

    # Then patching stops with a clear error rather than silently leaving a quota wrong
    with pytest.raises(moto_dynamodb_limits.MotoChanged, match="TRANSACTION_MAX_ITEMS"):
        moto_dynamodb_limits.enforce_dynamodb_limits()
