"""Persistence of direct messages: one table. PynamoDB objects never leave this module.

    pk = conv#<conversation>  sk = msg#<message ULID>     a message (newest first by key): message_id,
                                                          conversation_id, sender_id, text, created_at;
                                                          a photo or video one, while pending, also
                                                          pending-index: pending_shard, fail_after (when
                                                          its upload is overdue), removed once settled
    pk = user#<user>          sk = conv#<conversation>    the user's inbox entry for it: with_id, last_*
                                                          (the latest message), unread_count, read_up_to;
                                                          inbox-index: inbox_user = <user>,
                                                          last_activity = latest message id (newest first)
    pk = sent#<user>          sk = client#<client_id>     a send receipt: message_id, conversation_id,
                                                          delivering_until (an attempt's claim to push
                                                          it), pushed (once the message went out live);
                                                          expires after 24 hours (TTL `expires_at`)
    pk = conv#<group>         sk = group                  a group: creator_id, admin_id (who removes
                                                          members; absent: the creator), title, member_ids,
                                                          former_ids, version (moved on by every change)

A message also carries `kind` (text, media, system), its `media` (JSON of StoredMedia) and a system
message's `event` (JSON). A group member's inbox entry has no with_id; it carries `visible_from`
(the message of joining) and, once the member left, `visible_until` (the message of leaving): the
part of the history the member may read. A removed member has no entry at all. An entry the user muted
carries `muted` (its messages are not pushed to their phones).

Sending writes the message, every member's inbox entry (latest message, unread count) and (with a
client id) the receipt in one transaction: a message is never stored without appearing in every
inbox, and the receipt's condition makes a retried send a no-op that returns the first message. A
group send also checks the group's version in the same transaction, so a send never reaches a
membership that changed after it was read (it is re-read and the send tried again). The largest
transaction is a 32-member group's send: 32 entries + message + receipt + version check = 35 of
DynamoDB's 100 items. The receipt also says whether the message was pushed: a first attempt that
stored it and then failed (its answer lost, a crash, @connections refusing) leaves it unpushed, and
the retry pushes it. Only one attempt pushes: the one whose conditional write claims it on the receipt
(`delivering_until`); a retry racing its first attempt (two devices, a double tap) finds the claim held
and pushes nothing, while a claim whose attempt failed is let go, and one whose attempt died runs out.
A media message is stored alone first (its sender's receipt with it) and delivered — inboxes written
in the same way — once its picture is ready."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, DoesNotExist, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from pinhole.messaging.models import GroupRecord, InboxEntry, MessageRecord, SystemEvent
from pinhole.posts.models import MediaStatus, StoredMedia
from pinhole.shared.clock import to_iso, utc_now
from pinhole.shared.errors import FirstResultGone
from pinhole.shared.settings import get_settings
from pinhole.shared.transactions import commit
from pinhole.upload.signer import UPLOAD_GRACE, UPLOAD_WINDOW

_settings = get_settings()

MESSAGE = "msg#"
GROUP = "group"
TRANSACTION_ITEMS_MAX = 100  # DynamoDB's TransactWriteItems limit
CONVERSATION = "conv#"
RECEIPT_TTL_S = 24 * 60 * 60  # as long as an Idempotency-Key is honoured (API.md)
DELIVERY_LEASE_MS = 30_000
"""How long an attempt's claim to push a message holds: longer than any attempt lives (a function's timeout is
10 s, stacks/function_factory.py), so a claim outlives only an attempt that died, and a retry after it pushes."""
INBOX_READ_EXACTLY = 100
"""A first page of conversations is read from the table (strongly consistent) when the user has at most
this many: a conversation one has just written to is in one's list at once. With more, the page comes
from the inbox index, which lags a send by up to about a second (a GSI is eventually consistent)."""


UPLOAD_MISSING_AFTER = UPLOAD_WINDOW + UPLOAD_GRACE
"""A photo or video message still pending this long after it was sent (its upload URL was made then) is overdue:
the sweep refuses it `upload_missing`, unless its upload arrived meanwhile (`keep_pending`)."""
PENDING_SHARDS = 8
"""The pending index is spread over this many partition keys, so that no single key runs hot."""


def conversation_key(conversation_id: str) -> str:
    return f"{CONVERSATION}{conversation_id}"


def user_key(user_id: str) -> str:
    return f"user#{user_id}"


class InboxIndex(GlobalSecondaryIndex["MessagingModel"]):
    """A user's conversations, latest activity first."""

    class Meta:
        index_name = "inbox-index"
        projection = AllProjection()

    inbox_user = UnicodeAttribute(hash_key=True)
    last_activity = UnicodeAttribute(range_key=True)


class PendingIndex(GlobalSecondaryIndex["MessagingModel"]):
    """Sparse: only photo and video messages still pending carry `pending_shard`; the sweep finds those whose
    upload never came."""

    class Meta:
        index_name = "pending-index"
        projection = KeysOnlyProjection()

    pending_shard = UnicodeAttribute(hash_key=True)
    fail_after = UnicodeAttribute(range_key=True)


