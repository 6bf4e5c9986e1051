"""The local cloud's Cognito is as strict as Cognito (local/cognito_strict.py): codes are single use and expire,
passwords follow the pool's policy, TOTP codes are checked per user and never twice, and moto internals that
move make `install()` fail loudly. Time is the module's injected clock, moved by the tests."""

from collections.abc import Iterator
from typing import Any

import boto3
import jwt
import pyotp
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local import cognito_strict
from local.mailbox import MAILBOX

PASSWORD = "Correct-Horse-9"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(cognito_strict, "clock", fake)
    return fake


@pytest.fixture
def cognito(clock: Clock) -> Iterator[dict[str, Any]]:
    cognito_strict.install()
    cognito_strict.reset_state()
    with mock_aws():
        client = boto3.client("cognito-idp", region_name="us-east-1")
        pool = client.create_user_pool(
            PoolName="pinhole",
            AutoVerifiedAttributes=["email"],
            Policies={"PasswordPolicy": {"MinimumLength": 10, "RequireSymbols": False}},
        )["UserPool"]["Id"]
        client_id = client.create_user_pool_client(
            UserPoolId=pool,
            ClientName="app",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            PreventUserExistenceErrors="ENABLED",
        )["UserPoolClient"]["ClientId"]
        yield {"client": client, "pool": pool, "client_id": client_id}


