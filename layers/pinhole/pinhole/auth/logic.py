"""Use cases of the auth context: sign up (identity + profile, all or nothing), log in (with a TOTP step when
two-factor is on), refresh, log out; passwords (change, forgotten, reset), e-mail verification, two-factor
(TOTP and recovery codes) and signing out everywhere. Cognito holds the credentials and checks every code;
Pinhole adds what Cognito does not do for it: the password rules named in words, rate limits per account
and per source address, TOTP replay refusal, recovery codes, and the profile's mirror of `email_verified` and
`mfa_enabled`."""

import hashlib
import secrets
import time
from collections.abc import Callable
from urllib.parse import quote

from pinhole.auth.identity import CognitoIdentity, session_of_access_token
from pinhole.auth.login_guard import LoginGuard
from pinhole.auth.models import (
    ChangePasswordRequest,
    ForgotPasswordRequest,
    LoginChallenge,
    LoginRequest,
    LoginTokens,
    RecoveryCodes,
    RecoveryLoginRequest,
    RefreshRequest,
    ResetPasswordRequest,
    SignUpRequest,
    Tokens,
    TotpEnableRequest,
    TotpLoginRequest,
    TotpSetup,
    VerifyEmailRequest,
)
from pinhole.auth.password_policy import PASSWORD_POLICY, password_problems
from pinhole.privacy import logic as privacy
from pinhole.shared import rate_limits
from pinhole.shared.caller import Caller
from pinhole.shared.clock import utc_now
from pinhole.shared.errors import (
    Conflict,
    Forbidden,
    InvalidCode,
    InvalidCredentials,
    UsernameTaken,
    ValidationFailed,
)
from pinhole.shared.network import source_network
from pinhole.shared.observability import logger
from pinhole.users.dal import ProfileRepository
from pinhole.users.logic import to_me
from pinhole.users.models import Me, Profile, display_name_or_username
from pinhole.users.usernames import is_reserved_username

ISSUER = "Pinhole"
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32, lower-case: nothing to mistake on paper
# A TOTP code is valid for its 30 s step and (with clock drift) the ones either side: the same code seen again
# within this window is a replay.
TOTP_REPLAY_WINDOW_S = 120

_identity = CognitoIdentity()
_profiles = ProfileRepository()
_guard = LoginGuard()


def check_password_rules(password: str, field: str) -> None:
    """422 naming each rule of the pool's policy the password breaks, before Cognito is asked."""
    if problems := password_problems(password):
        only_too_long = len(problems) == 1 and len(password) > PASSWORD_POLICY.max_length
        raise ValidationFailed(
            "The password is too long." if only_too_long else "The password is too weak.",
            [{"field": field, "message": problem} for problem in problems],
        )


def _per_source(source_ip: str | None, action: str) -> None:
    if source_ip:
        rate_limits.enforce(f"source:{source_network(source_ip)}", action)


def sign_up(
    request: SignUpRequest,
    source_address: str,
    identity: CognitoIdentity = _identity,
    profiles: ProfileRepository = _profiles,
    count_attempt: Callable[[str, str], object] = rate_limits.enforce,
) -> Me:
    # Counted per source address before anything is checked or created, so a script cannot farm accounts from
    # one address, whether its attempts succeed or not (a taken name, a weak password).
    count_attempt(source_network(source_address), "signup")
    check_password_rules(request.password, "password")
    if is_reserved_username(request.username):
        # The same answer as a taken name: either way the person picks another, and the name is nobody's to take.
        raise UsernameTaken(f"The username {request.username} is reserved: choose another.")
    user_id = identity.create_user(request.username, request.email, request.password)
    profile = Profile(
        user_id=user_id,
        username=request.username,
        email=request.email,
        display_name=display_name_or_username(request.display_name, request.username),
        created_at=utc_now(),
        email_verified=False,
    )
    try:
        profiles.create(profile)
    except Exception:
        # An account without a profile would hold the username forever: undo it.
        identity.delete_user(request.username)
        raise
    try:
        identity.send_email_verification(request.username, request.password)
    except Exception:
        # The account is made; a code that did not go out can be asked for again (POST /me/email/verification).
        logger.exception("Verification code not sent at sign-up")
    return to_me(profile)


