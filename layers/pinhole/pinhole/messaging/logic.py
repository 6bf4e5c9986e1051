"""Use cases of messaging: direct conversations (two people, one per pair) and groups (3 to 32 members).

Only members read or write a conversation; to anyone else it does not exist (404). A direct
conversation hidden by a block is, for either side, as if it did not exist. Nobody joins a group in a
block with one of its members. A member who left keeps the history up to leaving and nothing after; a
removed member keeps nothing. A message is stored with every member's inbox entry in one transaction
before anyone hears of it; then it is pushed to every open connection of the members but the sender's
own (answered directly). A photo message is stored first and delivered once its picture is ready."""

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from pinhole.graph.dal import GraphRepository
from pinhole.messaging.dal import EntryFix, MessageRepository, Sent, inbox_page_key
from pinhole.messaging.media import MessageMediaStorage, MessageUploadKey, conversation_prefix, message_prefix
from pinhole.messaging.models import (
    GROUP_MAX,
    AddMembersRequest,
    Conversation,
    ConversationFrame,
    CreateConversationRequest,
    GroupRecord,
    InboxEntry,
    Message,
    MessageDeletedFrame,
    MessageFrame,
    MessageRecord,
    ReadFrame,
    SendMessageRequest,
    SentMessage,
    SystemEvent,
    SystemEventType,
    TypingNoticeFrame,
)
from pinhole.posts.logic import UPLOAD_MISSING, checked_media
from pinhole.posts.models import Media, MediaStatus, Rendition, StoredMedia, Upload
from pinhole.push.queue import push_message
from pinhole.realtime.push import Pusher
from pinhole.shared import rate_limits
from pinhole.shared.caller import Caller
from pinhole.shared.clock import to_iso, utc_now
from pinhole.shared.errors import (
    CannotMessageSelf,
    FirstResultGone,
    Forbidden,
    IdempotencyKeyReused,
    NotAGroup,
    NotFound,
    RateLimited,
    ValidationFailed,
)
from pinhole.shared.ids import new_id
from pinhole.shared.observability import logger
from pinhole.shared.pages import filled_page, next_cursor, start_after
from pinhole.upload.signer import UploadSigner
from pinhole.users.dal import ProfileRepository
from pinhole.users.logic import active_profile, deleted_account, is_deleted_account, summary_of
from pinhole.users.models import Profile

_messages = MessageRepository()
_profiles = ProfileRepository()
_graph = GraphRepository()
_pusher = Pusher()
_media = MessageMediaStorage()
_signer = UploadSigner()

MEDIA_UPLOAD_MISSING_REASON = "The photo or video never arrived: send it again."
SEPARATOR = "_"  # user ids are Cognito subs (UUIDs): never contain it
GROUP_PREFIX = "g-"
CHANGE_ATTEMPTS = 5
"""A group send or change re-reads the group and tries again when another change got in first."""


def conversation_id_of(user_a: str, user_b: str) -> str:
    """The one conversation of a pair, whoever writes first: both ids, in order."""
    return SEPARATOR.join(sorted((user_a, user_b)))


def is_group(conversation_id: str) -> bool:
    return conversation_id.startswith(GROUP_PREFIX)


def _other_participant(caller: Caller, conversation_id: str) -> str:
    """The other side of a conversation the caller takes part in; NotFound for anyone else."""
    participants = conversation_id.split(SEPARATOR)
    if len(participants) != 2 or caller.user_id not in participants or participants[0] == participants[1]:
        raise NotFound("No such conversation.")
    return participants[1] if participants[0] == caller.user_id else participants[0]


@dataclass(frozen=True)
class Standing:
    """The caller in a conversation: their inbox entry, and either the other side or the group."""

    conversation_id: str
    entry: InboxEntry
    other_id: str | None = None
    group: GroupRecord | None = None

    @property
    def member_ids(self) -> list[str]:
        """Who receives what is sent to it now."""
        if self.group is not None:
            return self.group.member_ids
        assert self.other_id is not None
        return [self.entry.user_id, self.other_id]

    def can_read(self, record: MessageRecord) -> bool:
        """Whether the caller may see this message: within their window in a group, a photo message before its
        picture is ready only by its sender, and one a moderator removed by nobody."""
        visible_from, until = self.entry.visible_from, self.entry.visible_until
        in_window = (visible_from is None or record.message_id >= visible_from) and (
            until is None or record.message_id <= until
        )
        return in_window and not record.removed and (record.delivered or record.sender_id == self.entry.user_id)


def _gone_for(
    caller: Caller, other_id: str, graph: GraphRepository, profiles: ProfileRepository, *, blocks: bool = True
) -> bool:
    """Whether the other side of a direct conversation is gone for the caller, so that the conversation is as if
    it did not exist: a block either way (unless `blocks` is False), or an account suspended or deactivated (absent
    from every read of people, as `get_many` leaves them out). A purged account's side stays, shown as the deleted
    account."""
    if blocks and graph.blocked_between(caller.user_id, other_id):
        return True
    return not is_deleted_account(other_id) and other_id not in profiles.get_many([other_id])


