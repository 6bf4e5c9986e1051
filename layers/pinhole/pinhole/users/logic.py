"""Use cases of the users context: reading and editing profiles."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pinhole.graph.dal import GraphRepository
from pinhole.graph.models import Relationship
from pinhole.shared import rate_limits
from pinhole.shared.caller import Caller
from pinhole.shared.clock import to_iso, utc_now
from pinhole.shared.errors import AccountSuspended, NotFound, ValidationFailed
from pinhole.shared.ids import time_of
from pinhole.social.dal import InteractionRepository
from pinhole.upload.signer import UPLOAD_GRACE, UPLOAD_WINDOW
from pinhole.users.dal import ProfileRepository
from pinhole.users.models import (
    AvatarStatus,
    AvatarUpload,
    AvatarUploadView,
    Me,
    Profile,
    ProfileUpdate,
    User,
    display_name_or_username,
)
from pinhole.users.usernames import DELETED_USERNAME
from pinhole.users.views import summary_of

_profiles = ProfileRepository()
_graph = GraphRepository()
_visits = InteractionRepository()


DELETED_ACCOUNT_PREFIX = "deleted-"
"""The stand-in id of a purged account where others keep something it took part in (a conversation)."""


def deleted_account(placeholder_id: str) -> Profile:
    """Who a purged account shows as: no name, no picture, nothing that was theirs."""
    return Profile(
        user_id=placeholder_id,
        username=DELETED_USERNAME,
        email="",
        display_name="Deleted account",
        created_at=datetime(1970, 1, 1, tzinfo=UTC),
    )


def is_deleted_account(user_id: str) -> bool:
    return user_id.startswith(DELETED_ACCOUNT_PREFIX)


def to_user(profile: Profile, relation: Relationship | None = None) -> User:
    relation = relation or Relationship()
    return User(
        **summary_of(profile).model_dump(),
        bio=profile.bio,
        is_private=profile.is_private,
        follower_count=profile.follower_count,
        following_count=profile.following_count,
        post_count=profile.post_count,
        followed_by_me=relation.following,
        follow_requested_by_me=relation.requested,
        created_at=to_iso(profile.created_at),
    )


AVATAR_UPLOAD_MISSING = "upload_missing"  # a Media item's reason_code when its upload never came
AVATAR_UPLOAD_MISSING_REASON = "The picture never arrived: upload it again."


def avatar_upload_as_of(upload: AvatarUpload, now: datetime) -> AvatarUpload:
    """The latest avatar upload as the user is told of it: one still pending past its deadline (its upload link's
    expiry plus the posts' grace) never arrived, and is `rejected` with `upload_missing` (the previous avatar stays).
    Judged as it is read, not by a sweep: no other item waits on an avatar, and the users table has no index of the
    pending ones. A late settlement by resize (the file came in time, its rendering was retried) still wins."""
    if upload.status != AvatarStatus.PENDING:
        return upload
    deadline = upload.fail_after or time_of(upload.avatar_id) + UPLOAD_WINDOW + UPLOAD_GRACE
    if now < deadline:
        return upload
    return upload.model_copy(
        update={
            "status": AvatarStatus.REJECTED,
            "reason": AVATAR_UPLOAD_MISSING_REASON,
            "reason_code": AVATAR_UPLOAD_MISSING,
        }
    )


def to_me(profile: Profile, now: datetime | None = None) -> Me:
    upload = avatar_upload_as_of(profile.avatar_upload, now or utc_now()) if profile.avatar_upload else None
    return Me(
        **to_user(profile).model_dump(),
        email=profile.email,
        email_verified=profile.email_verified,
        mfa_enabled=profile.mfa_enabled,
        avatar_upload=AvatarUploadView(**upload.model_dump(exclude={"content_type", "fail_after"})) if upload else None,
    )


def active_profile(user_id: str, profiles: ProfileRepository = _profiles) -> Profile:
    """The profile of someone about to post, comment or message: refused (403 account_suspended) while a
    moderator has them suspended (their access token may outlive the suspension by up to an hour)."""
    profile = profiles.get(user_id)
    if profile.suspended:
        raise AccountSuspended("This account is suspended.")
    return profile


def get_me(caller: Caller, profiles: ProfileRepository = _profiles) -> Me:
    return to_me(profiles.get_consistent(caller.user_id))


def update_me(
    caller: Caller,
    update: ProfileUpdate,
    access_token: Callable[[], str] = lambda: "",
    profiles: ProfileRepository = _profiles,
    identity: Any = None,
) -> Me:
    """An empty display name is the username, as at sign-up. A new e-mail address needs the password
    (`change_email`); `access_token` is asked for only then."""
    if update.current_password is not None and update.email is None:
        # Refused, not ignored (API.md): a password given for nothing would pass unchecked, a wrong one said right.
        raise ValidationFailed(
            "The current password is taken only with an e-mail change.",
            [
                {
                    "field": "current_password",
                    "type": "extra_forbidden",
                    "message": "Give the current password only with an e-mail change.",
                }
            ],
        )
    changes = update.changes()
    if "display_name" in changes:
        changes["display_name"] = display_name_or_username(str(changes["display_name"]), caller.username)
    email = changes.pop("email", None)
    if email is not None:
        if update.current_password is None:
            raise ValidationFailed(
                "The current password is needed to change the e-mail address.",
                [{"field": "current_password", "type": "missing", "message": "Field required with email"}],
            )
        changes |= change_email(
            caller, access_token(), str(email), update.current_password, profiles, identity or _identity()
        )
    return to_me(profiles.update(caller.user_id, changes))


def change_email(
    caller: Caller, access_token: str, email: str, password: str, profiles: ProfileRepository, identity: Any
) -> dict[str, object]:
    """The profile's changes for moving the account to `email`: none when it shows that address already. A stolen
    access token alone must not do it: the address is where password resets go, so whoever sets it owns the
    account. So the password is checked (counted with every other password check of the account), the token must
    still be one Cognito honours (a session the account's deletion signed out is told to log in again, not that the
    password is wrong). Cognito keeps the old address, verified, until the new one is verified (the pool's
    keepOriginal), so until then a reset code still goes there, not to an address nobody proved; going back to that
    verified address while a new one is pending cancels the change (Cognito takes the value the attribute holds as
    no change: no code), and the profile shows it verified again, as it is for reset codes."""
    rate_limits.enforce(caller.user_id, "password_check")
    verified = identity.verified_email(access_token)  # also: a signed-out session is 401, not a wrong password
    identity.check_password(caller.username, password)
    if email == profiles.get_consistent(caller.user_id).email:
        return {}  # the same address again: nothing to verify
    identity.change_email(access_token, email)
    return {"email": email, "email_verified": email == verified}


def _identity() -> Any:
    # Imported on first use: only PATCH /me with an e-mail needs Cognito.
    from pinhole.auth.identity import CognitoIdentity

    return CognitoIdentity()


def find_visible(
    viewer: Caller, username: str, profiles: ProfileRepository = _profiles, graph: GraphRepository = _graph
) -> Profile:
    """The user called `username` as the viewer may see them: if either blocks the other, NotFound,
    the very answer given for a name nobody has. The viewer's own name is read from the table, not the
    username index, which lags behind a sign-up (a GSI is eventually consistent)."""
    if username == viewer.username:
        return profiles.get(viewer.user_id)
    profile = profiles.find_by_username(username)
    if profile.user_id != viewer.user_id and graph.blocked_between(viewer.user_id, profile.user_id):
        raise NotFound(f"No user is called {username}.")
    return profile


def relationship(viewer_id: str, other_id: str, graph: GraphRepository = _graph) -> Relationship:
    if viewer_id == other_id:
        return Relationship()
    following = graph.is_following(viewer_id, other_id)
    return Relationship(following=following, requested=not following and graph.has_requested(viewer_id, other_id))


def get_user(
    caller: Caller,
    username: str,
    profiles: ProfileRepository = _profiles,
    graph: GraphRepository = _graph,
    visits: InteractionRepository = _visits,
) -> User:
    profile = find_visible(caller, username, profiles, graph)
    if profile.user_id != caller.user_id:
        visits.record_visit(caller.user_id, profile.user_id)  # a signal of the ranked feed (pinhole.feed.signals)
    return to_user(profile, relationship(caller.user_id, profile.user_id, graph))
