"""Fixture resize: copies each uploaded object into the media bucket, keeping its content type."""

import os
from urllib.parse import unquote_plus

import boto3

from .stream import RECEIVED as _unused  # noqa: F401  (relative imports inside an asset must work)

RECEIVED: list[dict] = []
_s3 = boto3.client("s3")


def handler(event, context):
    RECEIVED.append(event)
    for record in event["Records"]:
        key = unquote_plus(record["s3"]["object"]["key"])
        source = _s3.get_object(Bucket=record["s3"]["bucket"]["name"], Key=key)
        _s3.put_object(
            Bucket=os.environ["MEDIA_BUCKET"],
            Key=key.replace("uploads/", "renditions/"),
            Body=source["Body"].read(),
            ContentType=source["ContentType"],
        )