def _standing(
    caller: Caller,
    conversation_id: str,
    messages: MessageRepository,
    graph: GraphRepository,
    profiles: ProfileRepository,
    *,
    member: bool = False,
    despite_blocks: bool = False,
) -> Standing:
    """The caller's standing in the conversation; NotFound if they are no part of it (or, with `member`, no
    longer: a member who left may read up to leaving, and do nothing more), and for a direct one whose other side
    is gone for them (`_gone_for`): every route, HTTP or WebSocket, answers as for a conversation that does not
    exist, so that none tells a hidden account from nobody."""
    if is_group(conversation_id):
        entry = messages.entry(caller.user_id, conversation_id)
        group = messages.group(conversation_id) if entry is not None else None
        if entry is None or group is None or (member and caller.user_id not in group.member_ids):
            raise NotFound("No such conversation.")
        return Standing(conversation_id, entry, group=group)
    other_id = _other_participant(caller, conversation_id)
    entry = messages.entry(caller.user_id, conversation_id)
    if entry is None or _gone_for(caller, other_id, graph, profiles, blocks=not despite_blocks):
        raise NotFound("No such conversation.")
    return Standing(conversation_id, entry, other_id=other_id)


def _media_view(media: StoredMedia, storage: MessageMediaStorage) -> Media:
    """A message's picture with every rendition behind a short-lived signed URL."""
    renditions = {
        name: Rendition(
            url=storage.signed_url(rendition.key),
            width=rendition.width,
            height=rendition.height,
            content_type=rendition.content_type,
        )
        for name, rendition in media.rendition_keys.items()
    }
    return Media(
        media_id=media.media_id,
        type=media.type,
        status=media.status,
        reason=media.reason,
        reason_code=media.reason_code,
        width=media.width,
        height=media.height,
        blurhash=media.blurhash,
        duration_s=media.duration_s,
        renditions=renditions,
    )


def _to_message(
    record: MessageRecord,
    sender: Profile,
    storage: MessageMediaStorage = _media,
    shown_usernames: Collection[str] | None = None,
) -> Message:
    """The message as its reader sees it; with `shown_usernames` (the people the reader may see among those a
    system message could name: the group's members and former members), a system message names only them, in its
    event and its sentence, as `members` leaves out a suspended or deactivated account."""
    event, text = record.event, record.text
    if event is not None and shown_usernames is not None:
        named = [username for username in event.usernames if username in shown_usernames]
        if named != event.usernames:
            event = event.model_copy(update={"usernames": named})
            text = _sentence(sender.username, event)
    return Message(
        message_id=record.message_id,
        conversation_id=record.conversation_id,
        sender=summary_of(sender),
        text=text,
        created_at=record.created_at,
        kind=record.kind,
        media=_media_view(record.media, storage) if record.media else None,
        event=event,
    )


def _usernames(people: Iterable[Profile]) -> set[str]:
    return {person.username for person in people}


def after_delivery(message: Message, recipient_ids: list[str]) -> None:
    """HOOK for push to phones (issue 15 item 5, the push context): called once per message when it reached
    every inbox and went out to open connections, with the members who should hear of it (its sender
    excluded). Mobile push of DMs plugs in here; messaging itself does nothing more."""
    push_message(message, recipient_ids)  # to their phones, through the push queue


def _sign_message_upload(record: MessageRecord, signer: UploadSigner) -> Upload:
    from pinhole.media.limits import max_upload_bytes

    media = record.media
    assert media is not None
    key = MessageUploadKey(record.conversation_id, record.message_id, media.media_id)
    signed = signer.sign(str(key), media.content_type, min(media.size_bytes, max_upload_bytes(media.content_type)))
    return Upload(media_id=media.media_id, url=signed.url, fields=signed.fields, expires_at=to_iso(signed.expires_at))


def _checked_message_media(request: SendMessageRequest) -> StoredMedia | None:
    """A photo or video as posts take them (API.md "Upload": type, and size up to 30 MB or 200 MB; a video's
    90 s is checked by transcode, which refuses a longer one). A message shows no transcode progress."""
    if request.media is None:
        return None
    return checked_media(request.media, "media").model_copy(update={"processing": None})


def send(
    caller: Caller,
    request: SendMessageRequest,
    client_id: str | None = None,
    from_connection: str | None = None,
    messages: MessageRepository = _messages,
    profiles: ProfileRepository = _profiles,
    graph: GraphRepository = _graph,
    pusher: Pusher = _pusher,
    signer: UploadSigner = _signer,
) -> SentMessage:
    """Stores and delivers a message (a photo message: stores it and answers its upload; it is delivered
    when the picture is ready). A retry with the same `client_id` returns the first one and delivers
    nothing again, unless the first attempt failed before it was pushed: then the retry pushes it
    (`_deliver_once`: one that races the first attempt leaves the pushing to whichever claimed it). The
    same `client_id` with another conversation or text is IdempotencyKeyReused (the message stays unsent).
    `from_connection`: the sender's connection, answered with an ack instead. A suspended sender is refused
    (403 account_suspended)."""
    sender = active_profile(caller.user_id, profiles)
    if request.to is not None:
        recipient = profiles.find_by_username(request.to)
        if recipient.user_id == caller.user_id:
            raise CannotMessageSelf("You cannot message yourself.", [{"field": "to"}])
        if graph.blocked_between(caller.user_id, recipient.user_id):
            raise Forbidden(f"You cannot message {recipient.username}.")
        conversation_id, group = conversation_id_of(caller.user_id, recipient.user_id), None
        member_ids = [caller.user_id, recipient.user_id]
    else:
        assert request.conversation_id is not None
        standing = _standing(caller, request.conversation_id, messages, graph, profiles, member=True)
        conversation_id, group, member_ids = standing.conversation_id, standing.group, standing.member_ids
    media = _checked_message_media(request)
    rate_limits.enforce(caller.user_id, "message")
    record = MessageRecord(
        message_id=new_id(),
        conversation_id=conversation_id,
        sender_id=caller.user_id,
        text=request.text or "",
        created_at=to_iso(utc_now()),
        kind="media" if media else "text",
        media=media,
    )
    try:
        if group is None:
            sent = messages.send(record, member_ids[1], client_id)
        else:
            sent, group = _send_to_group(caller, record, group, client_id, messages)
            member_ids = group.member_ids
    except FirstResultGone:
        raise FirstResultGone(key="client_id", field="client_id") if from_connection else FirstResultGone() from None
    if (sent.message.conversation_id, sent.message.text) != (record.conversation_id, record.text):
        # The id first sent another message: answering with that one would say this one was sent.
        raise IdempotencyKeyReused(key="client_id", field="client_id") if from_connection else IdempotencyKeyReused()
    message = _to_message(sent.message, sender)
    if not sent.message.delivered:
        return SentMessage(**message.model_dump(), upload=_sign_message_upload(sent.message, signer))
    if sent.unpushed:
        _deliver_once(message, member_ids, client_id, from_connection, messages, pusher)
    return SentMessage(**message.model_dump())