def log_in(
    request: LoginRequest, source_address: str, identity: CognitoIdentity = _identity, guard: LoginGuard = _guard
) -> LoginTokens | LoginChallenge:
    """Failed log-ins are counted per account and source address, never so that someone else's guesses lock
    the owner out (pinhole.auth.login_guard)."""
    with guard.attempt(request.username.casefold(), source_address):
        result = identity.log_in(request.username, request.password)
    if isinstance(result, LoginTokens):
        _cancel_deletion(request.username, result, identity)
    return result


def _cancel_deletion(username: str, tokens: LoginTokens, identity: CognitoIdentity) -> None:
    """A log-in within a deleted account's grace period cancels the deletion; after it, none is given."""
    try:
        privacy.restore_on_login(username)
    except InvalidCredentials:
        identity.revoke(tokens.refresh_token)
        raise


def refresh(request: RefreshRequest, identity: CognitoIdentity = _identity) -> Tokens:
    return identity.refresh(request.refresh_token)


def log_out(
    refresh_token: str,
    identity: CognitoIdentity = _identity,
    profiles: ProfileRepository = _profiles,
    clock: Callable[[], float] = time.time,
) -> None:
    """The refresh token is revoked, and every access token of its session refused from then on: Cognito's
    revocation reaches its own calls only, never the JWT authorizer, so the session is recorded as logged out and
    checked where a sign-out everywhere is (pinhole.shared.api.current_caller, in the read it already makes).
    Recorded before it is revoked: a revoked token could not name its session again if the record failed."""
    session = identity.session_of(refresh_token)
    if session is not None:
        profiles.logged_out(session.user_id, session.origin_jti, session.expires_by, int(clock()))
        from pinhole.realtime.push import Pusher  # only the sign-outs talk to @connections

        Pusher().disconnect_all(session.user_id, session.origin_jti)  # its open WebSockets too
    identity.revoke(refresh_token)


# Two-factor at log-in


def _claim_totp_code(
    user_id: str, code: str, profiles: ProfileRepository, clock: Callable[[], float] = time.time
) -> None:
    """Cognito checks the code; this refuses the same code twice within its validity (a replay), whatever
    Cognito does, and before Cognito is asked."""
    if not profiles.claim_totp_code(user_id, code, clock(), TOTP_REPLAY_WINDOW_S):
        raise InvalidCode("The code is wrong, expired or already used.")


def log_in_with_totp(
    request: TotpLoginRequest,
    source_ip: str | None = None,
    identity: CognitoIdentity = _identity,
    profiles: ProfileRepository = _profiles,
) -> LoginTokens:
    rate_limits.enforce(request.username, "totp")
    _per_source(source_ip, "totp_source")
    user_id = profiles.id_of(request.username)  # a deactivated account too: logging in cancels its deletion
    if user_id is None:
        raise InvalidCode("The code or session is wrong, expired or already used.")
    _claim_totp_code(user_id, request.code, profiles)
    tokens = identity.answer_totp(request.username, request.session, request.code)
    _cancel_deletion(request.username, tokens, identity)
    return tokens


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def new_recovery_codes() -> list[str]:
    def one() -> str:
        letters = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
        return f"{letters[:5]}-{letters[5:]}"

    return [one() for _ in range(RECOVERY_CODE_COUNT)]


def log_in_with_recovery_code(
    request: RecoveryLoginRequest,
    source_ip: str | None = None,
    identity: CognitoIdentity = _identity,
    profiles: ProfileRepository = _profiles,
    guard: LoginGuard = _guard,
) -> LoginTokens:
    """The password, then one recovery code: two-factor goes off (the authenticator is lost) and the other
    codes with it; the tokens of an ordinary log-in come back, and, as any log-in, it reactivates an account deleted
    within its grace period. A wrong password uses up no code.

    Limited per account *and* source network, never per account alone: ten attempts from anywhere locked the owner
    out of her own recovery (docs/SECURITY.md, "Log-in guessing"). The password is checked under the log-in guard,
    with the password log-in's own counters (a guess here is a guess there); recovery codes need that password
    first and are 10 of 50 bits each, so `recovery_login` per source is enough for them."""
    source = source_ip or ""
    rate_limits.enforce(f"{request.username}|{source_network(source)}", "recovery_login")
    _per_source(source_ip, "totp_source")
    with guard.attempt(request.username.casefold(), source):
        first = identity.log_in(request.username, request.password)
    if isinstance(first, LoginTokens):
        identity.revoke(first.refresh_token)
        raise InvalidCode("Two-factor is not on for this account: log in with the password alone.")
    user_id = profiles.id_of(request.username)  # a deactivated account too: logging in cancels its deletion
    if user_id is None or not profiles.use_recovery_code(user_id, _hash(request.recovery_code)):
        raise InvalidCode("The recovery code is wrong or already used.")
    identity.turn_totp_off(request.username)
    tokens = identity.log_in(request.username, request.password)
    if not isinstance(tokens, LoginTokens):
        raise InvalidCredentials("Two-factor could not be turned off: try again.")
    _cancel_deletion(request.username, tokens, identity)  # first: a deactivated profile takes no update
    profiles.forget_recovery_codes(user_id)
    profiles.update(user_id, {"mfa_enabled": False})
    return tokens


