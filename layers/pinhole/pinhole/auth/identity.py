"""Cognito as Pinhole's identity store: accounts, passwords and tokens. The Cognito client stays in this module."""

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from pinhole.auth.models import LoginChallenge, LoginTokens, Tokens
from pinhole.shared import aws_clients
from pinhole.shared.errors import (
    AccountSuspended,
    InvalidCode,
    InvalidCredentials,
    RateLimited,
    Unauthorized,
    UsernameTaken,
    ValidationFailed,
)
from pinhole.shared.settings import get_settings

_cognito = aws_clients.client("cognito-idp", region_name=get_settings().region)


@dataclass(frozen=True)
class Session:
    """One log-in's tokens: every access token its refresh token issues carries its `origin_jti`."""

    user_id: str
    origin_jti: str
    expires_by: int  # epoch s: no access token of the session lives past it


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _is_disabled(error: ClientError) -> bool:
    # Cognito answers a disabled user's log-in with NotAuthorizedException "User is disabled." — before it checks
    # the password, so this tells anyone who tries that the account is suspended (docs/SECURITY.md says why
    # that is accepted).
    message = str(error.response.get("Error", {}).get("Message", ""))
    return _error_code(error) == "NotAuthorizedException" and "disabled" in message.lower()


TOTP_CHALLENGE = "SOFTWARE_TOKEN_MFA"
_WRONG_CODE = {"CodeMismatchException", "EnableSoftwareTokenMFAException"}
_EXPIRED_CODE = {"ExpiredCodeException"}
_NOT_AUTHORIZED = {"NotAuthorizedException", "UserNotFoundException"}
_SLOW_DOWN = {"LimitExceededException", "TooManyFailedAttemptsException", "TooManyRequestsException"}


@contextmanager
def _as_the_user() -> Iterator[None]:
    """A call made with the user's own access token: a token Cognito no longer accepts (signed out
    everywhere, or revoked) is 401, as at the gateway."""
    try:
        yield
    except ClientError as error:
        if _error_code(error) in _NOT_AUTHORIZED:
            raise Unauthorized("This session was signed out: log in again.") from error
        raise


def _code_error(error: ClientError, what: str) -> Exception:
    """What a refused code becomes: 401 `invalid_code` (wrong, expired or already used — one answer, so
    nothing is learnt by trying), 429 when Cognito wants us to slow down; other errors stay as they are."""
    code = _error_code(error)
    if code in _WRONG_CODE | _EXPIRED_CODE | _NOT_AUTHORIZED:
        return InvalidCode(f"The {what} is wrong, expired or already used.")
    if code in _SLOW_DOWN:
        return RateLimited("Too many attempts: wait a little.", retry_after_s=60)
    return error


def _password_refused(field: str, message: str) -> ValidationFailed:
    """Cognito refused a new password that passed our statement of its policy (auth.logic.check_password_rules
    runs first), so by a rule of its own we do not name: the entry still says what to do, as every entry does."""
    return ValidationFailed(
        message, [{"field": field, "message": "The password was refused by the account service: choose another."}]
    )


