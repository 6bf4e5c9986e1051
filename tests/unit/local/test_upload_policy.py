"""The pre-signed POST policy check, against policies produced by boto3 itself."""

import base64
import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.config import Config

from local.upload_policy import S3Error, check_post_upload

SECRETS = {"testing": "testing"}
BUCKET = "uploads"


def presigned(conditions=None, fields=None, expires_in=60, secret="testing", key="uploads/photo.jpg"):
    client = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:1/_aws/s3",
        aws_access_key_id="testing",
        aws_secret_access_key=secret,
        config=Config(signature_version="s3v4"),
    )
    return client.generate_presigned_post(
        BUCKET,
        key,
        Fields=fields if fields is not None else {"Content-Type": "image/jpeg"},
        Conditions=conditions
        if conditions is not None
        else [{"Content-Type": "image/jpeg"}, ["content-length-range", 1, 1000]],
        ExpiresIn=expires_in,
    )["fields"]


def check(fields, size=100, now=None, bucket=BUCKET, filename="photo.jpg"):
    return check_post_upload(
        bucket=bucket, form=list(fields.items()), file_size=size, filename=filename, secrets=SECRETS, now=now
    )


def refused(fields, **kwargs) -> S3Error:
    with pytest.raises(S3Error) as raised:
        check(fields, **kwargs)
    return raised.value


def test_policy_signed_by_boto3_is_accepted_with_its_content_type():
    # Given a pre-signed POST for a JPEG of at most 1000 bytes
    fields = presigned()
    # When a 100-byte JPEG is posted with every field
    upload = check(fields)
    # Then S3 would store it under the signed key, with its content type, answering 204
    assert (upload.key, upload.content_type, upload.success_action_status) == ("uploads/photo.jpg", "image/jpeg", 204)


def test_bigger_file_than_range_is_entity_too_large():
    error = refused(presigned(), size=1001)
    assert (error.status, error.code) == (400, "EntityTooLarge")
    assert error.extra == {"ProposedSize": "1001", "MaxSizeAllowed": "1000"}


def test_empty_file_below_range_is_entity_too_small():
    error = refused(presigned(), size=0)
    assert (error.status, error.code) == (400, "EntityTooSmall")


def test_other_content_type_fails_the_policy_condition():
    # Given a policy fixing image/jpeg
    fields = {**presigned(), "Content-Type": "text/html"}
    # When the client claims another content type
    error = refused(fields)
    # Then S3's 403 names the failed condition
    assert (error.status, error.code) == (403, "AccessDenied")
    assert (
        error.message == 'Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "image/jpeg"]'
    )


def test_other_key_fails_the_policy_condition():
    error = refused({**presigned(), "key": "uploads/someone-else.jpg"})
    assert error.code == "AccessDenied"
    assert '"$key"' in error.message


def test_other_bucket_fails_the_policy_condition():
    error = refused(presigned(), bucket="media")
    assert error.code == "AccessDenied"
    assert '"$bucket"' in error.message


def test_key_starts_with_condition_accepts_prefix_and_refuses_others():
    # Given a policy that lets the client choose the key under uploads/u1/
    fields = presigned(conditions=[["starts-with", "$key", "uploads/u1/"]], fields={}, key="uploads/u1/${filename}")
    # When it uploads under that prefix, the ${filename} placeholder is the file's name
    assert check(fields, filename="a.png").key == "uploads/u1/a.png"
    # Then a key outside the prefix is refused
    error = refused({**fields, "key": "uploads/u2/a.png"})
    assert error.message.endswith('["starts-with", "$key", "uploads/u1/"]')


def test_expired_policy_is_refused():
    fields = presigned(expires_in=60)
    error = refused(fields, now=datetime.now(UTC) + timedelta(seconds=61))
    assert (error.status, error.code, error.message) == (
        403,
        "AccessDenied",
        "Invalid according to Policy: Policy expired.",
    )


def test_signature_made_with_another_secret_does_not_match():
    error = refused(presigned(secret="not-the-local-secret"))
    assert (error.status, error.code) == (403, "SignatureDoesNotMatch")


def test_a_signature_that_is_not_hex_does_not_match_rather_than_failing():
    # (a form is the client's: its signature field may hold any text)
    error = refused({**presigned(), "x-amz-signature": "é" * 64})
    assert (error.status, error.code) == (403, "SignatureDoesNotMatch")


def test_policy_edited_after_signing_does_not_match():
    # Given a signed policy, widened by the client to 1 GB
    fields = presigned()
    policy = json.loads(base64.b64decode(fields["policy"]))
    policy["conditions"][1] = ["content-length-range", 1, 10**9]
    fields["policy"] = base64.b64encode(json.dumps(policy).encode()).decode()
    # When it is posted, Then the signature no longer matches
    assert refused(fields, size=5000).code == "SignatureDoesNotMatch"


def test_unknown_access_key_is_refused():
    fields = {**presigned(), "x-amz-credential": "AKIAOTHER/20260101/us-east-1/s3/aws4_request"}
    assert refused(fields).code == "InvalidAccessKeyId"


@pytest.mark.parametrize("missing", ["key", "x-amz-signature", "x-amz-credential", "x-amz-algorithm", "x-amz-date"])
def test_missing_required_field_is_invalid_argument(missing):
    fields = {name: value for name, value in presigned().items() if name != missing}
    error = refused(fields)
    assert (error.status, error.code) == (400, "InvalidArgument")
    assert f"'{missing}'" in error.message


def test_missing_policy_is_access_denied():
    fields = {name: value for name, value in presigned().items() if name != "policy"}
    assert (refused(fields).status, refused(fields).code) == (403, "AccessDenied")


def test_field_not_covered_by_policy_is_refused():
    error = refused({**presigned(), "x-amz-meta-owner": "mallory"})
    assert error.message == "Invalid according to Policy: Extra input fields: x-amz-meta-owner"


def test_missing_content_type_field_fails_its_condition():
    fields = {name: value for name, value in presigned().items() if name != "Content-Type"}
    assert refused(fields).code == "AccessDenied"


def test_success_action_status_201_is_honoured_when_signed():
    fields = presigned(
        conditions=[{"success_action_status": "201"}, ["content-length-range", 1, 10]],
        fields={"success_action_status": "201"},
    )
    assert check(fields, size=5).success_action_status == 201
