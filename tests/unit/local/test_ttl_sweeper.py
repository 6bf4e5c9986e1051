"""The TTL sweeper finds expired items by reading moto's table (not by a Scan every second) and deletes
them through the API, so streams still say REMOVE; binary keys and non-number TTLs as DynamoDB treats them."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.provision import Table
from local.pumps.ttl_sweeper import TtlSweeper, expired_keys

NOW = 1_800_000_000


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="sessions",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}, {"AttributeName": "at", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "id", "AttributeType": "B"},
                {"AttributeName": "at", "AttributeType": "N"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def test_only_items_whose_ttl_number_is_past_are_swept(dynamodb: Any) -> None:
    # Given items expired, not yet expired, with a TTL that is not a number, and with none
    rows = {
        b"expired": {"N": str(NOW - 1)},
        b"later": {"N": str(NOW + 60)},
        b"text": {"S": str(NOW - 1)},
        b"none": None,
    }
    for key, ttl in rows.items():
        item = {"id": {"B": key}, "at": {"N": "1"}, **({"expires_at": ttl} if ttl else {})}
        dynamodb.put_item(TableName="sessions", Item=item)
    table = Table(
        resource=None, name="sessions", arn="", stream_arn=None, ttl_attribute="expires_at", key_names=["id", "at"]
    )  # type: ignore[arg-type]
    # When the sweeper looks
    assert expired_keys(table, "expires_at", NOW) == [{"id": {"B": b"expired"}, "at": {"N": "1"}}]
    deleted = TtlSweeper([table], dynamodb, clock=lambda: NOW).sweep(table)
    # Then only the expired one is gone
    assert deleted == 1
    left = {item["id"]["B"] for item in dynamodb.scan(TableName="sessions")["Items"]}
    assert left == {b"later", b"text", b"none"}


def test_a_table_without_a_sort_key_is_swept_too(dynamodb: Any) -> None:
    # Given a table keyed by its partition key alone, with an expired item and a live one
    dynamodb.create_table(
        TableName="codes",
        KeySchema=[{"AttributeName": "code", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "code", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName="codes", Item={"code": {"S": "old"}, "expires_at": {"N": str(NOW - 1)}})
    dynamodb.put_item(TableName="codes", Item={"code": {"S": "new"}, "expires_at": {"N": str(NOW + 1)}})
    table = Table(resource=None, name="codes", arn="", stream_arn=None, ttl_attribute="expires_at", key_names=["code"])  # type: ignore[arg-type]
    # Then the sweeper finds the expired one alone
    assert expired_keys(table, "expires_at", NOW) == [{"code": {"S": "old"}}]
