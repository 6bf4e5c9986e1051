"""The local cloud end to end over the fixture assembly: auth, uploads, media, pumps, WebSocket."""

import json
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import boto3
import httpx
import jwt
import pytest
from botocore.config import Config
from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK, InvalidStatus
from websockets.sync.client import connect

from local.in_process import transport
from local.websocket_gateway import MAX_FRAME_BYTES, MAX_MESSAGE_BYTES
from tests.integration.local.conftest import wait_for

# One worker runs these back to back: the cloud lives in this process, and moto's backends (and
# os.environ) are process-wide, so no other test may run while it is up.
pytestmark = pytest.mark.xdist_group("local_cloud_in_process")
PASSWORD = "correct-horse-1"


def module_of(cloud, logical_id):
    """What the fixture handler module recorded, across every execution environment the local cloud
    loaded for the function (concurrent or back-to-back invocations may land in different ones). Only idle
    environments are read, so one busy with an invocation right now is missing until it is done: poll."""
    merged: dict[str, list] = {"RECEIVED": [], "EVENTS": []}
    for handler in cloud.cloud.runner.get(logical_id).idle_handlers():
        for name, records in merged.items():
            records.extend(handler.__globals__.get(name, []))
    return merged


@pytest.fixture(scope="module")
def http(cloud):
    with httpx.Client(base_url=cloud.cloud.outputs["HttpApiUrl"], timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def cognito(cloud):
    return boto3.client("cognito-idp", endpoint_url=cloud.cloud.moto_url, region_name="us-east-1")


@pytest.fixture(scope="module")
def access_token(cloud, cognito):
    outputs = cloud.cloud.outputs
    cognito.admin_create_user(UserPoolId=outputs["UserPoolId"], Username="alice", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=outputs["UserPoolId"], Username="alice", Password=PASSWORD, Permanent=True
    )
    tokens = cognito.initiate_auth(
        ClientId=outputs["UserPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )
    return tokens["AuthenticationResult"]["AccessToken"]


def s3(cloud):
    return boto3.client("s3", endpoint_url=cloud.cloud.moto_url, region_name="us-east-1")


def test_password_policy_from_the_template_is_enforced(cloud, cognito):
    # Given the template's MinimumLength 10, When a short password is set, Then Cognito (moto) refuses it
    with pytest.raises(cognito.exceptions.InvalidPasswordException):
        cognito.sign_up(
            ClientId=cloud.cloud.outputs["UserPoolClientId"],
            Username="bob",
            Password=PASSWORD[:6],
            UserAttributes=[{"Name": "email", "Value": "bob@example.com"}],
        )


def test_tokens_live_as_long_as_the_template_s_user_pool_client_says(cloud, cognito, access_token):
    # Given the template's client: AccessTokenValidity and IdTokenValidity 15 (minutes), as PinholeStateful's
    # When alice logs in (moto signed every token for an hour, whatever the client said)
    tokens = cognito.initiate_auth(
        ClientId=cloud.cloud.outputs["UserPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    # Then the tokens live 15 minutes, as on AWS
    claims = {
        name: jwt.decode(tokens[name], options={"verify_signature": False}) for name in ("AccessToken", "IdToken")
    }
    assert tokens["ExpiresIn"] == 900
    assert {name: c["exp"] - c["iat"] for name, c in claims.items()} == {"AccessToken": 900, "IdToken": 900}


def test_cognito_access_token_reaches_the_handler_as_string_claims(http, access_token):
    # When alice calls a JWT route with her access token
    response = http.get("/users/alice", headers={"Authorization": f"Bearer {access_token}"})
    # Then the handler sees API Gateway's v2 event with her claims and the path parameter
    assert response.status_code == 200
    event = response.json()["event"]
    assert event["requestContext"]["authorizer"]["jwt"]["claims"]["username"] == "alice"
    assert event["pathParameters"] == {"username": "alice"}
    assert event["routeKey"] == "GET /users/{username}"
    assert response.headers["apigw-requestid"] == event["requestContext"]["requestId"]


@pytest.mark.parametrize(("method", "path"), [("GET", "/me/"), ("GET", "/users/alice/"), ("POST", "/uploads/")])
def test_a_route_s_path_with_a_trailing_slash_matches_no_route_with_or_without_a_token(
    http, access_token, method, path
):
    # (API Gateway HTTP APIs match the path as sent: before any authorizer, `/me/` is not `GET /me`'s route)
    anonymous = http.request(method, path)
    signed_in = http.request(method, path, headers={"Authorization": access_token})
    declared = http.request(method, path.rstrip("/"))

    assert anonymous.status_code == signed_in.status_code == 404
    assert (
        anonymous.json()
        == signed_in.json()
        == {"error": {"code": "not_found", "message": "No route matches this request."}}
    )
    assert declared.status_code == 401  # the route itself is behind the authorizer


def test_handler_gets_its_own_environment_and_a_lambda_context(http, access_token):
    body = http.get("/me", headers={"Authorization": access_token}).json()
    assert body["service"] == "users"
    assert body["context"]["function_name"] == "PinholeStateless-UsersFunction5E6F7A8B"
    assert body["context"]["memory"] == 256
    assert 0 < body["context"]["remaining"] <= 1000


def test_errors_of_handlers_are_enveloped_without_internals(http):
    boom = http.get("/boom")
    assert boom.status_code == 500
    assert boom.json() == {"error": {"code": "internal", "message": "Internal server error."}}
    assert "secret" not in boom.text
    assert http.get("/garbage").status_code == 500
    assert http.get("/slow").status_code == 504


AWS_413 = {"message": "Request Entity Too Large"}  # API Gateway's own answer: HTTP APIs cannot customise it


def test_body_over_10_mb_is_refused_by_the_gateway_as_aws_does(http):
    response = http.post("/echo", content=b"x" * (10 * 1024 * 1024 + 1))
    assert (response.status_code, response.json()) == (413, AWS_413)


@pytest.mark.parametrize(
    "content_type, body_bytes, expected",
    [
        ("text/plain", 6 * 1024 * 1024 - 64 * 1024, 200),  # the event, with its envelope, stays under 6 MiB
        ("text/plain", 6 * 1024 * 1024, 413),  # the body alone is 6 MiB: with the event around it, over
        ("application/octet-stream", 4_720_000, 413),  # a binary body travels base64: 6,293,336 bytes alone
        ("application/octet-stream", 4_500_000, 200),
    ],
)
def test_an_event_over_lambdas_6_mb_is_refused_before_the_handler_runs(http, content_type, body_bytes, expected):
    # When a body between Lambda's quota and API Gateway's is posted
    response = http.post("/echo", content=b"x" * body_bytes, headers={"content-type": content_type})

    # Then an event over 6,291,456 bytes is 413 with API Gateway's body, one under reaches the handler
    assert response.status_code == expected, response.text[:200]
    if expected == 413:
        assert response.json() == AWS_413


def test_an_answer_over_lambdas_6_mb_is_an_error_not_a_response(http):
    # Given a handler answering about 6 MB: just under Lambda's 6,291,556-byte response quota, and just over
    under = http.post("/echo?answer_bytes=6291000", content=b"{}")
    over = http.post("/echo?answer_bytes=6291556", content=b"{}")

    # Then the first arrives whole, the second is the gateway's 500 (Lambda's Function.ResponseSizeTooLarge)
    assert under.status_code == 200 and len(under.content) == 6_291_000
    assert over.status_code == 500
    assert over.json() == {"error": {"code": "internal", "message": "Internal server error."}}


def test_binary_body_round_trips_base64_with_cookies(http):
    response = http.post("/echo", content=b"\x89PNG\x00", headers={"content-type": "image/png"})
    assert response.content == b"\x89PNG\x00"
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=latin-1", "text/plain"])
@pytest.mark.parametrize("raw", [b'{"bio":"caf\xe9"}', b'{"bio":"\xff\xfe"}', b'{"bio":"\xed\xa0\x80"}'])
def test_a_text_body_that_is_not_utf8_reaches_the_handler_base64_byte_for_byte(http, content_type, raw):
    # When a body of a text type that is not UTF-8 is posted (the echo handler answers a base64 body with itself)
    response = http.post("/echo", content=raw, headers={"content-type": content_type})

    # Then the handler got exactly those bytes, base64-encoded: not a string with U+FFFD in place of them
    assert (response.status_code, response.content) == (200, raw)


def test_a_text_body_that_is_utf8_reaches_the_handler_as_a_string(http):
    response = http.post("/echo", content='{"bio":"café"}'.encode(), headers={"content-type": "application/json"})
    event = response.json()["event"]
    assert (event["body"], event["isBase64Encoded"]) == ('{"bio":"café"}', False)


def test_presigned_post_from_a_handler_is_checked_and_feeds_resize_and_media(cloud, http, access_token):
    # Given an upload URL signed by a handler (its boto3 points at the local S3 front)
    upload = http.post("/uploads", headers={"Authorization": access_token}).json()
    assert upload["url"].startswith(cloud.cloud.endpoints.s3)
    # When a file of the wrong type is posted, Then S3's policy error comes back
    refused = httpx.post(
        upload["url"], data={**upload["fields"], "Content-Type": "text/html"}, files={"file": ("p.jpg", b"jpeg-bytes")}
    )
    assert refused.status_code == 403
    assert "<Code>AccessDenied</Code>" in refused.text
    # When the right file is posted
    accepted = httpx.post(upload["url"], data=upload["fields"], files={"file": ("p.jpg", b"jpeg-bytes")})
    assert accepted.status_code == 204
    # Then the S3 notification runs resize, whose rendition is served at MediaBaseUrl like CloudFront would
    media_url = f"{cloud.cloud.outputs['MediaBaseUrl']}/renditions/photo.jpg"
    served = wait_for(lambda: (r := httpx.get(media_url)).status_code == 200 and r)
    assert served.content == b"jpeg-bytes"
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "max-age" in served.headers["cache-control"]
    record = module_of(cloud, "ResizeFunction8C9D0E1F")["RECEIVED"][0]["Records"][0]
    assert record["s3"]["object"]["sequencer"]
    assert record["eventName"] == "ObjectCreated:Post"


@pytest.mark.parametrize(
    "send",
    [
        lambda url, fields: httpx.post(url, data=fields),  # the form's fields, url-encoded, and no file
        lambda url, fields: httpx.post(url, content=b"jpeg-bytes", headers={"content-type": "image/jpeg"}),
        lambda url, fields: httpx.post(url),
    ],
    ids=["url-encoded fields", "a bare body", "nothing"],
)
def test_a_post_to_a_bucket_that_is_not_a_form_is_refused_as_s3_does_and_stores_nothing(cloud, http, send):
    # Given an upload a handler signed
    upload = http.post("/files/upload-outside-the-grant").json()

    # When a client posts to its URL without a multipart form
    refused = send(upload["url"], upload["fields"])

    # Then S3's 412 comes back, and no object was made of it
    assert (refused.status_code, refused.headers["content-type"]) == (412, "application/xml")
    assert (
        "<Error><Code>PreconditionFailed</Code>"
        "<Message>At least one of the pre-conditions you specified did not hold</Message>"
        "<Condition>Bucket POST must be of the enclosure-type multipart/form-data</Condition><RequestId>"
    ) in refused.text
    bucket = upload["url"].rsplit("/", 1)[1]
    assert s3(cloud).list_objects_v2(Bucket=bucket, Prefix=upload["fields"]["key"])["KeyCount"] == 0


def test_a_form_without_its_file_is_refused_as_s3_does(http):
    upload = http.post("/files/upload-outside-the-grant").json()

    refused = httpx.post(upload["url"], files={name: (None, value) for name, value in upload["fields"].items()})

    assert refused.status_code == 400
    assert (
        "<Error><Code>InvalidArgument</Code><Message>POST requires exactly one file upload per request.</Message>"
    ) in refused.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/pinholestateful-uploadsbuckete3b0c442"),
        ("GET", "/pinholestateful-uploadsbuckete3b0c442?list-type=2"),
        ("GET", "/pinholestateful-uploadsbuckete3b0c442/uploads/listed.jpg"),
        ("PUT", "/pinholestateful-uploadsbuckete3b0c442/uploads/planted.jpg"),
        ("DELETE", "/pinholestateful-uploadsbuckete3b0c442/uploads/listed.jpg"),
        ("GET", "/"),
    ],
)
def test_an_anonymous_request_to_the_s3_front_is_access_denied_as_s3_answers_for_a_private_bucket(cloud, method, path):
    # Given an object in the (private) uploads bucket
    s3(cloud).put_object(Bucket="pinholestateful-uploadsbuckete3b0c442", Key="uploads/listed.jpg", Body=b"jpeg")

    # When someone without credentials asks the S3 front
    refused = httpx.request(method, f"{cloud.cloud.endpoints.s3}{path}", content=b"planted")
    head = httpx.head(f"{cloud.cloud.endpoints.s3}{path}")

    # Then S3's AccessDenied, no key named, nothing changed
    assert (refused.status_code, refused.headers["content-type"]) == (403, "application/xml")
    assert "<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>" in refused.text
    assert "listed.jpg" not in refused.text
    assert (head.status_code, head.content) == (403, b"")
    keys = [o["Key"] for o in s3(cloud).list_objects_v2(Bucket="pinholestateful-uploadsbuckete3b0c442")["Contents"]]
    assert "uploads/listed.jpg" in keys
    assert "uploads/planted.jpg" not in keys


def test_a_boto3_client_with_the_local_credentials_still_uses_the_s3_front_over_http(cloud):
    # (the in-process transport off: every call goes over HTTP through the front, signed, as a tester's script)
    bucket = "pinholestateful-uploadsbuckete3b0c442"
    client = boto3.client("s3", endpoint_url=cloud.cloud.endpoints.s3, region_name="us-east-1")
    transport.enabled = False
    try:
        client.put_object(Bucket=bucket, Key="uploads/scripted.jpg", Body=b"jpeg", ContentType="image/jpeg")
        listed = [item["Key"] for item in client.list_objects_v2(Bucket=bucket, Prefix="uploads/")["Contents"]]
        read = client.get_object(Bucket=bucket, Key="uploads/scripted.jpg")["Body"].read()
        client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "uploads/scripted.jpg"}]})
        left = client.list_objects_v2(Bucket=bucket, Prefix="uploads/scripted")["KeyCount"]
        preflight = httpx.options(
            f"{cloud.cloud.endpoints.s3}/{bucket}",
            headers={"Origin": "http://127.0.0.1", "Access-Control-Request-Method": "POST"},
        )
    finally:
        transport.enabled = True
    assert "uploads/scripted.jpg" in listed
    assert read == b"jpeg"
    assert left == 0
    assert preflight.status_code != 403  # a CORS preflight is never signed: S3 answers it from the bucket's CORS


