"""Persistence of notifications: one table, a partition per recipient. PynamoDB objects never leave
this module.

    user_id = <recipient>  sk = n#<notification_id>       a notification (ULID: newest first when read
                                                          backwards): type, actor_id, post_id, comment_id,
                                                          created_at, source, expires_at (TTL)
    user_id = <recipient>  sk = src#<type>#<source>       which notification that activity made:
                                                          notification_id, activity_at (when the
                                                          activity happened), expires_at (TTL); once
                                                          taken back, a tombstone without notification_id
    user_id = <recipient>  sk = state                     read_up_to: every notification id up to it is read

A notification and its pointer are written in one transaction conditioned on the pointer's absence,
so an intent delivered twice stores one notification; taking it back deletes the notification, found
through the pointer, and leaves the pointer as a tombstone of that activity: a create of the same
activity delivered again later (a stream replayed after SQS's five-minute deduplication, a dead letter
replayed after the undoing) finds it and stores nothing, while a newer activity of the same source (a
like again after an unlike) replaces it. Being read is not a flag on each item but the recipient's
watermark, so marking everything read is one write whatever the number of notifications.
Notifications expire after 90 days."""

from datetime import timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from pinhole.notifications.models import NotificationRecord
from pinhole.shared.clock import utc_now
from pinhole.shared.settings import get_settings
from pinhole.shared.transactions import commit

_settings = get_settings()

NOTIFICATION = "n#"
POINTER = "src#"
STATE = "state"
KEEP_FOR = timedelta(days=90)


def pointer_key(kind: str, source: str) -> str:
    return f"{POINTER}{kind}#{source}"


class NotificationModel(Model):
    class Meta:
        table_name = _settings.notifications_table_name
        region = _settings.region
        billing_mode = "PAY_PER_REQUEST"

    user_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    notification_id = UnicodeAttribute(null=True)
    type = UnicodeAttribute(null=True)
    actor_id = UnicodeAttribute(null=True)
    post_id = UnicodeAttribute(null=True)
    comment_id = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    source = UnicodeAttribute(null=True)
    read_up_to = UnicodeAttribute(null=True)
    activity_at = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)


def _to_record(item: NotificationModel) -> NotificationRecord:
    return NotificationRecord.model_validate(
        {name: item.attribute_values.get(name) for name in NotificationRecord.model_fields}
    )


class NotificationRepository:
    def __init__(self) -> None:
        self._connection = Connection(region=_settings.region)

    def create(self, record: NotificationRecord, source: str) -> bool:
        """Stores the notification; False if this source already made one for this recipient and type
        (a redelivered intent: nothing changed)."""
        expires_at = int((utc_now() + KEEP_FOR).timestamp())
        notification = NotificationModel(
            sk=f"{NOTIFICATION}{record.notification_id}",
            source=source,
            expires_at=expires_at,
            **record.model_dump(mode="json", exclude_none=True),
        )
        pointer = NotificationModel(
            user_id=record.user_id,
            sk=pointer_key(record.type, source),
            notification_id=record.notification_id,
            activity_at=record.created_at,
            expires_at=expires_at,
        )
        newer_than_tombstone = NotificationModel.notification_id.does_not_exist() & (
            NotificationModel.activity_at < record.created_at
        )

        def build(transaction: TransactWrite) -> None:
            transaction.save(pointer, condition=NotificationModel.sk.does_not_exist() | newer_than_tombstone)
            transaction.save(notification, condition=NotificationModel.sk.does_not_exist())

        return commit(build, self._connection)

    def retract(self, user_id: str, kind: str, source: str, activity_at: str | None) -> bool:
        """Deletes the notification this source made for this recipient and type, leaving a tombstone of
        the activity of `activity_at` (unless a newer activity of the source made the pointer since);
        False if there was no notification to delete."""
        key = pointer_key(kind, source)
        try:
            pointer: NotificationModel | None = NotificationModel.get(user_id, key, consistent_read=True)
        except DoesNotExist:
            pointer = None
        notification_id = pointer.notification_id if pointer else None
        if activity_at is None and notification_id is None:
            return False
        untouched: Condition
        if pointer is None:
            untouched = NotificationModel.sk.does_not_exist()
        elif notification_id is None:
            untouched = NotificationModel.notification_id.does_not_exist()
        else:
            untouched = NotificationModel.notification_id == notification_id
        expires_at = int((utc_now() + KEEP_FOR).timestamp())

        def build(transaction: TransactWrite) -> None:
            if activity_at is None:
                transaction.delete(NotificationModel(user_id, key), condition=untouched)
            else:
                tombstone = NotificationModel(user_id, key, activity_at=activity_at, expires_at=expires_at)
                not_newer = NotificationModel.activity_at.does_not_exist() | (
                    NotificationModel.activity_at <= activity_at
                )
                transaction.save(tombstone, condition=untouched if pointer is None else untouched & not_newer)
            if notification_id is not None:
                transaction.delete(NotificationModel(user_id, f"{NOTIFICATION}{notification_id}"))

        return commit(build, self._connection) and notification_id is not None

    def page(
        self, user_id: str, limit: int, after: dict[str, Any] | None = None
    ) -> tuple[list[NotificationRecord], dict[str, Any] | None]:
        """The recipient's notifications, newest first."""
        results = NotificationModel.query(
            user_id,
            NotificationModel.sk.startswith(NOTIFICATION),
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=after,
        )
        return [_to_record(item) for item in results], results.last_evaluated_key

    def read_up_to(self, user_id: str) -> str | None:
        try:
            return NotificationModel.get(user_id, STATE, consistent_read=True).read_up_to
        except DoesNotExist:
            return None

    def mark_read(self, user_id: str, up_to: str) -> None:
        """Moves the watermark forward to `up_to`; never back (marking an older one read unreads nothing)."""
        try:
            NotificationModel(user_id, STATE).update(
                actions=[NotificationModel.read_up_to.set(up_to)],
                condition=NotificationModel.read_up_to.does_not_exist() | (NotificationModel.read_up_to < up_to),
            )
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