# Passwords


def change_password(
    caller: Caller,
    access_token: str,
    request: ChangePasswordRequest,
    identity: CognitoIdentity = _identity,
    profiles: ProfileRepository = _profiles,
) -> None:
    """A new password signs the account out everywhere, the asking session too: whoever held a session (a stolen
    phone, a token from a log) must not outlive it. Keeping the asking session is not possible cleanly: Cognito's
    GlobalSignOut revokes every refresh token, the asking one included, and no Cognito call revokes all but one
    (each RevokeToken needs the refresh token itself, which only its device holds); and the route answers 204, so it
    cannot hand a new session over. The client logs in again with the new password."""
    rate_limits.enforce(caller.user_id, "password_change")
    check_password_rules(request.new_password, "new_password")
    identity.change_password(access_token, request.current_password, request.new_password)
    sign_out_everywhere(caller, access_token, identity, profiles)


def forgot_password(
    request: ForgotPasswordRequest, source_ip: str | None = None, identity: CognitoIdentity = _identity
) -> None:
    """Always the same answer (202), whether the account exists or not; the code goes to its verified
    address only. Limited per account and per source address: neither a mailbox nor Cognito is flooded."""
    rate_limits.enforce(request.username, "password_forgot")
    _per_source(source_ip, "password_forgot_source")
    identity.forgot_password(request.username)


def reset_password(
    request: ResetPasswordRequest,
    source_ip: str | None = None,
    identity: CognitoIdentity = _identity,
    profiles: ProfileRepository = _profiles,
) -> None:
    """A reset signs the account out everywhere: whoever took a session (or the password) before must not keep it
    once the owner has taken the account back with a code from her mailbox. No token asks, so Cognito's admin
    sign-out (AdminUserGlobalSignOut) revokes the refresh tokens."""
    rate_limits.enforce(request.username, "password_reset")
    _per_source(source_ip, "password_reset_source")
    check_password_rules(request.new_password, "new_password")
    identity.reset_password(request.username, request.code, request.new_password)
    identity.sign_out_user(request.username)
    user_id = profiles.id_of(request.username)
    if user_id is not None:
        _refuse_earlier_tokens(user_id, int(utc_now().timestamp()), profiles)


# E-mail verification


def verify_email(
    caller: Caller,
    access_token: str,
    request: VerifyEmailRequest,
    identity: CognitoIdentity = _identity,
    profiles: ProfileRepository = _profiles,
) -> None:
    if request.username != caller.username:
        raise Forbidden("You can verify your own e-mail address only.")
    rate_limits.enforce(caller.user_id, "verify_email")
    identity.verify_email(access_token, request.code)
    profiles.update(caller.user_id, {"email_verified": True})


def resend_email_verification(caller: Caller, access_token: str, identity: CognitoIdentity = _identity) -> None:
    rate_limits.enforce(caller.user_id, "verify_email_send")
    identity.resend_email_verification(access_token)


# Two-factor settings


def start_totp(
    caller: Caller, access_token: str, identity: CognitoIdentity = _identity, profiles: ProfileRepository = _profiles
) -> TotpSetup:
    """A new secret to set two-factor up with; refused (409) while two-factor is on. Cognito checks a code of the
    secret associated last (VerifySoftwareToken), so a new secret made while two-factor is on would become the
    one that turns it off: whoever holds a stolen access token could associate one and use its codes. Refused,
    the secret in force stays the only one a code is checked against; changing authenticator is off, then on."""
    if profiles.get_consistent(caller.user_id).mfa_enabled:
        raise Conflict("Two-factor is already on: turn it off first.")
    secret = identity.start_totp(access_token)
    label = quote(f"{ISSUER}:{caller.username}")
    return TotpSetup(secret=secret, otpauth_uri=f"otpauth://totp/{label}?secret={secret}&issuer={ISSUER}")


