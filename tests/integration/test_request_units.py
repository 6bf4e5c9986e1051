"""The benchmarks' request-unit meter (benchmarks/request_units.py) bills calls as DynamoDB's documented rules do:
reads by the whole item in 4 KB units (a projection does not lower them; a missing item costs one), a Query by the
sum of what it reads, eventually consistent reads at half; writes in 1 KB units."""

import boto3
from botocore.client import BaseClient

from benchmarks.request_units import RequestUnitMeter, units
from pinhole.feed.dal import FeedModel

KB = 1024


def _put(client: object, table: str, sk: str, size: int) -> None:
    client.put_item(  # type: ignore[attr-defined]
        TableName=table, Item={"user_id": {"S": "u"}, "sk": {"S": sk}, "pad": {"S": "x" * size}}
    )


def test_the_meter_bills_reads_and_writes_as_dynamodb_does(aws: dict[str, str]) -> None:
    client, table = boto3.client("dynamodb"), FeedModel.Meta.table_name
    meter, unmetered = RequestUnitMeter(), BaseClient._make_api_call
    with meter.installed():
        # Writes: 1.5 KB is 2 units, 100 bytes is 1
        with meter.metering() as calls:
            _put(client, table, "big", 5 * KB)
            _put(client, table, "small", 100)
            for index in range(10):
                _put(client, table, f"row#{index}", KB)
        written = units(calls)
        # Reads
        with meter.metering() as calls:
            client.get_item(TableName=table, Key={"user_id": {"S": "u"}, "sk": {"S": "big"}}, ConsistentRead=True)
        consistent_get = units(calls)
        with meter.metering() as calls:
            client.get_item(TableName=table, Key={"user_id": {"S": "u"}, "sk": {"S": "big"}}, ProjectionExpression="sk")
        projected_get = units(calls)
        with meter.metering() as calls:
            client.batch_get_item(
                RequestItems={
                    table: {"Keys": [{"user_id": {"S": "u"}, "sk": {"S": sk}} for sk in ("big", "small", "missing")]}
                }
            )
        batch = units(calls)
        with meter.metering() as calls:
            client.query(
                TableName=table,
                KeyConditionExpression="user_id = :u AND begins_with(sk, :row)",
                ExpressionAttributeValues={":u": {"S": "u"}, ":row": {"S": "row#"}},
            )
        query = units(calls)

    # 5 KB + name and key bytes: 6 units; 100 bytes: 1; each ~1 KB row: 2 (just over 1 KB with its names)
    assert written["write_units"] == 6 + 1 + 10 * 2
    assert written["read_units"] == 0  # a put's look at the item it replaces is not billed
    assert consistent_get == {
        "read_units": 2.0,
        "write_units": 0.0,
        "by_call": {"GetItem feeds": {"calls": 1.0, "read_units": 2.0, "write_units": 0.0}},
    }
    assert projected_get["read_units"] == 1.0  # eventually consistent: half of 2, however little it returns
    assert batch["read_units"] == (2 + 1 + 1) / 2  # the missing key costs one unit too
    assert query["read_units"] == 3 / 2  # ten ~1 KB items, ~10.3 KB: 3 units once, not 10
    assert BaseClient._make_api_call is unmetered  # the hooks are gone
