"""Passwords as long as the API document allows (`maxLength` 256, Cognito's own bound) are taken at sign-up, in a
change and in a reset, and work to log in; a longer one is 422 telling every broken rule. Through the auth handler
on moto made to take what Cognito takes (local/moto_cognito_passwords.py: moto itself refused 99 characters and
more) and as strict as Cognito with codes (local/cognito_strict.py)."""

from typing import Any

import jwt
import pytest

from functions.auth import handler as auth
from local.mailbox import MAILBOX
from tests.integration.conftest import CognitoClock
from tests.support.events import FakeLambdaContext, http_event, response_json
from tests.support.users import PASSWORD, sign_up_claims

LENGTHS = [98, 99, 255, 256]


def password_of(length: int, first: str = "A") -> str:
    """A password of the pool's policy, `length` characters long (a password manager's kind)."""
    return f"{first}a1-" + "x" * (length - 4)


def call(method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    claims = None
    if token:
        decoded = jwt.decode(token, options={"verify_signature": False})
        claims = {name: str(decoded[name]) for name in ("sub", "username", "iat", "origin_jti")}
    event = http_event(method, path, body=body, claims=claims)
    if token:
        event["headers"]["authorization"] = f"Bearer {token}"
    response = auth.handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


def log_in(username: str, password: str) -> int:
    status, _ = call("POST", "/auth/login", {"username": username, "password": password})
    return status


def access_token(username: str, password: str = PASSWORD) -> str:
    status, tokens = call("POST", "/auth/login", {"username": username, "password": password})
    assert status == 200, tokens
    return str(tokens["access_token"])


@pytest.mark.parametrize("length", LENGTHS)
def test_a_sign_up_password_up_to_256_characters_is_taken_and_logs_in(
    strict_cognito: CognitoClock, length: int
) -> None:
    # When someone signs up with a long password
    body = {"username": "ada", "email": "ada@example.com", "password": password_of(length)}
    status, answer = call("POST", "/auth/signup", body)

    # Then the account is made, and that password logs in (not one character less)
    assert status == 201, answer
    assert log_in("ada", password_of(length)) == 200
    assert log_in("ada", password_of(length)[:-1]) == 401


@pytest.mark.parametrize("length", LENGTHS)
def test_a_changed_password_up_to_256_characters_is_taken_and_logs_in(
    strict_cognito: CognitoClock, length: int
) -> None:
    # Given an account, logged in
    sign_up_claims("ada")
    token = access_token("ada")

    # When its password is changed to a long one
    change = {"current_password": PASSWORD, "new_password": password_of(length, "B")}
    assert call("POST", "/me/password", change, token) == (204, None)

    # Then the new password logs in, and the old one no longer does
    assert (log_in("ada", password_of(length, "B")), log_in("ada", PASSWORD)) == (200, 401)


@pytest.mark.parametrize("length", LENGTHS)
def test_a_reset_password_up_to_256_characters_is_taken_and_logs_in(strict_cognito: CognitoClock, length: int) -> None:
    # Given an account whose e-mail address is verified, and a reset code sent to it
    sign_up_claims("ada")
    token = access_token("ada")
    verification = MAILBOX.messages(username="ada")[-1].code
    assert call("POST", "/auth/verify-email", {"username": "ada", "code": verification}, token) == (204, None)
    assert call("POST", "/auth/password/forgot", {"username": "ada"})[0] == 202
    code = MAILBOX.messages(username="ada")[-1].code

    # When the password is reset to a long one
    reset = {"username": "ada", "code": code, "new_password": password_of(length, "C")}
    assert call("POST", "/auth/password/reset", reset) == (204, None)

    # Then it logs in
    assert log_in("ada", password_of(length, "C")) == 200


def test_a_password_over_256_characters_is_422_telling_every_broken_rule_each_in_words(
    strict_cognito: CognitoClock,
) -> None:
    # Given an account
    sign_up_claims("ada")
    token = access_token("ada")
    too_long = "x" * 257
    expected = [
        "The password may have at most 256 characters.",
        "The password needs an upper-case letter.",
        "The password needs a digit.",
    ]

    # When a password of 257 lower-case letters is set, at sign-up and in a change
    signing_up = call("POST", "/auth/signup", {"username": "bob", "email": "bob@example.com", "password": too_long})
    changing = call("POST", "/me/password", {"current_password": PASSWORD, "new_password": too_long}, token)

    # Then each is 422 with one entry per broken rule, each saying it
    for (status, body), field in ((signing_up, "password"), (changing, "new_password")):
        assert (status, body["error"]["code"], body["error"]["message"]) == (
            422,
            "validation_error",
            "The password is too weak.",
        )
        assert body["error"]["details"] == [{"field": field, "message": message} for message in expected]


def test_a_strong_password_over_256_characters_is_422_too_long(strict_cognito: CognitoClock) -> None:
    status, body = call(
        "POST", "/auth/signup", {"username": "bob", "email": "b@example.com", "password": password_of(257)}
    )

    assert (status, body["error"]["message"]) == (422, "The password is too long.")
    assert body["error"]["details"] == [
        {"field": "password", "message": "The password may have at most 256 characters."}
    ]