def test_a_call_its_role_may_not_make_is_aws_access_denied_inside_the_handler_and_500_outside(cloud, http):
    # Given the users function, whose template role may put objects under uploads/ of the uploads bucket only
    # When its code writes to the media bucket and looks at the error
    caught = http.get("/files/forbidden-write-caught").json()

    # Then it got S3's own refusal, as on AWS: 403 AccessDenied naming its role session, action and object
    assert caught["status"] == 403
    assert caught["error"]["Code"] == "AccessDenied"
    assert caught["error"]["Message"].startswith(
        "User: arn:aws:sts::123456789012:assumed-role/PinholeStateless-UsersFunction5E6F7A8BServiceRole/"
        "PinholeStateless-UsersFunction5E6F7A8B is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::"
    )
    # And when the error is not caught, the API client sees the envelope's 500 and nothing of the refusal
    uncaught = http.get("/files/forbidden-write")
    assert uncaught.status_code == 500
    assert uncaught.json() == {"error": {"code": "internal", "message": "Internal server error."}}
    # And the local cloud kept every refusal for whoever reads its log
    assert sum("s3:PutObject on resource: arn:aws:s3:::" in denial for denial in cloud.cloud.authorizer.denials) >= 2


def test_a_presigned_post_is_authorized_with_its_signers_role_when_used(cloud, http):
    # Given an upload a handler signed for a key its role may not put (outside uploads/)
    upload = http.post("/files/upload-outside-the-grant").json()

    # When the client posts the file
    refused = httpx.post(upload["url"], data=upload["fields"], files={"file": ("p.jpg", b"jpeg-bytes")})

    # Then S3 refuses it with the signer's permissions, as AWS would
    assert refused.status_code == 403
    assert "<Code>AccessDenied</Code>" in refused.text
    assert "is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::" in refused.text
    assert "/private/photo.jpg" in refused.text


