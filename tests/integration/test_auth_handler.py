from typing import Any

import boto3
import pytest

from functions.auth import handler as auth
from pinhole.shared.rate_limits import limit_for
from tests.support.events import FakeLambdaContext, http_event, response_json

PASSWORD = "Correct-Horse-9"


def call(path: str, body: Any) -> tuple[int, Any]:
    response = auth.handler(http_event("POST", path, body=body), FakeLambdaContext())
    return response["statusCode"], response_json(response)


def sign_up(username: str = "alice", password: str = PASSWORD, **extra: Any) -> tuple[int, Any]:
    payload = {"username": username, "email": f"{username}@example.com", "password": password}
    return call("/auth/signup", {**payload, **extra})


def cognito_usernames(pool_id: str) -> list[str]:
    users = boto3.client("cognito-idp").list_users(UserPoolId=pool_id)["Users"]
    return sorted(user["Username"] for user in users)


def stored_profiles() -> list[str]:
    from pinhole.users.dal import UserModel

    return sorted(item.username for item in UserModel.scan())


def test_signup_creates_identity_and_profile_returns_201(aws: dict[str, str]) -> None:
    status, body = sign_up("Alice", display_name="Alice A.")

    assert status == 201
    user = body["user"]
    assert user["username"] == "alice"
    assert user["display_name"] == "Alice A."
    assert user["email"] == "alice@example.com"
    assert user["follower_count"] == user["following_count"] == user["post_count"] == 0
    assert user["created_at"].endswith("Z")
    assert cognito_usernames(aws["user_pool_id"]) == ["alice"]
    assert stored_profiles() == ["alice"]


@pytest.mark.parametrize("blank", ["", "   "], ids=["empty", "spaces"])
def test_signup_with_an_empty_display_name_shows_the_username(aws: dict[str, str], blank: str) -> None:
    status, body = sign_up("Bob", display_name=blank)

    assert (status, body["user"]["display_name"]) == (201, "bob")


def test_signup_taken_username_any_case_returns_409_and_creates_nothing(aws: dict[str, str]) -> None:
    sign_up("alice")

    status, body = call("/auth/signup", {"username": "ALICE", "email": "other@example.com", "password": PASSWORD})

    assert status == 409
    assert body["error"]["code"] == "username_taken"
    assert cognito_usernames(aws["user_pool_id"]) == ["alice"]
    assert stored_profiles() == ["alice"]


@pytest.mark.parametrize("username", ["deleted.account", "Deleted_Account", "ADMIN", "moderator", "pin.hole"])
def test_signup_with_a_reserved_name_returns_409_username_taken_and_creates_nothing(
    aws: dict[str, str], username: str
) -> None:
    # When someone signs up as the purged accounts' stand-in, or as a name that passes for the service
    status, body = sign_up(username)

    # Then the name is not theirs to take, as a taken one, and nothing was made
    assert (status, body["error"]["code"]) == (409, "username_taken")
    assert body["error"]["message"] == f"The username {username.lower()} is reserved: choose another."
    assert cognito_usernames(aws["user_pool_id"]) == []
    assert stored_profiles() == []


@pytest.mark.parametrize("username", ["mxxxx.", "...", "___", ".abc", "ab..c"])
def test_signup_with_a_name_no_caption_could_mention_exactly_returns_422(aws: dict[str, str], username: str) -> None:
    # When the name ends or starts with a full stop, holds two in a row, or has no letter or digit
    status, body = sign_up(username)

    # Then it is refused naming the field and its rule, and nothing was made
    assert (status, body["error"]["code"]) == (422, "validation_error")
    assert [(detail["field"], detail["type"]) for detail in body["error"]["details"]] == [
        ("username", "string_pattern_mismatch")
    ]
    assert cognito_usernames(aws["user_pool_id"]) == []


@pytest.mark.parametrize(
    ("password", "broken_rule"),
    [
        ("Short-1a", "at least 10 characters"),
        ("no-upper-case-1", "an upper-case letter"),
        ("NO-LOWER-CASE-1", "a lower-case letter"),
        ("No-Digits-Here", "a digit"),
    ],
)
def test_signup_weak_password_returns_422_naming_the_rule_and_creates_nothing(
    aws: dict[str, str], password: str, broken_rule: str
) -> None:
    status, body = sign_up("bob", password=password)

    assert status == 422
    assert body["error"]["code"] == "validation_error"
    assert any(broken_rule in detail["message"] for detail in body["error"]["details"])
    assert cognito_usernames(aws["user_pool_id"]) == []
    assert stored_profiles() == []


