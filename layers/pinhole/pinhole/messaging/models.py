"""The contracts of the messaging context: API.md's Message and Conversation (direct and group), the
HTTP bodies, and the WebSocket frames both ways."""

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from pinhole.posts.models import Media, MediaDeclaration, StoredMedia, Upload
from pinhole.shared.idempotency import KEY_MAX
from pinhole.shared.text import MULTI_LINE_TEXT, ONE_LINE_TEXT
from pinhole.users.models import Username, UserSummary

TEXT_MAX = 2000
CLIENT_ID_MAX = KEY_MAX  # a client_id is the message's Idempotency-Key over the WebSocket
TITLE_MAX = 100
GROUP_MIN = 3
"""A group holds 3 to 32 members, its creator included (API.md: 2–31 others)."""
GROUP_MAX = 32

MessageText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TEXT_MAX, pattern=MULTI_LINE_TEXT)
]
"""1 to 2000 characters once trimmed."""
ClientId = Annotated[str, StringConstraints(min_length=1, max_length=CLIENT_ID_MAX, pattern=r"^[\x21-\x7e]+$")]
"""The sender's own id for a message: it comes back in the ack, and a retried send with it is a no-op."""
MessageId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
ConversationIdText = Annotated[str, StringConstraints(min_length=1, max_length=160)]
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX, pattern=ONE_LINE_TEXT)
]
MessageKind = Literal["text", "media", "system"]
ConversationKind = Literal["direct", "group"]
SystemEventType = Literal["created", "joined", "left", "removed", "title_changed"]


class SystemEvent(BaseModel):
    """What a system message records: who did it is the message's sender; whom it concerns, `usernames`."""

    type: SystemEventType
    usernames: list[str] = Field(default_factory=list, description="Who joined, left or was removed")
    title: str | None = Field(default=None, description="The new title (title_changed), or the group's at creation")


class Message(BaseModel):
    message_id: str
    conversation_id: str
    sender: UserSummary
    text: str
    created_at: str = Field(description="ISO 8601 UTC, e.g. 2026-11-22T10:00:00.123Z")
    kind: MessageKind = "text"
    media: Media | None = Field(
        default=None, description="A photo message's picture; its rendition URLs are signed and expire in minutes"
    )
    event: SystemEvent | None = Field(default=None, description="System messages only: what happened")


class Conversation(BaseModel):
    conversation_id: str
    kind: ConversationKind = "direct"
    with_: UserSummary | None = Field(alias="with", serialization_alias="with", description="Direct ones only")
    title: str | None = None
    members: list[UserSummary] = Field(default_factory=list, description="Everyone in it, the caller included")
    admin: UserSummary | None = Field(
        default=None,
        description="Groups only: who removes members — the creator, then (once they left) the longest-standing member",
    )
    last_message: Message | None
    unread_count: int
    muted: bool = Field(default=False, description="The caller muted it: its messages are not pushed to their phones")

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class SentMessage(Message):
    """The answer to a send: the message, and with media the pre-signed upload its file goes to."""

    upload: Upload | None = None


class MessageRecord(BaseModel):
    """A stored message, with its sender as an id. A media message is `delivered` once its picture is ready:
    until then only its sender knows of it."""

    message_id: str
    conversation_id: str
    sender_id: str
    text: str
    created_at: str
    kind: MessageKind = "text"
    media: StoredMedia | None = None
    event: SystemEvent | None = None
    removed: bool = False  # by a moderator: nobody sees it (its sender neither) until it is restored

    @property
    def delivered(self) -> bool:
        return self.media is None or self.media.status == "ready"

    @property
    def pending(self) -> bool:
        """A media message whose picture or video is still being made (only its sender knows of it)."""
        return self.media is not None and self.media.status == "pending"


class GroupRecord(BaseModel):
    """A group conversation's own item: who is in it now, who was, who removes members (`admin_id`: the creator,
    handed on when the admin leaves), and a version every change moves on."""

    conversation_id: str
    creator_id: str
    admin_id: str
    title: str | None
    member_ids: list[str]
    former_ids: list[str] = Field(default_factory=list)
    version: int
    created_at: str


class InboxEntry(BaseModel):
    """One member's view of a conversation: whom it is with (direct ones), its latest message, what is
    unread, and the part of a group's history the member may read (from joining to leaving)."""

    conversation_id: str
    user_id: str
    with_id: str
    last_message: MessageRecord | None
    unread_count: int
    read_up_to: str | None
    visible_from: str | None = None
    visible_until: str | None = None
    muted: bool = False
    # a member who left: the group as it was when they did (what they hear nothing of since is not theirs to see)
    title_when_left: str | None = None
    members_when_left: list[str] | None = None
    admin_when_left: str | None = None
    # the inbox index's sort key (the latest message id, which an unsend leaves in place): where a page goes on from
    last_activity: str | None = None

    @property
    def left(self) -> bool:
        return self.visible_until is not None

    def group_as_seen(self, group: GroupRecord) -> GroupRecord:
        """The group as this member may see it: as it is, or, once they left, as it was then."""
        if not self.left or self.members_when_left is None:
            return group
        update = {"title": self.title_when_left, "member_ids": self.members_when_left}
        return group.model_copy(update={**update, "admin_id": self.admin_when_left or group.admin_id})


def _never_null(schema: dict[str, Any]) -> None:
    """A field's JSON schema without its `null` alternative: the field may be left out, never sent as null."""
    alternatives = [kind for kind in schema.pop("anyOf", []) if kind.get("type") != "null"]
    if len(alternatives) == 1:
        schema.update(alternatives[0])
    elif alternatives:
        schema["anyOf"] = alternatives
    schema.pop("default", None)