def _deliver_once(
    message: Message,
    member_ids: list[str],
    client_id: str | None,
    from_connection: str | None,
    messages: MessageRepository,
    pusher: Pusher,
) -> None:
    """Pushes a stored message to the members' connections and phones, if this attempt is the one to: a send with a
    `client_id` claims it on the receipt first, so that of a send and its retry racing (two devices, a double tap:
    both find it unpushed) only one pushes. A claim is let go when the push fails, for the retry to push."""
    sender_id = message.sender.user_id
    claim = messages.claim_delivery(sender_id, client_id) if client_id is not None else None
    if client_id is not None and claim is None:
        return  # another attempt is pushing it, or has
    try:
        pusher.push(member_ids, MessageFrame(message=message), skip_connection=from_connection)
    except BaseException:
        if client_id is not None and claim is not None:
            messages.release_delivery(sender_id, client_id, claim)
        raise
    if client_id is not None:
        messages.mark_pushed(sender_id, client_id)
    after_delivery(message, [member for member in member_ids if member != sender_id])


def _send_to_group(
    caller: Caller, record: MessageRecord, group: GroupRecord, client_id: str | None, messages: MessageRepository
) -> tuple[Sent, GroupRecord]:
    for _ in range(CHANGE_ATTEMPTS):
        sent = messages.send_to_group(record, group, client_id)
        if sent is not None:
            return sent, group
        # Someone joined, left or renamed the group meanwhile: send to whoever is in it now.
        fresh = messages.group(group.conversation_id)
        if fresh is None or caller.user_id not in fresh.member_ids:
            raise NotFound("No such conversation.")
        group = fresh
    raise RateLimited("The group is changing too fast: try again in a moment.", retry_after_s=1)


def _shown_with_senders(
    standing: Standing, records: list[MessageRecord], profiles: ProfileRepository, named: Sequence[str] = ()
) -> tuple[list[tuple[MessageRecord, Profile] | None], dict[str, Profile]]:
    """Each message with its sender if the caller is shown it (`Standing.can_read`, and its sender not gone:
    deactivated or suspended); None in its place otherwise. And the profiles read, the senders' and those of the
    people `named` (whom system messages name), in one BatchGetItem."""
    readable = [record for record in records if standing.can_read(record)]
    people = profiles.get_many([*(record.sender_id for record in readable), *named])
    pairs = [
        (record, people[record.sender_id]) if standing.can_read(record) and record.sender_id in people else None
        for record in records
    ]
    return pairs, people


def _is_shown(standing: Standing, record: MessageRecord, profiles: ProfileRepository) -> bool:
    """Whether the caller is shown this message (`_shown_with_senders`: the messages list's own check)."""
    return _shown_with_senders(standing, [record], profiles)[0] != [None]


def reportable_message(
    caller: Caller,
    conversation_id: str,
    message_id: str,
    messages: MessageRepository = _messages,
    profiles: ProfileRepository = _profiles,
    graph: GraphRepository = _graph,
) -> MessageRecord:
    """The message, if the caller may report it: what `GET /conversations/{id}/messages` shows them (the list's
    own check: a group member within their part of the history, never a message of a sender gone), and also a
    direct conversation's message a block hides since, so that someone harassed may block first and report after;
    NotFound otherwise, whichever the reason."""
    try:
        standing = _standing(caller, conversation_id, messages, graph, profiles, despite_blocks=True)
    except NotFound:
        raise NotFound("No such message.") from None
    record = messages.get_message(conversation_id, message_id)
    if record is None or not _is_shown(standing, record, profiles):
        raise NotFound("No such message.")
    return record


def conversation_messages(
    caller: Caller,
    conversation_id: str,
    limit: int,
    cursor: str | None,
    messages: MessageRepository = _messages,
    profiles: ProfileRepository = _profiles,
    graph: GraphRepository = _graph,
) -> tuple[list[Message], str | None]:
    """A page of a conversation, newest first: for a group member, from joining (to leaving). Messages the caller
    may not read (`Standing.can_read`) and those of senders gone (deactivated or suspended) are left out, and the
    page is filled from further reads (`filled_page`)."""
    standing = _standing(caller, conversation_id, messages, graph, profiles)
    scope = f"messages:{conversation_id}:{caller.user_id}"

    def shown(records: list[MessageRecord]) -> list[Message | None]:
        group = standing.group
        events = group is not None and any(record.event for record in records if standing.can_read(record))
        named = [*group.member_ids, *group.former_ids] if group is not None and events else []
        pairs, people = _shown_with_senders(standing, records, profiles, named)
        usernames = _usernames(people.values())
        return [_to_message(*pair, shown_usernames=usernames) if pair else None for pair in pairs]

    page, last_key = filled_page(
        lambda count, after: messages.messages(
            conversation_id,
            count,
            after,
            visible_from=standing.entry.visible_from,
            visible_until=standing.entry.visible_until,
        ),
        shown,
        limit,
        start_after(cursor, scope),
        messages.message_page_key,
    )
    return page, next_cursor(last_key, scope)


