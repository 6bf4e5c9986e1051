"""Cognito as strict as Cognito: patches of moto 5.2.5's in-process Cognito backend, and the e-mails it sends.

moto's Cognito is looser than the real one (checked against its source):
- `confirm_forgot_password` accepts any code that does not start with moto's own prefix, and a new password
  that breaks the pool's policy; a code works any number of times and never expires;
- TOTP codes are checked only with MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP=true, and then against one secret
  fixed for every user; nothing refuses a code used twice;
- `forgot_password` sends a code whether or not the e-mail address is verified;
- GetUserAttributeVerificationCode, VerifyUserAttribute and RevokeToken are not implemented at all, and an
  e-mail change does not make the address unverified;
- the pool's UserAttributeUpdateSettings (AttributesRequireVerificationBeforeUpdate, CDK's `keepOriginal`) are
  ignored: a changed address replaces the old one at once;
- a log-in challenge's session never expires;
- every access and ID token lives an hour and a refresh token for ever, whatever the client's
  AccessTokenValidity, IdTokenValidity, RefreshTokenValidity and TokenValidityUnits say.

Here each of those behaves as Cognito documents it: codes of 6 digits, single use, expiring (reset codes after
1 hour, verification codes after 24 hours, a challenge session after the client's AuthSessionValidity; tokens
after the client's token validities, in its units, with Cognito's defaults: an hour, and 30 days for a refresh
token);
`CodeMismatchException`, `ExpiredCodeException` and `InvalidPasswordException` as Cognito raises them; a TOTP
secret per user (RFC 6238, 30 s steps, one step of drift either way) and a code accepted once per user; a
reset code only for a verified address (`InvalidParameterException`); with `keepOriginal` on e-mail, a changed
address is pending — the code goes to it, the account keeps the old address (verified, where reset codes go)
until VerifyUserAttribute confirms the new one, and the account's own address given again is no change (no code;
a pending address is given up with its code); PreventUserExistenceErrors honoured
(an unknown user gets the same answer as a known one). Every message Cognito would e-mail lands in `MAILBOX`,
which the local cloud serves at `/_local/mail` (never deployed).

`install()` checks first that every moto internal it replaces or reads is still there with the signature
it was written against, and raises `MotoInternalsChanged` naming what moved: a moto upgrade fails loudly at
start-up (and in `tests/unit/local/test_cognito_strict.py`) instead of silently loosening the local cloud.
Time comes from `clock`, which tests replace.
"""

from __future__ import annotations

import inspect
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
import pyotp
from moto.cognitoidp import models as moto_models
from moto.cognitoidp import responses as moto_responses
from moto.cognitoidp.exceptions import (
    CodeMismatchException,
    ExpiredCodeException,
    InvalidParameterException,
    NotAuthorizedError,
    UserNotFoundError,
)
from moto.core.responses import ActionResult, EmptyResult

from local.mailbox import MAILBOX, Mail

RESET_CODE_LIFETIME_S = 60 * 60
VERIFICATION_CODE_LIFETIME_S = 24 * 60 * 60
DEFAULT_SESSION_VALIDITY_S = 3 * 60
TOTP_STEP_S = 30
TOTP_DRIFT_STEPS = 1
TOTP_CHALLENGE = "SOFTWARE_TOKEN_MFA"
# Cognito's when a client sets no validity: the value, and the unit when TokenValidityUnits names none.
DEFAULT_TOKEN_VALIDITY = {"access": (1, "hours"), "id": (1, "hours"), "refresh": (30, "days")}
TOKEN_VALIDITY_SETTINGS = {
    "access": ("AccessTokenValidity", "AccessToken"),
    "id": ("IdTokenValidity", "IdToken"),
    "refresh": ("RefreshTokenValidity", "RefreshToken"),
}
SECONDS_PER_UNIT = {"seconds": 1, "minutes": 60, "hours": 60 * 60, "days": 24 * 60 * 60}

clock: Callable[[], float] = time.time
"""Now, in seconds; tests move it to expire codes and sessions."""


class MotoInternalsChanged(RuntimeError):
    """moto no longer has what this module patches: update it against the new moto before starting."""


