"""The pre-signed URL check, against URLs produced by boto3 itself and changed the ways a client could change them."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config

from local.presigned_url import ReceivedRequest, check_presigned
from local.upload_policy import S3Error

MOUNT = "/_aws/s3"
ENDPOINT = f"http://127.0.0.1:8000{MOUNT}"
SECRETS = {"testing": "testing"}
KEY = "messages/c1/m1/w1080 (1)+é.jpg"


def presigned_url(method="get_object", key=KEY, expires_in=600, signature_version="s3v4", secret="testing"):
    client = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=ENDPOINT,
        aws_access_key_id="testing",
        aws_secret_access_key=secret,
        config=Config(signature_version=signature_version),
    )
    return client.generate_presigned_url(method, Params={"Bucket": "media", "Key": key}, ExpiresIn=expires_in)


def received(url: str, method="GET", headers=None) -> ReceivedRequest:
    parts = urlsplit(url)
    return ReceivedRequest.of(method, parts.path, parts.query, {"host": parts.netloc, **(headers or {})}, MOUNT)


def refused(url: str, now=None, **kwargs) -> S3Error:
    with pytest.raises(S3Error) as raised:
        check_presigned(received(url, **kwargs), SECRETS, "us-east-1", now=now)
    return raised.value


def with_parameter(url: str, name: str, value: str) -> str:
    before, _, rest = url.partition(f"{name}=")
    return f"{before}{name}={value}{rest[rest.find('&') :] if '&' in rest else ''}"


@pytest.mark.parametrize("signature_version", ["s3v4", "s3"], ids=["SigV4", "SigV2 (boto3's default in us-east-1)"])
def test_a_url_signed_by_boto3_is_accepted_and_names_its_signer(signature_version):
    url = presigned_url(signature_version=signature_version)

    assert check_presigned(received(url), SECRETS, "us-east-1") == "testing"


def test_a_url_signed_for_head_is_accepted_for_head_only():
    url = presigned_url("head_object")

    assert check_presigned(received(url, method="HEAD"), SECRETS, "us-east-1") == "testing"
    assert refused(url, method="GET").code == "SignatureDoesNotMatch"


def signed_at(url: str, amz_date: str) -> str:
    """The URL claiming another signing time (its credential scope's date follows, as a forger would make it)."""
    original = received(url).get("X-Amz-Date") or ""
    return url.replace(original, amz_date).replace(f"%2F{original[:8]}%2F", f"%2F{amz_date[:8]}%2F")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda url: with_parameter(url, "X-Amz-Signature", "0" * 64),
        lambda url: signed_at(url, "20200101T000000Z"),
        lambda url: with_parameter(url, "X-Amz-Expires", "604800"),
        lambda url: url.replace("w1080", "original"),
        lambda url: url + "&response-content-type=text%2Fhtml",
    ],
    ids=["signature-zeroed", "signed-in-2020", "expiry-lengthened", "other-object", "query-added"],
)
def test_a_changed_url_is_signature_does_not_match_as_s3_answers(tamper):
    url = tamper(presigned_url())

    error = refused(url)

    assert (error.status, error.code) == (403, "SignatureDoesNotMatch")
    assert error.message == (
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method."
    )
    extra = error.extra or {}
    assert extra["AWSAccessKeyId"] == "testing"
    assert extra["StringToSign"].startswith("AWS4-HMAC-SHA256\n")
    assert extra["CanonicalRequest"].startswith(f"GET\n{MOUNT}/media/")
    assert extra["SignatureProvided"] == urlsplit(url).query.rsplit("X-Amz-Signature=", 1)[1].split("&")[0]


def test_a_url_used_from_another_host_is_signature_does_not_match():
    url = presigned_url()

    assert refused(url, headers={"host": "localhost:8000"}).code == "SignatureDoesNotMatch"


def test_a_sigv2_url_changed_is_signature_does_not_match():
    url = presigned_url(signature_version="s3").replace("w1080", "original")

    error = refused(url)

    assert (error.status, error.code) == (403, "SignatureDoesNotMatch")
    assert (error.extra or {})["StringToSign"].endswith("\n/media/messages/c1/m1/original%20%281%29%2B%C3%A9.jpg")