def make_user(cognito: dict[str, Any], username: str = "alice", verified: bool = True) -> str:
    client = cognito["client"]
    client.admin_create_user(
        UserPoolId=cognito["pool"],
        Username=username,
        UserAttributes=[
            {"Name": "email", "Value": f"{username}@example.com"},
            {"Name": "email_verified", "Value": "true" if verified else "false"},
        ],
        MessageAction="SUPPRESS",
    )
    client.admin_set_user_password(UserPoolId=cognito["pool"], Username=username, Password=PASSWORD, Permanent=True)
    tokens = client.initiate_auth(
        ClientId=cognito["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )
    return str(tokens["AuthenticationResult"]["AccessToken"])


def error(call: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return str(raised.value.response["Error"]["Code"])


def reset_code(cognito: dict[str, Any], username: str = "alice") -> str:
    cognito["client"].forgot_password(ClientId=cognito["client_id"], Username=username)
    return MAILBOX.messages(username=username)[-1].code


def confirm(cognito: dict[str, Any], code: str, password: str = "Brand-New-Secret-7") -> Any:
    return lambda: cognito["client"].confirm_forgot_password(
        ClientId=cognito["client_id"], Username="alice", ConfirmationCode=code, Password=password
    )


def test_a_wrong_code_mismatches_and_the_right_one_works_once(cognito: dict[str, Any]) -> None:
    make_user(cognito)
    code = reset_code(cognito)
    assert error(confirm(cognito, f"{(int(code) + 1) % 10**6:06d}")) == "CodeMismatchException"
    assert error(confirm(cognito, "moto-confirmation-code:123456")) == "CodeMismatchException"
    confirm(cognito, code)()
    assert error(confirm(cognito, code, "Another-Secret-8")) == "CodeMismatchException"


def test_a_reset_code_expires_after_an_hour(cognito: dict[str, Any], clock: Clock) -> None:
    make_user(cognito)
    code = reset_code(cognito)
    clock.now += cognito_strict.RESET_CODE_LIFETIME_S + 1
    assert error(confirm(cognito, code)) == "ExpiredCodeException"


def test_a_weak_new_password_is_refused_and_the_code_stays_usable(cognito: dict[str, Any]) -> None:
    make_user(cognito)
    code = reset_code(cognito)
    assert error(confirm(cognito, code, "weak")) == "InvalidPasswordException"
    confirm(cognito, code)()


def test_no_reset_code_for_an_unverified_address_and_none_for_nobody(cognito: dict[str, Any]) -> None:
    make_user(cognito, verified=False)
    unverified = error(lambda: cognito["client"].forgot_password(ClientId=cognito["client_id"], Username="alice"))
    nobody = cognito["client"].forgot_password(ClientId=cognito["client_id"], Username="nobody")
    assert unverified == "InvalidParameterException"
    assert nobody["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"  # PreventUserExistenceErrors
    assert MAILBOX.messages() == []
    assert error(confirm(cognito, "123456")) == "CodeMismatchException"


def test_email_verification_codes_are_mailed_checked_and_single_use(cognito: dict[str, Any], clock: Clock) -> None:
    token = make_user(cognito, verified=False)
    client = cognito["client"]
    client.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")
    code = MAILBOX.messages(username="alice")[-1].code

    def verify(value: str) -> Any:
        return lambda: client.verify_user_attribute(AccessToken=token, AttributeName="email", Code=value)

    assert error(verify(f"{(int(code) + 1) % 10**6:06d}")) == "CodeMismatchException"
    verify(code)()
    assert error(verify(code)) == "CodeMismatchException"
    user = client.admin_get_user(UserPoolId=cognito["pool"], Username="alice")
    assert {"Name": "email_verified", "Value": "true"} in user["UserAttributes"]
    # A new address is unverified again, with a code of its own that expires
    client.admin_update_user_attributes(
        UserPoolId=cognito["pool"], Username="alice", UserAttributes=[{"Name": "email", "Value": "new@example.org"}]
    )
    mail = MAILBOX.messages(username="alice")[-1]
    assert mail.to == "new@example.org"
    clock.now += cognito_strict.VERIFICATION_CODE_LIFETIME_S + 1
    assert error(verify(mail.code)) == "ExpiredCodeException"


def test_with_keep_original_a_new_address_is_pending_until_verified_and_resets_go_to_the_old_one(
    cognito: dict[str, Any],
) -> None:
    # Given a pool that keeps the original e-mail until a new one is verified (Pinhole's keepOriginal)
    client = cognito["client"]
    client.update_user_pool(
        UserPoolId=cognito["pool"],
        AutoVerifiedAttributes=["email"],
        UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": ["email"]},
    )
    token = make_user(cognito)

    # When alice asks for a new address with her token
    client.update_user_attributes(AccessToken=token, UserAttributes=[{"Name": "email", "Value": "new@example.org"}])

    # Then the code goes to the new address, while the account keeps the old one, verified, for reset codes
    verification = MAILBOX.messages(username="alice")[-1]
    assert (verification.to, verification.kind) == ("new@example.org", "verify_email")
    attributes = {a["Name"]: a["Value"] for a in client.get_user(AccessToken=token)["UserAttributes"]}
    assert (attributes["email"], attributes["email_verified"]) == ("alice@example.com", "true")
    reset_code(cognito)
    assert (MAILBOX.messages(username="alice")[-1].to, MAILBOX.messages(username="alice")[-1].kind) == (
        "alice@example.com",
        "reset_password",
    )

    # And once verified, the new address is the account's
    client.verify_user_attribute(AccessToken=token, AttributeName="email", Code=verification.code)
    attributes = {a["Name"]: a["Value"] for a in client.get_user(AccessToken=token)["UserAttributes"]}
    assert (attributes["email"], attributes["email_verified"]) == ("new@example.org", "true")


def test_with_keep_original_setting_the_verified_address_again_cancels_the_pending_one(
    cognito: dict[str, Any],
) -> None:
    # Given a pool that keeps the original e-mail, and alice's new address pending
    client = cognito["client"]
    client.update_user_pool(
        UserPoolId=cognito["pool"],
        AutoVerifiedAttributes=["email"],
        UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": ["email"]},
    )
    token = make_user(cognito)
    client.update_user_attributes(AccessToken=token, UserAttributes=[{"Name": "email", "Value": "new@example.org"}])
    pending_code = MAILBOX.messages(username="alice")[-1].code
    mailed = len(MAILBOX.messages(username="alice"))

    # When she sets the address she has, verified, again
    client.update_user_attributes(AccessToken=token, UserAttributes=[{"Name": "email", "Value": "alice@example.com"}])

    # Then nothing is mailed, the account keeps it verified, and the pending address's code verifies nothing
    assert len(MAILBOX.messages(username="alice")) == mailed
    attributes = {a["Name"]: a["Value"] for a in client.get_user(AccessToken=token)["UserAttributes"]}
    assert (attributes["email"], attributes["email_verified"]) == ("alice@example.com", "true")
    assert error(lambda: client.verify_user_attribute(AccessToken=token, AttributeName="email", Code=pending_code)) == (
        "CodeMismatchException"
    )
    attributes = {a["Name"]: a["Value"] for a in client.get_user(AccessToken=token)["UserAttributes"]}
    assert attributes["email"] == "alice@example.com"


def test_totp_is_checked_per_user_and_a_code_is_accepted_once(cognito: dict[str, Any], clock: Clock) -> None:
    token, other = make_user(cognito, "alice"), make_user(cognito, "bob")
    client = cognito["client"]
    secret = client.associate_software_token(AccessToken=token)["SecretCode"]
    assert secret != client.associate_software_token(AccessToken=other)["SecretCode"]
    totp = pyotp.TOTP(secret)
    assert error(lambda: client.verify_software_token(AccessToken=token, UserCode="000000")) == "CodeMismatchException"
    client.verify_software_token(AccessToken=token, UserCode=totp.at(clock.now))
    client.set_user_mfa_preference(AccessToken=token, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})

    def challenge() -> str:
        started = client.initiate_auth(
            ClientId=cognito["client_id"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
        )
        assert started["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
        return str(started["Session"])

    def answer(session: str, code: str) -> Any:
        return lambda: client.respond_to_auth_challenge(
            ClientId=cognito["client_id"],
            ChallengeName="SOFTWARE_TOKEN_MFA",
            Session=session,
            ChallengeResponses={"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": code},
        )

    # The code used to verify is spent; the next step's code logs in, once
    assert error(answer(challenge(), totp.at(clock.now))) == "CodeMismatchException"
    clock.now += 30
    code = totp.at(clock.now)
    assert "AuthenticationResult" in answer(challenge(), code)()
    assert error(answer(challenge(), code)) == "CodeMismatchException"
    # A session older than the client's AuthSessionValidity (3 minutes) is refused
    session = challenge()
    clock.now += 4 * 60
    assert error(answer(session, totp.at(clock.now))) == "NotAuthorizedException"


def test_a_secret_associated_while_totp_is_on_replaces_the_old_one_only_once_verified(
    cognito: dict[str, Any], clock: Clock
) -> None:
    # Given alice with TOTP on (Cognito: "disassociates an existing software token when you verify the new token")
    token = make_user(cognito)
    client = cognito["client"]
    old = pyotp.TOTP(client.associate_software_token(AccessToken=token)["SecretCode"])
    client.verify_software_token(AccessToken=token, UserCode=old.at(clock.now))
    client.set_user_mfa_preference(AccessToken=token, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})

    def log_in_with(code: str) -> Any:
        session = client.initiate_auth(
            ClientId=cognito["client_id"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
        )["Session"]
        return lambda: client.respond_to_auth_challenge(
            ClientId=cognito["client_id"],
            ChallengeName="SOFTWARE_TOKEN_MFA",
            Session=session,
            ChallengeResponses={"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": code},
        )

    # When a new secret is associated with her token
    new = pyotp.TOTP(client.associate_software_token(AccessToken=token)["SecretCode"])
    # Then log-in still takes the old one's codes, while VerifySoftwareToken checks the new one's only
    clock.now += 30
    assert error(log_in_with(new.at(clock.now))) == "CodeMismatchException"
    assert "AuthenticationResult" in log_in_with(old.at(clock.now))()
    clock.now += 30
    verify_old = old.at(clock.now)
    assert error(lambda: client.verify_software_token(AccessToken=token, UserCode=verify_old)) == (
        "CodeMismatchException"
    )
    client.verify_software_token(AccessToken=token, UserCode=new.at(clock.now))
    # And once verified, the new one is the secret in force
    clock.now += 30
    assert error(log_in_with(old.at(clock.now))) == "CodeMismatchException"
    assert "AuthenticationResult" in log_in_with(new.at(clock.now))()


def test_revoking_a_refresh_token_ends_it_and_its_access_tokens(cognito: dict[str, Any]) -> None:
    make_user(cognito)
    client = cognito["client"]
    tokens = client.initiate_auth(
        ClientId=cognito["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    client.revoke_token(Token=tokens["RefreshToken"], ClientId=cognito["client_id"])
    client.revoke_token(Token=tokens["RefreshToken"], ClientId=cognito["client_id"])  # twice: still fine
    refreshed = error(
        lambda: client.initiate_auth(
            ClientId=cognito["client_id"],
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
        )
    )
    assert refreshed == "NotAuthorizedException"
    assert error(lambda: client.get_user(AccessToken=tokens["AccessToken"])) == "NotAuthorizedException"


def client_with_template_validities(cognito: dict[str, Any]) -> str:
    """The app client as PinholeStateful's template configures it: tokens of 15 minutes, refresh of 30 days."""
    return str(
        cognito["client"].create_user_pool_client(
            UserPoolId=cognito["pool"],
            ClientName="template",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            AccessTokenValidity=15,
            IdTokenValidity=15,
            RefreshTokenValidity=43200,
            TokenValidityUnits={"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "minutes"},
        )["UserPoolClient"]["ClientId"]
    )


def lifetimes(result: dict[str, Any]) -> dict[str, int]:
    claims = {
        name: jwt.decode(result[name], options={"verify_signature": False}) for name in ("AccessToken", "IdToken")
    }
    return {"ExpiresIn": result["ExpiresIn"], **{name: c["exp"] - c["iat"] for name, c in claims.items()}}


def test_tokens_live_as_long_as_the_client_s_validity_says_at_log_in_and_refresh(cognito: dict[str, Any]) -> None:
    make_user(cognito)
    client_id = client_with_template_validities(cognito)
    logged_in = cognito["client"].initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD}
    )["AuthenticationResult"]
    refreshed = cognito["client"].initiate_auth(
        ClientId=client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": logged_in["RefreshToken"]},
    )["AuthenticationResult"]

    assert lifetimes(logged_in) == {"ExpiresIn": 900, "AccessToken": 900, "IdToken": 900}
    assert lifetimes(refreshed) == {"ExpiresIn": 900, "AccessToken": 900, "IdToken": 900}


def test_tokens_of_a_client_without_validities_live_cognito_s_default_hour(cognito: dict[str, Any]) -> None:
    make_user(cognito)
    logged_in = cognito["client"].initiate_auth(
        ClientId=cognito["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]

    assert lifetimes(logged_in) == {"ExpiresIn": 3600, "AccessToken": 3600, "IdToken": 3600}


def test_a_refresh_token_expires_after_the_client_s_refresh_validity(cognito: dict[str, Any], clock: Clock) -> None:
    make_user(cognito)
    client_id = client_with_template_validities(cognito)
    refresh_token = cognito["client"].initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD}
    )["AuthenticationResult"]["RefreshToken"]

    def refresh() -> dict[str, Any]:
        return dict(
            cognito["client"].initiate_auth(
                ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh_token}
            )
        )

    clock.now += 43200 * 60 - 1
    assert "AccessToken" in refresh()["AuthenticationResult"]
    clock.now += 1
    with pytest.raises(ClientError) as raised:
        refresh()
    assert raised.value.response["Error"] == {"Code": "NotAuthorizedException", "Message": "Refresh Token has expired"}


def test_a_moved_moto_internal_stops_the_install_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    def renamed(self: Any, client_id: str, user: str) -> None: ...

    monkeypatch.setitem(cognito_strict._ORIGINALS, "forgot_password", renamed)
    with pytest.raises(cognito_strict.MotoInternalsChanged, match="forgot_password"):
        cognito_strict.check_moto_internals()


def test_the_moto_internals_it_needs_are_there() -> None:
    cognito_strict.check_moto_internals()
