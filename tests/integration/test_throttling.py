"""AWS throttling, from every service the API calls, reaches a client as 503 `unavailable` with Retry-After
(API.md's envelope), never as a 500: the request was fine and may be sent again. The throttle is injected into
botocore after the SDK's own retries (tests/support/faults.py), with the code each service really answers;
a wrapped error (Powertools' idempotency utility raises its own, from AWS's) counts too.
Consumers (queues, streams) do not answer HTTP: a throttled record is retried until it succeeds."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from functions.auth import handler as auth
from functions.messaging import handler as messaging
from functions.messaging import websocket
from functions.upload import handler as upload
from functions.users import handler as users
from pinhole.messaging import logic as messaging_logic
from pinhole.posts.models import PostStatus
from pinhole.realtime.dal import ConnectionRepository
from pinhole.shared import secrets
from tests.support.events import FakeLambdaContext, http_event, response_json, websocket_event
from tests.support.faults import THROTTLED, THROTTLING, Fault, FaultInjector, injected_faults
from tests.support.hostile_media import JPEG, VALID, build
from tests.support.resize_pipeline import ResizePipeline, create_resize_tables, resize_wiring
from tests.support.users import PASSWORD, sign_up_claims


@pytest.fixture
def faults(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultInjector]:
    with injected_faults(monkeypatch) as injector:
        yield injector


def call(handler: Any, method: str, path: str, **event: Any) -> tuple[int, dict[str, str], Any]:
    headers = event.pop("headers", {})
    query = event.pop("query", None)
    request = http_event(method, path, **event)
    request["headers"].update(headers)
    if query:
        request["queryStringParameters"] = query
        request["rawQueryString"] = "&".join(f"{name}={value}" for name, value in query.items())
    response = handler.handler(request, FakeLambdaContext())
    return response["statusCode"], response.get("headers") or {}, response_json(response)


def assert_unavailable(status: int, headers: dict[str, str], body: Any) -> None:
    assert status == 503, body
    assert body == {"error": {"code": "unavailable", "message": "Too busy right now: retry in a moment."}}
    assert headers.get("Retry-After") == "1"


def test_cognito_throttling_a_login_is_503_and_the_retry_logs_in(faults: FaultInjector) -> None:
    # Given an account, and Cognito answering TooManyRequestsException once
    sign_up_claims("ada")
    faults.add(Fault("cognito-idp", "InitiateAuth", "TooManyRequestsException"))
    credentials = {"username": "ada", "password": PASSWORD}

    # When ada logs in, and again
    first = call(auth, "POST", "/auth/login", body=credentials)
    second = call(auth, "POST", "/auth/login", body=credentials)

    # Then the first is a 503 to retry, the second logs her in
    assert_unavailable(*first)
    assert second[0] == 200 and second[2]["token_type"] == "Bearer"


def test_cognito_limit_exceeded_on_sign_up_is_503_and_creates_nothing(faults: FaultInjector) -> None:
    # Given Cognito answering LimitExceededException to the account creation
    faults.add(Fault("cognito-idp", "AdminCreateUser", "LimitExceededException"))
    body = {"username": "grace", "email": "grace@example.com", "password": PASSWORD}

    # When grace signs up, and again
    first = call(auth, "POST", "/auth/signup", body=body)
    second = call(auth, "POST", "/auth/signup", body=body)

    # Then the first is a 503 that left nothing behind (the second does not find the name taken)
    assert_unavailable(*first)
    assert second[0] == 201, second[2]


def test_dynamodb_throttling_a_read_is_503(faults: FaultInjector) -> None:
    # Given a user, and DynamoDB throttling reads of profiles
    claims = sign_up_claims("linus")
    faults.add(Fault("dynamodb", "GetItem", THROTTLING, times=None))

    # When they read their profile, Then it is a 503
    assert_unavailable(*call(users, "GET", "/me", claims=claims))


def test_secrets_manager_throttling_the_cursor_key_is_503(
    faults: FaultInjector, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a user, Secrets Manager throttling GetSecretValue, and the cursor key not cached in this container
    claims = sign_up_claims("edsger")
    monkeypatch.setattr(secrets, "cursor_key", secrets.CursorKey())
    faults.add(Fault("secretsmanager", "GetSecretValue", THROTTLING, times=None))

    # When they ask for a page after a cursor (checking it needs the key)
    status, headers, body = call(
        users,
        "GET",
        "/users/edsger/followers",
        claims=claims,
        route_key="GET /users/{username}/followers",
        path_parameters={"username": "edsger"},
        query={"cursor": "eyJ4IjoxfQ.c2lnbmF0dXJl"},
    )

    # Then it is a 503 (AWS's ThrottlingException), not a 500 or a 422
    assert_unavailable(status, headers, body)
    assert faults.calls[("secretsmanager", "GetSecretValue")] >= 1


@pytest.fixture
def connections_api(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """The real botocore client of `@connections` (moto answers it), so injected errors are AWS's own."""
    client = boto3.client(
        "apigatewaymanagementapi", endpoint_url="https://example.execute-api.us-east-1.amazonaws.com/prod"
    )
    monkeypatch.setattr(messaging_logic._pusher, "_client", client)
    return client