def with_parameter(url: str, name: str, value: str) -> str:
    query = [
        (pair if not pair.startswith(f"{name}=") else f"{name}={value}") for pair in url.split("?", 1)[1].split("&")
    ]
    return url.split("?", 1)[0] + "?" + "&".join(query)


@pytest.fixture
def download_url(cloud, http):
    """A pre-signed GET a handler made with its own credentials, as message media URLs are made."""
    bucket = "pinholestateful-uploadsbuckete3b0c442"
    s3(cloud).put_object(Bucket=bucket, Key="uploads/w1080.jpg", Body=b"rendition")
    s3(cloud).put_object(Bucket=bucket, Key="uploads/other.jpg", Body=b"someone else's")
    return http.get("/files/download-url").json()["url"]


def test_a_presigned_get_made_by_a_handler_is_served_through_the_s3_front(download_url):
    response = httpx.get(download_url)

    assert (response.status_code, response.content) == (200, b"rendition")


@pytest.mark.parametrize(
    ("tamper", "status", "code"),
    [
        (lambda url: with_parameter(url, "X-Amz-Signature", "0" * 64), 403, "SignatureDoesNotMatch"),
        (lambda url: with_parameter(url, "X-Amz-Expires", "604800"), 403, "SignatureDoesNotMatch"),
        (lambda url: url.replace("/uploads/w1080.jpg?", "/uploads/other.jpg?"), 403, "SignatureDoesNotMatch"),
        (lambda url: with_parameter(url, "X-Amz-Expires", "604801"), 400, "AuthorizationQueryParametersError"),
        (lambda url: with_parameter(url, "X-Amz-Date", "yesterday"), 400, "AuthorizationQueryParametersError"),
    ],
    ids=["signature-zeroed", "expiry-lengthened", "other-object", "expiry-over-a-week", "date-malformed"],
)
def test_a_changed_presigned_get_is_refused_as_s3_answers_and_reads_nothing(download_url, tamper, status, code):
    # When a client changes a URL a handler signed, Then S3's error comes back instead of the object
    refused = httpx.get(tamper(download_url))
    head = httpx.head(tamper(download_url))

    assert (refused.status_code, refused.headers["content-type"]) == (status, "application/xml")
    assert f"<Error><Code>{code}</Code>" in refused.text
    assert b"rendition" not in refused.content and b"someone else's" not in refused.content
    assert (head.status_code, head.content) == (status, b"")