class CognitoIdentity:
    def __init__(self, client: Any = _cognito) -> None:
        self._cognito = client

    @property
    def _pool(self) -> str:
        return get_settings().user_pool_id

    @property
    def _client_id(self) -> str:
        return get_settings().user_pool_client_id

    def create_user(self, username: str, email: str, password: str) -> str:
        """Creates a confirmed account and returns its immutable id (the token's `sub`)."""
        try:
            created = self._cognito.admin_create_user(
                UserPoolId=self._pool,
                Username=username,
                # Unverified until the code sent below comes back (POST /auth/verify-email).
                UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "false"}],
                MessageAction="SUPPRESS",
            )
        except ClientError as error:
            if _error_code(error) == "UsernameExistsException":
                raise UsernameTaken(f"The username {username} is taken.") from error
            raise
        try:
            self._cognito.admin_set_user_password(
                UserPoolId=self._pool, Username=username, Password=password, Permanent=True
            )
        except ClientError as error:
            self.delete_user(username)
            if _error_code(error) == "InvalidPasswordException":
                raise _password_refused("password", "The password is too weak.") from error
            raise
        attributes = {a["Name"]: a["Value"] for a in created["User"]["Attributes"]}
        return attributes["sub"]

    def send_email_verification(self, username: str, password: str) -> None:
        """Cognito e-mails a verification code to a new account: the request needs the user's own access
        token (there is no admin call), so the account logs in once, asks, and revokes that session."""
        result = self._initiate_auth("USER_PASSWORD_AUTH", {"USERNAME": username, "PASSWORD": password})
        self._cognito.get_user_attribute_verification_code(AccessToken=result["AccessToken"], AttributeName="email")
        self.revoke(result["RefreshToken"])

    def resend_email_verification(self, access_token: str) -> None:
        try:
            with _as_the_user():
                self._cognito.get_user_attribute_verification_code(AccessToken=access_token, AttributeName="email")
        except ClientError as error:
            if _error_code(error) in _SLOW_DOWN:
                raise RateLimited("Too many codes asked for: wait a little.", retry_after_s=60) from error
            raise

    def verify_email(self, access_token: str, code: str) -> None:
        try:
            self._cognito.verify_user_attribute(AccessToken=access_token, AttributeName="email", Code=code)
        except ClientError as error:
            raise self._code_refused(error, access_token) from error

    def change_email(self, access_token: str, email: str) -> None:
        """The new address, asked for with the user's own token (one Cognito signed out is 401). Cognito sends it a
        code (the pool auto-verifies e-mail) and, as the pool keeps the original until then (keepOriginal), goes on
        sending to the old, verified address — reset codes included — until the new one is verified."""
        with _as_the_user():
            self._cognito.update_user_attributes(
                AccessToken=access_token, UserAttributes=[{"Name": "email", "Value": email}]
            )

    def verified_email(self, access_token: str) -> str | None:
        """The address reset codes go to: the account's verified one (kept, with keepOriginal, while a new one is
        pending), None when it has none. Asked with the user's token, so a session Cognito signed out is 401."""
        with _as_the_user():
            user = self._cognito.get_user(AccessToken=access_token)
        attributes = {attribute["Name"]: attribute["Value"] for attribute in user["UserAttributes"]}
        return attributes.get("email") if attributes.get("email_verified") == "true" else None

    def ensure_signed_in(self, access_token: str) -> None:
        """401 `unauthorized` unless Cognito still honours the user's access token: one signed out by the account's
        deletion (AdminUserGlobalSignOut) passes the API's own checks once the account is reactivated, but Cognito
        refuses it, and a refusal must not read as a wrong password."""
        with _as_the_user():
            self._cognito.get_user(AccessToken=access_token)

    def _code_refused(self, error: ClientError, access_token: str) -> Exception:
        """What a code checked with the user's own token becomes: Cognito says NotAuthorized for a token it signed
        out as for some refused codes, so a session signed out is told to log in again (`ensure_signed_in`), not
        that the right code is wrong."""
        if _error_code(error) in _NOT_AUTHORIZED:
            self.ensure_signed_in(access_token)
        return _code_error(error, "code")

    def change_password(self, access_token: str, current_password: str, new_password: str) -> None:
        try:
            self._cognito.change_password(
                AccessToken=access_token, PreviousPassword=current_password, ProposedPassword=new_password
            )
        except ClientError as error:
            code = _error_code(error)
            if code in _NOT_AUTHORIZED:
                # Cognito says NotAuthorized for a wrong password and for a token it signed out alike.
                self.ensure_signed_in(access_token)
                raise InvalidCredentials("The current password is wrong.") from error
            if code == "InvalidPasswordException":
                raise _password_refused("new_password", "The new password is too weak.") from error
            if code in _SLOW_DOWN:
                raise RateLimited("Too many attempts: wait a little.", retry_after_s=60) from error
            raise

    def forgot_password(self, username: str) -> None:
        """Cognito e-mails a reset code to the account's verified address. Whether the account exists, has a
        verified address, or Cognito throttles it, the caller learns nothing (the route always answers 202)."""
        try:
            self._cognito.forgot_password(ClientId=self._client_id, Username=username)
        except ClientError as error:
            if (
                _error_code(error)
                not in {"UserNotFoundException", "InvalidParameterException", "NotAuthorizedException"} | _SLOW_DOWN
            ):
                raise

    def reset_password(self, username: str, code: str, new_password: str) -> None:
        try:
            self._cognito.confirm_forgot_password(
                ClientId=self._client_id, Username=username, ConfirmationCode=code, Password=new_password
            )
        except ClientError as error:
            if _error_code(error) == "InvalidPasswordException":
                raise _password_refused("new_password", "The new password is too weak.") from error
            raise _code_error(error, "code") from error

    def start_totp(self, access_token: str) -> str:
        """A new TOTP secret for the account (not in force until verified); the base32 secret."""
        with _as_the_user():
            return str(self._cognito.associate_software_token(AccessToken=access_token)["SecretCode"])

    def verify_totp(self, access_token: str, code: str) -> None:
        """The code matches the account's associated secret (also how a code is checked while TOTP is on)."""
        try:
            result = self._cognito.verify_software_token(AccessToken=access_token, UserCode=code)
        except ClientError as error:
            raise self._code_refused(error, access_token) from error
        if result.get("Status") != "SUCCESS":
            raise InvalidCode("The code is wrong, expired or already used.")

    def set_totp(self, access_token: str, *, enabled: bool) -> None:
        with _as_the_user():
            self._cognito.set_user_mfa_preference(
                AccessToken=access_token, SoftwareTokenMfaSettings={"Enabled": enabled, "PreferredMfa": enabled}
            )

    def turn_totp_off(self, username: str) -> None:
        """Two-factor off without the user's token (a recovery code was used: the phone is gone)."""
        self._cognito.admin_set_user_mfa_preference(
            UserPoolId=self._pool,
            Username=username,
            SoftwareTokenMfaSettings={"Enabled": False, "PreferredMfa": False},
        )

    def answer_totp(self, username: str, session: str, code: str) -> LoginTokens:
        try:
            response = self._cognito.respond_to_auth_challenge(
                ClientId=self._client_id,
                ChallengeName=TOTP_CHALLENGE,
                Session=session,
                ChallengeResponses={"USERNAME": username, "SOFTWARE_TOKEN_MFA_CODE": code},
            )
        except ClientError as error:
            raise _code_error(error, "code or session") from error
        return _login_tokens(response["AuthenticationResult"])

    def session_of(self, refresh_token: str) -> Session | None:
        """Who a refresh token's session is and the `origin_jti` its access tokens carry; None when Cognito no longer
        honours it. A refresh token is opaque (encrypted by Cognito), so it is used once: the access token that
        comes back, straight from Cognito, names the session and when its newest access token expires."""
        try:
            result = self._initiate_auth("REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": refresh_token})
        except ClientError as error:
            if _error_code(error) in _NOT_AUTHORIZED:
                return None
            raise
        return session_of_access_token(result["AccessToken"])  # None: a client without token revocation

    def revoke(self, refresh_token: str) -> None:
        """The refresh token and every token it issued stop being accepted by Cognito; an unknown or already
        revoked token changes nothing."""
        try:
            self._cognito.revoke_token(Token=refresh_token, ClientId=self._client_id)
        except ClientError as error:
            if _error_code(error) not in {
                "UnsupportedTokenTypeException",
                "NotAuthorizedException",
                "InvalidParameterException",
            }:
                raise

    def sign_out_everywhere(self, access_token: str) -> None:
        with _as_the_user():
            self._cognito.global_sign_out(AccessToken=access_token)

    def sign_out_user(self, username: str) -> None:
        """Every refresh token of the account revoked, whichever token (if any) asked and however often: a
        token Cognito already refused cannot stop it (AdminUserGlobalSignOut)."""
        self._cognito.admin_user_global_sign_out(UserPoolId=self._pool, Username=username)

    def delete_user(self, username: str) -> None:
        self._cognito.admin_delete_user(UserPoolId=self._pool, Username=username)

    def delete_user_if_exists(self, username: str) -> None:
        """The purge's last step: done again after a crash, a user already gone is no error."""
        try:
            self.delete_user(username)
        except ClientError as error:
            if _error_code(error) != "UserNotFoundException":
                raise

    def check_password(self, username: str, password: str) -> None:
        """InvalidCredentials unless `password` is the account's; nothing is left signed in (with two-factor
        on, a right password is a challenge and no token exists)."""
        checked = self.log_in(username, password)
        if isinstance(checked, LoginTokens):
            self.revoke(checked.refresh_token)

    def log_in(self, username: str, password: str) -> LoginTokens | LoginChallenge:
        """Tokens, or — with two-factor on — the TOTP challenge's session (the password was right)."""
        try:
            response = self._cognito.initiate_auth(
                ClientId=self._client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )
        except ClientError as error:
            if _is_disabled(error):
                raise AccountSuspended("This account is suspended.") from error
            if _error_code(error) in _NOT_AUTHORIZED:
                raise InvalidCredentials("The username or password is wrong.") from error
            raise
        if response.get("ChallengeName") == TOTP_CHALLENGE:
            return LoginChallenge(session=response["Session"])
        if "AuthenticationResult" not in response:
            raise InvalidCredentials("This account cannot log in with a password.")
        return _login_tokens(response["AuthenticationResult"])

    def refresh(self, refresh_token: str) -> Tokens:
        try:
            result = self._initiate_auth("REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": refresh_token})
        except ClientError as error:
            if _error_code(error) in {"NotAuthorizedException", "UserNotFoundException"}:
                raise Unauthorized("The refresh token is not valid; log in again.") from error
            raise
        return Tokens(access_token=result["AccessToken"], id_token=result["IdToken"], expires_in=result["ExpiresIn"])

    def suspend(self, username: str) -> None:
        """No more log-ins or token refreshes, and every refresh token revoked (an access token already issued
        lives out its 15 minutes, but the API refuses every request it makes: pinhole.shared.api.current_caller)."""
        self._cognito.admin_disable_user(UserPoolId=self._pool, Username=username)
        self.sign_out_user(username)

    def reinstate(self, username: str) -> None:
        self._cognito.admin_enable_user(UserPoolId=self._pool, Username=username)

    def _initiate_auth(self, flow: str, parameters: dict[str, str]) -> dict[str, Any]:
        response = self._cognito.initiate_auth(ClientId=self._client_id, AuthFlow=flow, AuthParameters=parameters)
        return dict(response["AuthenticationResult"])


def session_of_access_token(access_token: str) -> Session | None:
    """The session of an access token the JWT authorizer has checked already (its signature is not checked again);
    None for a token without `origin_jti`."""
    claims = _payload_of(access_token)
    if not claims.get("origin_jti"):
        return None
    return Session(user_id=str(claims["sub"]), origin_jti=str(claims["origin_jti"]), expires_by=int(claims["exp"]))


def _payload_of(token: str) -> dict[str, Any]:
    """The claims of a JWT Cognito has just handed over (no signature to check: it comes from Cognito itself),
    read without PyJWT, whose import pulls `cryptography` into every function's cold start."""
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def _login_tokens(result: dict[str, Any]) -> LoginTokens:
    return LoginTokens(
        access_token=result["AccessToken"],
        id_token=result["IdToken"],
        refresh_token=result["RefreshToken"],
        expires_in=result["ExpiresIn"],
    )
