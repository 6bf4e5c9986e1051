"""local/moto_s3_ranges.py: S3's 416 says how large the object is; moto's did not."""

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local import moto_s3_ranges

BUCKET = "media"
SIZE = 1024


@pytest.fixture
def s3():
    moto_s3_ranges.install()
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        client.put_object(Bucket=BUCKET, Key="clip.mp4", Body=bytes(SIZE), ContentType="video/mp4")
        yield client


def test_a_range_past_the_end_is_416_invalid_range_with_the_size_in_content_range(s3):
    with pytest.raises(ClientError) as refused:
        s3.get_object(Bucket=BUCKET, Key="clip.mp4", Range=f"bytes={SIZE}-")

    answer = refused.value.response
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 416
    assert answer["ResponseMetadata"]["HTTPHeaders"]["content-range"] == f"bytes */{SIZE}"
    assert answer["Error"]["Code"] == "InvalidRange"
    assert answer["Error"]["ActualObjectSize"] == str(SIZE)
    assert answer["Error"]["RangeRequested"] == f"bytes={SIZE}-"


def test_a_head_with_a_range_past_the_end_is_416_with_the_size_in_content_range(s3):
    with pytest.raises(ClientError) as refused:
        s3.head_object(Bucket=BUCKET, Key="clip.mp4", Range="bytes=5000-5100")

    metadata = refused.value.response["ResponseMetadata"]
    assert metadata["HTTPStatusCode"] == 416
    assert metadata["HTTPHeaders"]["content-range"] == f"bytes */{SIZE}"


def test_satisfiable_and_ignored_ranges_are_answered_as_moto_did(s3):
    partial = s3.get_object(Bucket=BUCKET, Key="clip.mp4", Range="bytes=-10")
    several = s3.get_object(Bucket=BUCKET, Key="clip.mp4", Range="bytes=0-1,5-6")

    assert partial["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert partial["ContentRange"] == f"bytes {SIZE - 10}-{SIZE - 1}/{SIZE}"
    assert len(partial["Body"].read()) == 10
    assert several["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "ContentRange" not in several
    assert len(several["Body"].read()) == SIZE


def test_installing_twice_wraps_once():
    moto_s3_ranges.install()
    wrapped = moto_s3_ranges.S3Response._handle_range_header

    moto_s3_ranges.install()

    assert moto_s3_ranges.S3Response._handle_range_header is wrapped


def test_the_wrapped_moto_source_is_the_one_the_patch_was_written_against():
    assert moto_s3_ranges.current_fingerprint() == moto_s3_ranges.FINGERPRINT
