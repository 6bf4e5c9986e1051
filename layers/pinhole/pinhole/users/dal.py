"""Persistence of user profiles. PynamoDB objects never leave this module.

A suspended user (a moderator's action, pinhole.moderation) is read here as if their profile were deleted:
`get_many` leaves them out and `find_by_username` does not find them, so every surface that hydrates people —
feeds, grids, tags, comments, likes, search, stories, notifications, conversations — hides them and their
content the way it already hides deleted users, with no extra read. `get` (by id) still returns them, flagged,
for the callers that must know: their own requests (refused) and moderators (who see everything)."""

from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from pinhole.shared.errors import Conflict, NotFound
from pinhole.shared.settings import get_settings
from pinhole.users.models import AvatarUpload, Profile, StoredAvatar

_settings = get_settings()


class UsernameIndex(GlobalSecondaryIndex["UserModel"]):
    class Meta:
        index_name = "username-index"
        projection = AllProjection()

    username = UnicodeAttribute(hash_key=True)


class UserModel(Model):
    class Meta:
        table_name = _settings.users_table_name
        region = _settings.region
        billing_mode = "PAY_PER_REQUEST"
        stream_view_type = "NEW_AND_OLD_IMAGES"

    user_id = UnicodeAttribute(hash_key=True)
    username = UnicodeAttribute()
    email = UnicodeAttribute()
    display_name = UnicodeAttribute(default="")
    bio = UnicodeAttribute(default="")
    avatar_url = UnicodeAttribute(null=True)  # unused: the URL is derived from `avatar` at read time
    avatar = UnicodeAttribute(null=True)  # JSON of StoredAvatar
    avatar_upload = UnicodeAttribute(null=True)  # JSON of AvatarUpload
    avatar_upload_id = UnicodeAttribute(null=True)  # the upload resize may settle (a condition's operand)
    is_private = BooleanAttribute(default=False)
    follower_count = NumberAttribute(default=0)
    following_count = NumberAttribute(default=0)
    post_count = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    suspended = BooleanAttribute(null=True)
    signed_out_at = NumberAttribute(null=True)  # epoch s of the last sign-out everywhere: older tokens are refused
    # Sessions logged out whose access tokens may not have expired yet: "<origin_jti> <epoch s they all expire by>"
    revoked_sessions = UnicodeSetAttribute(null=True)
    email_verified = BooleanAttribute(null=True)
    mfa_enabled = BooleanAttribute(null=True)
    # Credentials: never part of a Profile (read only here, through the methods below).
    recovery_codes = UnicodeSetAttribute(null=True)  # SHA-256 of each unused recovery code
    totp_last_code = UnicodeAttribute(null=True)  # the last TOTP code accepted, and when: replay refused
    totp_last_used_at = NumberAttribute(null=True)
    # Deletion (pinhole.privacy): set while the account is deactivated, a purge pending after `purge_after`;
    # `purging` once the purge began (no way back). A deactivated profile reads as absent everywhere.
    deactivated_at = UTCDateTimeAttribute(null=True)
    purge_after = UTCDateTimeAttribute(null=True)
    purging = BooleanAttribute(null=True)

    by_username = UsernameIndex()


_CREDENTIALS = (
    "recovery_codes",
    "totp_last_code",
    "totp_last_used_at",
    "avatar_url",
    "avatar_upload_id",
    "deactivated_at",
    "purge_after",
    "purging",
    "revoked_sessions",
)


def is_deactivated(item: UserModel) -> bool:
    return item.deactivated_at is not None or bool(item.purging)


def _to_profile(item: UserModel) -> Profile:
    values = {name: value for name, value in item.attribute_values.items() if value is not None}
    for name in _CREDENTIALS:
        values.pop(name, None)
    return Profile.model_validate(values)


def _is_conditional_failure(error: PutError | UpdateError) -> bool:
    return error.cause_response_code == "ConditionalCheckFailedException"


def _revoked_session(origin_jti: str, expires_by: int) -> str:
    return f"{origin_jti} {expires_by}"


def _session_of(entry: str) -> tuple[str, int]:
    origin_jti, _, expires_by = entry.rpartition(" ")
    return origin_jti, int(expires_by)


@dataclass(frozen=True)
class TokenStanding:
    """What an access token's user has done since it was issued, as far as the token is concerned."""

    suspended: bool
    signed_out_at: int | None
    logged_out_sessions: frozenset[str] = frozenset()  # `origin_jti`s of sessions logged out (POST /auth/logout)
    deactivated: bool = False  # deleted, within the grace period: the HTTP API takes the token only to undo it

    def signed_out(self, issued_at: int | None, origin_jti: str | None) -> bool:
        """Whether the token no longer speaks for its user: issued before the last sign-out everywhere, or of a
        session logged out since (its refresh token revoked: every access token it issued shares its
        `origin_jti`)."""
        return self.signed_out_since(issued_at) or (origin_jti is not None and origin_jti in self.logged_out_sessions)

    def signed_out_since(self, issued_at: int | None) -> bool:
        """Whether a token issued at `issued_at` (its `iat`, epoch s; None: unknown, taken as long ago) predates
        the last sign-out everywhere. A token issued in the same second as the sign-out still counts as after it
        (a log-in right after signing out must work); one the second before does not."""
        return self.signed_out_at is not None and (issued_at or 0) < self.signed_out_at


