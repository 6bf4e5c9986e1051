"""Writes name what they wrote, so only the pumps reading it look (local/pumps/write_targets.py)."""

import boto3
import pytest

from local.pumps.write_targets import WriteReporter, queue_source, stream_source, table_source, targets_of

TABLE_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/Social"


@pytest.mark.parametrize(
    ("operation", "params", "expected"),
    [
        ("PutItem", {"TableName": "Social", "Item": {}}, {"dynamodb:Social"}),
        ("UpdateItem", {"TableName": TABLE_ARN, "Key": {}}, {"dynamodb:Social"}),
        ("DeleteItem", {"TableName": "Social", "Key": {}}, {"dynamodb:Social"}),
        ("BatchWriteItem", {"RequestItems": {"Social": [], "Feeds": []}}, {"dynamodb:Social", "dynamodb:Feeds"}),
        (
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"TableName": "Messages", "Item": {}}},
                    {"Update": {"TableName": "Inbox", "Key": {}}},
                    {"ConditionCheck": {"TableName": "Social", "Key": {}}},
                    {"Delete": {"TableName": "Inbox", "Key": {}}},
                ]
            },
            {"dynamodb:Messages", "dynamodb:Inbox", "dynamodb:Social"},
        ),
        ("SendMessage", {"QueueUrl": "http://127.0.0.1:5000/123456789012/fanout", "MessageBody": "{}"}, {"sqs:fanout"}),
        (
            "SendMessageBatch",
            {"QueueUrl": "https://sqs.eu-west-1.amazonaws.com/1/fanout/", "Entries": []},
            {"sqs:fanout"},
        ),
        ("ChangeMessageVisibility", {"QueueUrl": "http://x/1/jobs", "ReceiptHandle": "r"}, {"sqs:jobs"}),
        ("PutObject", {"Bucket": "uploads", "Key": "a.jpg"}, {"s3:uploads"}),
        ("DeleteObjects", {"Bucket": "media", "Delete": {"Objects": []}}, {"s3:media"}),
    ],
)
def test_a_write_names_the_sources_it_can_feed(operation, params, expected):
    assert targets_of(operation, params) == expected


def test_a_write_whose_table_cannot_be_told_wakes_every_pump():
    # PartiQL names its table inside the statement
    assert targets_of("ExecuteStatement", {"Statement": "UPDATE Social SET a = 1"}) is None
    # and a malformed call (botocore refuses it before sending anyway) is not a reason to miss a wake-up
    assert targets_of("PutItem", {}) is None


def test_reads_are_not_writes():
    with pytest.raises(KeyError):
        targets_of("Query", {"TableName": "Social"})


def test_a_pump_and_a_writer_name_a_source_alike():
    stream_arn = f"{TABLE_ARN}/stream/2026-12-06T00:00:00.000"
    assert stream_source(stream_arn) == table_source("Social") == table_source(TABLE_ARN)
    assert queue_source("http://127.0.0.1:8000/123456789012/fanout") == queue_source(
        "https://sqs.eu-west-1.amazonaws.com/123456789012/fanout"
    )


def test_answered_writes_are_reported_with_their_targets_and_reads_are_not(aws):
    # Given a client whose writes are reported
    reported = []
    sqs = boto3.client("sqs", region_name="eu-west-1")
    WriteReporter(reported.append).register(sqs.meta.events)
    queue_url = sqs.create_queue(QueueName="fanout")["QueueUrl"]
    # When it sends a message and then receives it
    sqs.send_message(QueueUrl=queue_url, MessageBody="{}")
    sqs.receive_message(QueueUrl=queue_url)
    # Then the send alone was reported, naming the queue
    assert reported == [frozenset({"sqs:fanout"})]


def test_a_refused_write_is_reported_too_which_costs_a_look_and_loses_nothing(aws):
    reported = []
    dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
    WriteReporter(reported.append).register(dynamodb.meta.events)
    with pytest.raises(dynamodb.exceptions.ResourceNotFoundException):
        dynamodb.put_item(TableName="Missing", Item={"pk": {"S": "a"}})
    assert reported == [frozenset({"dynamodb:Missing"})]
