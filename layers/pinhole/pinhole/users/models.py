"""The contracts of the users context: what API.md calls UserSummary and User, and the profile record."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Json, StringConstraints

from pinhole.media.limits import AVATAR_CONTENT_TYPES, CONTENT_TYPE_MAX, MAX_AVATAR_BYTES, declaration_schema
from pinhole.shared.json_numbers import INTEGRAL
from pinhole.shared.text import CONTROL, MULTI_LINE, ONE_LINE, SPACES, shows_nothing
from pinhole.upload.models import Upload
from pinhole.users.usernames import NEW_USERNAME_PATTERN, USERNAME_LENGTH, USERNAME_PATTERN

Username = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=USERNAME_PATTERN)]
"""A name that refers to someone: 3 to 30 chars of a-z 0-9 . _, compared case-insensitively, stored lower-case."""

NewUsername = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        min_length=USERNAME_LENGTH[0],
        max_length=USERNAME_LENGTH[1],
        pattern=NEW_USERNAME_PATTERN,
    ),
    Field(
        description="3-30 of a-z 0-9 . _ (upper case is read as lower case); no full stop first, last or twice in a "
        "row; at least one letter or digit. Some names are reserved (409 username_taken).",
        examples=["ada.lovelace_1"],
    ),
]
"""A name to sign up with: one every caption can mention exactly (`pinhole.users.usernames`)."""

DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64, pattern=ONE_LINE)]
"""Up to 64 characters of one line, trimmed; empty (or blank) means "show my username" (`display_name_or_username`)."""


Password = Annotated[str, Field(min_length=1, max_length=256, json_schema_extra={"format": "password"})]
"""A password as typed to log in: whatever the policy was when it was set."""


def display_name_or_username(display_name: str | None, username: str) -> str:
    """The name to store and show: an empty or blank display name, at sign-up or in PATCH /me, is the username,
    so no UserSummary ever shows an empty name (nor one of zero-width spaces or fillers, which looks empty)."""
    name = (display_name or "").strip()
    return username if shows_nothing(name) else name


Bio = Annotated[str, StringConstraints(max_length=150, pattern=MULTI_LINE)]

_ADDRESS_PART = rf"[^@{CONTROL}{SPACES}]+"
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        max_length=254,
        pattern=rf"^{_ADDRESS_PART}@{_ADDRESS_PART}\.{_ADDRESS_PART}$",
    ),
]
"""An address as people type it, name@domain.tld, without blanks or control characters: spelled out, not `\\s`,
which Python (the server) and ECMAScript (the document) read differently (\\x1c-\\x1f, \\x85, \\ufeff)."""


class StoredAvatarRendition(BaseModel):
    key: str
    width: int
    height: int
    content_type: str


class StoredAvatar(BaseModel):
    """The current avatar: where its renditions are (`avatars/<user>/<avatar_id>/...` of the media bucket)."""

    avatar_id: str
    width: int
    height: int
    blurhash: str
    renditions: dict[str, StoredAvatarRendition]


class AvatarStatus(StrEnum):
    PENDING = "pending"
    READY = "ready"
    REJECTED = "rejected"


class AvatarUpload(BaseModel):
    """The latest avatar upload and its outcome: what `GET /me` shows while (and after) it is processed."""

    avatar_id: str
    status: AvatarStatus
    content_type: str
    reason: str | None = None
    reason_code: str | None = None
    fail_after: datetime | None = None
    """When the upload, still pending, counts as never arrived: its link's expiry plus the grace posts get (later
    while resize retries a failed rendering). Absent on uploads started before it was kept: judged from the id's
    time."""


class Profile(BaseModel):
    """A user's stored profile: everything the users table keeps about them."""

    user_id: str
    username: str
    email: str
    display_name: str = ""
    bio: str = ""
    avatar: Json[StoredAvatar] | None = None
    avatar_upload: Json[AvatarUpload] | None = None
    is_private: bool = False
    follower_count: int = 0
    following_count: int = 0
    post_count: int = 0
    created_at: datetime
    suspended: bool = False
    # Mirrors of Cognito, kept by the routes that change them. Profiles made before e-mail verification
    # existed were created verified, hence the default.
    email_verified: bool = True
    mfa_enabled: bool = False


class ProfileUpdate(BaseModel):
    """PATCH /me: only these fields may change; anything else is refused, never ignored."""

    display_name: DisplayName | None = None
    bio: Bio | None = None
    is_private: Annotated[bool | None, Field(strict=True)] = None
    email: Annotated[
        Email | None,
        Field(
            description="A new address: it is unverified until POST /auth/verify-email with the code sent to it "
            "(reset codes keep going to the last verified address until then); needs `current_password`"
        ),
    ] = None
    current_password: Annotated[
        Password | None,
        Field(
            description="The account's password, required with `email` (422 without it, 401 invalid_credentials "
            "when wrong): an access token alone cannot move the account to another address. Taken only with an "
            "e-mail change: without `email` it is refused (422), never ignored"
        ),
    ] = None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"dependentRequired": {"email": ["current_password"], "current_password": ["email"]}},
    )

    def changes(self) -> dict[str, object]:
        """The profile's fields to change (the password is a credential, never stored)."""
        return self.model_dump(exclude_none=True, exclude={"current_password"})


class AvatarUploadRequest(BaseModel):
    """POST /me/avatar: what the client will upload (JPEG, PNG, WebP or HEIC, at most 10 MB)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra=declaration_schema([(AVATAR_CONTENT_TYPES, MAX_AVATAR_BYTES)])
    )

    content_type: Annotated[str, StringConstraints(max_length=CONTENT_TYPE_MAX)]
    size_bytes: Annotated[int, Field(strict=True, gt=0, le=2**53), INTEGRAL]


class AvatarUploadResponse(BaseModel):
    upload: Upload


class AvatarRendition(BaseModel):
    url: str
    width: int
    height: int
    content_type: str


class Avatar(BaseModel):
    """API.md `avatar`: square centre crops `large` (320), `medium` (150), `small` (48), each also `*_webp`."""

    url: str = Field(description="The 150 px JPEG, as avatar_url")
    width: int = Field(description="Of the picture at `url` (150: a square crop, whatever was uploaded)")
    height: int = Field(description="Of the picture at `url` (150)")
    blurhash: str
    renditions: dict[str, AvatarRendition]


class UserSummary(BaseModel):
    user_id: str
    username: str
    display_name: str
    avatar_url: str | None = Field(description="The 150 px square JPEG of the avatar; null without one")
    avatar: Avatar | None


class User(UserSummary):
    bio: str
    is_private: bool
    follower_count: int
    following_count: int
    post_count: int
    followed_by_me: bool
    follow_requested_by_me: bool
    created_at: str = Field(description="ISO 8601 UTC, e.g. 2026-11-22T10:00:00.123Z")


class AvatarUploadView(BaseModel):
    avatar_id: str
    status: AvatarStatus
    reason: str | None = Field(description="Why a rejected upload was refused, for people")
    reason_code: str | None = Field(description="The same for machines (as a Media item's reason_code)")


class Me(User):
    email: str
    email_verified: bool
    mfa_enabled: bool
    avatar_upload: AvatarUploadView | None = Field(
        description="The latest avatar upload: pending while it is processed, rejected with a reason (the "
        "previous avatar stays), ready once it is the avatar; null when none was made or the avatar was removed"
    )
