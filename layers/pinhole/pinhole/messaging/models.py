"""The contracts of the messaging context: API.md's Message and Conversation, the HTTP bodies, and
the WebSocket frames both ways."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from pinhole.users.models import Username, UserSummary

TEXT_MAX = 2000
CLIENT_ID_MAX = 64

MessageText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TEXT_MAX)]
"""1 to 2000 characters once trimmed."""
ClientId = Annotated[str, StringConstraints(min_length=1, max_length=CLIENT_ID_MAX, pattern=r"^[\x21-\x7e]+$")]
"""The sender's own id for a message: it comes back in the ack, and a retried send with it is a no-op."""
MessageId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class Message(BaseModel):
    message_id: str
    conversation_id: str
    sender: UserSummary
    text: str
    created_at: str = Field(description="ISO 8601 UTC, e.g. 2026-11-22T10:00:00.123Z")


class Conversation(BaseModel):
    conversation_id: str
    with_: UserSummary = Field(alias="with", serialization_alias="with")
    last_message: Message | None
    unread_count: int

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class MessageRecord(BaseModel):
    """A stored message, with its sender as an id."""

    message_id: str
    conversation_id: str
    sender_id: str
    text: str
    created_at: str


class InboxEntry(BaseModel):
    """One side's view of a conversation: whom it is with, its latest message, what is unread."""

    conversation_id: str
    user_id: str
    with_id: str
    last_message: MessageRecord | None
    unread_count: int
    read_up_to: str | None


class SendMessageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Username
    text: MessageText


class MarkReadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    up_to: MessageId


# WebSocket frames, client → server (the `action` picks the route).


class SendMessageFrame(SendMessageRequest):
    action: Literal["sendMessage"]
    client_id: ClientId


class MarkReadFrame(MarkReadRequest):
    action: Literal["markRead"]
    conversation_id: Annotated[str, StringConstraints(min_length=1, max_length=160)]


# WebSocket frames, server → client.


class AckFrame(BaseModel):
    type: Literal["ack"] = "ack"
    client_id: str
    message: Message


class MessageFrame(BaseModel):
    type: Literal["message"] = "message"
    message: Message


class ReadFrame(BaseModel):
    type: Literal["read"] = "read"
    conversation_id: str
    up_to: str
    by: str


class PongFrame(BaseModel):
    type: Literal["pong"] = "pong"


class ErrorFrame(BaseModel):
    type: Literal["error"] = "error"
    code: str
    message: str
    client_id: str | None = None
    retry_after_s: int | None = None

    model_config = ConfigDict(json_schema_extra={"description": "A bad frame; the connection stays open."})