class ProfileRepository:
    def create(self, profile: Profile) -> None:
        item = UserModel(**profile.model_dump(exclude={"avatar", "avatar_upload", "suspended"}))
        try:
            item.save(condition=UserModel.user_id.does_not_exist())
        except PutError as error:
            if _is_conditional_failure(error):
                raise Conflict("This user already has a profile.") from error
            raise

    # A deactivated account (deleted, within its grace period) is absent to every reader, as a block hides
    # a user: no profile, posts, stories, comments, likes or messages of theirs show (pinhole.privacy).

    def get(self, user_id: str) -> Profile:
        try:
            item = UserModel.get(user_id)
        except DoesNotExist as error:
            raise NotFound("No such user.") from error
        if is_deactivated(item):
            raise NotFound("No such user.")
        return _to_profile(item)

    def get_many(self, user_ids: list[str], *, include_suspended: bool = False) -> dict[str, Profile]:
        """Profiles by id, in one BatchGetItem per 100 ids; ids of deleted (or deactivated, or suspended) users are
        absent."""
        unique = list(dict.fromkeys(user_ids))
        items = UserModel.batch_get(unique) if unique else []
        found = [_to_profile(item) for item in items if not is_deactivated(item)]
        return {profile.user_id: profile for profile in found if include_suspended or not profile.suspended}

    def find_by_username(self, username: str, *, include_suspended: bool = False) -> Profile:
        for item in UserModel.by_username.query(username, limit=1):
            if not is_deactivated(item):
                profile = _to_profile(item)
                if include_suspended or not profile.suspended:
                    return profile
        raise NotFound(f"No user is called {username}.")

    def id_of(self, username: str) -> str | None:
        """The id of an account, deactivated or not (logging in is how a deactivated one comes back)."""
        for item in UserModel.by_username.query(username, limit=1):
            return item.user_id
        return None

    def token_standing(self, user_id: str) -> TokenStanding:
        """Whether a moderator has this user suspended, when they last signed out everywhere, which sessions they
        logged out and whether they deleted the account: one eventually consistent GetItem of those attributes
        (half a read unit for a profile under 4 KB, whatever the projection). Run once per authenticated request
        (pinhole.shared.api.current_caller) and WebSocket handshake, so a token that outlives a suspension, a
        sign-out or a log-out authenticates nothing."""
        try:
            item = UserModel.get(
                user_id,
                attributes_to_get=["suspended", "signed_out_at", "revoked_sessions", "deactivated_at", "purging"],
            )
        except DoesNotExist:
            return TokenStanding(suspended=False, signed_out_at=None)
        signed_out_at = int(item.signed_out_at) if item.signed_out_at is not None else None
        sessions = frozenset(_session_of(entry)[0] for entry in item.revoked_sessions or ())
        return TokenStanding(
            suspended=bool(item.suspended),
            signed_out_at=signed_out_at,
            logged_out_sessions=sessions,
            deactivated=is_deactivated(item),
        )

    def signed_out(self, user_id: str, at: int) -> None:
        """Every access token issued before `at` (epoch s) stops authenticating (a sign-out everywhere)."""
        UserModel(user_id=user_id).update(
            actions=[UserModel.signed_out_at.set(at)], condition=UserModel.user_id.exists()
        )

    def logged_out(self, user_id: str, origin_jti: str, expires_by: int, now: int) -> None:
        """Every access token of the session `origin_jti` stops authenticating; it is remembered until `expires_by`
        (epoch s), when the last of them has expired anyway, and forgotten at a later log-out (two writes:
        DynamoDB cannot add to and delete from one set in one update). A user gone meanwhile: nothing to do."""
        item = UserModel(user_id=user_id)
        try:
            item.update(
                actions=[UserModel.revoked_sessions.add({_revoked_session(origin_jti, expires_by)})],
                condition=UserModel.user_id.exists(),
            )
        except UpdateError as error:
            if _is_conditional_failure(error):
                return
            raise
        expired = {entry for entry in item.revoked_sessions or () if _session_of(entry)[1] <= now}
        if expired:
            UserModel(user_id=user_id).update(actions=[UserModel.revoked_sessions.delete(expired)])

    def set_suspended(self, user_id: str, suspended: bool) -> bool:
        """Suspends or reinstates the user; False if they already were (or were not)."""
        not_suspended = UserModel.suspended.does_not_exist() | UserModel.suspended.is_in(False)
        flag = not_suspended if suspended else UserModel.suspended.is_in(True)
        condition = UserModel.user_id.exists() & flag
        actions: list[Action] = [UserModel.suspended.set(True) if suspended else UserModel.suspended.remove()]
        try:
            UserModel(user_id=user_id).update(actions=actions, condition=condition)
        except UpdateError as error:
            if _is_conditional_failure(error):
                return False
            raise
        return True

    def update(self, user_id: str, changes: dict[str, object]) -> Profile:
        item = UserModel(user_id=user_id)
        actions = [getattr(UserModel, name).set(value) for name, value in changes.items()]
        if not actions:
            return self.get(user_id)
        try:
            item.update(
                actions=actions, condition=UserModel.user_id.exists() & UserModel.deactivated_at.does_not_exist()
            )
        except UpdateError as error:
            if _is_conditional_failure(error):
                raise NotFound("No such user.") from error
            raise
        return _to_profile(item)

    # Avatar: one upload at a time may settle; the latest started wins (`avatar_upload_id`).

    def start_avatar_upload(self, user_id: str, upload: AvatarUpload) -> None:
        self.update(
            user_id,
            {"avatar_upload": upload.model_dump_json(), "avatar_upload_id": upload.avatar_id},
        )

    def keep_avatar_upload_pending(self, user_id: str, upload: AvatarUpload, kept: AvatarUpload) -> bool:
        """`kept` (the same pending upload, a later deadline) in place of `upload`, if that is still exactly what is
        stored; False when it was settled, replaced or removed meanwhile (nothing changed)."""
        try:
            UserModel(user_id=user_id).update(
                actions=[UserModel.avatar_upload.set(kept.model_dump_json())],
                condition=(UserModel.avatar_upload_id == upload.avatar_id)
                & (UserModel.avatar_upload == upload.model_dump_json()),
            )
        except UpdateError as error:
            if _is_conditional_failure(error):
                return False
            raise
        return True

    def get_consistent(self, user_id: str) -> Profile:
        try:
            item = UserModel.get(user_id, consistent_read=True)
        except DoesNotExist as error:
            raise NotFound("No such user.") from error
        if is_deactivated(item):
            raise NotFound("No such user.")
        return _to_profile(item)

    def settle_avatar_upload(self, user_id: str, upload: AvatarUpload, avatar: StoredAvatar | None) -> bool:
        """Records the outcome of upload `upload.avatar_id` (and, when ready, makes `avatar` the avatar) if it
        is still the latest upload; False when a newer upload or a removal came first (nothing changed)."""
        actions: list[Any] = [UserModel.avatar_upload.set(upload.model_dump_json())]
        if avatar is not None:
            actions.append(UserModel.avatar.set(avatar.model_dump_json()))
        try:
            UserModel(user_id=user_id).update(actions=actions, condition=UserModel.avatar_upload_id == upload.avatar_id)
        except UpdateError as error:
            if _is_conditional_failure(error):
                return False
            raise
        return True

    def remove_avatar(self, user_id: str, expected_upload_id: str | None) -> bool:
        """No avatar and no upload in flight any more, if the latest upload is still `expected_upload_id`
        (the caller read it, with the avatar whose renditions it will delete); False otherwise."""
        same_upload = (
            UserModel.avatar_upload_id == expected_upload_id
            if expected_upload_id
            else UserModel.avatar_upload_id.does_not_exist()
        )
        try:
            UserModel(user_id=user_id).update(
                actions=[
                    UserModel.avatar.remove(),
                    UserModel.avatar_upload.remove(),
                    UserModel.avatar_upload_id.remove(),
                ],
                condition=UserModel.user_id.exists() & same_upload,
            )
        except UpdateError as error:
            if _is_conditional_failure(error):
                return False
            raise
        return True

    def avatar_upload_id(self, user_id: str) -> str | None:
        # The key too: an item read for absent attributes only comes back empty, as if it did not exist.
        item = UserModel.get(user_id, consistent_read=True, attributes_to_get=["user_id", "avatar_upload_id"])
        return item.avatar_upload_id

    # Two-factor credentials

    def store_recovery_codes(self, user_id: str, hashes: set[str]) -> None:
        UserModel(user_id=user_id).update(
            actions=[UserModel.recovery_codes.set(hashes)], condition=UserModel.user_id.exists()
        )

    def forget_recovery_codes(self, user_id: str) -> None:
        UserModel(user_id=user_id).update(actions=[UserModel.recovery_codes.remove()])

    def use_recovery_code(self, user_id: str, code_hash: str) -> bool:
        """Takes the code out of the unused set if it is there: each code works once, even raced."""
        try:
            UserModel(user_id=user_id).update(
                actions=[UserModel.recovery_codes.delete({code_hash})],
                condition=UserModel.recovery_codes.contains(code_hash),
            )
        except UpdateError as error:
            if _is_conditional_failure(error):
                return False
            raise
        return True

    def claim_totp_code(self, user_id: str, code: str, now: float, window_s: float) -> bool:
        """Records `code` as used unless the same code was accepted within the last `window_s` seconds
        (a replay); False then."""
        try:
            UserModel(user_id=user_id).update(
                actions=[UserModel.totp_last_code.set(code), UserModel.totp_last_used_at.set(now)],
                condition=UserModel.user_id.exists()
                & (
                    UserModel.totp_last_code.does_not_exist()
                    | (UserModel.totp_last_code != code)
                    | (UserModel.totp_last_used_at < now - window_s)
                ),
            )
        except UpdateError as error:
            if _is_conditional_failure(error):
                return False
            raise
        return True
