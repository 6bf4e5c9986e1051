"""Logging out one session (POST /auth/logout) through the handlers, on moto made as strict as Cognito (it has
RevokeToken): the refresh token is revoked, and the access tokens of that session stop authenticating everywhere,
which Cognito's revocation cannot do for the JWT authorizer."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt
import pytest

from functions.auth import handler as auth
from functions.feed_read import handler as feed_handler
from functions.messaging import authorizer, websocket
from functions.users import handler as users_handler
from local.mailbox import MAILBOX
from pinhole.auth import logic as auth_logic
from pinhole.auth import tokens
from pinhole.realtime.dal import ConnectionRepository
from pinhole.realtime.push import Pusher
from pinhole.shared.clock import utc_now
from pinhole.users.dal import ProfileRepository, UserModel
from tests.integration.conftest import CognitoClock
from tests.integration.test_websocket_authorizer import MotoJwks
from tests.support.events import FakeLambdaContext, authorizer_event, http_event, response_json, websocket_event
from tests.support.realtime import FakeConnectionsApi
from tests.support.users import PASSWORD, sign_up_claims


def claims_of(access_token: str) -> dict[str, str]:
    """The claims API Gateway's JWT authorizer passes on (as strings)."""
    decoded = jwt.decode(access_token, options={"verify_signature": False})
    return {name: str(decoded[name]) for name in ("sub", "username", "iat", "origin_jti")}


def auth_call(path: str, body: Any) -> tuple[int, Any]:
    response = auth.handler(http_event("POST", path, body=body), FakeLambdaContext())
    return response["statusCode"], response_json(response)


def log_in(username: str) -> dict[str, Any]:
    status, body = auth_call("/auth/login", {"username": username, "password": PASSWORD})
    assert status == 200, body
    return dict(body)


def read(handler: Callable[..., dict[str, Any]], path: str, access_token: str) -> tuple[int, Any]:
    event = http_event("GET", path, claims=claims_of(access_token), route_key=f"GET {path}")
    response = handler(event, FakeLambdaContext())
    body = response_json(response)
    return response["statusCode"], body["error"]["message"] if response["statusCode"] >= 400 else None


def connects(access_token: str) -> bool:
    try:
        authorizer.handler(authorizer_event({"token": access_token}, None), FakeLambdaContext())
    except Exception as refused:
        assert str(refused) == "Unauthorized"
        return False
    return True


READS = [(users_handler.handler, "/me"), (feed_handler.handler, "/feed")]
SIGNED_OUT = (401, "This access token was signed out: log in again.")
NEW_PASSWORD = "Brand-New-Secret-7"


@pytest.fixture
def moto_jwks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "_jwks", MotoJwks)


def test_logging_out_ends_that_sessions_access_tokens_everywhere_and_no_other_session(
    strict_cognito: CognitoClock, moto_jwks: None
) -> None:
    # Given a laptop and a phone logged in, and the laptop's access token renewed once (same session)
    sign_up_claims("twodevices")
    laptop, phone = log_in("twodevices"), log_in("twodevices")
    status, renewed = auth_call("/auth/refresh", {"refresh_token": laptop["refresh_token"]})
    assert status == 200, renewed
    laptop_tokens = [laptop["access_token"], renewed["access_token"]]
    assert [read(handler, path, token)[0] for token in laptop_tokens for handler, path in READS] == [200] * 4

    # When the laptop logs out
    assert auth_call("/auth/logout", {"refresh_token": laptop["refresh_token"]}) == (204, None)

    # Then its refresh token and both its access tokens are refused, on every route and at the WebSocket handshake
    assert auth_call("/auth/refresh", {"refresh_token": laptop["refresh_token"]})[0] == 401
    assert [read(handler, path, token) for token in laptop_tokens for handler, path in READS] == [SIGNED_OUT] * 4
    assert [connects(token) for token in laptop_tokens] == [False, False]
    # While the phone's session goes on
    assert [read(handler, path, phone["access_token"])[0] for handler, path in READS] == [200, 200]
    assert connects(phone["access_token"])
    assert auth_call("/auth/refresh", {"refresh_token": phone["refresh_token"]})[0] == 200


