"""DynamoDB stream records as Lambda delivers them: built from the Powertools sample for unit tests,
or read from moto's streams for integration tests (with what moto leaves out added, as the local
cloud's stream pump does); and as a consumer receives them, routed through its queue."""

import copy
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
from boto3.dynamodb.types import TypeSerializer

from local.pumps.dynamodb_stream import lambda_record
from local.pumps.sqs import sqs_record
from pinhole.streams.logic import message_group
from tests.support.events import load_event

_TEMPLATE = load_event("dynamoStreamEvent.json")["Records"][0]
_serializer = TypeSerializer()
# botocore routes stream calls to an account endpoint moto does not serve; the regional one it does.
STREAMS_ENDPOINT = "https://streams.dynamodb.us-east-1.amazonaws.com"


def _attribute_values(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in item.items()}


def stream_record(
    event_name: str,
    keys: dict[str, Any],
    *,
    new: dict[str, Any] | None = None,
    old: dict[str, Any] | None = None,
    event_id: str = "c5e1c21690f6484eacb760a34c517c81",
    at: datetime | None = None,
) -> dict[str, Any]:
    """One record of a NEW_AND_OLD_IMAGES stream, shaped like the Powertools sample."""
    record = copy.deepcopy(_TEMPLATE)
    record.update(eventID=event_id, eventName=event_name)
    record["eventSourceARN"] = "arn:aws:dynamodb:us-east-1:123456789012:table/pinhole/stream/2026-11-22T00:00:00.000"
    change = record["dynamodb"]
    change["Keys"] = _attribute_values(keys)
    change["ApproximateCreationDateTime"] = (at or datetime.now(UTC)).timestamp()
    for name, image in (("NewImage", new), ("OldImage", old)):
        if image is None:
            change.pop(name, None)
        else:
            change[name] = _attribute_values(image)
    return dict(record)


class StreamTap:
    """The records written to some tables' streams since the last read, as one Lambda batch would carry
    them. A fresh iterator each time, after the last record read: moto rolls a cancelled transaction
    back by swapping table copies, and an iterator held across that reads a discarded stream."""

    def __init__(self, table_names: list[str]) -> None:
        self.dynamodb = boto3.client("dynamodb")
        self.streams = boto3.client("dynamodbstreams", endpoint_url=STREAMS_ENDPOINT)
        self.arns = [self.dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"] for name in table_names]
        self._positions: dict[tuple[str, str], str] = {}

    def new_records(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for arn in self.arns:
            for shard in self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
                position = self._positions.get((arn, shard["ShardId"]))
                where = (
                    {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": position}
                    if position
                    else {"ShardIteratorType": "TRIM_HORIZON"}
                )
                iterator = self.streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], **where)
                raw = self.streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
                if raw:
                    self._positions[(arn, shard["ShardId"])] = raw[-1]["dynamodb"]["SequenceNumber"]
                records.extend(lambda_record(record, arn) for record in raw)
        return records


def routed_event(records: list[dict[str, Any]], table: str | None = None) -> dict[str, Any]:
    """The SQS event a consumer's routed FIFO queue delivers for these stream records: each one the body of a
    message in its item's message group (its table's, by default the one its eventSourceARN names), as the
    table's stream router sends it."""
    now = str(int(time.time() * 1000))
    messages = [
        {
            "MessageId": str(uuid.uuid4()),
            "ReceiptHandle": uuid.uuid4().hex,
            "Body": json.dumps(record),
            "Attributes": {
                "ApproximateReceiveCount": "1",
                "ApproximateFirstReceiveTimestamp": now,
                "SentTimestamp": now,
                "SenderId": "AROAROUTER",
                "MessageGroupId": message_group(table or _table_of(record), record["dynamodb"]["Keys"]),
                "MessageDeduplicationId": record["eventID"],
                "SequenceNumber": f"{n:020d}",
            },
        }
        for n, record in enumerate(records)
    ]
    queue_arn = "arn:aws:sqs:us-east-1:123456789012:routed-records.fifo"
    return {"Records": [sqs_record(message, queue_arn) for message in messages]}


def _table_of(record: dict[str, Any]) -> str:
    return str(record["eventSourceARN"]).split(":table/", 1)[-1].split("/", 1)[0]
