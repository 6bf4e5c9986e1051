"""The files of a data export, as a person reads them (GDPR Art. 15 and 20; Instagram's "Download your information"
is the model): one model per file or row, documented field by field in docs/PRIVACY.md. Numbers are numbers,
booleans booleans, times API.md's ISO 8601 UTC with `Z`; no table keys, index keys or version counters; another
person is named by id, username and display name, never by an id alone; credentials never appear."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, PlainSerializer

from pinhole.shared.clock import to_iso


def _moment(value: Any) -> Any:
    """A time as a table keeps it: PynamoDB's `2026-11-22T10:00:00.123456+0000` or the API's `...Z`."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


Timestamp = Annotated[datetime, BeforeValidator(_moment), PlainSerializer(to_iso, return_type=str)]
"""ISO 8601 UTC with milliseconds and `Z`, e.g. 2026-11-22T10:00:00.123Z (API.md)."""


class Person(BaseModel):
    """Someone the file is about. `username` and `display_name` are null when the account no longer shows (deleted,
    or deactivated and waiting for its deletion): what the export knows of them then is the id alone."""

    user_id: str
    username: str | None
    display_name: str | None


class ExportedAvatar(BaseModel):
    avatar_id: str
    width: int
    height: int
    file: str = Field(description="Its original in the zip: media/avatars/<user_id>/<avatar_id>")


class ExportedAvatarUpload(BaseModel):
    """The last avatar upload's outcome (a rejected one says why)."""

    avatar_id: str
    status: str
    reason: str | None


class ExportedProfile(BaseModel):
    """profile.json."""

    user_id: str
    username: str
    email: str
    email_verified: bool
    mfa_enabled: bool
    display_name: str
    bio: str
    is_private: bool
    follower_count: int
    following_count: int
    post_count: int
    created_at: Timestamp
    avatar: ExportedAvatar | None
    avatar_upload: ExportedAvatarUpload | None
    deactivated_at: Timestamp | None = Field(description="When they asked to delete the account (null: never)")
    purge_after: Timestamp | None = Field(description="When that deletion becomes final")


class ExportedMedia(BaseModel):
    media_id: str
    type: str = Field(description="image or video")
    status: str = Field(description="pending, ready or rejected")
    file: str | None = Field(description="Its original in the zip (media/posts/<post_id>/<media_id>) once uploaded")


class ExportedPost(BaseModel):
    """A row of posts.json: a post or a story."""

    post_id: str
    kind: str = Field(description="post or story")
    caption: str
    tags: list[str]
    mentions: list[str]
    status: str = Field(
        description="pending, published, failed, in_review (held by automatic screening) or removed (by a moderator)"
    )
    created_at: Timestamp
    published_at: Timestamp | None
    edited_at: Timestamp | None
    media: list[ExportedMedia] = Field(description="In the post's order")


class ExportedComment(BaseModel):
    """A row of comments.json: a comment they wrote."""

    comment_id: str
    post_id: str
    text: str
    removed: bool = Field(description="A moderator removed it (hidden from everyone)")
    created_at: Timestamp


class ExportedLike(BaseModel):
    """A row of likes.json: a post they like."""

    post_id: str
    created_at: Timestamp


class ExportedSave(BaseModel):
    """A row of saved.json: a post in one of their collections (a post in two collections is two rows)."""

    post_id: str
    collection: str
    created_at: Timestamp


class ExportedVisit(BaseModel):
    """A row of profile_visits.json: a profile they visited, when last (a signal of the ranked feed)."""

    user: Person
    visited_at: Timestamp


class ExportedRelationship(BaseModel):
    """A row of following.json, followers.json, blocks.json, mutes.json, follow_requests_sent.json and
    follow_requests_received.json: the other person, and since when."""

    user: Person
    created_at: Timestamp


class ExportedMessageMedia(BaseModel):
    media_id: str
    type: str = Field(description="image or video")
    file: str | None = Field(
        description="Its original in the zip (media/messages/<conversation_id>/<message_id>/<media_id>) when they "
        "sent it; null for one they received (the original is the sender's)"
    )


class ExportedMessage(BaseModel):
    """A row of messages.json: a message they sent or could read."""

    conversation_id: str
    with_user: Person | None = Field(description="The other person of a direct conversation; null in a group")
    message_id: str
    sender: Person
    sent_by_me: bool
    kind: str = Field(description="text, media or system (a group's event: created, renamed, joined, left...)")
    text: str | None
    media: ExportedMessageMedia | None
    event: dict[str, Any] | None = Field(description="A system message's event, as the API shows it")
    removed: bool = Field(
        description="A moderator removed it (hidden from every participant): only their own such messages are here"
    )
    created_at: Timestamp


class ExportedGroup(BaseModel):
    """A row of groups.json: a group conversation they are or were in."""

    conversation_id: str
    title: str | None
    created_at: Timestamp
    created_by_me: bool
    members: list[Person] = Field(description="Its members now")
    joined_at_message: str | None = Field(description="The message id from which they could read it")
    left_at_message: str | None = Field(description="The message id up to which they could (null: still in it)")


class ExportedNotification(BaseModel):
    """A row of notifications.json: a notification they received (notifications expire after 90 days)."""

    notification_id: str
    type: str = Field(description="like, comment, follow, follow_request, mention, content_removed, ...")
    actors: list[Person] = Field(
        description="Who it is about, newest first (a group of likes or comments keeps its latest 10); empty for "
        "a moderation notice (Pinhole's moderators, never one by name)"
    )
    actor_count: int = Field(description="How many people it is about; 0 for a moderation notice")
    post_id: str | None
    comment_id: str | None
    reason: str | None = Field(description="A moderation notice's reason")
    created_at: Timestamp
    read: bool


class ExportedDevice(BaseModel):
    """A row of devices.json: a phone registered for push (never its push token or SNS endpoint)."""

    device_id: str
    platform: str
    created_at: Timestamp


class ExportedReport(BaseModel):
    """A row of reports.json: a report they filed."""

    report_id: str
    target_type: str = Field(description="post, comment, story, user or message")
    target_id: str
    target_user: Person | None = Field(description="The person reported, when the target is a user")
    reason: str
    note: str | None
    status: str = Field(description="open, actioned or dismissed")
    created_at: Timestamp
