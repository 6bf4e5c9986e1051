"""The WebSocket `$connect` authorizer on moto's Cognito: only an access token of this app's pool and
client opens a connection, whether it comes as the `token` query parameter or as a subprotocol."""

import gzip
import json
import time
from importlib import resources
from typing import Any

import jwt
import pytest

from functions.auth import handler as auth
from functions.messaging import authorizer
from pinhole.auth import tokens
from pinhole.shared.clock import utc_now
from pinhole.users.dal import ProfileRepository, UserModel
from tests.support.events import FakeLambdaContext, authorizer_event, http_event, response_json
from tests.support.users import PASSWORD, sign_up_claims


class MotoJwks:
    """moto's signing keys, where PyJWKClient would fetch Cognito's JWKS over HTTPS."""

    def __init__(self) -> None:
        raw = resources.files("moto.cognitoidp").joinpath("resources/jwks-public.json.gz").read_bytes()
        self.keys = {key["kid"]: jwt.PyJWK(key) for key in json.loads(gzip.decompress(raw))["keys"]}

    def get_signing_key_from_jwt(self, token: str) -> jwt.PyJWK:
        kid = jwt.get_unverified_header(token).get("kid")
        if kid not in self.keys:
            raise jwt.PyJWKClientError("unknown kid")
        return self.keys[kid]


@pytest.fixture
def access_token(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(tokens, "_jwks", MotoJwks)
    sign_up_claims("alice")
    response = auth.handler(
        http_event("POST", "/auth/login", body={"username": "alice", "password": PASSWORD}), FakeLambdaContext()
    )
    return str(response_json(response)["access_token"])


def authorize(query: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return authorizer.handler(authorizer_event(query, headers), FakeLambdaContext())


def test_an_access_token_in_the_query_opens_a_connection_for_its_user(access_token: str) -> None:
    policy = authorize(query={"token": access_token})

    claims = jwt.decode(access_token, options={"verify_signature": False})
    assert policy["principalId"] == claims["sub"]
    assert policy["context"] == {"username": "alice", "session": claims["origin_jti"]}  # the log-in a log-out ends
    [statement] = policy["policyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "execute-api:Invoke"


def test_the_token_may_come_as_a_subprotocol(access_token: str) -> None:
    policy = authorize(headers={"Sec-WebSocket-Protocol": f"pinhole, {access_token}"})
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda token: None, id="no token"),
        pytest.param(lambda token: "not-a-jwt", id="garbage"),
        pytest.param(lambda token: token[:-4] + "AAAA", id="bad signature"),
        pytest.param(
            lambda token: jwt.encode({**jwt.decode(token, options={"verify_signature": False})}, "", algorithm="none"),
            id="alg none",
        ),
        pytest.param(
            lambda token: jwt.encode(
                {**jwt.decode(token, options={"verify_signature": False}), "exp": int(time.time()) + 60},
                "secret-key-of-at-least-32-bytes-long",
                algorithm="HS256",
            ),
            id="HS256 with a guessed key",
        ),
    ],
)
def test_a_bad_token_is_refused_with_401(access_token: str, tamper: Any) -> None:
    token = tamper(access_token)
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(query={"token": token} if token else None)


def _signed_by_moto(token: str, **changes: Any) -> str:
    """The token re-signed with moto's own private key after `changes`: valid but for them."""
    raw = resources.files("moto.cognitoidp").joinpath("resources/jwks-private.json.gz").read_bytes()
    private = json.loads(gzip.decompress(raw))
    claims = {**jwt.decode(token, options={"verify_signature": False}), **changes}
    return jwt.encode(claims, jwt.PyJWK(private).key, algorithm="RS256", headers={"kid": private["kid"]})


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"exp": int(time.time()) - 1}, id="expired"),
        pytest.param({"client_id": "another-app"}, id="another app's client"),
        pytest.param({"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"}, id="another pool"),
        pytest.param({"token_use": "id"}, id="not an access token"),
    ],
)
def test_a_well_signed_token_for_something_else_is_refused(access_token: str, changes: dict[str, Any]) -> None:
    assert authorize(query={"token": _signed_by_moto(access_token)})["principalId"]  # the re-signing is sound
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(query={"token": _signed_by_moto(access_token, **changes)})


def test_an_id_token_is_not_an_access_token(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "_jwks", MotoJwks)
    sign_up_claims("bob")
    response = auth.handler(
        http_event("POST", "/auth/login", body={"username": "bob", "password": PASSWORD}), FakeLambdaContext()
    )
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(query={"token": response_json(response)["id_token"]})


def test_a_suspended_users_unexpired_token_opens_nothing_until_unsuspended(access_token: str) -> None:
    # Given alice's valid token, and a moderator's suspension of her (the profile's flag)
    user_id = str(jwt.decode(access_token, options={"verify_signature": False})["sub"])
    ProfileRepository().set_suspended(user_id, True)

    # When she connects, she is refused as for a bad token
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(query={"token": access_token})

    # And once unsuspended the same token connects again
    ProfileRepository().set_suspended(user_id, False)
    assert authorize(query={"token": access_token})["principalId"] == user_id


def test_a_deleted_accounts_unexpired_token_opens_nothing_until_reactivated(access_token: str) -> None:
    # Given alice's valid token, and her account deleted (deactivated, within the grace period)
    user_id = str(jwt.decode(access_token, options={"verify_signature": False})["sub"])
    UserModel(user_id=user_id).update(actions=[UserModel.deactivated_at.set(utc_now())])  # as DELETE /me marks it

    # When she connects, she is refused as for a bad token: an account absent to everyone has no one to talk to
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(query={"token": access_token})

    # And once reactivated the same token connects again
    UserModel(user_id=user_id).update(actions=[UserModel.deactivated_at.remove()])
    assert authorize(query={"token": access_token})["principalId"] == user_id


def test_a_token_issued_before_a_sign_out_everywhere_opens_nothing(access_token: str) -> None:
    # Given alice's valid token
    claims = jwt.decode(access_token, options={"verify_signature": False})
    user_id, issued_at = str(claims["sub"]), int(claims["iat"])

    # When she signs out everywhere in the same second it was issued, it still connects (a log-in right after
    # signing out must work); once she signs out a second later, it no longer does
    ProfileRepository().signed_out(user_id, issued_at)
    assert authorize(query={"token": access_token})["principalId"] == user_id
    ProfileRepository().signed_out(user_id, issued_at + 1)
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(query={"token": access_token})
