"""The contracts of the notifications context: API.md's Notification and its WebSocket frame, the body
of POST /notifications/read, and the intent that travels on the queue from the streams to delivery."""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from pinhole.users.models import UserSummary

NotificationId = Annotated[str, StringConstraints(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")]
"""A ULID, as GET /notifications hands them out."""


class NotificationType(StrEnum):
    LIKE = "like"
    COMMENT = "comment"
    FOLLOW = "follow"
    FOLLOW_REQUEST = "follow_request"
    MENTION = "mention"
    CONTENT_REMOVED = "content_removed"  # a moderator removed the recipient's post or story: `reason` says why
    CONTENT_RESTORED = "content_restored"  # ... or put it back (or published it after review)
    EXPORT_READY = "export_ready"  # your data export can be downloaded (GET /me/export); you are the actor


MODERATION_NOTICES = frozenset({NotificationType.CONTENT_REMOVED, NotificationType.CONTENT_RESTORED})
MODERATORS_ACTOR = "moderators"
"""The actor id a moderation notice is stored with: Pinhole's moderators, never a moderator by name."""


class Notification(BaseModel):
    notification_id: str
    type: NotificationType
    actor: UserSummary | None = Field(
        description="The latest of `actors`; null for a moderation notice (Pinhole's moderators)"
    )
    actors: list[UserSummary] = Field(
        description="The latest few people it is about, newest first; empty for a moderation notice"
    )
    actor_count: int = Field(
        description="How many people it is about (likes or comments on a post group); 0 for a moderation notice"
    )
    post_id: str | None
    comment_id: str | None
    reason: str | None = Field(default=None, description="A moderation notice's reason, in the moderator's words")
    created_at: str = Field(description="When it happened: ISO 8601 UTC, e.g. 2026-11-22T10:00:00.123Z")
    read: bool


class NotificationFrame(BaseModel):
    """Pushed to every open connection of the recipient as soon as a notification is stored."""

    type: Literal["notification"] = "notification"
    notification: Notification
    replaces: str | None = Field(
        default=None, description="The id of the grouped notification this one supersedes (drop it from the list)"
    )


class UnreadCount(BaseModel):
    """GET /notifications/unread-count: what a badge shows, cheap enough to poll (one read)."""

    count: int


class ReadNotificationsRequest(BaseModel):
    """The optional body of POST /notifications/read: without `up_to`, everything there is becomes read."""

    model_config = ConfigDict(extra="forbid")

    up_to: NotificationId | None = Field(
        default=None, description="This notification and every older one are read; newer ones are not"
    )


class ActorActivity(BaseModel):
    """An actor's latest activity in a group: when (a like's or a comment's time), and which comment."""

    at: str
    comment_id: str | None = None


class NotificationRecord(BaseModel):
    """A notification as the table keeps it: the actor by id (profiles change), no read flag (the
    recipient's read watermark decides that at read time). A group's `comment_id` and `created_at` are those of
    its latest actor's latest activity; `activity` keeps each actor's, so that a reader shown only some of the
    actors (a block) is given the newest comment of those (`led_by`)."""

    notification_id: str
    user_id: str
    type: NotificationType
    actor_id: str
    actor_ids: list[str] = Field(default_factory=list, description="Latest first; the group's, or the one actor")
    actor_count: int = 1
    activity: dict[str, ActorActivity] = Field(
        default_factory=dict,
        description="A group's: each of `actor_ids`' latest activity in it (absent: stored before)",
    )
    post_id: str | None = None
    comment_id: str | None = None
    reason: str | None = None
    created_at: str

    @property
    def actors_newest_first(self) -> list[str]:
        return self.actor_ids or [self.actor_id]

    def led_by(self, actor_id: str) -> "NotificationRecord":
        """The notification as a reader is shown it whose newest visible actor is `actor_id`: about that actor's
        latest comment (or like), at its time."""
        latest = self.activity.get(actor_id)
        if latest is None or actor_id == self.actor_id:
            return self
        return self.model_copy(update={"comment_id": latest.comment_id, "created_at": latest.at})


class IntentAction(StrEnum):
    CREATE = "create"
    RETRACT = "retract"


class NotificationIntent(BaseModel):
    """What the streams consumer asks delivery to do: create a notification, or take it back.

    The recipient is named by id (a follow, a request), by username (a mention: delivery looks the user
    up), or not at all (a like or a comment notifies the post's author, whom delivery looks up)."""

    model_config = ConfigDict(frozen=True)

    action: IntentAction
    type: NotificationType
    source: str = Field(
        description="The key of the item that caused it (`post#<p>/like#<u>`): the notification's identity "
        "per recipient and type, and the FIFO message group, so a like and its undoing keep their order"
    )
    actor_id: str
    recipient_id: str | None = None
    mentioned: str | None = None
    post_id: str | None = None
    comment_id: str | None = None
    created_at: str | None = None
    moderated: bool = Field(
        default=False,
        description="A moderator's removal (retract) or restore (create): a closed group's count is history, "
        "left as it is by the one and so found by the other",
    )