def _conversation_view(
    entry: InboxEntry, group: GroupRecord | None, people: dict[str, Profile], storage: MessageMediaStorage = _media
) -> Conversation | None:
    """One member's view of a conversation, or None if someone it needs is gone. `people`: who the member may see
    among the group's members and former members (its preview names no one else) and the preview's sender."""
    last = entry.last_message
    last_message = (
        _to_message(last, people[last.sender_id], storage, _usernames(people.values()))
        if last and last.sender_id in people
        else None
    )
    muted = entry.muted
    if group is None:
        if entry.with_id not in people:
            return None
        return Conversation.model_validate(
            {
                "conversation_id": entry.conversation_id,
                "kind": "direct",
                "with": summary_of(people[entry.with_id]),
                "members": [summary_of(people[user]) for user in (entry.user_id, entry.with_id) if user in people],
                "last_message": last_message,
                "unread_count": entry.unread_count,
                "muted": muted,
            }
        )
    admin = people.get(group.admin_id) if group.admin_id in group.member_ids else None
    return Conversation.model_validate(
        {
            "conversation_id": entry.conversation_id,
            "kind": "group",
            "with": None,
            "title": group.title,
            # in user-id order, as the group is stored: the same on every route and frame, whichever change made it
            "members": [summary_of(people[user]) for user in sorted(group.member_ids) if user in people],
            "admin": summary_of(admin) if admin is not None else None,
            "last_message": last_message,
            "unread_count": entry.unread_count,
            "muted": muted,
        }
    )


def conversations(
    caller: Caller,
    limit: int,
    cursor: str | None,
    messages: MessageRepository = _messages,
    profiles: ProfileRepository = _profiles,
    graph: GraphRepository = _graph,
) -> tuple[list[Conversation], str | None]:
    """A page of the caller's conversations, latest activity first, without the direct ones a block hides or whose
    other side is gone; the page is filled from further reads (`filled_page`)."""
    scope = f"conversations:{caller.user_id}"

    def shown(entries: list[InboxEntry]) -> list[Conversation | None]:
        stored = messages.groups([entry.conversation_id for entry in entries if is_group(entry.conversation_id)])
        groups = {  # each as the caller may see it: a member who left, as it was then
            entry.conversation_id: entry.group_as_seen(stored[entry.conversation_id])
            for entry in entries
            if entry.conversation_id in stored
        }
        direct_others = [entry.with_id for entry in entries if not is_group(entry.conversation_id)]
        hidden = graph.blocked_among(caller.user_id, direct_others)
        wanted = [caller.user_id, *direct_others]
        for members in groups.values():
            wanted += [*members.member_ids, *members.former_ids]  # the preview's system message names no one else
        wanted += [entry.last_message.sender_id for entry in entries if entry.last_message]
        people = profiles.get_many(wanted)
        # The other side of a conversation whose other participant was purged (pinhole.privacy.purge).
        people.update({user: deleted_account(user) for user in direct_others if is_deleted_account(user)})
        views: list[Conversation | None] = []
        for entry in entries:
            if is_group(entry.conversation_id):
                found = groups.get(entry.conversation_id)
                if entry.last_message is not None and entry.last_message.sender_id not in people:
                    entry = _with_shown_preview(entry, messages, profiles, people)
                views.append(_conversation_view(entry, found, people) if found is not None else None)
            else:
                views.append(None if entry.with_id in hidden else _conversation_view(entry, None, people))
        return views

    page, last_key = filled_page(
        lambda count, after: messages.inbox(caller.user_id, count, after),
        shown,
        limit,
        start_after(cursor, scope),
        inbox_page_key,
    )
    return page, next_cursor(last_key, scope)


PREVIEW_LOOKBACK = 20
"""How far back a group's preview is looked for when its newest message's sender is gone (a deleted account)."""


def _with_shown_preview(
    entry: InboxEntry, messages: MessageRepository, profiles: ProfileRepository, people: dict[str, Profile]
) -> InboxEntry:
    """The entry whose preview is the newest message its member is shown, and whose unread count is what they are
    shown unread: the stored preview's sender is gone (suspended, or deactivated: their messages are not shown while
    they are), so the one before it of someone still there (one Query of the latest PREVIEW_LOOKBACK, rare: only
    then; none within them, no preview), and the count from the read mark (`_unread_shown`: one more Query, when
    something is unread). `people` gains their senders."""
    standing = Standing(entry.conversation_id, entry)
    records, _ = messages.messages(
        entry.conversation_id, PREVIEW_LOOKBACK, visible_from=entry.visible_from, visible_until=entry.visible_until
    )
    readable = [record for record in records if standing.can_read(record)]
    people.update(profiles.get_many([record.sender_id for record in readable if record.sender_id not in people]))
    shown = next((record for record in readable if record.sender_id in people), None)
    unread = _unread_shown(entry, entry.read_up_to, messages, profiles, people)[0] if entry.unread_count else 0
    return entry.model_copy(update={"last_message": shown, "unread_count": unread})