def test_a_presigned_get_past_its_expiry_is_access_denied_request_has_expired(cloud, monkeypatch):
    # Given a URL honestly signed with the local credentials, at a time long gone
    signed_at = datetime(2020, 1, 1, tzinfo=UTC)
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: signed_at)
    url = boto3.client(
        "s3", endpoint_url=cloud.cloud.endpoints.s3, region_name="us-east-1", config=Config(signature_version="s3v4")
    ).generate_presigned_url("get_object", Params={"Bucket": MEDIA_BUCKET, "Key": "direct.txt"}, ExpiresIn=600)

    refused = httpx.get(url)

    assert refused.status_code == 403
    assert (
        "<Error><Code>AccessDenied</Code><Message>Request has expired</Message>"
        "<X-Amz-Expires>600</X-Amz-Expires><Expires>2020-01-01T00:10:00Z</Expires><ServerTime>"
    ) in refused.text


def test_media_endpoint_answers_a_missing_key_as_cloudfront_with_oac_does(cloud):
    # (OAC may read, not list: S3 answers AccessDenied rather than tell whether the key exists)
    response = httpx.get(f"{cloud.cloud.outputs['MediaBaseUrl']}/nope.jpg")
    head = httpx.head(f"{cloud.cloud.outputs['MediaBaseUrl']}/nope.jpg")

    assert (response.status_code, response.headers["content-type"]) == (403, "application/xml")
    assert "<Code>AccessDenied</Code><Message>Access Denied</Message>" in response.text
    assert response.headers["x-cache"] == "Error from cloudfront"
    assert (head.status_code, head.content) == (403, b"")


MEDIA_BUCKET = "pinholestateful-mediabucketbcbb02ba"
CLIP = bytes(range(256)) * 4  # 1,024 bytes, each telling its offset


@pytest.fixture(scope="module")
def clip_url(cloud):
    s3(cloud).put_object(Bucket=MEDIA_BUCKET, Key="posts/p1/mp4_480p.mp4", Body=CLIP, ContentType="video/mp4")
    s3(cloud).put_object(Bucket=MEDIA_BUCKET, Key="posts/p1/w1080.jpg", Body=CLIP[::-1], ContentType="image/jpeg")
    return f"{cloud.cloud.outputs['MediaBaseUrl']}/posts/p1/mp4_480p.mp4"