# What is replaced or read, with the parameters it was written against (moto 5.2.5).
_BACKEND_METHODS: dict[str, tuple[str, ...]] = {
    "forgot_password": ("self", "client_id", "username"),
    "confirm_forgot_password": ("self", "client_id", "username", "password", "confirmation_code"),
    "associate_software_token": ("self", "access_token", "session"),
    "verify_software_token": ("self", "access_token", "session", "user_code", "friendly_device_name"),
    "respond_to_auth_challenge": ("self", "session", "client_id", "challenge_name", "challenge_responses"),
    "initiate_auth": ("self", "client_id", "auth_flow", "auth_parameters"),
    "admin_update_user_attributes": ("self", "user_pool_id", "username", "attributes"),
    "update_user_attributes": ("self", "access_token", "attributes"),
    "_validate_password": ("self", "user_pool_id", "password"),
}
_POOL_METHODS: dict[str, tuple[str, ...]] = {
    "create_jwt": ("self", "client_id", "username", "token_use", "expires_in", "extra_data"),
    "create_refresh_token": ("self", "client_id", "username"),
    "create_tokens_from_refresh_token": ("self", "refresh_token"),
}
_USER_ATTRIBUTES = ("password", "status", "attribute_lookup", "token_verified", "software_token_mfa_enabled")
_POOL_ATTRIBUTES = ("clients", "users", "access_tokens", "refresh_tokens", "_get_user", "extended_config")
_RESPONSE_HELPERS = ("_get_param", "_get_region_agnostic_backend")


def check_moto_internals() -> None:
    problems = []
    backend = moto_models.CognitoIdpBackend
    for name, expected in _BACKEND_METHODS.items():
        method = _ORIGINALS.get(name) or getattr(backend, name, None)
        if method is None:
            problems.append(f"CognitoIdpBackend.{name} is gone")
            continue
        found = tuple(inspect.signature(method).parameters)
        if found != expected:
            problems.append(f"CognitoIdpBackend.{name}{found} is not {expected}")
    pool_class = moto_models.CognitoIdpUserPool
    for name, expected in _POOL_METHODS.items():
        method = _POOL_ORIGINALS.get(name) or getattr(pool_class, name, None)
        if method is None:
            problems.append(f"CognitoIdpUserPool.{name} is gone")
            continue
        found = tuple(inspect.signature(method).parameters)
        if found != expected:
            problems.append(f"CognitoIdpUserPool.{name}{found} is not {expected}")
    problems += [
        f"CognitoIdpUserPool.{name} passes its own token lifetime"
        for name in ("create_access_token", "create_id_token")
        if "expires_in=" in inspect.getsource(getattr(pool_class, name))
    ]
    user_init = inspect.getsource(moto_models.CognitoIdpUser.__init__)
    problems += [f"CognitoIdpUser.{name} is gone" for name in _USER_ATTRIBUTES if f"self.{name}" not in user_init]
    pool_source = inspect.getsource(moto_models.CognitoIdpUserPool)
    problems += [
        f"CognitoIdpUserPool.{name} is gone"
        for name in _POOL_ATTRIBUTES
        if f"self.{name}" not in pool_source and f"def {name}" not in pool_source
    ]
    if "self.sessions" not in inspect.getsource(moto_models.CognitoIdpBackend.__init__):
        problems.append("CognitoIdpBackend.sessions is gone")
    problems += [
        f"CognitoIdpResponse.{name} is gone"
        for name in _RESPONSE_HELPERS
        if not hasattr(moto_responses.CognitoIdpResponse, name)
    ]
    if problems:
        raise MotoInternalsChanged("local/cognito_strict.py no longer fits moto: " + "; ".join(problems))


# What Cognito keeps per user and moto does not


@dataclass
class _Code:
    code: str
    expires_at: float


@dataclass
class _UserSecrets:
    reset: _Code | None = None
    verification: dict[str, _Code] = field(default_factory=dict)
    pending_totp: str | None = None
    totp: str | None = None
    pending_email: str | None = None  # with keepOriginal: the new address, until verified
    last_totp_step: int = -1


_state: dict[tuple[str, str], _UserSecrets] = {}
_sessions_born: dict[str, float] = {}
_refresh_tokens_issued: dict[str, float] = {}
_lock = threading.RLock()


def _secrets_of(pool_id: str, username: str) -> _UserSecrets:
    return _state.setdefault((pool_id, username), _UserSecrets())


def _new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def _pool_of_client(backend: Any, client_id: str) -> Any:
    for pool in backend.user_pools.values():
        if client_id in pool.clients:
            return pool
    raise moto_models.ResourceNotFoundError(client_id)