def _unread_shown(
    entry: InboxEntry,
    after: str | None,
    messages: MessageRepository,
    profiles: ProfileRepository,
    people: dict[str, Profile] | None = None,
) -> tuple[int, str | None]:
    """How many of the others' messages after `after` (none: from joining) the entry's member is shown, of people
    still there (a suspended or deactivated account's messages are not shown, so not unread either); and how far a
    read mark at `after` goes: on past the hidden messages right after it, which the member can never name — so
    marking read the newest message they are shown covers the hidden ones after it, and stays read if their
    sender comes back. `people` (profiles already read) gains the senders."""
    unread = messages.unread_after(
        entry.conversation_id, entry.user_id, after, until=entry.visible_until, since=entry.visible_from
    )
    people = {} if people is None else people
    people.update(profiles.get_many([sender for _, sender in unread if sender not in people]))
    covered = after
    for message_id, sender in unread:
        if sender in people:
            break
        covered = message_id
    return sum(1 for _, sender in unread if sender in people), covered


def mark_read(
    caller: Caller,
    conversation_id: str,
    up_to: str,
    from_connection: str | None = None,
    messages: MessageRepository = _messages,
    graph: GraphRepository = _graph,
    pusher: Pusher = _pusher,
    profiles: ProfileRepository = _profiles,
) -> None:
    """Everything up to `up_to` is read by the caller: their unread count drops to what they are shown after it
    (`_unread_shown`), the read mark moves past the hidden messages right after it, and the members' connections
    hear of it (the others' read receipts, the caller's other devices)."""
    standing = _standing(caller, conversation_id, messages, graph, profiles)
    record = messages.get_message(conversation_id, up_to)
    if record is None or not _is_shown(standing, record, profiles):
        raise NotFound("No such message in this conversation.")  # a client can only name messages it was shown
    unread, covered = _unread_shown(standing.entry, up_to, messages, profiles)
    assert covered is not None
    if messages.mark_read(caller.user_id, conversation_id, covered, unread):
        frame = ReadFrame(conversation_id=conversation_id, up_to=up_to, by=caller.username)
        audience = [caller.user_id] if standing.entry.left else standing.member_ids
        pusher.push(audience, frame, skip_connection=from_connection)


def mute_conversation(
    caller: Caller,
    conversation_id: str,
    muted: bool,
    messages: MessageRepository = _messages,
    graph: GraphRepository = _graph,
    profiles: ProfileRepository = _profiles,
) -> None:
    """Mutes (or unmutes) a conversation for the caller: its messages still reach their inbox and open
    connections, but are not pushed to their phones (the push worker asks `MessageRepository.still_to_push`).
    Idempotent; NotFound unless the caller is in it (a member who left has nothing left to mute)."""
    standing = _standing(caller, conversation_id, messages, graph, profiles, member=True)
    if standing.entry.muted == muted:
        return
    if not messages.set_muted(caller.user_id, conversation_id, muted):
        raise NotFound("No such conversation.")  # removed between the read and the write


# Groups


def _sentence(actor: str, event: SystemEvent) -> str:
    """A system message's text; "someone" for whom it concerns when the reader may see none of them."""
    names = ", ".join(event.usernames) or "someone"
    sentences: dict[SystemEventType, str] = {
        "created": f"{actor} created the group",
        "joined": f"{actor} added {names}",
        "left": f"{actor} left",
        "removed": f"{actor} removed {names}",
        "title_changed": f"{actor} named the group {event.title}" if event.title else f"{actor} removed the name",
    }
    return sentences[event.type]


def _system_message(caller: Caller, conversation_id: str, event: SystemEvent) -> MessageRecord:
    return MessageRecord(
        message_id=new_id(),
        conversation_id=conversation_id,
        sender_id=caller.user_id,
        text=_sentence(caller.username, event),
        created_at=to_iso(utc_now()),
        kind="system",
        event=event,
    )


def _people(usernames: Iterable[str], profiles: ProfileRepository, field: str) -> list[Profile]:
    """The profiles of these usernames, each once; NotFound naming the first unknown one (and the body's `field`
    that named it)."""
    found: dict[str, Profile] = {}
    for username in dict.fromkeys(usernames):
        try:
            profile = profiles.find_by_username(username)
        except NotFound:
            raise NotFound(f"No user {username}.", [{"field": field, "username": username}]) from None
        found[profile.user_id] = profile
    return list(found.values())


def _refuse_blocks(newcomers: list[Profile], member_ids: list[str], graph: GraphRepository) -> None:
    """Forbidden if any newcomer is in a block with a member or another newcomer."""
    everyone = list(dict.fromkeys([*member_ids, *(person.user_id for person in newcomers)]))
    for person in newcomers:
        if graph.blocked_among(person.user_id, [user for user in everyone if user != person.user_id]):
            raise Forbidden(f"{person.username} cannot be added to this conversation.")


def _push_change(
    group: GroupRecord,
    record: MessageRecord,
    also: list[str],
    messages: MessageRepository,
    profiles: ProfileRepository,
    pusher: Pusher,
) -> None:
    """After a change: the system message and the conversation as each member (and who just left or was
    removed, `also`) now sees it."""
    people = profiles.get_many([*group.member_ids, *group.former_ids, *also])
    if record.sender_id not in people:
        return
    pusher.push(group.member_ids, MessageFrame(message=_to_message(record, people[record.sender_id])))
    for entry in messages.entries(group.conversation_id, [*group.member_ids, *also]):
        view = _conversation_view(entry, group, people)
        if view is not None:
            pusher.push([entry.user_id], ConversationFrame(conversation=view))
    for user_id in also:  # a removed member has no entry left: they hear of the group as it is now
        if user_id in people and messages.entry(user_id, group.conversation_id) is None:
            removed_view = _conversation_view(
                InboxEntry(
                    conversation_id=group.conversation_id,
                    user_id=user_id,
                    with_id="",
                    last_message=None,
                    unread_count=0,
                    read_up_to=None,
                ),
                group,
                people,
            )
            if removed_view is not None:
                pusher.push([user_id], ConversationFrame(conversation=removed_view))