def test_logging_out_closes_that_sessions_open_websockets_and_no_other(
    strict_cognito: CognitoClock, moto_jwks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a laptop and a phone logged in, each with a WebSocket open
    api = FakeConnectionsApi()
    monkeypatch.setattr(Pusher, "client", property(lambda _: api))
    sign_up_claims("twosockets")
    laptop, phone = log_in("twosockets"), log_in("twosockets")
    for connection_id, tokens_ in (("laptop-ws", laptop), ("phone-ws", phone)):
        policy = authorizer.handler(authorizer_event({"token": tokens_["access_token"]}), FakeLambdaContext())
        opened = {"sub": policy["principalId"], **policy["context"]}
        assert (
            websocket.handler(websocket_event("$connect", connection_id, opened), FakeLambdaContext())["statusCode"]
            == 200
        )

    # When the laptop logs out
    assert auth_call("/auth/logout", {"refresh_token": laptop["refresh_token"]}) == (204, None)

    # Then the laptop's socket is closed (it would go on receiving messages), the phone's stays open
    assert api.closed == ["laptop-ws"]
    assert ConnectionRepository().of_user(claims_of(phone["access_token"])["sub"]) == ["phone-ws"]


def test_signing_out_everywhere_refuses_the_asking_token_whatever_second_it_was_issued_in(
    strict_cognito: CognitoClock, moto_jwks: None
) -> None:
    # Given a token issued a moment ago (most likely in the very second of the sign-out that follows)
    sign_up_claims("hasty")
    token = log_in("hasty")["access_token"]
    event = http_event(
        "POST", "/me/sign-out-everywhere", claims=claims_of(token), route_key="POST /me/sign-out-everywhere"
    )
    event["headers"]["authorization"] = f"Bearer {token}"

    # When it signs out everywhere
    assert auth.handler(event, FakeLambdaContext())["statusCode"] == 204

    # Then it is refused at once (the watermark's whole second spared it before) on every route and at $connect
    assert [read(handler, path, token) for handler, path in READS] == [SIGNED_OUT] * 2
    assert not connects(token)
    assert log_in("hasty")["access_token"]  # and a log-in right after works


def test_logging_out_twice_or_with_a_token_nobody_issued_is_204_and_records_nothing_more(
    strict_cognito: CognitoClock,
) -> None:
    claims = sign_up_claims("twice")
    tokens_ = log_in("twice")
    assert auth_call("/auth/logout", {"refresh_token": tokens_["refresh_token"]}) == (204, None)
    assert auth_call("/auth/logout", {"refresh_token": tokens_["refresh_token"]}) == (204, None)
    assert auth_call("/auth/logout", {"refresh_token": "not-a-token-anyone-issued"}) == (204, None)
    assert len(UserModel.get(claims["sub"]).revoked_sessions or ()) == 1


def test_a_logged_out_session_is_forgotten_once_its_access_tokens_have_expired(aws: dict[str, str]) -> None:
    # Given two sessions logged out, the first one's tokens expiring at second 1,000
    user_id = sign_up_claims("forgetful")["sub"]
    profiles = ProfileRepository()
    profiles.logged_out(user_id, "first", expires_by=1_000, now=100)
    assert profiles.token_standing(user_id).logged_out_sessions == {"first"}

    # When a later log-out comes after that second, Then only the sessions whose tokens may still live are kept
    profiles.logged_out(user_id, "second", expires_by=2_000, now=1_000)
    assert profiles.token_standing(user_id).logged_out_sessions == {"second"}
    assert UserModel.get(user_id).revoked_sessions == {"second 2000"}


def _two_sessions_with_sockets(username: str, api: FakeConnectionsApi) -> tuple[dict[str, Any], dict[str, Any]]:
    """`username` signed up with a verified address, logged in on a laptop and a phone, each with a WebSocket."""
    sign_up_claims(username)
    laptop, phone = log_in(username), log_in(username)
    code = MAILBOX.messages(username=username)[-1].code
    body = {"username": username, "code": code}
    event = http_event("POST", "/auth/verify-email", body=body, claims=claims_of(laptop["access_token"]))
    event["headers"]["authorization"] = f"Bearer {laptop['access_token']}"
    assert auth.handler(event, FakeLambdaContext())["statusCode"] == 204
    for connection_id, tokens_ in (("laptop-ws", laptop), ("phone-ws", phone)):
        policy = authorizer.handler(authorizer_event({"token": tokens_["access_token"]}), FakeLambdaContext())
        opened = {"sub": policy["principalId"], **policy["context"]}
        assert (
            websocket.handler(websocket_event("$connect", connection_id, opened), FakeLambdaContext())["statusCode"]
            == 200
        )
    return laptop, phone


def _every_session_is_over(sessions: list[dict[str, Any]], api: FakeConnectionsApi) -> None:
    assert [read(handler, path, s["access_token"]) for s in sessions for handler, path in READS] == [SIGNED_OUT] * (
        2 * len(sessions)
    )
    assert [auth_call("/auth/refresh", {"refresh_token": s["refresh_token"]})[0] for s in sessions] == [401] * len(
        sessions
    )
    assert [connects(s["access_token"]) for s in sessions] == [False] * len(sessions)
    assert sorted(api.closed) == ["laptop-ws", "phone-ws"]


def test_a_password_reset_signs_every_session_out(
    strict_cognito: CognitoClock, moto_jwks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a laptop and a phone logged in (one of them perhaps a thief's), each with a WebSocket open
    api = FakeConnectionsApi()
    monkeypatch.setattr(Pusher, "client", property(lambda _: api))
    laptop, phone = _two_sessions_with_sockets("resetter", api)
    # the sessions' second is over when the reset comes (the watermark spares tokens of its own second)
    later = utc_now() + timedelta(seconds=2)
    monkeypatch.setattr(auth_logic, "utc_now", lambda: later)

    # When the owner resets the password with the code mailed to her
    assert auth_call("/auth/password/forgot", {"username": "resetter"})[0] == 202
    code = MAILBOX.messages(username="resetter")[-1].code
    answer = auth_call("/auth/password/reset", {"username": "resetter", "code": code, "new_password": NEW_PASSWORD})
    assert answer == (204, None)

    # Then no session goes on: access tokens refused everywhere, refresh tokens revoked, sockets closed
    _every_session_is_over([laptop, phone], api)
    # And the new password logs in at once
    assert auth_call("/auth/login", {"username": "resetter", "password": NEW_PASSWORD})[0] == 200


def test_a_password_change_signs_every_session_out_the_changing_one_too(
    strict_cognito: CognitoClock, moto_jwks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a laptop and a phone logged in, each with a WebSocket open
    api = FakeConnectionsApi()
    monkeypatch.setattr(Pusher, "client", property(lambda _: api))
    laptop, phone = _two_sessions_with_sockets("changer", api)
    # the sessions' second is over when the change comes (the watermark spares tokens of its own second)
    later = utc_now() + timedelta(seconds=2)
    monkeypatch.setattr(auth_logic, "utc_now", lambda: later)

    # When the laptop changes the password
    token = laptop["access_token"]
    event = http_event(
        "POST",
        "/me/password",
        body={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        claims=claims_of(token),
        route_key="POST /me/password",
    )
    event["headers"]["authorization"] = f"Bearer {token}"
    assert auth.handler(event, FakeLambdaContext())["statusCode"] == 204

    # Then every session is over, the laptop's too (Cognito cannot revoke all refresh tokens but one)
    _every_session_is_over([laptop, phone], api)
    # And the new password logs in at once
    assert auth_call("/auth/login", {"username": "changer", "password": NEW_PASSWORD})[0] == 200
