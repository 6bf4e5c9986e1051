"""Use cases of the auth context: sign up (identity + profile, all or nothing), log in, refresh."""

from collections.abc import Callable

from pinhole.auth.identity import CognitoIdentity
from pinhole.auth.login_guard import LoginGuard
from pinhole.auth.models import LoginRequest, LoginTokens, RefreshRequest, SignUpRequest, Tokens
from pinhole.auth.password_policy import password_problems
from pinhole.shared import rate_limits
from pinhole.shared.clock import utc_now
from pinhole.shared.errors import ValidationFailed
from pinhole.shared.network import source_network
from pinhole.users.dal import ProfileRepository
from pinhole.users.logic import to_me
from pinhole.users.models import Me, Profile

_identity = CognitoIdentity()
_profiles = ProfileRepository()
_guard = LoginGuard()


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
    if problems := password_problems(request.password):
        raise ValidationFailed(
            "The password is too weak.", [{"field": "password", "message": problem} for problem in problems]
        )
    user_id = identity.create_user(request.username, request.email, request.password)
    profile = Profile(
        user_id=user_id,
        username=request.username,
        email=request.email,
        display_name=request.display_name or request.username,
        created_at=utc_now(),
    )
    try:
        profiles.create(profile)
    except Exception:
        # An account without a profile would hold the username forever: undo it.
        identity.delete_user(request.username)
        raise
    return to_me(profile)


def log_in(
    request: LoginRequest, source_address: str, identity: CognitoIdentity = _identity, guard: LoginGuard = _guard
) -> LoginTokens:
    """Failed log-ins are counted per account and source address, never so that someone else's guesses lock
    the owner out (pinhole.auth.login_guard)."""
    with guard.attempt(request.username.casefold(), source_address):
        return identity.log_in(request.username, request.password)


def refresh(request: RefreshRequest, identity: CognitoIdentity = _identity) -> Tokens:
    return identity.refresh(request.refresh_token)
