"""Use cases of direct messages. Only the two participants of a conversation can read or write it,
and a conversation hidden by a block is, for either side, as if it did not exist. A message is
stored (both inboxes included) before anyone hears of it; then it is pushed to every open
connection of the recipient and to the sender's other connections."""

from pinhole.graph.dal import GraphRepository
from pinhole.messaging.dal import MessageRepository
from pinhole.messaging.models import (
    Conversation,
    InboxEntry,
    Message,
    MessageFrame,
    MessageRecord,
    ReadFrame,
    SendMessageRequest,
)
from pinhole.realtime.push import Pusher
from pinhole.shared import rate_limits
from pinhole.shared.caller import Caller
from pinhole.shared.clock import to_iso, utc_now
from pinhole.shared.errors import CannotMessageSelf, Forbidden, IdempotencyKeyReused, NotFound
from pinhole.shared.ids import new_id
from pinhole.shared.pages import next_cursor, start_after
from pinhole.users.dal import ProfileRepository
from pinhole.users.logic import active_profile, summary_of
from pinhole.users.models import Profile

_messages = MessageRepository()
_profiles = ProfileRepository()
_graph = GraphRepository()
_pusher = Pusher()

SEPARATOR = "_"  # user ids are Cognito subs (UUIDs): never contain it


def conversation_id_of(user_a: str, user_b: str) -> str:
    """The one conversation of a pair, whoever writes first: both ids, in order."""
    return SEPARATOR.join(sorted((user_a, user_b)))


def _other_participant(caller: Caller, conversation_id: str) -> str:
    """The other side of a conversation the caller takes part in; NotFound for anyone else."""
    participants = conversation_id.split(SEPARATOR)
    if len(participants) != 2 or caller.user_id not in participants or participants[0] == participants[1]:
        raise NotFound("No such conversation.")
    return participants[1] if participants[0] == caller.user_id else participants[0]


def _to_message(record: MessageRecord, sender: Profile) -> Message:
    return Message(
        message_id=record.message_id,
        conversation_id=record.conversation_id,
        sender=summary_of(sender),
        text=record.text,
        created_at=record.created_at,
    )


def send(
    caller: Caller,
    request: SendMessageRequest,
    client_id: str | None = None,
    from_connection: str | None = None,
    messages: MessageRepository = _messages,
    profiles: ProfileRepository = _profiles,
    graph: GraphRepository = _graph,
    pusher: Pusher = _pusher,
) -> Message:
    """Stores and delivers a message; a retry with the same `client_id` returns the first one and
    delivers nothing again, unless the first attempt failed before it was pushed: then the retry
    pushes it. The same `client_id` with another recipient or text is IdempotencyKeyReused (the message
    stays unsent). `from_connection`: the sender's connection, answered with an ack instead."""
    sender = active_profile(caller.user_id, profiles)
    recipient = profiles.find_by_username(request.to)
    if recipient.user_id == caller.user_id:
        raise CannotMessageSelf("You cannot message yourself.", [{"field": "to"}])
    if graph.blocked_between(caller.user_id, recipient.user_id):
        raise Forbidden(f"You cannot message {recipient.username}.")
    rate_limits.enforce(caller.user_id, "message")
    record = MessageRecord(
        message_id=new_id(),
        conversation_id=conversation_id_of(caller.user_id, recipient.user_id),
        sender_id=caller.user_id,
        text=request.text,
        created_at=to_iso(utc_now()),
    )
    sent = messages.send(record, recipient.user_id, client_id)
    if (sent.message.conversation_id, sent.message.text) != (record.conversation_id, record.text):
        # The id first sent another message: answering with that one would say this one was sent.
        raise IdempotencyKeyReused()
    message = _to_message(sent.message, sender)
    if sent.unpushed:
        pusher.push([recipient.user_id, caller.user_id], MessageFrame(message=message), skip_connection=from_connection)
        if client_id is not None:
            messages.mark_pushed(caller.user_id, client_id)
    return message


def _visible_entry(
    caller: Caller, conversation_id: str, messages: MessageRepository, graph: GraphRepository
) -> tuple[str, InboxEntry]:
    other_id = _other_participant(caller, conversation_id)
    entry = messages.entry(caller.user_id, conversation_id)
    if entry is None or graph.blocked_between(caller.user_id, other_id):
        raise NotFound("No such conversation.")
    return other_id, entry


def conversation_messages(
    caller: Caller,
    conversation_id: str,
    limit: int,
    cursor: str | None,
    messages: MessageRepository = _messages,
    profiles: ProfileRepository = _profiles,
    graph: GraphRepository = _graph,
) -> tuple[list[Message], str | None]:
    """A page of a conversation, newest first."""
    _visible_entry(caller, conversation_id, messages, graph)
    scope = f"messages:{conversation_id}"
    records, last_key = messages.messages(conversation_id, limit, start_after(cursor, scope))
    senders = profiles.get_many([record.sender_id for record in records])
    page = [_to_message(record, senders[record.sender_id]) for record in records if record.sender_id in senders]
    return page, next_cursor(last_key, scope)


def conversations(
    caller: Caller,
    limit: int,
    cursor: str | None,
    messages: MessageRepository = _messages,
    profiles: ProfileRepository = _profiles,
    graph: GraphRepository = _graph,
) -> tuple[list[Conversation], str | None]:
    """A page of the caller's conversations, latest activity first, without those a block hides."""
    scope = f"conversations:{caller.user_id}"
    entries, last_key = messages.inbox(caller.user_id, limit, start_after(cursor, scope))
    hidden = graph.blocked_among(caller.user_id, [entry.with_id for entry in entries])
    people = profiles.get_many([entry.with_id for entry in entries] + [caller.user_id])
    page = [
        Conversation.model_validate(
            {
                "conversation_id": entry.conversation_id,
                "with": summary_of(people[entry.with_id]),
                "last_message": (
                    _to_message(entry.last_message, people[entry.last_message.sender_id])
                    if entry.last_message
                    else None
                ),
                "unread_count": entry.unread_count,
            }
        )
        for entry in entries
        if entry.with_id in people and entry.with_id not in hidden
    ]
    return page, next_cursor(last_key, scope)


def mark_read(
    caller: Caller,
    conversation_id: str,
    up_to: str,
    from_connection: str | None = None,
    messages: MessageRepository = _messages,
    graph: GraphRepository = _graph,
    pusher: Pusher = _pusher,
) -> None:
    """Everything up to `up_to` is read by the caller: their unread count drops to what came after it,
    and both sides' connections hear of it (the other side's read receipt, the caller's other devices)."""
    other_id, _ = _visible_entry(caller, conversation_id, messages, graph)
    if messages.get_message(conversation_id, up_to) is None:
        raise NotFound("No such message in this conversation.")
    unread = messages.unread_after(conversation_id, caller.user_id, up_to)
    if messages.mark_read(caller.user_id, conversation_id, up_to, unread):
        frame = ReadFrame(conversation_id=conversation_id, up_to=up_to, by=caller.username)
        pusher.push([other_id, caller.user_id], frame, skip_connection=from_connection)
