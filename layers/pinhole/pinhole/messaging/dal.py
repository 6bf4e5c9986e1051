"""Persistence of direct messages: one table. PynamoDB objects never leave this module.

    pk = conv#<conversation>  sk = msg#<message ULID>     a message (newest first by key): message_id,
                                                          conversation_id, sender_id, text, created_at
    pk = user#<user>          sk = conv#<conversation>    the user's inbox entry for it: with_id, last_*
                                                          (the latest message), unread_count, read_up_to;
                                                          inbox-index: inbox_user = <user>,
                                                          last_activity = latest message id (newest first)
    pk = sent#<user>          sk = client#<client_id>     a send receipt: message_id, conversation_id,
                                                          pushed (once the message went out live);
                                                          expires after 24 hours (TTL `expires_at`)

Sending writes the message, both inbox entries and (with a client id) the receipt in one
transaction: a message is never stored without appearing in both inboxes, and the receipt's
condition makes a retried send a no-op that returns the first message. The receipt also says
whether the message was pushed: a first attempt that stored it and then failed (its answer lost, a
crash, @connections refusing) leaves it unpushed, and the retry pushes it."""

from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from pinhole.messaging.models import InboxEntry, MessageRecord
from pinhole.shared.clock import utc_now
from pinhole.shared.settings import get_settings
from pinhole.shared.transactions import commit

_settings = get_settings()

MESSAGE = "msg#"
CONVERSATION = "conv#"
RECEIPT_TTL_S = 24 * 60 * 60  # as long as an Idempotency-Key is honoured (API.md)
INBOX_READ_EXACTLY = 100
"""A first page of conversations is read from the table (strongly consistent) when the user has at most
this many: a conversation one has just written to is in one's list at once. With more, the page comes
from the inbox index, which lags a send by up to about a second (a GSI is eventually consistent)."""


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


class MessagingModel(Model):
    class Meta:
        table_name = _settings.messages_table_name
        region = _settings.region
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    conversation_id = UnicodeAttribute(null=True)
    # a message
    message_id = UnicodeAttribute(null=True)
    sender_id = UnicodeAttribute(null=True)
    text = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    # an inbox entry
    inbox_user = UnicodeAttribute(null=True)
    last_activity = UnicodeAttribute(null=True)
    user_id = UnicodeAttribute(null=True)
    with_id = UnicodeAttribute(null=True)
    last_message_id = UnicodeAttribute(null=True)
    last_sender_id = UnicodeAttribute(null=True)
    last_text = UnicodeAttribute(null=True)
    last_created_at = UnicodeAttribute(null=True)
    unread_count = NumberAttribute(null=True)
    read_up_to = UnicodeAttribute(null=True)
    # a send receipt
    expires_at = NumberAttribute(null=True)
    pushed = BooleanAttribute(null=True)

    inbox = InboxIndex()


def _get(pk: str, sk: str) -> MessagingModel | None:
    try:
        return MessagingModel.get(pk, sk, consistent_read=True)
    except DoesNotExist:
        return None


def _to_record(item: MessagingModel) -> MessageRecord:
    return MessageRecord.model_validate({name: item.attribute_values.get(name) for name in MessageRecord.model_fields})


def _to_entry(item: MessagingModel) -> InboxEntry:
    last = None
    if item.last_message_id:
        last = MessageRecord(
            message_id=item.last_message_id,
            conversation_id=item.conversation_id or "",
            sender_id=item.last_sender_id or "",
            text=item.last_text or "",
            created_at=item.last_created_at or "",
        )
    return InboxEntry(
        conversation_id=item.conversation_id or "",
        user_id=item.user_id or "",
        with_id=item.with_id or "",
        last_message=last,
        unread_count=int(item.unread_count or 0),
        read_up_to=item.read_up_to,
    )


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
    last = page[-1]
    index_key = {
        "inbox_user": {"S": last.inbox_user},
        "last_activity": {"S": last.last_activity},
        "pk": {"S": last.pk},
        "sk": {"S": last.sk},
    }
    return [_to_entry(item) for item in page], index_key


def _latest(record: MessageRecord, owner_id: str, other_id: str) -> list[Any]:
    """Update actions that make `record` the latest message of `owner_id`'s inbox entry."""
    return [
        MessagingModel.conversation_id.set(record.conversation_id),
        MessagingModel.inbox_user.set(owner_id),
        MessagingModel.user_id.set(owner_id),
        MessagingModel.with_id.set(other_id),
        MessagingModel.last_activity.set(record.message_id),
        MessagingModel.last_message_id.set(record.message_id),
        MessagingModel.last_sender_id.set(record.sender_id),
        MessagingModel.last_text.set(record.text),
        MessagingModel.last_created_at.set(record.created_at),
    ]