def create_group(
    caller: Caller,
    request: CreateConversationRequest,
    messages: MessageRepository = _messages,
    profiles: ProfileRepository = _profiles,
    graph: GraphRepository = _graph,
    pusher: Pusher = _pusher,
) -> Conversation:
    """A group of the caller and 2 to 31 others, none in a block with another."""
    others = [person for person in _people(request.members, profiles, "members") if person.user_id != caller.user_id]
    if not 2 <= len(others) <= GROUP_MAX - 1:
        raise ValidationFailed(
            f"A group has 3 to {GROUP_MAX} members, you included: name 2 to {GROUP_MAX - 1} others.",
            [{"field": "members"}],
        )
    _refuse_blocks(others, [caller.user_id], graph)
    rate_limits.enforce(caller.user_id, "message")
    conversation_id = f"{GROUP_PREFIX}{new_id()}"
    event = SystemEvent(type="created", usernames=[person.username for person in others], title=request.title)
    record = _system_message(caller, conversation_id, event)
    group = GroupRecord(
        conversation_id=conversation_id,
        creator_id=caller.user_id,
        admin_id=caller.user_id,
        title=request.title,
        member_ids=[caller.user_id, *(person.user_id for person in others)],
        version=1,
        created_at=record.created_at,
    )
    messages.create_group(group, record)
    _push_change(group, record, [], messages, profiles, pusher)
    after_delivery(_to_message(record, profiles.get(caller.user_id)), [person.user_id for person in others])
    return _view_for(caller, group, messages, profiles)


def _view_for(
    caller: Caller, group: GroupRecord, messages: MessageRepository, profiles: ProfileRepository
) -> Conversation:
    entry = messages.entry(caller.user_id, group.conversation_id)
    people = profiles.get_many(
        [
            *group.member_ids,
            *group.former_ids,
            *([entry.last_message.sender_id] if entry and entry.last_message else []),
        ]
    )
    view = _conversation_view(entry, group, people) if entry is not None else None
    if view is None:
        raise NotFound("No such conversation.")
    return view


Change = Callable[[GroupRecord], tuple[GroupRecord, SystemEvent, dict[str, str]] | None]
"""What a change makes of the group as read: the group after it, the event to record, and which users join
(`joined`), are removed (`removed`) or leave (`left`); None when there is nothing to change."""


def _change_group(
    caller: Caller,
    conversation_id: str,
    change: Change,
    messages: MessageRepository,
    profiles: ProfileRepository,
    graph: GraphRepository,
    pusher: Pusher,
) -> GroupRecord:
    """Applies `change` to the group, re-reading it when another change got in first."""
    if not is_group(conversation_id):
        _standing(caller, conversation_id, messages, graph, profiles)  # 404 to a stranger, as for any conversation
        raise NotAGroup("Only group conversations have titles and members to change.", [{"field": "conversation_id"}])
    for _ in range(CHANGE_ATTEMPTS):
        before = _standing(caller, conversation_id, messages, graph, profiles, member=True).group
        assert before is not None
        planned = change(before)
        if planned is None:
            return before
        after, event, who = planned
        after = with_admin(after, messages)
        record = _system_message(caller, conversation_id, event)
        joined = [user for user, role in who.items() if role == "joined"]
        removed = next((user for user, role in who.items() if role == "removed"), None)
        left = next((user for user, role in who.items() if role == "left"), None)
        if messages.change_group(before, after, record, joined=joined, removed=removed, left=left):
            _push_change(after, record, [user for user in (removed, left) if user], messages, profiles, pusher)
            # phones hear of a change only by whom it adds: a rename, a leave or a removal is read in the thread
            after_delivery(_to_message(record, profiles.get(caller.user_id)), joined)
            return after
    raise RateLimited("The group is changing too fast: try again in a moment.", retry_after_s=1)


def with_admin(group: GroupRecord, messages: MessageRepository) -> GroupRecord:
    """The group with an admin who is in it: the one it has while they stay; once they left (or for a group
    whose creator left before admins were handed on), its longest-standing member — the earliest to have
    joined for good (the start of their current stay), the smallest user id among those who joined together,
    such as the group's founders. An empty group keeps the last one."""
    if group.admin_id in group.member_ids or not group.member_ids:
        return group
    entries = messages.entries(group.conversation_id, group.member_ids)
    since = {entry.user_id: entry.visible_from or "" for entry in entries}
    successor = min(group.member_ids, key=lambda user: (since.get(user, "\uffff"), user))
    return group.model_copy(update={"admin_id": successor})


def rename_group(
    caller: Caller,
    conversation_id: str,
    title: str | None,
    messages: MessageRepository = _messages,
    profiles: ProfileRepository = _profiles,
    graph: GraphRepository = _graph,
    pusher: Pusher = _pusher,
) -> Conversation:
    def change(group: GroupRecord) -> tuple[GroupRecord, SystemEvent, dict[str, str]] | None:
        if group.title == title:
            return None
        after = group.model_copy(update={"title": title, "version": group.version + 1})
        return after, SystemEvent(type="title_changed", title=title), {}

    group = _change_group(caller, conversation_id, change, messages, profiles, graph, pusher)
    return _view_for(caller, group, messages, profiles)