def enable_totp(
    caller: Caller,
    access_token: str,
    request: TotpEnableRequest,
    identity: CognitoIdentity = _identity,
    profiles: ProfileRepository = _profiles,
) -> None:
    """Two-factor on needs the password besides a code of the new secret: whoever holds a stolen access token could
    otherwise turn it on with his own authenticator, sign every session out, and lock the owner out for good (no
    recovery codes yet, and a password reset leaves two-factor on). Asked here rather than at `start_totp`: a secret
    can also be associated through Cognito's own endpoint with the token alone (docs/SECURITY.md, "Known gaps"), and
    this is the step that turns it on. The password is counted with every other password check of the account; the
    session is checked first, so a signed-out one is told to log in again and uses up no code."""
    rate_limits.enforce(caller.user_id, "password_check")
    rate_limits.enforce(caller.user_id, "totp")
    identity.ensure_signed_in(access_token)
    identity.check_password(caller.username, request.password)
    _claim_totp_code(caller.user_id, request.code, profiles)
    identity.verify_totp(access_token, request.code)
    identity.set_totp(access_token, enabled=True)
    profiles.update(caller.user_id, {"mfa_enabled": True})


def disable_totp(
    caller: Caller,
    access_token: str,
    code: str,
    identity: CognitoIdentity = _identity,
    profiles: ProfileRepository = _profiles,
) -> None:
    """A current code of the secret in force is needed: a stolen access token alone cannot take two-factor off
    (no other secret can be associated while it is on: `start_totp`). 409 when it is not on: a state, not a
    wrong input."""
    rate_limits.enforce(caller.user_id, "totp")
    if not profiles.get_consistent(caller.user_id).mfa_enabled:
        raise Conflict("Two-factor is not on.")
    identity.ensure_signed_in(access_token)  # a signed-out session must not use up the code it cannot use
    _claim_totp_code(caller.user_id, code, profiles)
    identity.verify_totp(access_token, code)
    identity.set_totp(access_token, enabled=False)
    profiles.forget_recovery_codes(caller.user_id)
    profiles.update(caller.user_id, {"mfa_enabled": False})


def issue_recovery_codes(
    caller: Caller, password: str, identity: CognitoIdentity = _identity, profiles: ProfileRepository = _profiles
) -> RecoveryCodes:
    """A new set of recovery codes (the old set stops working), shown once. Needs two-factor on and the
    password: a stolen access token cannot mint a way around the authenticator."""
    rate_limits.enforce(caller.user_id, "password_check")
    if not profiles.get_consistent(caller.user_id).mfa_enabled:
        raise Conflict("Turn two-factor on first: recovery codes replace its codes.")
    identity.check_password(caller.username, password)
    codes = new_recovery_codes()
    profiles.store_recovery_codes(caller.user_id, {_hash(code) for code in codes})
    return RecoveryCodes(recovery_codes=codes)


def sign_out_everywhere(
    caller: Caller, access_token: str, identity: CognitoIdentity = _identity, profiles: ProfileRepository = _profiles
) -> None:
    """Every refresh token of the account is revoked (GlobalSignOut), every access token issued before now stops
    authenticating (Cognito cannot recall them: our own check, pinhole.shared.api.current_caller), its WebSocket
    connections are closed and its phones forgotten (nothing is pushed to them any more)."""
    identity.sign_out_everywhere(access_token)
    now = int(utc_now().timestamp())
    # The watermark is in whole seconds and spares a token of the same second (a log-in right after must work):
    # the token that asked is refused by its session, whatever its second.
    asking = session_of_access_token(access_token)
    if asking is not None:
        profiles.logged_out(caller.user_id, asking.origin_jti, asking.expires_by, now)
    _refuse_earlier_tokens(caller.user_id, now, profiles)


def _refuse_earlier_tokens(user_id: str, now: int, profiles: ProfileRepository) -> None:
    """What a sign-out everywhere adds to Cognito's revocation of the refresh tokens: the access tokens issued
    before `now` refused, the account's WebSocket connections closed, its phones forgotten."""
    profiles.signed_out(user_id, now)
    from pinhole.push.logic import forget_devices  # only the sign-outs everywhere forget devices
    from pinhole.realtime.push import Pusher  # only the sign-outs talk to @connections

    Pusher().disconnect_all(user_id)
    forget_devices(user_id)