@dataclass(frozen=True)
class Sent:
    """What a send stored (or, for a retry, had stored the first time), and whether it is yet to be
    pushed: a new message is; a retried one if its first attempt never got that far."""

    message: MessageRecord
    unpushed: bool


def _receipt_key(sender_id: str, client_id: str) -> tuple[str, str]:
    return f"sent#{sender_id}", f"client#{client_id}"


class MessageRepository:
    def __init__(self) -> None:
        self._connection = Connection(region=_settings.region)

    def send(self, record: MessageRecord, recipient_id: str, client_id: str | None) -> Sent:
        """Stores the message in the conversation and both inboxes; with a client id already used
        by the sender (a retry), stores nothing and returns the message that id first sent."""
        sender_id, conversation = record.sender_id, conversation_key(record.conversation_id)

        def build(transaction: TransactWrite) -> None:
            if client_id is not None:
                pk, sk = _receipt_key(sender_id, client_id)
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
            transaction.save(
                MessagingModel(pk=conversation, sk=f"{MESSAGE}{record.message_id}", **record.model_dump()),
                condition=MessagingModel.pk.does_not_exist(),
            )
            transaction.update(
                MessagingModel(pk=user_key(sender_id), sk=conversation),
                actions=[*_latest(record, sender_id, recipient_id), MessagingModel.read_up_to.set(record.message_id)],
            )
            transaction.update(
                MessagingModel(pk=user_key(recipient_id), sk=conversation),
                actions=[*_latest(record, recipient_id, sender_id), MessagingModel.unread_count.add(1)],
            )

        if commit(build, self._connection):
            return Sent(record, unpushed=True)
        assert client_id is not None  # only the receipt's condition can refuse: message ids are new
        receipt = MessagingModel.get(*_receipt_key(sender_id, client_id), consistent_read=True)
        first = self.get_message(receipt.conversation_id or "", receipt.message_id or "")
        assert first is not None  # written in the same transaction as the receipt
        return Sent(first, unpushed=not receipt.pushed)

    def mark_pushed(self, sender_id: str, client_id: str) -> None:
        """Notes on the send receipt that its message went out live: a later retry pushes nothing."""
        MessagingModel(*_receipt_key(sender_id, client_id)).update(
            actions=[MessagingModel.pushed.set(True)], condition=MessagingModel.pk.exists()
        )

    def get_message(self, conversation_id: str, message_id: str) -> MessageRecord | None:
        item = _get(conversation_key(conversation_id), f"{MESSAGE}{message_id}")
        return _to_record(item) if item is not None else None

    def messages(
        self, conversation_id: str, limit: int, after: dict[str, Any] | None = None
    ) -> tuple[list[MessageRecord], dict[str, Any] | None]:
        """A page of the conversation, newest first."""
        results = MessagingModel.query(
            conversation_key(conversation_id),
            MessagingModel.sk.startswith(MESSAGE),
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=after,
        )
        return [_to_record(item) for item in results], results.last_evaluated_key

    def entry(self, user_id: str, conversation_id: str) -> InboxEntry | None:
        item = _get(user_key(user_id), conversation_key(conversation_id))
        return _to_entry(item) if item is not None else None

    def inbox(
        self, user_id: str, limit: int, after: dict[str, Any] | None = None
    ) -> tuple[list[InboxEntry], dict[str, Any] | None]:
        """A page of the user's conversations, latest activity first (the first page exact: INBOX_READ_EXACTLY)."""
        if after is None:
            exact = _first_inbox_page_from_the_table(user_id, limit)
            if exact is not None:
                return exact
        results = MessagingModel.inbox.query(user_id, scan_index_forward=False, limit=limit, last_evaluated_key=after)
        return [_to_entry(item) for item in results], results.last_evaluated_key

    def unread_after(self, conversation_id: str, reader_id: str, message_id: str) -> int:
        """How many messages of the other side come after `message_id` (the reader's own never count)."""
        return MessagingModel.count(
            conversation_key(conversation_id),
            MessagingModel.sk > f"{MESSAGE}{message_id}",
            filter_condition=MessagingModel.sender_id != reader_id,
        )

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
