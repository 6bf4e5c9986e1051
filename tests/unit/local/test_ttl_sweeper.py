"""The TTL sweeper finds expired items by reading moto's table (not by a Scan every second) and deletes
them through the API, so streams still say REMOVE — and, as on AWS, that DynamoDB's TTL made it; binary keys
and non-number TTLs as DynamoDB treats them."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamRecordModel
from moto import mock_aws

from local.provision import Table
from local.pumps.dynamodb_stream import DynamoStreamPump, StreamMappingConfig
from local.pumps.ttl_sweeper import TtlSweeper, expired_keys
from tests.support.streams import STREAMS_ENDPOINT

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


class _Consumer:
    logical_id = "Consumer"
    name = "consumer"
    arn = "arn:aws:lambda:us-east-1:123456789012:function:consumer"


class _Capturing:
    """A Lambda runner that keeps every event it is given (and succeeds)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def invoke(self, function: Any, event: dict[str, Any]) -> None:
        self.events.append(event)


def test_a_sweeps_remove_says_dynamodbs_ttl_deleted_it_and_a_clients_delete_says_no_one(dynamodb: Any) -> None:
    # Given a streamed table with two expired items
    stream_arn = dynamodb.create_table(
        TableName="markers",
        KeySchema=[{"AttributeName": "code", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "code", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    for code in ("swept", "deleted"):
        dynamodb.put_item(TableName="markers", Item={"code": {"S": code}, "expires_at": {"N": str(NOW - 1)}})
    table = Table(
        resource=None,  # type: ignore[arg-type]
        name="markers",
        arn="",
        stream_arn=stream_arn,
        ttl_attribute="expires_at",
        key_names=["code"],
    )
    # When a client deletes one before the sweeper comes, and the sweeper deletes the other
    dynamodb.delete_item(TableName="markers", Key={"code": {"S": "deleted"}})
    assert TtlSweeper([table], dynamodb, clock=lambda: NOW).sweep(table) == 1
    # Then the stream's records, as a mapping delivers them to Lambda, say who deleted each as AWS does
    runner = _Capturing()
    streams = boto3.client("dynamodbstreams", region_name="us-east-1", endpoint_url=STREAMS_ENDPOINT)
    sqs = boto3.client("sqs", region_name="us-east-1")
    DynamoStreamPump(_Consumer(), runner, streams, sqs, StreamMappingConfig(stream_arn)).poll_once()  # type: ignore[arg-type]
    removals = {
        record["dynamodb"]["Keys"]["code"]["S"]: record
        for event in runner.events
        for record in event["Records"]
        if record["eventName"] == "REMOVE"
    }
    assert removals["swept"]["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert "userIdentity" not in removals["deleted"]
    # and Powertools' model of a stream record (what the consumers parse) reads them so
    parsed = {code: DynamoDBStreamRecordModel.model_validate(record) for code, record in removals.items()}
    assert parsed["swept"].userIdentity is not None
    assert parsed["swept"].userIdentity.principalId == "dynamodb.amazonaws.com"
    assert parsed["deleted"].userIdentity is None