class MessagingModel(Model):
    class Meta:
        table_name = _settings.messages_table_name
        region = _settings.region
        billing_mode = "PAY_PER_REQUEST"
        stream_view_type = "NEW_AND_OLD_IMAGES"  # read by feed_signals: a DM is affinity

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    conversation_id = UnicodeAttribute(null=True)
    # a message
    message_id = UnicodeAttribute(null=True)
    sender_id = UnicodeAttribute(null=True)
    text = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(null=True)
    media = UnicodeAttribute(null=True)  # JSON of StoredMedia
    media_status = UnicodeAttribute(null=True)  # pending until the picture is ready or refused
    event = UnicodeAttribute(null=True)  # JSON of SystemEvent
    removed = BooleanAttribute(null=True)  # by a moderator, for every participant, until restored
    pending_shard = UnicodeAttribute(null=True)  # while its media is pending
    fail_after = UnicodeAttribute(null=True)
    # an inbox entry
    inbox_user = UnicodeAttribute(null=True)
    last_activity = UnicodeAttribute(null=True)
    user_id = UnicodeAttribute(null=True)
    with_id = UnicodeAttribute(null=True)
    last_message_id = UnicodeAttribute(null=True)
    last_sender_id = UnicodeAttribute(null=True)
    last_text = UnicodeAttribute(null=True)
    last_created_at = UnicodeAttribute(null=True)
    last_kind = UnicodeAttribute(null=True)
    unread_count = NumberAttribute(null=True)
    read_up_to = UnicodeAttribute(null=True)
    visible_from = UnicodeAttribute(null=True)
    visible_until = UnicodeAttribute(null=True)
    muted = BooleanAttribute(null=True)
    # a send receipt
    expires_at = NumberAttribute(null=True)
    delivering_until = NumberAttribute(null=True)  # epoch ms: an attempt's claim to push the message
    pushed = BooleanAttribute(null=True)
    # a group
    creator_id = UnicodeAttribute(null=True)
    admin_id = UnicodeAttribute(null=True)
    title = UnicodeAttribute(null=True)
    member_ids = UnicodeSetAttribute(null=True)
    former_ids = UnicodeSetAttribute(null=True)
    version = NumberAttribute(null=True)

    inbox = InboxIndex()
    pending = PendingIndex()


def _get(pk: str, sk: str) -> MessagingModel | None:
    try:
        return MessagingModel.get(pk, sk, consistent_read=True)
    except DoesNotExist:
        return None


def _to_record(item: MessagingModel) -> MessageRecord:
    return MessageRecord(
        message_id=item.message_id or "",
        conversation_id=item.conversation_id or "",
        sender_id=item.sender_id or "",
        text=item.text or "",
        created_at=item.created_at or "",
        kind=item.kind or "text",  # type: ignore[arg-type]  # what was written is a MessageKind
        media=StoredMedia.model_validate_json(item.media) if item.media else None,
        event=SystemEvent.model_validate_json(item.event) if item.event else None,
        removed=bool(item.removed),
    )


def _shard(message_id: str) -> str:
    return f"pending#{sum(message_id.encode()) % PENDING_SHARDS}"


def _message_item(record: MessageRecord) -> MessagingModel:
    pending = record.pending
    return MessagingModel(
        pk=conversation_key(record.conversation_id),
        sk=f"{MESSAGE}{record.message_id}",
        conversation_id=record.conversation_id,
        message_id=record.message_id,
        sender_id=record.sender_id,
        text=record.text,
        created_at=record.created_at,
        kind=record.kind,
        media=record.media.model_dump_json() if record.media else None,
        media_status=record.media.status.value if record.media else None,
        event=record.event.model_dump_json() if record.event else None,
        pending_shard=_shard(record.message_id) if pending else None,
        fail_after=to_iso(datetime.fromisoformat(record.created_at) + UPLOAD_MISSING_AFTER) if pending else None,
    )


def _to_entry(item: MessagingModel) -> InboxEntry:
    last = None
    if item.last_message_id:
        last = MessageRecord(
            message_id=item.last_message_id,
            conversation_id=item.conversation_id or "",
            sender_id=item.last_sender_id or "",
            text=item.last_text or "",
            created_at=item.last_created_at or "",
            kind=item.last_kind or "text",  # type: ignore[arg-type]  # what was written is a MessageKind
        )
    return InboxEntry(
        conversation_id=item.conversation_id or "",
        user_id=item.user_id or "",
        with_id=item.with_id or "",
        last_message=last,
        unread_count=int(item.unread_count or 0),
        read_up_to=item.read_up_to,
        visible_from=item.visible_from,
        visible_until=item.visible_until,
        muted=bool(item.muted),
        title_when_left=item.title if item.visible_until else None,
        members_when_left=sorted(item.member_ids or ()) if item.visible_until and item.admin_id else None,
        admin_when_left=item.admin_id if item.visible_until else None,
        last_activity=item.last_activity,
    )