@pytest.mark.parametrize("signature_version", ["s3v4", "s3"])
def test_a_url_past_its_expiry_is_access_denied_request_has_expired(signature_version):
    url = presigned_url(expires_in=600, signature_version=signature_version)
    later = datetime.now(UTC) + timedelta(seconds=602)

    error = refused(url, now=later)

    assert (error.status, error.code, error.message) == (403, "AccessDenied", "Request has expired")
    extra = error.extra or {}
    assert extra["ServerTime"] == later.strftime("%Y-%m-%dT%H:%M:%SZ")
    expires = datetime.strptime(extra["Expires"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert timedelta(seconds=597) < expires - datetime.now(UTC) <= timedelta(seconds=600)
    if signature_version == "s3v4":
        assert extra["X-Amz-Expires"] == "600"


def test_a_url_is_accepted_until_its_expiry():
    url = presigned_url(expires_in=600)
    signed_at = datetime.strptime(received(url).get("X-Amz-Date") or "", "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)

    assert check_presigned(received(url), SECRETS, "us-east-1", now=signed_at + timedelta(seconds=600)) == "testing"


def test_a_week_is_the_longest_expiry_s3_honours():
    assert check_presigned(received(presigned_url(expires_in=604800)), SECRETS, "us-east-1") == "testing"

    error = refused(presigned_url(expires_in=604801))

    assert (error.status, error.code) == (400, "AuthorizationQueryParametersError")
    assert error.message == (
        "X-Amz-Expires must be less than a week (in seconds); that is, "
        "the given X-Amz-Expires must be less than 604800 seconds"
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("X-Amz-Expires", "ten", "X-Amz-Expires should be a number"),
        ("X-Amz-Expires", "-1", "X-Amz-Expires must be non-negative"),
        ("X-Amz-Date", "2026-01-01", "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""),
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA1", 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"'),
        (
            "X-Amz-Credential",
            "testing%2Fus-east-1%2Fs3%2Faws4_request",
            "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; "
            'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
        ),
    ],
)
def test_a_malformed_parameter_is_authorization_query_parameters_error(name, value, message):
    error = refused(with_parameter(presigned_url(), name, value))

    assert (error.status, error.code, error.message) == (400, "AuthorizationQueryParametersError", message)


def test_a_credential_for_another_region_is_refused_naming_the_region():
    url = presigned_url().replace("%2Fus-east-1%2F", "%2Feu-west-1%2F")

    error = refused(url)

    assert (error.status, error.code) == (400, "AuthorizationQueryParametersError")
    assert error.message == (
        "Error parsing the X-Amz-Credential parameter; the region 'eu-west-1' is wrong; expecting 'us-east-1'"
    )
    assert error.extra == {"Region": "us-east-1"}


@pytest.mark.parametrize(
    "missing", ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders"]
)
def test_a_url_missing_a_sigv4_parameter_is_authorization_query_parameters_error(missing):
    parts = urlsplit(presigned_url())
    query = "&".join(pair for pair in parts.query.split("&") if not pair.startswith(f"{missing}="))

    error = refused(parts._replace(query=query).geturl())

    assert (error.status, error.code) == (400, "AuthorizationQueryParametersError")
    assert error.message.startswith("Query-string authentication version 4 requires the X-Amz-Algorithm")


def test_a_key_the_local_cloud_never_issued_is_invalid_access_key_id():
    url = presigned_url().replace("X-Amz-Credential=testing", "X-Amz-Credential=AKIAFORGED")

    error = refused(url)

    assert (error.status, error.code) == (403, "InvalidAccessKeyId")
    assert error.message == "The AWS Access Key Id you provided does not exist in our records."
    assert error.extra == {"AWSAccessKeyId": "AKIAFORGED"}


def test_a_wrong_secret_is_signature_does_not_match():
    assert refused(presigned_url(secret="not-the-local-secret")).code == "SignatureDoesNotMatch"


def test_an_amz_header_sent_but_not_signed_is_access_denied():
    error = refused(presigned_url(), headers={"x-amz-server-side-encryption": "AES256"})

    assert (error.status, error.code) == (403, "AccessDenied")
    assert error.message == "There were headers present in the request which were not signed"
    assert error.extra == {"HeadersNotSigned": "x-amz-server-side-encryption"}
