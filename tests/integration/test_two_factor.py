"""Two-factor through the auth handler on moto made as strict as Cognito (local/cognito_strict.py): one secret per
user, the secret associated last checked by VerifySoftwareToken and the one in force by the log-in challenge, as
Cognito documents them. The attacker of these tests holds the victim's access token only."""

from typing import Any

import jwt
import pyotp

from functions.auth import handler as auth
from functions.privacy import handler as privacy
from functions.users import handler as users
from pinhole.privacy.dal import PrivacyModel
from tests.integration.conftest import CognitoClock as Clock
from tests.support.events import FakeLambdaContext, http_event, response_json
from tests.support.users import PASSWORD, sign_up_claims


def call(method: str, path: str, body: Any = None, token: str | None = None, function: Any = auth) -> tuple[int, Any]:
    claims = None
    if token:
        decoded = jwt.decode(token, options={"verify_signature": False})
        claims = {name: str(decoded[name]) for name in ("sub", "username", "iat", "origin_jti")}
    event = http_event(method, path, body=body, claims=claims)
    if token:
        event["headers"]["authorization"] = f"Bearer {token}"
    response = function.handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


def log_in(username: str) -> dict[str, Any]:
    status, body = call("POST", "/auth/login", {"username": username, "password": PASSWORD})
    assert status == 200, body
    return dict(body)


def code_now(totp: pyotp.TOTP, clock: Clock) -> str:
    clock.now += 30  # the next step: a code is accepted once
    return totp.at(clock.now)


def turn_on_totp(token: str, clock: Clock) -> pyotp.TOTP:
    status, setup = call("POST", "/me/mfa/totp", token=token)
    assert status == 200, setup
    totp = pyotp.TOTP(setup["secret"])
    enabled = call("POST", "/me/mfa/totp/verify", {"code": code_now(totp, clock), "password": PASSWORD}, token)
    assert enabled == (204, None)
    return totp


def mfa_enabled(token: str) -> bool:
    from pinhole.users.dal import ProfileRepository

    user_id = jwt.decode(token, options={"verify_signature": False})["sub"]
    return ProfileRepository().get_consistent(user_id).mfa_enabled


def test_a_stolen_access_token_cannot_swap_the_secret_and_turn_two_factor_off(strict_cognito: Clock) -> None:
    clock = strict_cognito
    # Given a victim with two-factor on, and an attacker holding her access token only
    sign_up_claims("victim")
    token = log_in("victim")["access_token"]
    authenticator = turn_on_totp(token, clock)

    # When the attacker asks for a new secret, Then it is refused and no secret of his exists
    status, body = call("POST", "/me/mfa/totp", token=token)
    assert (status, body["error"]["code"]) == (409, "conflict")
    assert body["error"]["message"] == "Two-factor is already on: turn it off first."

    # And a code he makes up does not turn it off
    status, body = call("DELETE", "/me/mfa", {"code": code_now(pyotp.TOTP(pyotp.random_base32()), clock)}, token)
    assert (status, body["error"]["code"]) == (401, "invalid_code")
    assert mfa_enabled(token)
    assert "challenge" in call("POST", "/auth/login", {"username": "victim", "password": PASSWORD})[1]

    # While a code of the victim's own authenticator does, and the password alone logs in again
    assert call("DELETE", "/me/mfa", {"code": code_now(authenticator, clock)}, token) == (204, None)
    assert not mfa_enabled(token)
    assert "access_token" in call("POST", "/auth/login", {"username": "victim", "password": PASSWORD})[1]


def test_a_stolen_access_token_alone_cannot_turn_two_factor_on_with_the_attackers_authenticator(
    strict_cognito: Clock,
) -> None:
    clock = strict_cognito
    # Given an owner without two-factor, and an attacker holding her access token only, with a secret of his
    sign_up_claims("owner")
    token = log_in("owner")["access_token"]
    status, setup = call("POST", "/me/mfa/totp", token=token)
    assert status == 200, setup
    attackers = pyotp.TOTP(setup["secret"])

    # When he turns two-factor on with his authenticator's code, without the password or with a guessed one
    missing = call("POST", "/me/mfa/totp/verify", {"code": code_now(attackers, clock)}, token)
    wrong = call("POST", "/me/mfa/totp/verify", {"code": code_now(attackers, clock), "password": "Guess-1-Aa"}, token)

    # Then both are refused, naming the field or the wrong credential, and the owner's password alone logs her in
    assert (missing[0], missing[1]["error"]["code"]) == (422, "validation_error")
    assert [detail["field"] for detail in missing[1]["error"]["details"]] == ["password"]
    assert (wrong[0], wrong[1]["error"]["code"]) == (401, "invalid_credentials")
    assert not mfa_enabled(token)
    assert "access_token" in log_in("owner")


def test_wrong_passwords_turning_two_factor_on_count_with_every_other_password_check(strict_cognito: Clock) -> None:
    clock = strict_cognito
    # Given ten wrong passwords given to turn two-factor on (the account's `password_check` limit)
    sign_up_claims("guessing")
    token = log_in("guessing")["access_token"]
    totp = pyotp.TOTP(call("POST", "/me/mfa/totp", token=token)[1]["secret"])
    answers = [
        call("POST", "/me/mfa/totp/verify", {"code": code_now(totp, clock), "password": f"Guess-{n}-Aa"}, token)[0]
        for n in range(10)
    ]

    # When the eleventh comes with the right password, and recovery codes are asked with it too
    again = call("POST", "/me/mfa/totp/verify", {"code": code_now(totp, clock), "password": PASSWORD}, token)
    codes = call("POST", "/me/mfa/recovery-codes", {"password": PASSWORD}, token)

    # Then both are refused by the one limit, before the password is checked
    assert answers == [401] * 10
    assert (again[0], again[1]["error"]["code"]) == (429, "rate_limited")
    assert (codes[0], codes[1]["error"]["code"]) == (429, "rate_limited")
    assert not mfa_enabled(token)