def test_websocket_management_api_limit_exceeded_is_503_and_the_retry_delivers_once(
    faults: FaultInjector, connections_api: Any
) -> None:
    # Given bob online, and API Gateway's management API refusing the first push with LimitExceededException
    alice, bob = sign_up_claims("alice"), sign_up_claims("bob")
    ConnectionRepository().add(bob["sub"], "bob-phone")
    faults.add(Fault("apigatewaymanagementapi", "PostToConnection", "LimitExceededException"))
    send = {"claims": alice, "body": {"to": "bob", "text": "hello"}, "headers": {"idempotency-key": "k-1"}}

    # When alice sends, and retries with the same key
    first = call(messaging, "POST", "/messages", **send)
    second = call(messaging, "POST", "/messages", **send)

    # Then the first is a 503, the retry is the message, pushed once in all
    assert_unavailable(*first)
    assert second[0] == 201, second[2]
    assert faults.calls[("apigatewaymanagementapi", "PostToConnection")] == 2


def test_idempotency_store_throttled_is_503_not_500(faults: FaultInjector) -> None:
    # Given DynamoDB throttling the idempotency record's write (Powertools raises its own error from it)
    alice = sign_up_claims("alice")
    faults.add(Fault("dynamodb", "PutItem", THROTTLED, when=lambda params: "idempotency" in params["TableName"]))
    post = {
        "claims": alice,
        "body": {"caption": "dawn", "media": [{"content_type": "image/jpeg", "size_bytes": 1000}]},
        "headers": {"idempotency-key": "k-1"},
    }

    # When alice creates a post with a key, and sends it again
    first = call(upload, "POST", "/posts", **post)
    second = call(upload, "POST", "/posts", **post)

    # Then the first is a 503 (it was a 500), the second creates the post
    assert faults.injected == 1
    assert_unavailable(*first)
    assert second[0] == 201, second[2]


def test_a_throttled_websocket_frame_is_answered_unavailable_with_a_delay(faults: FaultInjector) -> None:
    # Given alice connected, and DynamoDB throttling the message's transaction past the SDK's retries
    alice, _ = sign_up_claims("alice"), sign_up_claims("bob")
    ConnectionRepository().add(alice["sub"], "alice-phone")
    faults.add(Fault("dynamodb", "TransactWriteItems", THROTTLED, times=None))
    frame = {"action": "sendMessage", "to": "bob", "text": "hi", "client_id": "c-1"}

    # When she sends a frame
    answer = websocket.handler(websocket_event("sendMessage", "alice-phone", alice, body=frame), FakeLambdaContext())

    # Then the frame says to retry after a second, not that something broke
    assert response_json(answer) == {
        "type": "error",
        "code": "unavailable",
        "message": "Too busy right now: retry in a moment.",
        "retry_after_s": 1,
    }


def test_s3_slow_down_on_an_original_is_retried_until_the_photo_publishes(
    aws: dict[str, str], faults: FaultInjector
) -> None:
    # Given an upload, and S3 answering SlowDown to the resize function's first read of it
    create_resize_tables()
    pipeline = ResizePipeline(resize_wiring())
    key = pipeline.upload(JPEG, build(VALID[JPEG].name))
    faults.add(Fault("s3", "GetObject", "SlowDown"))

    # When the queue delivers it until it settles
    pipeline.deliver()

    # Then the photo publishes (a throttle is not a broken file), and nothing is dead-lettered
    assert faults.injected == 1
    assert pipeline.status(key) == PostStatus.PUBLISHED
    assert pipeline.dead_letters() == []
