"""What a stolen access token alone can do to an account, through the handlers on moto made as strict as Cognito
(local/cognito_strict.py: codes mailed to the local mailbox, the pool's keepOriginal honoured). The attacker of
these tests holds the victim's access token, not her password (docs/SECURITY.md, "Account takeover")."""

from typing import Any

import jwt
import pyotp
import pytest

from functions.auth import handler as auth
from functions.privacy import handler as privacy
from functions.users import handler as users
from local.mailbox import MAILBOX
from pinhole.privacy.dal import PrivacyModel
from tests.integration.conftest import CognitoClock
from tests.support.events import FakeLambdaContext, http_event, response_json
from tests.support.users import PASSWORD, sign_up_claims

ATTACKER_MAIL = "evil@attacker.test"
SIGNED_OUT = {"code": "unauthorized", "message": "This session was signed out: log in again."}


def call(function: Any, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    claims = None
    if token:
        decoded = jwt.decode(token, options={"verify_signature": False})
        claims = {name: str(decoded[name]) for name in ("sub", "username", "iat", "origin_jti")}
    event = http_event(method, path, body=body, claims=claims, route_key=f"{method} {path}")
    if token:
        event["headers"]["authorization"] = f"Bearer {token}"
    response = function.handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


def log_in(username: str, password: str = PASSWORD) -> dict[str, Any]:
    status, body = call(auth, "POST", "/auth/login", {"username": username, "password": password})
    assert status == 200, body
    return dict(body)


def verified_victim(username: str) -> str:
    """Signed up and her address verified with the mailed code; her access token."""
    sign_up_claims(username)
    token = log_in(username)["access_token"]
    code = MAILBOX.messages(username=username)[-1].code
    assert call(auth, "POST", "/auth/verify-email", {"username": username, "code": code}, token) == (204, None)
    return str(token)


def me(token: str) -> dict[str, Any]:
    status, body = call(users, "GET", "/me", token=token)
    assert status == 200, body
    return dict(body)


def test_a_stolen_access_token_alone_cannot_move_the_account_to_another_address(strict_cognito: CognitoClock) -> None:
    # Given a victim with a verified address, and an attacker holding her access token only
    token = verified_victim("victim")

    # When he changes the address without the password, or with a wrong one
    missing = call(users, "PATCH", "/me", {"email": ATTACKER_MAIL}, token)
    wrong = call(users, "PATCH", "/me", {"email": ATTACKER_MAIL, "current_password": "Guess-1-Aa"}, token)

    # Then both are refused, naming what is missing or wrong, and no code reached his mailbox
    assert missing[0] == 422
    assert missing[1]["error"]["code"] == "validation_error"
    assert [detail["field"] for detail in missing[1]["error"]["details"]] == ["current_password"]
    assert (wrong[0], wrong[1]["error"]["code"]) == (401, "invalid_credentials")
    assert MAILBOX.messages(to=ATTACKER_MAIL) == []
    assert (me(token)["email"], me(token)["email_verified"]) == ("victim@example.com", True)


def test_wrong_passwords_on_the_email_change_count_with_every_other_password_check(
    strict_cognito: CognitoClock,
) -> None:
    # Given ten wrong passwords given to change the address (the account's `password_check` limit)
    token = verified_victim("guessed")
    answers = [
        call(users, "PATCH", "/me", {"email": ATTACKER_MAIL, "current_password": f"Guess-{n}-Aa"}, token)[0]
        for n in range(10)
    ]

    # When the eleventh comes, with the right password, and DELETE /me is asked with the right password too
    change = call(users, "PATCH", "/me", {"email": ATTACKER_MAIL, "current_password": PASSWORD}, token)
    deletion = call(privacy, "DELETE", "/me", {"password": PASSWORD}, token)

    # Then both are refused by the one limit, before the password is checked
    assert answers == [401] * 10
    assert (change[0], change[1]["error"]["code"]) == (429, "rate_limited")
    assert (deletion[0], deletion[1]["error"]["code"]) == (429, "rate_limited")


def test_until_the_new_address_is_verified_a_reset_code_goes_to_the_old_one(strict_cognito: CognitoClock) -> None:
    # Given the owner moving to a new address, with her password, not verified yet
    token = verified_victim("mover")
    status, body = call(users, "PATCH", "/me", {"email": "new@example.com", "current_password": PASSWORD}, token)
    assert status == 200, body
    assert (body["email"], body["email_verified"]) == ("new@example.com", False)
    assert MAILBOX.messages(to="new@example.com")[-1].kind == "verify_email"

    # When she forgets her password meanwhile
    assert call(auth, "POST", "/auth/password/forgot", {"username": "mover"})[0] == 202

    # Then the code goes to the address she proved, not nowhere, and not to the unproven one
    assert MAILBOX.messages(to="mover@example.com")[-1].kind == "reset_password"
    assert [mail.kind for mail in MAILBOX.messages(to="new@example.com")] == ["verify_email"]

    # And once the new address is verified, it is the account's: the next reset code goes there
    code = MAILBOX.messages(to="new@example.com")[-1].code
    assert call(auth, "POST", "/auth/verify-email", {"username": "mover", "code": code}, token) == (204, None)
    assert me(token)["email_verified"] is True
    assert call(auth, "POST", "/auth/password/forgot", {"username": "mover"})[0] == 202
    assert MAILBOX.messages(to="new@example.com")[-1].kind == "reset_password"


def test_going_back_to_the_verified_address_cancels_the_pending_change(strict_cognito: CognitoClock) -> None:
    # Given an owner with a verified address A, moving to B (pending, its code mailed there)
    token = verified_victim("hesitant")
    moved = call(users, "PATCH", "/me", {"email": "b@example.com", "current_password": PASSWORD}, token)
    assert (moved[0], moved[1]["email"], moved[1]["email_verified"]) == (200, "b@example.com", False)
    mailed_to_a = len(MAILBOX.messages(to="hesitant@example.com"))

    # When she changes her mind and gives A again
    status, body = call(users, "PATCH", "/me", {"email": "hesitant@example.com", "current_password": PASSWORD}, token)

    # Then A is the account's address, verified, as it is where reset codes go, and no code was mailed to it
    assert status == 200, body
    assert (body["email"], body["email_verified"]) == ("hesitant@example.com", True)
    assert (me(token)["email"], me(token)["email_verified"]) == ("hesitant@example.com", True)
    assert len(MAILBOX.messages(to="hesitant@example.com")) == mailed_to_a
    assert call(auth, "POST", "/auth/password/forgot", {"username": "hesitant"})[0] == 202
    assert MAILBOX.messages(to="hesitant@example.com")[-1].kind == "reset_password"


@pytest.fixture
def reactivated(strict_cognito: CognitoClock) -> str:
    """An access token of a session the account's deletion signed out, the account reactivated with it."""
    PrivacyModel.create_table(wait=True)
    token = verified_victim("returner")
    assert call(privacy, "DELETE", "/me", {"password": PASSWORD}, token)[0] == 202
    assert call(privacy, "POST", "/me/reactivate", token=token)[0] == 200
    return token


def test_after_reactivating_a_password_change_with_the_signed_out_token_says_log_in_again(reactivated: str) -> None:
    # When the right current password is given with the token the deletion signed out
    body = {"current_password": PASSWORD, "new_password": "Brand-New-Secret-7"}
    status, answer = call(auth, "POST", "/me/password", body, reactivated)

    # Then the session is what is refused, not the password, and the password is unchanged
    assert (status, answer["error"]) == (401, SIGNED_OUT)
    assert log_in("returner")["access_token"]


def test_after_reactivating_the_signed_out_token_cannot_change_the_email(reactivated: str) -> None:
    # When the address is changed, with the right password, with the token the deletion signed out
    body = {"email": ATTACKER_MAIL, "current_password": PASSWORD}
    status, answer = call(users, "PATCH", "/me", body, reactivated)

    # Then it is refused as the documented 401, and the address stays
    assert (status, answer["error"]) == (401, SIGNED_OUT)
    assert MAILBOX.messages(to=ATTACKER_MAIL) == []
    assert me(log_in("returner")["access_token"])["email"] == "returner@example.com"


def test_after_reactivating_the_signed_out_token_is_told_to_log_in_again_by_the_code_checks(
    strict_cognito: CognitoClock,
) -> None:
    # Given an owner whose address waits for its code and whose authenticator waits for its first code, who deletes
    # her account and reactivates it with the token the deletion signed out
    PrivacyModel.create_table(wait=True)
    sign_up_claims("halfway")
    token = log_in("halfway")["access_token"]
    email_code = MAILBOX.messages(username="halfway")[-1].code
    status, setup = call(auth, "POST", "/me/mfa/totp", token=token)
    assert status == 200, setup
    totp_code = pyotp.TOTP(setup["secret"]).at(strict_cognito.now)
    assert call(privacy, "DELETE", "/me", {"password": PASSWORD}, token)[0] == 202
    assert call(privacy, "POST", "/me/reactivate", token=token)[0] == 200

    # When she gives the right codes with that token
    email = call(auth, "POST", "/auth/verify-email", {"username": "halfway", "code": email_code}, token)
    totp = call(auth, "POST", "/me/mfa/totp/verify", {"code": totp_code, "password": PASSWORD}, token)

    # Then the session is what is refused, not the codes, and neither code is used up: a new session takes them
    assert (email[0], email[1]["error"]) == (401, SIGNED_OUT)
    assert (totp[0], totp[1]["error"]) == (401, SIGNED_OUT)
    fresh = log_in("halfway")["access_token"]
    assert call(auth, "POST", "/auth/verify-email", {"username": "halfway", "code": email_code}, fresh) == (204, None)
    assert call(auth, "POST", "/me/mfa/totp/verify", {"code": totp_code, "password": PASSWORD}, fresh) == (204, None)


def test_a_password_without_an_email_change_is_refused_not_ignored(strict_cognito: CognitoClock) -> None:
    # Given an owner, and a PATCH /me giving a password (a wrong one) with a new display name only
    token = verified_victim("careful")

    # When it is sent
    status, body = call(users, "PATCH", "/me", {"current_password": "Wrong", "display_name": "x"}, token)

    # Then it is refused naming the field, as any field the route does not take, and nothing changed
    assert (status, body["error"]["code"]) == (422, "validation_error")
    assert [detail["field"] for detail in body["error"]["details"]] == ["current_password"]
    assert "only with an e-mail change" in body["error"]["details"][0]["message"]
    assert me(token)["display_name"] == "careful"