@pytest.mark.parametrize(
    ("byte_range", "first", "last"),
    [("bytes=0-99", 0, 99), ("bytes=1000-", 1000, 1023), ("bytes=-10", 1014, 1023), ("bytes=1000-5000", 1000, 1023)],
)
def test_media_answers_a_range_with_206_partial_content_as_cloudfront_over_s3_does(clip_url, byte_range, first, last):
    # (Safari and AVPlayer play a progressive MP4 only from ranges)
    response = httpx.get(clip_url, headers={"Range": byte_range})
    head = httpx.head(clip_url, headers={"Range": byte_range})

    assert response.status_code == 206
    assert response.content == CLIP[first : last + 1]
    assert response.headers["content-range"] == f"bytes {first}-{last}/1024"
    assert response.headers["content-length"] == str(last - first + 1)
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["access-control-expose-headers"] == "Content-Length, Content-Range"
    assert (head.status_code, head.content, head.headers["content-range"]) == (206, b"", f"bytes {first}-{last}/1024")


def test_media_serves_an_image_in_ranges_too(cloud, clip_url):
    image_url = clip_url.replace("mp4_480p.mp4", "w1080.jpg")

    response = httpx.get(image_url, headers={"Range": "bytes=0-99"})

    assert (response.status_code, response.content) == (206, CLIP[::-1][:100])
    assert response.headers["content-range"] == "bytes 0-99/1024"


def test_media_says_it_serves_ranges_when_asked_for_the_whole_object(clip_url):
    response = httpx.get(clip_url)

    assert (response.status_code, response.content) == (200, CLIP)
    assert response.headers["accept-ranges"] == "bytes"
    assert "content-range" not in response.headers


@pytest.mark.parametrize("byte_range", ["bytes=0-1,5-6", "bytes=abc", "bytes=100-50"])
def test_media_answers_the_whole_object_to_a_range_s3_ignores(clip_url, byte_range):
    # S3 serves no multi-range and ignores a range it cannot read
    response = httpx.get(clip_url, headers={"Range": byte_range})

    assert (response.status_code, response.content) == (200, CLIP)
    assert "content-range" not in response.headers


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_media_answers_a_revalidation_with_its_etag_304_without_the_body(clip_url, method):
    # Given the ETag and Last-Modified the CDN gave for a rendition
    first = httpx.get(clip_url)
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    assert parsedate_to_datetime(last_modified).tzinfo is not None  # an HTTP date, as S3 and CloudFront send it

    # When a client asks again with If-None-Match naming it (also among others, or weak), or with If-Modified-Since
    conditionals = [
        {"If-None-Match": etag},
        {"If-None-Match": f'"other", W/{etag}'},
        {"If-None-Match": "*"},
        {"If-Modified-Since": last_modified},
    ]
    for conditional in conditionals:
        response = httpx.request(method, clip_url, headers=conditional)

        # Then it is 304 with no body, and the validators and cache headers of the 200
        assert (response.status_code, response.content) == (304, b""), conditional
        assert response.headers["etag"] == etag
        assert response.headers["last-modified"] == last_modified
        assert response.headers["cache-control"] == first.headers["cache-control"]
        assert response.headers["access-control-allow-origin"] == "*"
        # And a Range does not turn it into a 206
        ranged = httpx.request(method, clip_url, headers={**conditional, "Range": "bytes=0-9"})
        assert (ranged.status_code, ranged.content) == (304, b""), conditional


def test_media_answers_the_whole_object_when_the_condition_does_not_hold(clip_url):
    # Given the rendition's validators
    first = httpx.get(clip_url)
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    earlier = format_datetime(parsedate_to_datetime(last_modified) - timedelta(seconds=1), usegmt=True)

    # When the client holds another version, an older copy, or sends a date that cannot be read
    # Then it gets the whole object, 200 (an If-None-Match that does not match decides alone, whatever the date)
    for conditional in (
        {"If-None-Match": '"an-older-etag"'},
        {"If-None-Match": '"an-older-etag"', "If-Modified-Since": last_modified},
        {"If-Modified-Since": earlier},
        {"If-Modified-Since": "yesterday"},
    ):
        response = httpx.get(clip_url, headers=conditional)
        assert (response.status_code, response.content) == (200, CLIP), conditional
        assert (response.headers["etag"], response.headers["last-modified"]) == (etag, last_modified)


def test_media_answers_a_range_past_the_end_with_416_and_the_objects_size(cloud, clip_url):
    response = httpx.get(clip_url, headers={"Range": "bytes=1024-"})
    head = httpx.head(clip_url, headers={"Range": "bytes=1024-"})
    direct = httpx.get(
        boto3.client("s3", endpoint_url=cloud.cloud.endpoints.s3, region_name="us-east-1").generate_presigned_url(
            "get_object", Params={"Bucket": MEDIA_BUCKET, "Key": "posts/p1/mp4_480p.mp4"}
        ),
        headers={"Range": "bytes=1024-"},
    )

    assert (response.status_code, response.headers["content-type"]) == (416, "application/xml")
    assert response.headers["content-range"] == "bytes */1024"
    assert (
        "<Code>InvalidRange</Code><Message>The requested range is not satisfiable</Message>"
        "<RangeRequested>bytes=1024-</RangeRequested><ActualObjectSize>1024</ActualObjectSize>"
    ) in response.text
    assert (head.status_code, head.content, head.headers["content-range"]) == (416, b"", "bytes */1024")
    # And the S3 front answers the same from moto's own range handling
    assert (direct.status_code, direct.headers["content-range"]) == (416, "bytes */1024")
    assert "<Code>InvalidRange</Code>" in direct.text