@pytest.mark.parametrize(
    "payload",
    [
        {"username": "ab", "email": "ab@example.com", "password": PASSWORD},
        {"username": "has space", "email": "x@example.com", "password": PASSWORD},
        {"username": "x" * 31, "email": "x@example.com", "password": PASSWORD},
        {"username": "émile", "email": "x@example.com", "password": PASSWORD},
        {"username": "carol", "email": "not-an-email", "password": PASSWORD},
        {"username": "carol", "password": PASSWORD},
        {"username": "carol", "email": "c@example.com", "password": PASSWORD, "is_admin": True},
        {"username": "carol", "email": "c@example.com", "password": PASSWORD, "display_name": "x" * 65},
        [1, 2, 3],
    ],
    ids=["short", "space", "long", "accent", "email", "missing-email", "unknown-field", "long-name", "not-object"],
)
def test_signup_invalid_payload_returns_422_envelope(aws: dict[str, str], payload: Any) -> None:
    status, body = call("/auth/signup", payload)

    assert status == 422
    assert body["error"]["code"] == "validation_error"
    assert body["error"]["details"]
    assert stored_profiles() == []


def test_signup_malformed_json_returns_422_envelope(aws: dict[str, str]) -> None:
    status, body = call("/auth/signup", '{"username": "dave", ')

    assert status == 422
    assert body["error"]["code"] == "validation_error"


def test_login_returns_bearer_tokens(aws: dict[str, str]) -> None:
    sign_up("alice")

    status, body = call("/auth/login", {"username": "Alice", "password": PASSWORD})

    assert status == 200
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] > 0
    assert all(body[key].count(".") == 2 for key in ("access_token", "id_token"))
    assert body["refresh_token"]


@pytest.mark.parametrize(("username", "password"), [("alice", "Wrong-Password-1"), ("nobody", PASSWORD)])
def test_login_wrong_credentials_returns_401_without_telling_which(
    aws: dict[str, str], username: str, password: str
) -> None:
    sign_up("alice")

    status, body = call("/auth/login", {"username": username, "password": password})

    assert status == 401
    assert body["error"] == {"code": "invalid_credentials", "message": "The username or password is wrong."}


def test_refresh_returns_new_access_token(aws: dict[str, str]) -> None:
    sign_up("alice")
    _, tokens = call("/auth/login", {"username": "alice", "password": PASSWORD})

    status, body = call("/auth/refresh", {"refresh_token": tokens["refresh_token"]})

    assert status == 200
    assert body["access_token"].count(".") == 2
    assert "refresh_token" not in body


def test_refresh_with_unknown_token_returns_401(aws: dict[str, str]) -> None:
    status, body = call("/auth/refresh", {"refresh_token": "not-a-token"})

    assert status == 401
    assert body["error"]["code"] == "unauthorized"


def _sign_up_from(address: str, username: str) -> tuple[int, dict[str, Any], Any]:
    body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    event = http_event("POST", "/auth/signup", body=body)
    event["requestContext"]["http"]["sourceIp"] = address
    response = auth.handler(event, FakeLambdaContext())
    return response["statusCode"], response["headers"], response_json(response)


def test_sign_ups_are_limited_per_source_address(aws: dict[str, str]) -> None:
    # Given one address that signs up as many accounts as the limit allows (cdk.json `rate_limits.signup`)
    limit = limit_for("signup")
    farmed = [_sign_up_from("203.0.113.9", f"farm{n}")[0] for n in range(limit.limit)]

    # When it signs up once more, and another address signs up
    status, headers, body = _sign_up_from("203.0.113.9", "farm_extra")
    other_status, _, _ = _sign_up_from("203.0.113.10", "neighbour")

    # Then the address's extra sign-up is 429 with Retry-After and creates nothing; the other address is unaffected
    assert farmed == [201] * limit.limit
    assert (status, body["error"]["code"]) == (429, "rate_limited")
    assert 0 < int(headers["Retry-After"]) <= limit.per_seconds
    assert "farm_extra" not in cognito_usernames(aws["user_pool_id"]) + stored_profiles()
    assert other_status == 201


def test_the_sign_up_limit_counts_an_ipv6_subscriber_s_whole_64(aws: dict[str, str]) -> None:
    # Given a limit's worth of sign-ups, each from another address of one IPv6 /64 (an address costs nothing)
    limit = limit_for("signup")
    farmed = [_sign_up_from(f"2001:db8:7:7::{n + 1:x}", f"six{n}")[0] for n in range(limit.limit)]

    # When yet another address of that /64 signs up
    status, _, _ = _sign_up_from("2001:db8:7:7:ffff::1", "six_extra")

    # Then it is refused like one address would be
    assert farmed == [201] * limit.limit
    assert status == 429


def test_a_totp_session_shorter_than_cognito_takes_is_422_not_a_500(aws: dict[str, str]) -> None:
    sign_up("alice")

    # Cognito's sessions are 20 to 4,096 characters: botocore refused a shorter one before it was sent (a 500)
    status, body = call("/auth/login/totp", {"username": "alice", "session": "x" * 19, "code": "123456"})

    assert (status, body["error"]["code"]) == (422, "validation_error"), body
    assert [detail["field"] for detail in body["error"]["details"]] == ["session"]
