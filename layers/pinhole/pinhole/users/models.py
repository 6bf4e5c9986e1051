"""The contracts of the users context: what API.md calls UserSummary and User, and the profile record."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# Checked before lower-casing (pydantic's order), so it admits upper case; the stored form is lower-case.
USERNAME_PATTERN = r"^[A-Za-z0-9._]{3,30}$"

Username = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=USERNAME_PATTERN)]
"""3 to 30 chars of a-z 0-9 . _, compared case-insensitively, stored lower-case."""

DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)]
Bio = Annotated[str, StringConstraints(max_length=150)]


class Profile(BaseModel):
    """A user's stored profile: everything the users table keeps about them."""

    user_id: str
    username: str
    email: str
    display_name: str = ""
    bio: str = ""
    avatar_url: str | None = None
    is_private: bool = False
    follower_count: int = 0
    following_count: int = 0
    post_count: int = 0
    created_at: datetime
    suspended: bool = False


class ProfileUpdate(BaseModel):
    """PATCH /me: only these fields may change; anything else is refused, never ignored."""

    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName | None = None
    bio: Bio | None = None
    is_private: Annotated[bool | None, Field(strict=True)] = None

    def changes(self) -> dict[str, object]:
        return self.model_dump(exclude_none=True)


class UserSummary(BaseModel):
    user_id: str
    username: str
    display_name: str
    avatar_url: str | None


class User(UserSummary):
    bio: str
    is_private: bool
    follower_count: int
    following_count: int
    post_count: int
    followed_by_me: bool
    follow_requested_by_me: bool
    created_at: str = Field(description="ISO 8601 UTC, e.g. 2026-11-22T10:00:00.123Z")


class Me(User):
    email: str