def add_members(
    caller: Caller,
    conversation_id: str,
    request: AddMembersRequest,
    messages: MessageRepository = _messages,
    profiles: ProfileRepository = _profiles,
    graph: GraphRepository = _graph,
    pusher: Pusher = _pusher,
) -> Conversation:
    """Adds people (those already in it are left as they are); 422 beyond 32 members, 403 for anyone in a
    block with a member."""
    newcomers_all = _people(request.usernames, profiles, "usernames")

    def change(group: GroupRecord) -> tuple[GroupRecord, SystemEvent, dict[str, str]] | None:
        newcomers = [person for person in newcomers_all if person.user_id not in group.member_ids]
        if not newcomers:
            return None
        if len(group.member_ids) + len(newcomers) > GROUP_MAX:
            raise ValidationFailed(f"A group has at most {GROUP_MAX} members.", [{"field": "usernames"}])
        _refuse_blocks(newcomers, group.member_ids, graph)
        ids = [person.user_id for person in newcomers]
        after = group.model_copy(
            update={
                "member_ids": [*group.member_ids, *ids],
                "former_ids": [user for user in group.former_ids if user not in ids],
                "version": group.version + 1,
            }
        )
        event = SystemEvent(type="joined", usernames=[person.username for person in newcomers])
        return after, event, dict.fromkeys(ids, "joined")

    group = _change_group(caller, conversation_id, change, messages, profiles, graph, pusher)
    return _view_for(caller, group, messages, profiles)


def remove_member(
    caller: Caller,
    conversation_id: str,
    username: str,
    messages: MessageRepository = _messages,
    profiles: ProfileRepository = _profiles,
    graph: GraphRepository = _graph,
    pusher: Pusher = _pusher,
    storage: MessageMediaStorage = _media,
) -> None:
    """The caller leaves (their own username), or the group's admin removes a member (403 for anyone else):
    the creator, then, once the admin left, the longest-standing member (`with_admin`). When the last member
    leaves, the conversation's pictures and videos are deleted (renditions and uploaded files)."""
    try:
        target = profiles.find_by_username(username)
    except NotFound:
        _standing(caller, conversation_id, messages, graph, profiles, member=True)
        raise
    leaving = target.user_id == caller.user_id

    def change(group: GroupRecord) -> tuple[GroupRecord, SystemEvent, dict[str, str]] | None:
        if not leaving and with_admin(group, messages).admin_id != caller.user_id:
            raise Forbidden("Only the group's admin removes members; anyone may leave.")
        if target.user_id not in group.member_ids:
            raise NotFound(f"{target.username} is not in this conversation.")
        after = group.model_copy(
            update={
                "member_ids": [user for user in group.member_ids if user != target.user_id],
                "former_ids": sorted({*group.former_ids, target.user_id}),
                "version": group.version + 1,
            }
        )
        if leaving:
            return after, SystemEvent(type="left", usernames=[target.username]), {target.user_id: "left"}
        return after, SystemEvent(type="removed", usernames=[target.username]), {target.user_id: "removed"}

    group = _change_group(caller, conversation_id, change, messages, profiles, graph, pusher)
    if not group.member_ids:
        storage.delete_prefix(conversation_prefix(conversation_id))
        storage.delete_conversation_originals(conversation_id)


# Typing and unsending


def typing(
    caller: Caller,
    conversation_id: str,
    from_connection: str | None = None,
    messages: MessageRepository = _messages,
    graph: GraphRepository = _graph,
    pusher: Pusher = _pusher,
    profiles: ProfileRepository = _profiles,
) -> bool:
    """Tells the other members' connections that the caller is typing; nothing is stored. At most one
    notice per person and conversation every few seconds (cdk.json `rate_limits.typing`): the others
    are dropped, as a client sends one per keystroke burst. Whether this one went out."""
    standing = _standing(caller, conversation_id, messages, graph, profiles, member=True)
    try:
        rate_limits.spaced(f"{caller.user_id}#{conversation_id}", "typing")
    except RateLimited:
        return False
    others = [member for member in standing.member_ids if member != caller.user_id]
    pusher.push(others, TypingNoticeFrame(conversation_id=conversation_id, by=caller.username))
    return True


def entry_fixes(record: MessageRecord, entries: list[InboxEntry], messages: MessageRepository) -> list[EntryFix]:
    """How each member's entry changes when `record` is unsent: its preview moves to the message before
    (within what the member may read), and its unread count drops if the member had not read it."""
    previews: dict[str | None, MessageRecord | None] = {}
    fixes = []
    for entry in entries:
        if entry.visible_from is not None and record.message_id < entry.visible_from:
            continue
        if entry.visible_until is not None and record.message_id > entry.visible_until:
            continue
        replace = entry.last_message is not None and entry.last_message.message_id == record.message_id
        unread = (
            entry.user_id != record.sender_id
            and entry.unread_count > 0
            and (entry.read_up_to is None or entry.read_up_to < record.message_id)
        )
        if not (replace or unread):
            continue
        if replace and entry.visible_from not in previews:
            previews[entry.visible_from] = messages.latest_delivered_before(
                record.conversation_id, record.message_id, entry.visible_from
            )
        fixes.append(EntryFix(entry, previews.get(entry.visible_from), replace, unread))
    return fixes