def test_the_log_in_step_checks_the_secret_in_force_until_a_new_one_is_verified(strict_cognito: Clock) -> None:
    clock = strict_cognito
    # Given two-factor turned on, off, and a new secret asked for but not verified yet
    sign_up_claims("changer")
    token = log_in("changer")["access_token"]
    first = turn_on_totp(token, clock)
    assert call("DELETE", "/me/mfa", {"code": code_now(first, clock)}, token) == (204, None)
    second = turn_on_totp(token, clock)

    # Then log-in's challenge takes the secret verified last, not the first one
    session = call("POST", "/auth/login", {"username": "changer", "password": PASSWORD})[1]["session"]
    answer = {"username": "changer", "session": session, "code": code_now(first, clock)}
    assert call("POST", "/auth/login/totp", answer)[0] == 401
    answer = {"username": "changer", "session": session, "code": code_now(second, clock)}
    assert "access_token" in call("POST", "/auth/login/totp", answer)[1]


def test_turning_two_factor_off_when_it_is_not_on_is_409(strict_cognito: Clock) -> None:
    sign_up_claims("plain")
    token = log_in("plain")["access_token"]
    status, body = call("DELETE", "/me/mfa", {"code": "123456"}, token)
    assert (status, body["error"]["code"], body["error"]["message"]) == (409, "conflict", "Two-factor is not on.")


def recovery_log_in(username: str, password: str, code: str, source: str) -> tuple[int, Any]:
    event = http_event(
        "POST", "/auth/login/recovery", body={"username": username, "password": password, "recovery_code": code}
    )
    event["requestContext"]["http"]["sourceIp"] = source
    response = auth.handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


def test_nobody_elses_recovery_attempts_lock_the_owner_out_of_hers(strict_cognito: Clock) -> None:
    clock = strict_cognito
    # Given an owner with two-factor on and recovery codes, who has lost her authenticator
    sign_up_claims("recovering")
    token = log_in("recovering")["access_token"]
    turn_on_totp(token, clock)
    status, minted = call("POST", "/me/mfa/recovery-codes", {"password": PASSWORD}, token)
    assert status == 201, minted

    # When ten attempts with wrong passwords come from ten other addresses
    others = [recovery_log_in("recovering", f"Guess-{n}-Aa", "aaaaa-aaaaa", f"198.51.100.{n}") for n in range(10)]

    # Then each is a wrong credential, and the owner, from her own address, recovers her account
    assert [(answer[0], answer[1]["error"]["code"]) for answer in others] == [(401, "invalid_credentials")] * 10
    status, tokens = recovery_log_in("recovering", PASSWORD, minted["recovery_codes"][0], "203.0.113.7")
    assert status == 200, tokens
    assert "access_token" in tokens


def test_recovery_guesses_from_one_address_stop_there_and_count_with_password_log_ins(strict_cognito: Clock) -> None:
    # Given someone guessing the password through the recovery route from one address, five times
    sign_up_claims("guessedat")
    guesses = [recovery_log_in("guessedat", f"Guess-{n}-Aa", "aaaaa-aaaaa", "198.51.100.66")[0] for n in range(5)]

    # When he tries again, there or at the password log-in
    again = recovery_log_in("guessedat", "Guess-6-Aa", "aaaaa-aaaaa", "198.51.100.66")
    event = http_event("POST", "/auth/login", body={"username": "guessedat", "password": "Guess-7-Aa"})
    event["requestContext"]["http"]["sourceIp"] = "198.51.100.66"
    login = auth.handler(event, FakeLambdaContext())

    # Then both are refused before the password is checked: one count of failures per account and source
    assert guesses == [401] * 5
    assert (again[0], again[1]["error"]["code"]) == (429, "rate_limited")
    assert login["statusCode"] == 429


def test_a_recovery_log_in_within_the_grace_period_reactivates_a_deleted_account(strict_cognito: Clock) -> None:
    PrivacyModel.create_table(wait=True)
    clock = strict_cognito
    # Given an owner with two-factor on and recovery codes, who deleted her account and then lost her authenticator
    sign_up_claims("regretful")
    token = log_in("regretful")["access_token"]
    turn_on_totp(token, clock)
    status, minted = call("POST", "/me/mfa/recovery-codes", {"password": PASSWORD}, token)
    assert status == 201, minted
    assert call("DELETE", "/me", {"password": PASSWORD}, token, function=privacy)[0] == 202

    # When she logs in with her password and a recovery code before purge_after
    status, tokens = recovery_log_in("regretful", PASSWORD, minted["recovery_codes"][0], "203.0.113.7")

    # Then she gets her tokens as a password log-in would, and the account is hers again, two-factor off
    assert status == 200, tokens
    status, me = call("GET", "/me", token=tokens["access_token"], function=users)
    assert status == 200, me
    assert (me["username"], me["mfa_enabled"]) == ("regretful", False)