_ONE_DESTINATION_AND_SOMETHING_TO_SAY: dict[str, Any] = {
    "allOf": [
        {"oneOf": [{"required": ["to"]}, {"required": ["conversation_id"]}]},
        {"anyOf": [{"required": ["text"]}, {"required": ["media"]}]},
    ]
}


class SendMessageRequest(BaseModel):
    """To a person (`to`, the direct conversation) or to any conversation one is in (`conversation_id`);
    text, a photo or video, or both. A field is given or left out, never null."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_ONE_DESTINATION_AND_SOMETHING_TO_SAY)

    # Optional in Python (left out is None), never null in JSON (`_no_nulls`): the document shows each as its type
    # alone, and an invalid value is reported against the field (`text`), not a branch of a union
    # (`text.constrained-str` and `text.none`, as `X | SkipJsonSchema[None]` did)
    to: Username | None = Field(default=None, json_schema_extra=_never_null)
    conversation_id: ConversationIdText | None = Field(default=None, json_schema_extra=_never_null)
    text: MessageText | None = Field(default=None, json_schema_extra=_never_null)
    media: MediaDeclaration | None = Field(default=None, json_schema_extra=_never_null)

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            nulls = [name for name in ("to", "conversation_id", "text", "media") if name in data and data[name] is None]
            if nulls:
                raise ValueError(f"leave out what you do not give, rather than null: {', '.join(nulls)}")
        return data

    @model_validator(mode="after")
    def _one_destination_and_something_to_say(self) -> "SendMessageRequest":
        if (self.to is None) == (self.conversation_id is None):
            raise ValueError("give exactly one of `to` and `conversation_id`")
        if self.text is None and self.media is None:
            raise ValueError("give `text`, `media` or both")
        return self


def _each_once(usernames: Any) -> Any:
    """A list that names someone twice, as written, is refused, not merged (a group of `[bob, bob]` is one person
    short, and its sender should hear so), as the document says (`uniqueItems`). `bob` and `BOB` are also one
    person, but the document cannot say so; they are merged (`_merged`), and counted once."""
    names = usernames if isinstance(usernames, list) and all(isinstance(name, str) for name in usernames) else []
    if len(set(names)) < len(names):
        raise ValueError("name each person once")
    return usernames


def _merged(usernames: list[str]) -> list[str]:
    """Each name once, now that all are lower case: the validated form of `[bob, BOB]` is `[bob]`, as a retry
    with an Idempotency-Key compares it."""
    return list(dict.fromkeys(usernames))


DIFFERENT_PEOPLE = (
    Field(json_schema_extra={"uniqueItems": True}),
    BeforeValidator(_each_once),
    AfterValidator(_merged),
)
"""A list of usernames that names each person once."""


class CreateConversationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # GROUP_MAX names, one of them possibly the caller's: only the logic, which knows who asks, counts the others
    members: Annotated[
        list[Username],
        Field(
            min_length=GROUP_MIN - 1,
            max_length=GROUP_MAX,
            description="2–31 others; your own username, if given (in any case), is ignored before counting, so 32 "
            "names are taken only when yours is one of them",
        ),
        *DIFFERENT_PEOPLE,
    ]
    title: Title | None = None

    def as_retried_by(self, username: str) -> "CreateConversationRequest":
        """The request as a retry with the same Idempotency-Key is compared to it: one group however its members
        are named — in any order, with or without the caller's own name (`username`), which `create_group` leaves
        out. The members stay as named in the request itself: its "created" message lists them so."""
        return self.model_copy(update={"members": sorted(name for name in self.members if name != username)})


class UpdateConversationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title | None = Field(description="The new title; null clears it")


class AddMembersRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    usernames: Annotated[list[Username], Field(min_length=1, max_length=GROUP_MAX - 1), *DIFFERENT_PEOPLE]


class MarkReadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    up_to: MessageId


# WebSocket frames, client → server (the `action` picks the route).


class SendMessageFrame(SendMessageRequest):
    action: Literal["sendMessage"]
    client_id: ClientId


class MarkReadFrame(MarkReadRequest):
    action: Literal["markRead"]
    conversation_id: ConversationIdText


class TypingFrame(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["typing"]
    conversation_id: ConversationIdText


# WebSocket frames, server → client.


class AckFrame(BaseModel):
    """The sender's answer over the WebSocket: the message as `POST /messages` answers it (with `upload`)."""

    type: Literal["ack"] = "ack"
    client_id: str
    message: SentMessage


class MessageFrame(BaseModel):
    type: Literal["message"] = "message"
    message: Message


class ReadFrame(BaseModel):
    type: Literal["read"] = "read"
    conversation_id: str
    up_to: str
    by: str


class TypingNoticeFrame(BaseModel):
    type: Literal["typing"] = "typing"
    conversation_id: str
    by: str


class MessageDeletedFrame(BaseModel):
    type: Literal["message_deleted"] = "message_deleted"
    conversation_id: str
    message_id: str


class ConversationFrame(BaseModel):
    type: Literal["conversation"] = "conversation"
    conversation: Conversation


class PongFrame(BaseModel):
    type: Literal["pong"] = "pong"


class ErrorFrame(BaseModel):
    type: Literal["error"] = "error"
    code: str
    message: str
    client_id: str | None = None
    retry_after_s: int | None = None

    model_config = ConfigDict(json_schema_extra={"description": "A bad frame; the connection stays open."})