def test_other_s3_calls_are_proxied_to_moto(cloud):
    client = boto3.client("s3", endpoint_url=cloud.cloud.endpoints.s3, region_name="us-east-1")
    client.put_object(
        Bucket="pinholestateful-mediabucketbcbb02ba", Key="direct.txt", Body=b"hi", ContentType="text/plain"
    )
    assert client.get_object(Bucket="pinholestateful-mediabucketbcbb02ba", Key="direct.txt")["Body"].read() == b"hi"


def test_table_stream_reaches_the_consumer_with_event_source_arn(cloud):
    # Given the users table with a stream mapped to the stream consumer
    table = next(t for t in cloud.cloud.resources.tables if "Users" in t.resource.logical_id)
    dynamodb = boto3.client("dynamodb", endpoint_url=cloud.cloud.moto_url, region_name="us-east-1")
    # When an item is written
    dynamodb.put_item(TableName=table.name, Item={"user_id": {"S": "stream-1"}, "username": {"S": "s"}})

    # Then the consumer receives it in a Records batch naming the stream
    def received():
        return module_of(cloud, "StreamConsumer0A1B2C3D")["RECEIVED"]

    record = wait_for(
        lambda: next(
            (r for e in received() for r in e["Records"] if r["dynamodb"]["Keys"]["user_id"]["S"] == "stream-1"), None
        )
    )
    assert record["eventSourceARN"] == table.stream_arn
    assert record["eventName"] == "INSERT"


def test_failing_stream_record_lands_in_the_on_failure_queue(cloud):
    table = next(t for t in cloud.cloud.resources.tables if "Users" in t.resource.logical_id)
    dynamodb = boto3.client("dynamodb", endpoint_url=cloud.cloud.moto_url, region_name="us-east-1")
    dynamodb.put_item(TableName=table.name, Item={"user_id": {"S": "poison"}, "fail": {"BOOL": True}})
    sqs = boto3.client("sqs", endpoint_url=cloud.cloud.moto_url, region_name="us-east-1")
    queue_url = next(url for arn, url in cloud.cloud.resources.queues.items() if "StreamFailures" in arn)
    message = wait_for(lambda: sqs.receive_message(QueueUrl=queue_url).get("Messages"))[0]
    assert json.loads(message["Body"])["DDBStreamBatchInfo"]["streamArn"] == table.stream_arn