def unsend(
    caller: Caller,
    conversation_id: str,
    message_id: str,
    messages: MessageRepository = _messages,
    graph: GraphRepository = _graph,
    pusher: Pusher = _pusher,
    storage: MessageMediaStorage = _media,
    profiles: ProfileRepository = _profiles,
) -> None:
    """Deletes one of the caller's messages for everyone: members' previews and unread counts are put right
    in the same transaction, their connections get `message_deleted`, and its media is deleted (renditions and
    the uploaded file)."""
    standing = _standing(caller, conversation_id, messages, graph, profiles, member=True)
    for _ in range(CHANGE_ATTEMPTS):
        record = messages.get_message(conversation_id, message_id)
        if record is None or not standing.can_read(record):
            raise NotFound("No such message in this conversation.")
        if record.sender_id != caller.user_id or record.kind == "system":
            raise Forbidden("You can unsend only your own messages.")
        participants = standing.member_ids
        fixes = (
            entry_fixes(record, messages.entries(conversation_id, participants), messages) if record.delivered else []
        )
        if messages.unsend(record, fixes):
            break
    else:
        raise RateLimited("The conversation is changing too fast: try again in a moment.", retry_after_s=1)
    if record.media is not None:
        storage.delete_prefix(message_prefix(conversation_id, message_id))
        storage.delete_original(MessageUploadKey(conversation_id, message_id, record.media.media_id))
    if record.delivered:
        frame = MessageDeletedFrame(conversation_id=conversation_id, message_id=message_id)
        pusher.push(standing.member_ids, frame)


# Photo and video messages: resize (photos) and transcode (videos) report here


def record_media_outcome(
    key: MessageUploadKey,
    media: StoredMedia,
    messages: MessageRepository = _messages,
    profiles: ProfileRepository = _profiles,
    pusher: Pusher = _pusher,
    storage: MessageMediaStorage = _media,
) -> MediaStatus | None:
    """A media message's photo or video was processed (`media`: ready or rejected): a ready one is delivered —
    every member's inbox and connections — a rejected one is told to its sender only. None when there was
    nothing to do: a message settled already, or gone — unsent while its media was made, or dropped here
    because its sender left the group before it was ready (nobody heard of it: it is deleted, its sender's
    connections get `message_deleted`). What was made for a message that is gone is deleted with it."""
    for _ in range(CHANGE_ATTEMPTS):
        record = media_message(key, messages)
        if record is None:
            if media.rendition_keys:  # unsent while its media was being made: nothing else would delete these
                storage.delete_prefix(message_prefix(key.conversation_id, key.message_id))
            return None
        if not record.pending:
            return None
        settled = record.model_copy(update={"media": media})
        group = messages.group(key.conversation_id) if is_group(key.conversation_id) else None
        if group is not None:
            member_ids = group.member_ids
        else:
            other = next(user for user in key.conversation_id.split(SEPARATOR) if user != record.sender_id)
            member_ids = [record.sender_id, other]
        if record.sender_id not in member_ids:
            _drop_for_sender_gone(record, messages, pusher, storage)
            continue  # dropped now (gone on the next read), or settled meanwhile by another attempt
        if messages.deliver_media_message(settled, member_ids, group):
            break
    else:
        raise RuntimeError("the group kept changing while a media message was being delivered")
    message = _to_message(settled, profiles.get(record.sender_id))
    if settled.delivered:
        pusher.push(member_ids, MessageFrame(message=message))
        after_delivery(message, [member for member in member_ids if member != record.sender_id])
    else:
        pusher.push([record.sender_id], MessageFrame(message=message))
    return media.status


def _drop_for_sender_gone(
    record: MessageRecord, messages: MessageRepository, pusher: Pusher, storage: MessageMediaStorage
) -> None:
    """The sender left the group before their photo or video was ready: it is never delivered (they could not
    unsend it any more, and it would reach people they chose to leave). Nobody but the sender ever saw it."""
    if messages.drop_media_message(record):
        storage.delete_prefix(message_prefix(record.conversation_id, record.message_id))
        assert record.media is not None  # a media message
        storage.delete_original(MessageUploadKey(record.conversation_id, record.message_id, record.media.media_id))
        logger.info("Media message dropped: its sender left before it was ready", extra={"key": record.message_id})
        frame = MessageDeletedFrame(conversation_id=record.conversation_id, message_id=record.message_id)
        pusher.push([record.sender_id], frame)


def keep_media_pending(key: MessageUploadKey, until: datetime, messages: MessageRepository = _messages) -> None:
    """The upload of a media message arrived and its processing may outlast the upload window: the sweep leaves
    it alone until `until`."""
    messages.keep_pending(key.conversation_id, key.message_id, until)


def refuse_overdue_media(now: datetime | None = None, messages: MessageRepository = _messages) -> int:
    """The sweep: photo and video messages whose upload never arrived are refused `upload_missing`, told to their
    sender as any refusal is (nobody else ever heard of them); returns how many."""
    refused = 0
    for conversation_id, message_id in messages.overdue_media_messages(now or utc_now()):
        record = messages.get_message(conversation_id, message_id)
        if record is None or record.media is None or not record.pending:
            continue  # settled or unsent since the index was read
        key = MessageUploadKey(conversation_id, message_id, record.media.media_id)
        refused_media = record.media.rejected(UPLOAD_MISSING, MEDIA_UPLOAD_MISSING_REASON)
        refused += record_media_outcome(key, refused_media, messages) == MediaStatus.REJECTED
    return refused


def media_message(key: MessageUploadKey, messages: MessageRepository = _messages) -> MessageRecord | None:
    """The photo message an upload is for, if it exists (not unsent)."""
    record = messages.get_message(key.conversation_id, key.message_id)
    if record is None or record.media is None or record.media.media_id != key.media_id:
        return None
    return record
