"""S3 records reshaped from moto's to what Lambda receives from S3."""

import json
from pathlib import Path

from local.pumps.s3_notifications import NotificationTarget, lambda_s3_record

SAMPLE = json.loads((Path(__file__).parent / "events" / "s3Event.json").read_text())["Records"][0]
MOTO_RECORD = {
    "eventVersion": "2.1",
    "eventSource": "aws:s3",
    "awsRegion": "us-east-1",
    "eventTime": "2026-11-22T10:00:00.000Z",
    "eventName": "ObjectCreated:Put",
    "s3": {
        "s3SchemaVersion": "1.0",
        "configurationId": "c",
        "bucket": {"name": "b", "arn": "arn:aws:s3:::b"},
        "object": {"key": "uploads/my+photo%C3%A9.jpg", "size": 3, "eTag": "e"},
    },
}


def test_record_has_every_field_of_the_aws_sample():
    record = lambda_s3_record(MOTO_RECORD, sequencer="0001")
    assert set(record) == set(SAMPLE)
    assert set(record["s3"]["object"]) == set(SAMPLE["s3"]["object"])
    assert set(record["s3"]["bucket"]) == set(SAMPLE["s3"]["bucket"])


def test_key_is_url_encoded_like_s3_with_plus_for_spaces():
    record = lambda_s3_record(MOTO_RECORD, sequencer="0001")
    assert record["s3"]["object"]["key"] == "uploads/my+photo%C3%A9.jpg"


def test_target_filters_on_event_and_prefix():
    target = NotificationTarget(function=None, events=("s3:ObjectCreated:*",), prefix="uploads/", suffix=".jpg")
    assert target.wants("ObjectCreated:Put", "uploads/a.jpg")
    assert not target.wants("ObjectRemoved:Delete", "uploads/a.jpg")
    assert not target.wants("ObjectCreated:Put", "other/a.jpg")