def _with_whole_previews(entries: list[InboxEntry]) -> list[InboxEntry]:
    """An entry's preview copies a message's text, sender and kind; a media or system message is read whole (one
    BatchGetItem for a page), so that a conversation's last message is the message as its list shows it: its
    media settles after it was sent, and its event is not copied. A message a moderator removed keeps the
    preview that replaced it."""
    keys = {
        (conversation_key(entry.conversation_id), f"{MESSAGE}{entry.last_message.message_id}")
        for entry in entries
        if entry.last_message is not None and entry.last_message.kind != "text"
    }
    if not keys:
        return entries
    whole = {
        (record.conversation_id, record.message_id): record
        for record in map(_to_record, MessagingModel.batch_get(list(keys), consistent_read=True))
        if not record.removed
    }
    return [
        entry.model_copy(update={"last_message": whole[key]})
        if entry.last_message is not None and (key := (entry.conversation_id, entry.last_message.message_id)) in whole
        else entry
        for entry in entries
    ]


def _to_group(item: MessagingModel) -> GroupRecord:
    return GroupRecord(
        conversation_id=item.conversation_id or "",
        creator_id=item.creator_id or "",
        admin_id=item.admin_id or item.creator_id or "",
        title=item.title,
        member_ids=sorted(item.member_ids or ()),
        former_ids=sorted(item.former_ids or ()),
        version=int(item.version or 0),
        created_at=item.created_at or "",
    )


def _preview(record: MessageRecord | None) -> list[Any]:
    """Update actions that make `record` (None: nothing) the latest message an inbox entry shows."""
    if record is None:
        return [
            MessagingModel.last_message_id.remove(),
            MessagingModel.last_sender_id.remove(),
            MessagingModel.last_text.remove(),
            MessagingModel.last_created_at.remove(),
            MessagingModel.last_kind.remove(),
        ]
    return [
        MessagingModel.last_message_id.set(record.message_id),
        MessagingModel.last_sender_id.set(record.sender_id),
        MessagingModel.last_text.set(record.text),
        MessagingModel.last_created_at.set(record.created_at),
        MessagingModel.last_kind.set(record.kind),
    ]


def _latest(record: MessageRecord, owner_id: str, other_id: str | None) -> list[Any]:
    """Update actions that make `record` the latest message of `owner_id`'s inbox entry."""
    actions = [
        MessagingModel.conversation_id.set(record.conversation_id),
        MessagingModel.inbox_user.set(owner_id),
        MessagingModel.user_id.set(owner_id),
        MessagingModel.last_activity.set(record.message_id),
        *_preview(record),
    ]
    if other_id is not None:
        actions.append(MessagingModel.with_id.set(other_id))
    return actions


def _first_inbox_page_from_the_table(user_id: str, limit: int) -> tuple[list[InboxEntry], dict[str, Any] | None] | None:
    """The page the inbox index would give, read from the user's own partition; None if it holds more
    than INBOX_READ_EXACTLY conversations. The next page's key is the index's, so it goes on from there."""
    items = list(
        MessagingModel.query(
            user_key(user_id),
            MessagingModel.sk.startswith(CONVERSATION),
            consistent_read=True,
            limit=INBOX_READ_EXACTLY + 1,
        )
    )
    if len(items) > INBOX_READ_EXACTLY:
        return None
    indexed = sorted(
        (item for item in items if item.inbox_user and item.last_activity),
        key=lambda item: (item.last_activity, item.pk, item.sk),
        reverse=True,
    )
    page = indexed[:limit]
    if len(indexed) <= limit:
        return [_to_entry(item) for item in page], None
    entries = [_to_entry(item) for item in page]
    return entries, inbox_page_key(entries[-1])


def inbox_page_key(entry: InboxEntry) -> dict[str, Any]:
    """The key a page of the inbox index goes on from after this entry (a LastEvaluatedKey)."""
    return {
        "inbox_user": {"S": entry.user_id},
        "last_activity": {"S": entry.last_activity or ""},
        "pk": {"S": user_key(entry.user_id)},
        "sk": {"S": conversation_key(entry.conversation_id)},
    }


def _deliver(
    transaction: TransactWrite,
    record: MessageRecord,
    member_ids: Iterable[str],
    with_id: dict[str, str],
    extra: dict[str, list[Any]] | None = None,
) -> None:
    """Into the transaction: every member's inbox entry shows `record` as its latest message; for everyone but
    its sender, one more unread; for its sender, read up to it, nothing unread (who replies has read what came
    before, as every messenger counts it). `with_id`: direct conversations' other sides; `extra`: more actions on
    some members' entries (a transaction may touch each item once)."""
    conversation = conversation_key(record.conversation_id)
    for member_id in member_ids:
        actions = _latest(record, member_id, with_id.get(member_id)) + (extra or {}).get(member_id, [])
        if member_id == record.sender_id:
            actions += [MessagingModel.read_up_to.set(record.message_id), MessagingModel.unread_count.set(0)]
        else:
            actions.append(MessagingModel.unread_count.add(1))
        transaction.update(MessagingModel(pk=user_key(member_id), sk=conversation), actions=actions)