def test_ttl_sweeper_deletes_expired_items_and_the_stream_says_remove_by_dynamodbs_ttl(cloud):
    table = next(t for t in cloud.cloud.resources.tables if "Users" in t.resource.logical_id)
    dynamodb = boto3.client("dynamodb", endpoint_url=cloud.cloud.moto_url, region_name="us-east-1")
    dynamodb.put_item(
        TableName=table.name, Item={"user_id": {"S": "ttl-1"}, "expires_at": {"N": str(int(time.time()) - 5)}}
    )
    dynamodb.put_item(
        TableName=table.name, Item={"user_id": {"S": "ttl-2"}, "expires_at": {"N": str(int(time.time()) + 3600)}}
    )
    wait_for(lambda: "Item" not in dynamodb.get_item(TableName=table.name, Key={"user_id": {"S": "ttl-1"}}))

    def received():
        return module_of(cloud, "StreamConsumer0A1B2C3D")["RECEIVED"]

    def removals(user_id):
        return [
            r
            for e in received()
            for r in e["Records"]
            if r["eventName"] == "REMOVE" and r["dynamodb"]["Keys"]["user_id"]["S"] == user_id
        ]

    swept = wait_for(lambda: removals("ttl-1"))[0]
    assert "Item" in dynamodb.get_item(TableName=table.name, Key={"user_id": {"S": "ttl-2"}})
    # and the record says DynamoDB's TTL deleted the item, as on AWS; a client's delete says no one
    assert swept["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    dynamodb.delete_item(TableName=table.name, Key={"user_id": {"S": "ttl-2"}})
    assert "userIdentity" not in wait_for(lambda: removals("ttl-2"))[0]


def test_failed_queue_messages_are_redriven_to_the_dlq(cloud):
    sqs = boto3.client("sqs", endpoint_url=cloud.cloud.moto_url, region_name="us-east-1")
    queues = cloud.cloud.resources.queues
    queue_url = next(url for arn, url in queues.items() if "NotificationsQueue" in arn)
    dlq_url = next(url for arn, url in queues.items() if "NotificationsDlq" in arn)
    sqs.send_message(QueueUrl=queue_url, MessageBody="ok")
    sqs.send_message(QueueUrl=queue_url, MessageBody="fail")
    message = wait_for(lambda: sqs.receive_message(QueueUrl=dlq_url).get("Messages"), timeout_s=15)[0]
    assert message["Body"] == "fail"
    bodies = [r["body"] for e in module_of(cloud, "QueueConsumer4E5F6A7B")["RECEIVED"] for r in e["Records"]]
    assert bodies.count("ok") == 1


def test_websocket_connect_authorizer_routes_and_connections_api(cloud):
    url = cloud.cloud.outputs["WebSocketUrl"]
    # When a client connects with a good token and sends a frame
    with connect(f"{url}?token=good", open_timeout=5) as ws:
        ws.send(json.dumps({"action": "ping"}))
        reply = json.loads(ws.recv(timeout=5))
        ws.send("not json")
        fallback = json.loads(ws.recv(timeout=5))
    # Then the routed handler answered through @connections, with the authorizer's context
    assert reply["route"] == "ping"
    assert reply["authorizer"]["username"] == "alice"
    assert fallback["route"] == "$default"
    wait_for(
        lambda: any(
            e["requestContext"]["routeKey"] == "$disconnect" for e in module_of(cloud, "WsFunction2A3B4C5D")["EVENTS"]
        )
    )


def test_a_frame_nested_deeper_than_the_parser_goes_is_routed_to_default_and_the_connection_stays_open(cloud):
    # Given a frame naming a route, but holding JSON nested deeper than Python's parser goes (~6 KB)
    deep = '{"action":"ping","x":' + "[" * 3000 + "]" * 3000 + "}"
    with connect(f"{cloud.cloud.outputs['WebSocketUrl']}?token=good", open_timeout=5) as ws:
        # When it is sent, Then API Gateway's selection cannot read `action`: $default gets the frame as sent
        ws.send(deep)
        fallback = json.loads(ws.recv(timeout=5))
        # And the connection still routes the next frame
        ws.send(json.dumps({"action": "ping"}))
        after = json.loads(ws.recv(timeout=5))
    assert (fallback["route"], fallback["via"], fallback["body"]) == ("$default", "@connections", deep)
    assert (after["route"], after["via"]) == ("ping", "@connections")


@pytest.mark.parametrize(
    ("query", "status"),
    [("", 401), ("?token=forged", 401), ("?token=denied", 403), ("?token=good&connect_status=429", 429)],
    ids=["no-token", "authorizer-raises-Unauthorized", "explicit-deny", "connect-handler-refuses"],
)
def test_refused_handshake_is_the_http_status_aws_answers(cloud, query, status):
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{cloud.cloud.outputs['WebSocketUrl']}{query}", open_timeout=5).close()
    assert refused.value.response.status_code == status


def test_token_offered_as_a_subprotocol_authorizes_and_connect_picks_the_protocol(cloud):
    # Given a browser-like client, which cannot set headers, offering its token as a second subprotocol
    url = cloud.cloud.outputs["WebSocketUrl"]
    # When it connects
    with connect(url, subprotocols=["pinhole", "good"], open_timeout=5) as ws:
        accepted = ws.subprotocol
    # Then the authorizer let it in from the header, sent as the client wrote it, and $connect chose "pinhole"
    assert accepted == "pinhole"
    offered = [
        (event["headers"]["Sec-WebSocket-Protocol"], event["multiValueHeaders"]["Sec-WebSocket-Protocol"])
        for event in module_of(cloud, "WsAuthorizerFn6E7F8A9B")["EVENTS"]
        if "Sec-WebSocket-Protocol" in event["headers"]
    ]
    assert offered == [("pinhole, good", ["pinhole, good"])]
    # And without subprotocols the connection is accepted without one
    with connect(f"{url}?token=good", open_timeout=5) as ws:
        assert ws.subprotocol is None


def test_two_way_route_sends_the_result_body_back_and_one_way_routes_do_not(cloud):
    with connect(f"{cloud.cloud.outputs['WebSocketUrl']}?token=good", open_timeout=5) as ws:
        # When a one-way route, then the two-way `echo` route, answer both through @connections and in their result
        ws.send(json.dumps({"action": "ping"}))
        ws.send(json.dumps({"action": "echo", "text": "hi"}))
        frames = [json.loads(ws.recv(timeout=5)) for _ in range(3)]
    # Then only echo's result came back, after its @connections frame: ping's result was dropped
    assert [(frame["route"], frame["via"]) for frame in frames] == [
        ("ping", "@connections"),
        ("echo", "@connections"),
        ("echo", "route response"),
    ]
    assert json.loads(frames[2]["body"])["text"] == "hi"


def ping_of(size: int) -> str:
    """A `ping` frame of exactly `size` bytes."""
    empty = json.dumps({"action": "ping", "pad": ""})
    return json.dumps({"action": "ping", "pad": "x" * (size - len(empty))})


def in_frames(message: str, frame_bytes: int = MAX_FRAME_BYTES) -> list[str]:
    """A message as fragments of at most `frame_bytes` (websockets sends each item of a list as one frame)."""
    return [message[start : start + frame_bytes] for start in range(0, len(message), frame_bytes)]


def closed_with(ws) -> int:
    with pytest.raises(ConnectionClosedError) as closed:
        while True:
            ws.recv(timeout=5)
    return closed.value.rcvd.code


def disconnected(cloud, connection_id) -> bool:
    return any(
        (e["requestContext"]["routeKey"], e["requestContext"]["connectionId"]) == ("$disconnect", connection_id)
        for e in module_of(cloud, "WsFunction2A3B4C5D")["EVENTS"]
    )


def test_message_over_128_kb_in_frames_of_32_kb_closes_the_connection_with_1009_and_runs_disconnect(cloud):
    with connect(f"{cloud.cloud.outputs['WebSocketUrl']}?token=good", open_timeout=5) as ws:
        ws.send(json.dumps({"action": "echo"}))
        connection_id = json.loads(ws.recv(timeout=5))["connectionId"]
        # When a message of 128 KB + 1 byte comes in frames each within the frame quota
        ws.send(in_frames("x" * (MAX_MESSAGE_BYTES + 1)))
        # Then the message quota closes the connection with 1009, and $disconnect runs
        assert closed_with(ws) == 1009
    wait_for(lambda: disconnected(cloud, connection_id))


def test_a_single_frame_over_32_kb_closes_the_connection_with_1009_and_runs_disconnect(cloud):
    # Given a message of 32 KB + 1 byte, well within the 128 KB message quota
    message = ping_of(MAX_FRAME_BYTES + 1)
    with connect(f"{cloud.cloud.outputs['WebSocketUrl']}?token=good", open_timeout=5) as ws:
        ws.send(json.dumps({"action": "echo"}))
        connection_id = json.loads(ws.recv(timeout=5))["connectionId"]
        # When it is sent as one frame, as a browser sends every message
        ws.send(message)
        # Then the connection is closed with 1009, as API Gateway closes it, no route runs, and $disconnect runs
        assert closed_with(ws) == 1009
    wait_for(lambda: disconnected(cloud, connection_id))
    routes = [
        e["requestContext"]["routeKey"]
        for e in module_of(cloud, "WsFunction2A3B4C5D")["EVENTS"]
        if e["requestContext"]["connectionId"] == connection_id
    ]
    assert sorted(routes) == ["$connect", "$disconnect", "echo"]


def test_a_frame_of_32_kb_and_a_message_of_128_kb_in_such_frames_are_routed(cloud):
    # Given a 32 KB message, and a message of about 100 KB cut into frames of at most 32 KB
    whole_frame, fragmented = ping_of(MAX_FRAME_BYTES), ping_of(100 * 1024)
    with connect(f"{cloud.cloud.outputs['WebSocketUrl']}?token=good", open_timeout=5) as ws:
        # When each is sent
        ws.send(whole_frame)
        first = json.loads(ws.recv(timeout=5))
        ws.send(in_frames(fragmented))
        second = json.loads(ws.recv(timeout=5))
    # Then both reach the route whole
    assert (first["route"], first["body"]) == ("ping", whole_frame)
    assert (second["route"], second["body"]) == ("ping", fragmented)
    assert len(in_frames(fragmented)) == 4


@pytest.mark.parametrize("binary", [b'{"action": "echo"}', b'{"action": "echo", "text": "caf\xe9"}'])
def test_a_binary_frame_closes_the_connection_with_1003_as_api_gateway_does(cloud, binary):
    with connect(f"{cloud.cloud.outputs['WebSocketUrl']}?token=good", open_timeout=5) as ws:
        ws.send(json.dumps({"action": "echo"}))
        connection_id = json.loads(ws.recv(timeout=5))["connectionId"]
        # When a binary frame is sent, UTF-8 or not
        ws.send(binary)
        with pytest.raises(ConnectionClosedError) as closed:
            while True:
                ws.recv(timeout=5)
    # Then the connection is closed with 1003 (unsupported data), as API Gateway closes it, and $disconnect runs;
    # no route read the frame (it was decoded with U+FFFD for what it held and routed)
    assert closed.value.rcvd.code == 1003

    def routes_run() -> list[str] | None:
        events = module_of(cloud, "WsFunction2A3B4C5D")["EVENTS"]
        run = [e["requestContext"]["routeKey"] for e in events if e["requestContext"]["connectionId"] == connection_id]
        return sorted(run) if "$disconnect" in run else None

    assert wait_for(routes_run) == ["$connect", "$disconnect", "echo"]


@pytest.fixture
def management(cloud):
    """The client handlers build: boto3 against the stage's callback URL."""
    return boto3.client(
        "apigatewaymanagementapi", endpoint_url=cloud.cloud.endpoints.management + "/prod", region_name="us-east-1"
    )


def test_connections_api_posts_reads_and_deletes_through_boto3(cloud, management):
    with connect(f"{cloud.cloud.outputs['WebSocketUrl']}?token=good", open_timeout=5) as ws:
        ws.send(json.dumps({"action": "ping"}))
        connection_id = json.loads(ws.recv(timeout=5))["connectionId"]
        # When a handler posts more than 128 KB, Then it is refused and nothing reaches the client
        with pytest.raises(management.exceptions.PayloadTooLargeException):
            management.post_to_connection(ConnectionId=connection_id, Data=b"x" * (MAX_MESSAGE_BYTES + 1))
        management.post_to_connection(ConnectionId=connection_id, Data=b"x" * MAX_MESSAGE_BYTES)
        assert ws.recv(timeout=5) == "x" * MAX_MESSAGE_BYTES
        # When it reads the connection, Then it gets API Gateway's fields
        info = management.get_connection(ConnectionId=connection_id)
        assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": ws.request.headers["User-Agent"]}
        assert info["ConnectedAt"] <= info["LastActiveAt"]
        # When it deletes the connection, Then the client is closed normally and the id is gone
        management.delete_connection(ConnectionId=connection_id)
        with pytest.raises(ConnectionClosedOK):
            ws.recv(timeout=5)
    with pytest.raises(management.exceptions.GoneException):
        management.get_connection(ConnectionId=connection_id)


@pytest.mark.parametrize(
    "call",
    [
        lambda management: management.post_to_connection(ConnectionId="nobody", Data=b"x"),
        lambda management: management.get_connection(ConnectionId="nobody"),
        lambda management: management.delete_connection(ConnectionId="nobody"),
    ],
    ids=["post", "get", "delete"],
)
def test_connections_api_answers_gone_for_unknown_ids(management, call):
    with pytest.raises(management.exceptions.GoneException):
        call(management)


def test_what_start_up_made_is_left_out_of_garbage_collections(cloud):
    # Given a started local cloud (moto, botocore's models, every handler's modules)
    import gc

    # Then start-up's objects are frozen: a full collection while serving does not walk them
    assert gc.get_freeze_count() > 100_000