def _user_of_token(backend: Any, access_token: str) -> tuple[Any, Any]:
    for pool in backend.user_pools.values():
        if access_token in pool.access_tokens:
            _, username = pool.access_tokens[access_token]
            return pool, pool._get_user(username)
    raise NotAuthorizedError("Invalid Access Token")


def _prevents_existence_errors(pool: Any, client_id: str) -> bool:
    return pool.clients[client_id].extended_config.get("PreventUserExistenceErrors") == "ENABLED"


def _delivery(email: str) -> dict[str, str]:
    local_part, _, domain = email.partition("@")
    return {"Destination": f"{local_part[:1]}***@{domain[:1]}***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}


def _mail(pool: Any, user: Any, kind: str, code: str, to: str | None = None) -> dict[str, str]:
    email = to or user.attribute_lookup.get("email", "")
    if kind == "reset_password":
        subject, body = "Your password reset code", f"Your password reset code is {code}. It expires in 1 hour."
    else:
        subject, body = "Your verification code", f"Your verification code is {code}."
    MAILBOX.send(Mail(email, user.username, subject, body, code, kind, clock()))
    return _delivery(email)


def _check_code(stored: _Code | None, code: str) -> None:
    if stored is None or not secrets.compare_digest(stored.code, code):
        raise CodeMismatchException("Invalid verification code provided, please try again.")
    if clock() > stored.expires_at:
        raise ExpiredCodeException("Invalid code provided, please request a code again.")


# Replacements of moto's backend methods


def forgot_password(self: Any, client_id: str, username: str) -> tuple[str | None, dict[str, Any]]:
    pool = _pool_of_client(self, client_id)
    user = pool._get_user(username)
    if user is None:
        if _prevents_existence_errors(pool, client_id):
            return None, {"CodeDeliveryDetails": _delivery(f"{username}@example.com")}
        raise UserNotFoundError("Username/client id combination not found.")
    if user.attribute_lookup.get("email_verified") != "true":
        raise InvalidParameterException(
            "Cannot reset password for the user as there is no registered/verified email or phone_number"
        )
    with _lock:
        code = _new_code()
        _secrets_of(pool.id, user.username).reset = _Code(code, clock() + RESET_CODE_LIFETIME_S)
    return None, {"CodeDeliveryDetails": _mail(pool, user, "reset_password", code)}


def confirm_forgot_password(self: Any, client_id: str, username: str, password: str, confirmation_code: str) -> None:
    pool = _pool_of_client(self, client_id)
    user = pool._get_user(username)
    if user is None:
        if _prevents_existence_errors(pool, client_id):
            raise CodeMismatchException("Invalid verification code provided, please try again.")
        raise UserNotFoundError("Username/client id combination not found.")
    with _lock:
        stored = _secrets_of(pool.id, user.username)
        _check_code(stored.reset, confirmation_code)
        self._validate_password(pool.id, password)
        stored.reset = None  # a code works once
        user.password = password
        user.status = moto_models.UserStatus.CONFIRMED


def associate_software_token(self: Any, access_token: str, session: str) -> dict[str, str]:
    if session:
        raise NotAuthorizedError("Pinhole's local Cognito associates software tokens by access token only.")
    pool, user = _user_of_token(self, access_token)
    secret = pyotp.random_base32()
    with _lock:
        _secrets_of(pool.id, user.username).pending_totp = secret
    return {"SecretCode": secret}


def _accept_totp(pool_id: str, username: str, secret: str | None, code: str) -> bool:
    """RFC 6238 with one step of drift either way; each step's code is accepted once per user."""
    if not secret:
        return False
    stored = _secrets_of(pool_id, username)
    now_step = int(clock() // TOTP_STEP_S)
    totp = pyotp.TOTP(secret, interval=TOTP_STEP_S)
    for step in range(now_step - TOTP_DRIFT_STEPS, now_step + TOTP_DRIFT_STEPS + 1):
        if step > stored.last_totp_step and secrets.compare_digest(totp.at(step * TOTP_STEP_S), code):
            stored.last_totp_step = step
            return True
    return False


def verify_software_token(
    self: Any, access_token: str, session: str, user_code: str, friendly_device_name: str
) -> dict[str, str]:
    if session:
        raise NotAuthorizedError("Pinhole's local Cognito verifies software tokens by access token only.")
    pool, user = _user_of_token(self, access_token)
    with _lock:
        stored = _secrets_of(pool.id, user.username)
        secret = stored.pending_totp or stored.totp
        if not _accept_totp(pool.id, user.username, secret, user_code):
            raise CodeMismatchException("Invalid code received for user")
        stored.totp, stored.pending_totp = secret, None
        user.token_verified = True
    return {"Status": "SUCCESS"}


def _session_validity_s(pool: Any, client_id: str) -> float:
    minutes = pool.clients[client_id].extended_config.get("AuthSessionValidity")
    return float(minutes) * 60 if minutes else DEFAULT_SESSION_VALIDITY_S


def initiate_auth(self: Any, client_id: str, auth_flow: str, auth_parameters: dict[str, str]) -> dict[str, Any]:
    result = _ORIGINALS["initiate_auth"](self, client_id, auth_flow, auth_parameters)
    if result and result.get("Session"):
        with _lock:
            _sessions_born[result["Session"]] = clock()
    return result


def respond_to_auth_challenge(
    self: Any, session: str, client_id: str, challenge_name: str, challenge_responses: dict[str, str]
) -> dict[str, Any]:
    if challenge_name != TOTP_CHALLENGE:
        return _ORIGINALS["respond_to_auth_challenge"](self, session, client_id, challenge_name, challenge_responses)
    with _lock:
        if session not in self.sessions:
            raise NotAuthorizedError("Invalid session for the user.")
        username, pool = self.sessions[session]
        if client_id not in pool.clients:
            raise moto_models.ResourceNotFoundError(client_id)
        born = _sessions_born.get(session, clock())
        if clock() - born > _session_validity_s(pool, client_id):
            del self.sessions[session]
            raise NotAuthorizedError("Invalid session for the user, session is expired.")
        if (challenge_responses or {}).get("USERNAME", "").lower() != username.lower():
            raise NotAuthorizedError("Invalid session for the user.")
        code = (challenge_responses or {}).get(f"{TOTP_CHALLENGE}_CODE", "")
        stored = _secrets_of(pool.id, pool._get_user(username).username)
        if not _accept_totp(pool.id, pool._get_user(username).username, stored.totp, code):
            raise CodeMismatchException("Invalid code received for user")
        _sessions_born.pop(session, None)
        # moto's own check of the code is off (no ENABLE_TOTP): it completes the log-in.
        return _ORIGINALS["respond_to_auth_challenge"](self, session, client_id, challenge_name, challenge_responses)


def _keeps_original_email(pool: Any) -> bool:
    settings = pool.extended_config.get("UserAttributeUpdateSettings") or {}
    return "email" in (settings.get("AttributesRequireVerificationBeforeUpdate") or [])


def _held_back(pool: Any, user: Any, attributes: list[dict[str, str]]) -> list[dict[str, str]]:
    """What an update may change at once: with keepOriginal, a new address (not marked verified in the same call,
    which Cognito takes at once) waits, pending, for its verification; the account keeps the old one. The address the
    account has, given again, is no change: the value the attribute holds needs no verification, so a pending address
    is given up, the code sent to it with it (the latest update is what the user wants)."""
    names = {attribute["Name"]: attribute["Value"] for attribute in attributes}
    if "email" not in names or names.get("email_verified") == "true" or not _keeps_original_email(pool):
        return attributes
    with _lock:
        stored = _secrets_of(pool.id, user.username)
        if names["email"] != user.attribute_lookup.get("email"):
            stored.pending_email = names["email"]
        elif stored.pending_email is not None:
            stored.pending_email = None
            stored.verification.pop("email", None)
    return [attribute for attribute in attributes if attribute["Name"] != "email"]


def _email_changed(pool: Any, user: Any, attributes: list[dict[str, str]], previous_email: str | None) -> None:
    """An address given anew is unverified (without keepOriginal) and gets a code; the address the account already
    has, given again, changes nothing and gets none."""
    names = {attribute["Name"]: attribute["Value"] for attribute in attributes}
    auto_verified = "email" in pool.extended_config.get("AutoVerifiedAttributes", [])
    if names.get("email", previous_email) == previous_email:
        return
    if names.get("email_verified") != "true" and auto_verified:
        if not _keeps_original_email(pool):
            user.update_attributes([{"Name": "email_verified", "Value": "false"}])
        _send_verification(pool, user)


def _send_verification(pool: Any, user: Any) -> dict[str, str]:
    with _lock:
        code = _new_code()
        stored = _secrets_of(pool.id, user.username)
        stored.verification["email"] = _Code(code, clock() + VERIFICATION_CODE_LIFETIME_S)
        pending = stored.pending_email
    return _mail(pool, user, "verify_email", code, to=pending)


def admin_update_user_attributes(self: Any, user_pool_id: str, username: str, attributes: list[dict[str, str]]) -> None:
    pool = self.describe_user_pool(user_pool_id)
    user = self.admin_get_user(user_pool_id, username)
    previous_email = user.attribute_lookup.get("email")
    _ORIGINALS["admin_update_user_attributes"](self, user_pool_id, username, _held_back(pool, user, attributes))
    _email_changed(pool, user, attributes, previous_email)


def update_user_attributes(self: Any, access_token: str, attributes: list[dict[str, str]]) -> None:
    pool, user = _user_of_token(self, access_token)
    previous_email = user.attribute_lookup.get("email")
    _ORIGINALS["update_user_attributes"](self, access_token, _held_back(pool, user, attributes))
    _email_changed(pool, user, attributes, previous_email)


def token_validity_s(client: Any, token_use: str) -> int:
    """How long a token of this use ("access", "id", "refresh") lives, as the client configures it."""
    setting, unit_key = TOKEN_VALIDITY_SETTINGS[token_use]
    default_value, default_unit = DEFAULT_TOKEN_VALIDITY[token_use]
    config = client.extended_config if client is not None else {}
    if config.get(setting) is None:
        return int(default_value * SECONDS_PER_UNIT[default_unit])
    unit = (config.get("TokenValidityUnits") or {}).get(unit_key, default_unit)
    return int(config[setting]) * SECONDS_PER_UNIT[unit]


# Replacements of moto's user pool methods


def create_jwt(
    self: Any,
    client_id: str,
    username: str,
    token_use: str,
    expires_in: int | None = None,
    extra_data: dict[str, Any] | None = None,
) -> tuple[str, int]:
    """moto signs every access and ID token for an hour (its default `expires_in`, which its callers never
    pass); here for the client's validity, so `exp - iat` and the log-in's ExpiresIn are the client's."""
    if expires_in is None:
        expires_in = token_validity_s(self.clients.get(client_id), token_use)
    return _POOL_ORIGINALS["create_jwt"](self, client_id, username, token_use, expires_in, extra_data)


def create_refresh_token(self: Any, client_id: str, username: str) -> tuple[str, str]:
    refresh_token, origin_jti = _POOL_ORIGINALS["create_refresh_token"](self, client_id, username)
    with _lock:
        _refresh_tokens_issued[refresh_token] = clock()
    return refresh_token, origin_jti


def create_tokens_from_refresh_token(self: Any, refresh_token: str) -> tuple[str, str, int]:
    """moto's refresh tokens never expire; Cognito's after the client's RefreshTokenValidity."""
    grant = self.refresh_tokens.get(refresh_token)
    issued_at = refresh_token_issued_at(refresh_token)
    if grant is None or issued_at is None:
        return _POOL_ORIGINALS["create_tokens_from_refresh_token"](self, refresh_token)  # moto's own refusals
    if clock() - issued_at >= token_validity_s(self.clients.get(grant[0]), "refresh"):
        raise NotAuthorizedError("Refresh Token has expired")
    return _POOL_ORIGINALS["create_tokens_from_refresh_token"](self, refresh_token)


def refresh_token_issued_at(refresh_token: str) -> float | None:
    """When this process issued (or restored) the refresh token; the local state saves it with the token."""
    with _lock:
        return _refresh_tokens_issued.get(refresh_token)


def restore_refresh_token_issued_at(refresh_token: str, issued_at: float | None) -> None:
    """A token saved without its issue time (a snapshot older than this) counts from its restoration."""
    with _lock:
        _refresh_tokens_issued[refresh_token] = clock() if issued_at is None else issued_at


# Operations moto does not implement


def get_user_attribute_verification_code(self: Any, access_token: str, attribute_name: str) -> dict[str, Any]:
    pool, user = _user_of_token(self, access_token)
    if attribute_name != "email" or not user.attribute_lookup.get("email"):
        raise InvalidParameterException(f"Pinhole's local Cognito verifies e-mail only, not {attribute_name}.")
    return {"CodeDeliveryDetails": _send_verification(pool, user)}


def verify_user_attribute(self: Any, access_token: str, attribute_name: str, code: str) -> None:
    pool, user = _user_of_token(self, access_token)
    with _lock:
        stored = _secrets_of(pool.id, user.username)
        _check_code(stored.verification.get(attribute_name), code)
        del stored.verification[attribute_name]
        if attribute_name == "email" and stored.pending_email:
            user.update_attributes([{"Name": "email", "Value": stored.pending_email}])
            stored.pending_email = None
        user.update_attributes([{"Name": f"{attribute_name}_verified", "Value": "true"}])


def revoke_token(self: Any, token: str, client_id: str) -> None:
    """The refresh token stops working, and so do the access tokens it issued (same `origin_jti`)."""
    pool = _pool_of_client(self, client_id)
    grant = pool.refresh_tokens.get(token)
    if grant is None:
        return  # unknown or already revoked: Cognito answers success
    if grant[0] != client_id:
        raise NotAuthorizedError("The token was not issued to this client.")
    pool.refresh_tokens[token] = None
    origin = grant[2]
    for access_token in list(pool.access_tokens):
        claims = jwt.decode(access_token, options={"verify_signature": False})
        if claims.get("origin_jti") == origin:
            pool.access_tokens.pop(access_token, None)


class _Responses:
    """Request handlers for the operations moto lacks, added to its CognitoIdpResponse."""

    def get_user_attribute_verification_code(self: Any) -> ActionResult:
        token = self._get_param("AccessToken")
        backend = self._get_region_agnostic_backend()._find_backend_by_access_token(token)
        return ActionResult(get_user_attribute_verification_code(backend, token, self._get_param("AttributeName")))

    def verify_user_attribute(self: Any) -> EmptyResult:
        token = self._get_param("AccessToken")
        backend = self._get_region_agnostic_backend()._find_backend_by_access_token(token)
        verify_user_attribute(backend, token, self._get_param("AttributeName"), self._get_param("Code"))
        return EmptyResult()

    def revoke_token(self: Any) -> EmptyResult:
        client_id = self._get_param("ClientId")
        backend = self._get_region_agnostic_backend()._find_backend_for_clientid(client_id)
        revoke_token(backend, self._get_param("Token"), client_id)
        return EmptyResult()


_REPLACEMENTS: dict[str, Callable[..., Any]] = {
    "forgot_password": forgot_password,
    "confirm_forgot_password": confirm_forgot_password,
    "associate_software_token": associate_software_token,
    "verify_software_token": verify_software_token,
    "respond_to_auth_challenge": respond_to_auth_challenge,
    "initiate_auth": initiate_auth,
    "admin_update_user_attributes": admin_update_user_attributes,
    "update_user_attributes": update_user_attributes,
}
_ADDED_BACKEND = {
    "get_user_attribute_verification_code": get_user_attribute_verification_code,
    "verify_user_attribute": verify_user_attribute,
    "revoke_token": revoke_token,
}
_POOL_REPLACEMENTS: dict[str, Callable[..., Any]] = {
    "create_jwt": create_jwt,
    "create_refresh_token": create_refresh_token,
    "create_tokens_from_refresh_token": create_tokens_from_refresh_token,
}
_ORIGINALS: dict[str, Callable[..., Any]] = {}
_POOL_ORIGINALS: dict[str, Callable[..., Any]] = {}


def install() -> None:
    """Makes moto's Cognito strict, once per process (idempotent)."""
    with _lock:
        if _ORIGINALS:
            return
        check_moto_internals()
        backend = moto_models.CognitoIdpBackend
        for name, replacement in _REPLACEMENTS.items():
            _ORIGINALS[name] = getattr(backend, name)
            setattr(backend, name, replacement)
        for name, replacement in _POOL_REPLACEMENTS.items():
            _POOL_ORIGINALS[name] = getattr(moto_models.CognitoIdpUserPool, name)
            setattr(moto_models.CognitoIdpUserPool, name, replacement)
        for name, added in _ADDED_BACKEND.items():
            setattr(backend, name, added)
        for name in ("get_user_attribute_verification_code", "verify_user_attribute", "revoke_token"):
            setattr(moto_responses.CognitoIdpResponse, name, getattr(_Responses, name))


def reset_state() -> None:
    """Forgets codes, secrets and mail (a fresh cloud in the same process)."""
    with _lock:
        _state.clear()
        _sessions_born.clear()
        _refresh_tokens_issued.clear()
    MAILBOX.clear()