def _group_when_left(group: GroupRecord) -> list[Any]:
    """Onto the entry of a member who leaves: the group as it is then (its title, members and admin: what they go
    on seeing in GET /conversations, where later changes are not theirs to see)."""
    title = MessagingModel.title.set(group.title) if group.title else MessagingModel.title.remove()
    members = (
        MessagingModel.member_ids.set(set(group.member_ids)) if group.member_ids else MessagingModel.member_ids.remove()
    )
    return [title, members, MessagingModel.admin_id.set(group.admin_id)]


def _forget_group_when_left() -> list[Any]:
    return [MessagingModel.title.remove(), MessagingModel.member_ids.remove(), MessagingModel.admin_id.remove()]


def _receipt_key(sender_id: str, client_id: str) -> tuple[str, str]:
    return f"sent#{sender_id}", f"client#{client_id}"


def _save_receipt(transaction: TransactWrite, record: MessageRecord, client_id: str) -> None:
    pk, sk = _receipt_key(record.sender_id, client_id)
    transaction.save(
        MessagingModel(
            pk=pk,
            sk=sk,
            message_id=record.message_id,
            conversation_id=record.conversation_id,
            expires_at=int(utc_now().timestamp()) + RECEIPT_TTL_S,
        ),
        condition=MessagingModel.pk.does_not_exist(),
    )


def _version_is(group: GroupRecord) -> Any:
    return MessagingModel.version == group.version


@dataclass(frozen=True)
class Sent:
    """What a send stored (or, for a retry, had stored the first time), and whether it is yet to be
    pushed: a new message is; a retried one if its first attempt never got that far."""

    message: MessageRecord
    unpushed: bool


@dataclass(frozen=True)
class EntryFix:
    """How unsending a message changes one inbox entry: its new preview (when the unsent message was it) and
    one unread less (when it was unread), on condition that the entry is still as it was read."""

    entry: InboxEntry
    preview: MessageRecord | None
    replace_preview: bool
    one_less_unread: bool
    one_more_unread: bool = False  # a message restored by a moderator comes back unread


def _fix_entries(transaction: TransactWrite, conversation_id: str, fixes: list[EntryFix]) -> None:
    """Each fix, on condition that its entry is still as it was read."""
    conversation = conversation_key(conversation_id)
    for fix in fixes:
        entry = fix.entry
        actions: list[Any] = []
        if fix.replace_preview:
            actions += _preview(fix.preview)
        if fix.one_less_unread:
            actions.append(MessagingModel.unread_count.add(-1))
        if fix.one_more_unread:
            actions.append(MessagingModel.unread_count.add(1))
        unchanged = (
            MessagingModel.read_up_to == entry.read_up_to
            if entry.read_up_to
            else MessagingModel.read_up_to.does_not_exist()
        ) & (
            MessagingModel.unread_count == entry.unread_count
            if entry.unread_count
            else MessagingModel.unread_count.does_not_exist() | (MessagingModel.unread_count == 0)
        )
        if entry.last_message is not None:
            unchanged &= MessagingModel.last_message_id == entry.last_message.message_id
        transaction.update(
            MessagingModel(pk=user_key(entry.user_id), sk=conversation), actions=actions, condition=unchanged
        )


class MessageRepository:
    def __init__(self) -> None:
        self._connection = Connection(region=_settings.region)

    def _first_sent(self, sender_id: str, client_id: str | None) -> Sent | None:
        """The message a client id already sent, if it did; FirstResultGone if it did and that message is gone."""
        if client_id is None:
            return None
        receipt = _get(*_receipt_key(sender_id, client_id))
        if receipt is None:
            return None
        first = self.get_message(receipt.conversation_id or "", receipt.message_id or "")
        if first is None:  # written with the receipt, then unsent by its sender (or dropped: a group left meanwhile)
            raise FirstResultGone()
        return Sent(first, unpushed=not receipt.pushed)

    def send(self, record: MessageRecord, recipient_id: str, client_id: str | None) -> Sent:
        """Stores the message in the direct conversation and both inboxes; with a client id already used
        by the sender (a retry), stores nothing and returns the message that id first sent. A photo not yet
        ready reaches no inbox, but its sender's entry is made if the conversation is new, and listed: they find
        the conversation in their list (no preview yet: what they sent is theirs alone until it is ready), read it
        and may unsend what they sent. An entry already listed keeps its place and preview until delivery."""
        sender_id = record.sender_id

        def build(transaction: TransactWrite) -> None:
            if client_id is not None:
                _save_receipt(transaction, record, client_id)
            transaction.save(_message_item(record), condition=MessagingModel.pk.does_not_exist())
            if record.delivered:
                _deliver(
                    transaction, record, [sender_id, recipient_id], {sender_id: recipient_id, recipient_id: sender_id}
                )
            else:
                transaction.update(
                    MessagingModel(pk=user_key(sender_id), sk=conversation_key(record.conversation_id)),
                    actions=[
                        MessagingModel.conversation_id.set(record.conversation_id),
                        MessagingModel.user_id.set(sender_id),
                        MessagingModel.with_id.set(recipient_id),
                        MessagingModel.inbox_user.set(sender_id),
                        MessagingModel.last_activity.set(MessagingModel.last_activity | record.message_id),
                    ],
                )

        if commit(build, self._connection):
            return Sent(record, unpushed=True)
        first = self._first_sent(sender_id, client_id)
        assert first is not None  # only the receipt's condition can refuse: message ids are new
        return first

    def send_to_group(self, record: MessageRecord, group: GroupRecord, client_id: str | None) -> Sent | None:
        """Stores the message in the group and every member's inbox, if the group is still at the version
        read; None if it moved on (re-read it and try again). A retried client id: the first message."""

        def build(transaction: TransactWrite) -> None:
            if client_id is not None:
                _save_receipt(transaction, record, client_id)
            transaction.save(_message_item(record), condition=MessagingModel.pk.does_not_exist())
            if record.delivered:
                transaction.condition_check(
                    MessagingModel, conversation_key(group.conversation_id), GROUP, condition=_version_is(group)
                )
                _deliver(transaction, record, group.member_ids, {})

        if commit(build, self._connection):
            return Sent(record, unpushed=True)
        return self._first_sent(record.sender_id, client_id)

    def deliver_media_message(self, record: MessageRecord, member_ids: list[str], group: GroupRecord | None) -> bool:
        """A media message whose picture is ready (or refused) reaches the inboxes: the message is updated
        (on condition it is still pending), and, ready, every member's entry shows it. False if it was not
        pending any more (delivered already, or unsent) or the group moved on."""

        def build(transaction: TransactWrite) -> None:
            media = record.media
            assert media is not None
            transaction.update(
                _message_item(record),
                actions=[
                    MessagingModel.media.set(media.model_dump_json()),
                    MessagingModel.media_status.set(media.status.value),
                    MessagingModel.pending_shard.remove(),
                    MessagingModel.fail_after.remove(),
                ],
                condition=MessagingModel.media_status == MediaStatus.PENDING.value,
            )
            if not record.delivered:
                return
            if group is not None:
                transaction.condition_check(
                    MessagingModel, conversation_key(group.conversation_id), GROUP, condition=_version_is(group)
                )
                _deliver(transaction, record, member_ids, {})
            else:
                sender, other = member_ids
                _deliver(transaction, record, member_ids, {sender: other, other: sender})

        return commit(build, self._connection)

    def drop_media_message(self, record: MessageRecord) -> bool:
        """Deletes a media message nobody heard of yet (its media still pending); False if it was not pending
        any more (delivered, refused or unsent meanwhile)."""
        try:
            _message_item(record).delete(condition=MessagingModel.media_status == MediaStatus.PENDING.value)
        except DeleteError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def keep_pending(self, conversation_id: str, message_id: str, until: datetime) -> bool:
        """A pending media message the sweep must leave alone until `until` (its upload arrived; a video's
        transcode may take longer than the upload window); False if it was settled, gone, or kept longer."""
        try:
            MessagingModel(conversation_key(conversation_id), f"{MESSAGE}{message_id}").update(
                actions=[MessagingModel.fail_after.set(to_iso(until))],
                condition=(MessagingModel.media_status == MediaStatus.PENDING.value)
                & (MessagingModel.fail_after < to_iso(until)),
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def overdue_media_messages(self, now: datetime) -> list[tuple[str, str]]:
        """(conversation, message) of the media messages still pending past their `fail_after`."""
        return [
            (item.pk.removeprefix(CONVERSATION), item.sk.removeprefix(MESSAGE))
            for shard in range(PENDING_SHARDS)
            for item in MessagingModel.pending.query(f"pending#{shard}", MessagingModel.fail_after < to_iso(now))
        ]

    def claim_delivery(self, sender_id: str, client_id: str) -> int | None:
        """Claims the pushing of the message a client id sent, for DELIVERY_LEASE_MS: the claim (kept to let it go)
        if this attempt is the one to push it; None if it went out already, or another attempt holds the claim."""
        now = int(utc_now().timestamp() * 1000)
        claim = now + DELIVERY_LEASE_MS  # later than any claim that ran out: it names this attempt's alone
        try:
            MessagingModel(*_receipt_key(sender_id, client_id)).update(
                actions=[MessagingModel.delivering_until.set(claim)],
                condition=MessagingModel.pk.exists()
                & MessagingModel.pushed.does_not_exist()
                & (MessagingModel.delivering_until.does_not_exist() | (MessagingModel.delivering_until < now)),
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return None
            raise
        return claim

    def release_delivery(self, sender_id: str, client_id: str, claim: int) -> None:
        """Lets go of this attempt's claim (it failed before the message went out): a retry pushes it."""
        try:
            MessagingModel(*_receipt_key(sender_id, client_id)).update(
                actions=[MessagingModel.delivering_until.remove()],
                condition=MessagingModel.delivering_until == claim,
            )
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":  # already taken over: nothing to do
                raise

    def mark_pushed(self, sender_id: str, client_id: str) -> None:
        """Notes on the send receipt that its message went out live: a later retry pushes nothing."""
        MessagingModel(*_receipt_key(sender_id, client_id)).update(
            actions=[MessagingModel.pushed.set(True)], condition=MessagingModel.pk.exists()
        )

    def get_message(self, conversation_id: str, message_id: str) -> MessageRecord | None:
        item = _get(conversation_key(conversation_id), f"{MESSAGE}{message_id}")
        return _to_record(item) if item is not None else None

    def messages(
        self,
        conversation_id: str,
        limit: int,
        after: dict[str, Any] | None = None,
        visible_from: str | None = None,
        visible_until: str | None = None,
    ) -> tuple[list[MessageRecord], dict[str, Any] | None]:
        """A page of the conversation, newest first, within the window a member may read."""
        low = f"{MESSAGE}{visible_from}" if visible_from else MESSAGE
        high = f"{MESSAGE}{visible_until}" if visible_until else f"{MESSAGE}\uffff"
        results = MessagingModel.query(
            conversation_key(conversation_id),
            MessagingModel.sk.between(low, high),
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=after,
        )
        return [_to_record(item) for item in results], results.last_evaluated_key

    @staticmethod
    def message_page_key(record: MessageRecord) -> dict[str, Any]:
        """The key a page of a conversation goes on from after this message (a LastEvaluatedKey)."""
        return {"pk": {"S": conversation_key(record.conversation_id)}, "sk": {"S": f"{MESSAGE}{record.message_id}"}}

    def latest_delivered_before(self, conversation_id: str, message_id: str, floor: str | None) -> MessageRecord | None:
        """The newest delivered message older than `message_id` (and not older than `floor`)."""
        low = f"{MESSAGE}{floor}" if floor else MESSAGE
        for item in MessagingModel.query(
            conversation_key(conversation_id),
            MessagingModel.sk.between(low, f"{MESSAGE}{message_id}"),
            scan_index_forward=False,
            limit=20,
        ):
            record = _to_record(item)
            if record.message_id != message_id and record.delivered and not record.removed:
                return record
        return None

    def entry(self, user_id: str, conversation_id: str) -> InboxEntry | None:
        item = _get(user_key(user_id), conversation_key(conversation_id))
        return _with_whole_previews([_to_entry(item)])[0] if item is not None else None

    def entries(self, conversation_id: str, user_ids: list[str]) -> list[InboxEntry]:
        """The inbox entries these users have for the conversation (those that exist)."""
        keys = [(user_key(user_id), conversation_key(conversation_id)) for user_id in dict.fromkeys(user_ids)]
        if not keys:
            return []
        return _with_whole_previews([_to_entry(item) for item in MessagingModel.batch_get(keys, consistent_read=True)])

    def inbox(
        self, user_id: str, limit: int, after: dict[str, Any] | None = None
    ) -> tuple[list[InboxEntry], dict[str, Any] | None]:
        """A page of the user's conversations, latest activity first (the first page exact: INBOX_READ_EXACTLY)."""
        if after is None:
            exact = _first_inbox_page_from_the_table(user_id, limit)
            if exact is not None:
                return _with_whole_previews(exact[0]), exact[1]
        results = MessagingModel.inbox.query(user_id, scan_index_forward=False, limit=limit, last_evaluated_key=after)
        return _with_whole_previews([_to_entry(item) for item in results]), results.last_evaluated_key

    def unread_after(
        self,
        conversation_id: str,
        reader_id: str,
        message_id: str | None,
        until: str | None = None,
        since: str | None = None,
    ) -> list[tuple[str, str]]:
        """The id and sender of each delivered message of the others after `message_id` (with none, from `since`
        on: a member who never read counts from joining), oldest first (the reader's own never count, nor photos
        not delivered), up to `until` for a member who left: the unread (one read of them, as a COUNT would be
        billed the same)."""
        low = f"{MESSAGE}{message_id}\u0000" if message_id else f"{MESSAGE}{since or ''}"
        high = f"{MESSAGE}{until}" if until else f"{MESSAGE}\uffff"
        return [
            (str(item.message_id), str(item.sender_id))
            for item in MessagingModel.query(
                conversation_key(conversation_id),
                MessagingModel.sk.between(low, high),
                filter_condition=(MessagingModel.sender_id != reader_id)
                & (
                    MessagingModel.media_status.does_not_exist()
                    | (MessagingModel.media_status == MediaStatus.READY.value)
                )
                & MessagingModel.removed.does_not_exist(),
                attributes_to_get=["message_id", "sender_id"],
            )
        ]

    def set_muted(self, user_id: str, conversation_id: str, muted: bool) -> bool:
        """Mutes (or unmutes) the user's entry of the conversation; False if the user has no entry."""
        entry = MessagingModel(pk=user_key(user_id), sk=conversation_key(conversation_id))
        action = MessagingModel.muted.set(True) if muted else MessagingModel.muted.remove()
        try:
            entry.update(actions=[action], condition=MessagingModel.pk.exists())
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def still_to_push(self, user_id: str, conversation_id: str, message_id: str) -> bool:
        """Whether a message is still to reach the user's phones (the push worker asks as it publishes): the user
        has the conversation and did not mute it, and the message is still there — not unsent nor removed by a
        moderator. The user's entry says it in the one read the mute takes while the message is its latest
        (unsending or removing it moves the preview back in the same transaction); once something came after,
        the message itself is read too."""
        try:
            entry = MessagingModel.get(
                user_key(user_id),
                conversation_key(conversation_id),
                consistent_read=True,
                attributes_to_get=["pk", "muted", "last_message_id"],
            )
        except DoesNotExist:
            return False  # removed from the group since: nothing of it is theirs to open
        if entry.muted:
            return False
        if entry.last_message_id == message_id:
            return True
        try:
            message = MessagingModel.get(
                conversation_key(conversation_id),
                f"{MESSAGE}{message_id}",
                consistent_read=True,
                attributes_to_get=["pk", "removed"],
            )
        except DoesNotExist:
            return False
        return not message.removed

    def mark_read(self, user_id: str, conversation_id: str, up_to: str, unread: int) -> bool:
        """Moves the read mark forward (never back); False if it already was at or past `up_to`."""
        entry = MessagingModel(pk=user_key(user_id), sk=conversation_key(conversation_id))
        try:
            entry.update(
                actions=[MessagingModel.read_up_to.set(up_to), MessagingModel.unread_count.set(unread)],
                condition=MessagingModel.pk.exists()
                & (MessagingModel.read_up_to.does_not_exist() | (MessagingModel.read_up_to < up_to)),
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # Groups

    def group(self, conversation_id: str) -> GroupRecord | None:
        item = _get(conversation_key(conversation_id), GROUP)
        return _to_group(item) if item is not None else None

    def groups(self, conversation_ids: list[str]) -> dict[str, GroupRecord]:
        keys = [(conversation_key(conversation_id), GROUP) for conversation_id in dict.fromkeys(conversation_ids)]
        if not keys:
            return {}
        return {item.conversation_id: _to_group(item) for item in MessagingModel.batch_get(keys)}

    def create_group(self, group: GroupRecord, record: MessageRecord) -> None:
        """The group, its creation message, and an inbox entry for every member from that message on."""

        def build(transaction: TransactWrite) -> None:
            transaction.save(
                MessagingModel(
                    pk=conversation_key(group.conversation_id),
                    sk=GROUP,
                    conversation_id=group.conversation_id,
                    creator_id=group.creator_id,
                    admin_id=group.admin_id,
                    title=group.title,
                    member_ids=set(group.member_ids),
                    version=group.version,
                    created_at=group.created_at,
                ),
                condition=MessagingModel.pk.does_not_exist(),
            )
            transaction.save(_message_item(record), condition=MessagingModel.pk.does_not_exist())
            visible = {
                member_id: [MessagingModel.visible_from.set(record.message_id)] for member_id in group.member_ids
            }
            _deliver(transaction, record, group.member_ids, {}, visible)

        committed = commit(build, self._connection)
        assert committed  # a new id: nothing can refuse it

    def change_group(
        self,
        before: GroupRecord,
        after: GroupRecord,
        record: MessageRecord,
        *,
        joined: Iterable[str] = (),
        removed: str | None = None,
        left: str | None = None,
    ) -> bool:
        """Moves the group from `before` to `after` (title, members) with the system message saying so: every
        member afterwards gets it in their inbox; who `joined` can read from it on; a `removed` member's entry
        is gone; a member who `left` keeps an entry that ends with it. False if the group moved on since
        `before` was read."""
        conversation = conversation_key(before.conversation_id)

        def build(transaction: TransactWrite) -> None:
            actions: list[Any] = [
                MessagingModel.version.set(after.version),
                MessagingModel.admin_id.set(after.admin_id),
                MessagingModel.title.set(after.title) if after.title else MessagingModel.title.remove(),
                (
                    MessagingModel.member_ids.set(set(after.member_ids))
                    if after.member_ids
                    else MessagingModel.member_ids.remove()
                ),
            ]
            actions.append(
                MessagingModel.former_ids.set(set(after.former_ids))
                if after.former_ids
                else MessagingModel.former_ids.remove()
            )
            transaction.update(
                MessagingModel(pk=conversation, sk=GROUP), actions=actions, condition=_version_is(before)
            )
            transaction.save(_message_item(record), condition=MessagingModel.pk.does_not_exist())
            # Who joins reads from the message of joining on, and nothing of an earlier stay in the group.
            joining = {
                member_id: [
                    MessagingModel.visible_from.set(record.message_id),
                    MessagingModel.visible_until.remove(),
                    MessagingModel.read_up_to.remove(),
                    *_forget_group_when_left(),
                ]
                for member_id in joined
            }
            staying = [member_id for member_id in after.member_ids if member_id not in joining]
            _deliver(transaction, record, staying, {})
            for member_id, actions in joining.items():
                transaction.update(
                    MessagingModel(pk=user_key(member_id), sk=conversation),
                    actions=[*_latest(record, member_id, None), *actions, MessagingModel.unread_count.set(1)],
                )
            if removed is not None:
                transaction.delete(MessagingModel(pk=user_key(removed), sk=conversation))
            if left is not None:
                transaction.update(
                    MessagingModel(pk=user_key(left), sk=conversation),
                    actions=[
                        *_latest(record, left, None),
                        MessagingModel.visible_until.set(record.message_id),
                        MessagingModel.read_up_to.set(record.message_id),
                        MessagingModel.unread_count.set(0),
                        *_group_when_left(after),
                    ],
                )

        return commit(build, self._connection)

    # Unsending

    def unsend(self, record: MessageRecord, fixes: list[EntryFix]) -> bool:
        """Deletes the message and applies each entry's fix, all or nothing: False if the message is gone, its
        media settled since it was read (a photo delivered meanwhile reached the inboxes: their fixes are now
        due), or an entry changed since it was read (read them again and retry)."""
        condition = MessagingModel.pk.exists()
        if record.media is not None:
            condition &= MessagingModel.media_status == record.media.status.value

        def build(transaction: TransactWrite) -> None:
            transaction.delete(_message_item(record), condition=condition)
            _fix_entries(transaction, record.conversation_id, fixes)

        return commit(build, self._connection)

    def set_removed(self, record: MessageRecord, removed: bool, fixes: list[EntryFix]) -> bool:
        """A moderator removes the message for everyone (or restores it) and each entry's fix is applied, all
        or nothing: False if the message is gone or already so, or an entry changed since it was read."""

        def build(transaction: TransactWrite) -> None:
            if removed:
                actions: list[Any] = [MessagingModel.removed.set(True)]
                condition = MessagingModel.pk.exists() & MessagingModel.removed.does_not_exist()
            else:
                actions = [MessagingModel.removed.remove()]
                condition = MessagingModel.removed.exists()
            transaction.update(_message_item(record), actions=actions, condition=condition)
            _fix_entries(transaction, record.conversation_id, fixes)

        return commit(build, self._connection)

    @staticmethod
    def fits_one_transaction(items: int) -> bool:
        return items <= TRANSACTION_ITEMS_MAX

    # A purged account

    def forget_member(self, group: GroupRecord, user_id: str, stand_in: str, admin_id: str) -> bool:
        """The purge's: a deleted account leaves the group without a trace — out of its members and former
        members, the creator a stand-in id if it was them, the admin `admin_id` (handed on as a leave does), its
        own inbox entry gone — and, unlike a leave, with no system message (docs/PRIVACY.md says why). False if
        the group moved on since it was read."""
        members = {member for member in group.member_ids if member != user_id}
        formers = {member for member in group.former_ids if member != user_id}
        conversation = conversation_key(group.conversation_id)

        def build(transaction: TransactWrite) -> None:
            actions: list[Any] = [
                MessagingModel.version.set(group.version + 1),
                MessagingModel.member_ids.set(members) if members else MessagingModel.member_ids.remove(),
                MessagingModel.former_ids.set(formers) if formers else MessagingModel.former_ids.remove(),
            ]
            if group.creator_id == user_id:
                actions.append(MessagingModel.creator_id.set(stand_in))
            if group.admin_id != admin_id:
                actions.append(MessagingModel.admin_id.set(admin_id))
            transaction.update(MessagingModel(pk=conversation, sk=GROUP), actions=actions, condition=_version_is(group))
            transaction.delete(MessagingModel(pk=user_key(user_id), sk=conversation))

        return commit(build, self._connection)

    def set_unread(self, entry: InboxEntry, unread: int) -> bool:
        """The purge's: the entry's unread count as counted from its read mark, if nothing reached the entry
        since it was read (its latest message is the same); False otherwise (count again)."""
        latest = entry.last_message.message_id if entry.last_message else None
        unchanged = (
            MessagingModel.last_message_id == latest if latest else MessagingModel.last_message_id.does_not_exist()
        )
        try:
            MessagingModel(pk=user_key(entry.user_id), sk=conversation_key(entry.conversation_id)).update(
                actions=[MessagingModel.unread_count.set(unread)], condition=MessagingModel.pk.exists() & unchanged
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True
