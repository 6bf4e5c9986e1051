"""Persistence of notifications: one table, a partition per recipient. PynamoDB objects never leave
this module.

    user_id = <recipient>  sk = n#<notification_id>       a notification (ULID: newest first when read
                                                          backwards): type, actor_id, actor_ids (a group's
                                                          latest few), actor_count, post_id, comment_id,
                                                          created_at, source, group_key, expires_at (TTL)
    user_id = <recipient>  sk = src#<type>#<source>       which notification that activity made:
                                                          notification_id, activity_at (when the
                                                          activity happened), group_key and opened_at (the
                                                          group it joined), expires_at (TTL); once taken
                                                          back, a tombstone without notification_id
    user_id = <recipient>  sk = grp#<type>#<post_id>      the open group of likes (or comments) on a post:
                                                          notification_id (its current notification),
                                                          opened_at (its window's start), actor_ids,
                                                          actor_count, activity (each actor's latest like
                                                          or comment: at, comment_id), expires_at (TTL)
    user_id = <recipient>  sk = state                     read_up_to: every notification id up to it is read;
                                                          unread: how many are not (the badge, one read);
                                                          version: bumped by every write that moves `unread`

A notification and its pointer are written in one transaction conditioned on the pointer's absence,
so an intent delivered twice stores one notification; taking it back deletes the notification, found
through the pointer, and leaves the pointer as a tombstone of that activity: a create of the same
activity delivered again later (a stream replayed after SQS's five-minute deduplication, a dead letter
replayed after the undoing) finds it and stores nothing, while a newer activity of the same source (a
like again after an unlike) replaces it. Being read is not a flag on each item but the recipient's
watermark, so marking everything read is one write whatever the number of notifications.

Likes and comments on one post within a window become one notification (a group): a new activity
replaces the group's notification by a new one (a new id: it is the newest again, and unread) that
carries the latest few actors and the count. Whatever leaves a group (an unlike, a deleted comment), its
notification is led by the newest activity left: its actor, comment and time. The unread counter moves
in the same transaction as the notifications it counts, conditioned on the watermark it was computed
against (a concurrent mark-read makes the write try again). Notifications expire after 90 days."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from pinhole.notifications.models import ActorActivity, NotificationRecord, NotificationType
from pinhole.shared.clock import to_iso, utc_now
from pinhole.shared.errors import Busy
from pinhole.shared.settings import get_settings
from pinhole.shared.transactions import CONFLICT_ATTEMPTS, cancelled_by, pause_before_retry

_settings = get_settings()

NOTIFICATION = "n#"
POINTER = "src#"
GROUP = "grp#"
STATE = "state"
KEEP_FOR = timedelta(days=90)
ACTORS_KEPT = 10
"""A group remembers its latest actors, so that an unlike among them shows the one before."""


def pointer_key(kind: str, source: str) -> str:
    return f"{POINTER}{kind}#{source}"


def group_key(kind: str, post_id: str) -> str:
    return f"{GROUP}{kind}#{post_id}"


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
    actor_ids = ListAttribute(of=UnicodeAttribute, null=True)
    actor_count = NumberAttribute(null=True)
    activity: MapAttribute[str, Any] = MapAttribute(null=True)  # a group's: actor id → {at, comment_id}
    post_id = UnicodeAttribute(null=True)
    comment_id = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    source = UnicodeAttribute(null=True)
    group_key = UnicodeAttribute(null=True)
    opened_at = UnicodeAttribute(null=True)
    read_up_to = UnicodeAttribute(null=True)
    unread = NumberAttribute(null=True)
    version = NumberAttribute(null=True)
    activity_at = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)


def _activity(item: NotificationModel) -> dict[str, ActorActivity]:
    """A group's or a group notification's `activity` (empty for one stored before it was kept)."""
    stored = item.attribute_values.get("activity")
    values = stored.as_dict() if isinstance(stored, MapAttribute) else stored or {}
    return {actor: ActorActivity.model_validate(latest) for actor, latest in values.items()}


def _stored_activity(activity: dict[str, ActorActivity]) -> dict[str, Any] | None:
    return {actor: latest.model_dump(exclude_none=True) for actor, latest in activity.items()} or None


def _set_actors(actor_ids: list[str]) -> Action:
    # PynamoDB types a list of UnicodeAttribute as a list of attributes; its values are the strings
    return NotificationModel.actor_ids.set(cast(Any, actor_ids))


def _set_activity(activity: dict[str, ActorActivity]) -> Action:
    stored = _stored_activity(activity)
    return NotificationModel.activity.set(stored) if stored else NotificationModel.activity.remove()


def _to_record(item: NotificationModel) -> NotificationRecord:
    values = {name: item.attribute_values.get(name) for name in NotificationRecord.model_fields}
    values["activity"] = _activity(item)
    return NotificationRecord.model_validate({key: value for key, value in values.items() if value is not None})


def _activity_of(pointer: NotificationModel) -> ActorActivity:
    """The activity a pointer stands for: its time, and for a comment the comment (its source ends `comment#<id>`)."""
    kind, _, source = str(pointer.sk).removeprefix(POINTER).partition("#")
    comment_id = source.rpartition("#")[2] if kind == NotificationType.COMMENT else None
    return ActorActivity(at=str(pointer.activity_at), comment_id=comment_id)


def _newest_first(actor_ids: list[str], activity: dict[str, ActorActivity]) -> list[str]:
    """The actors by their latest activity, newest first (one whose activity is not known, stored before it was kept,
    after those whose is, in the order it had)."""
    return sorted(actor_ids, key=lambda actor: activity[actor].at if actor in activity else "", reverse=True)


def _led_by_newest(actor_ids: list[str], activity: dict[str, ActorActivity]) -> list[Action]:
    """What a group's notification says of its newest actor: who, which comment and when (as they were when that
    activity is not known)."""
    actions: list[Action] = [NotificationModel.actor_id.set(actor_ids[0])]
    lead = activity.get(actor_ids[0])
    if lead is not None:
        actions.append(NotificationModel.created_at.set(lead.at))
        actions.append(
            NotificationModel.comment_id.set(lead.comment_id)
            if lead.comment_id
            else NotificationModel.comment_id.remove()
        )
    return actions


@dataclass(frozen=True)
class Stored:
    """What a create stored: the notification (a group's, merged), the one it replaced, if any, and whether it is
    read already (older than the recipient's watermark: an activity that reached delivery late)."""

    record: NotificationRecord
    replaces: str | None = None
    read: bool = False


@dataclass(frozen=True)
class _State:
    read_up_to: str | None
    version: int | None

    def unread(self, notification_id: str) -> bool:
        return notification_id > (self.read_up_to or "")

    def unchanged(self) -> Condition:
        if self.read_up_to is None:
            return NotificationModel.read_up_to.does_not_exist()
        return NotificationModel.read_up_to == self.read_up_to


class NotificationsChanged(Exception):
    """Something the write was computed from changed under it (read again and recompute), too often."""


def _expiry() -> int:
    return int((utc_now() + KEEP_FOR).timestamp())


class NotificationRepository:
    def __init__(self) -> None:
        self._connection = Connection(region=_settings.region)

    def _state(self, user_id: str) -> _State:
        try:
            item = NotificationModel.get(user_id, STATE, consistent_read=True)
        except DoesNotExist:
            return _State(None, None)
        return _State(item.read_up_to, int(item.version) if item.version is not None else None)

    def _get(self, user_id: str, sk: str) -> NotificationModel | None:
        try:
            return NotificationModel.get(user_id, sk, consistent_read=True)
        except DoesNotExist:
            return None

    @staticmethod
    def _count_unread(transaction: TransactWrite, user_id: str, state: _State, delta: int) -> None:
        transaction.update(
            NotificationModel(user_id, STATE),
            actions=[NotificationModel.unread.add(delta), NotificationModel.version.add(1)],
            condition=state.unchanged(),
        )

    def _run(self, build: Callable[[TransactWrite], bool]) -> bool:
        """The transaction once: True if committed, False if the activity's pointer refused it (the activity
        was stored already, or a newer one of its source was); NotificationsChanged if another condition did,
        or another transaction collided. `build` says whether the pointer is written (else deleted)."""
        pointer_at = 0
        try:
            with TransactWrite(connection=self._connection) as transaction:
                pointer_written = build(transaction)
                # DynamoDB gets PynamoDB's deletes before its puts: a written pointer follows every delete
                pointer_at = len(transaction._delete_items) if pointer_written else 0
        except TransactWriteError as error:
            duplicate_at = pointer_at
            if cancelled_by(error, "ConditionalCheckFailed", slice(duplicate_at, duplicate_at + 1)):
                return False
            if cancelled_by(error, "ConditionalCheckFailed") or cancelled_by(error, "TransactionConflict"):
                raise NotificationsChanged() from error
            raise
        return True

    def _retrying(self, attempt: Any) -> Any:
        for _ in range(CONFLICT_ATTEMPTS - 1):
            try:
                return attempt()
            except NotificationsChanged:
                continue
        return attempt()

    def create(
        self,
        record: NotificationRecord,
        source: str,
        window: timedelta | None = None,
        now: datetime | None = None,
        *,
        restoring: bool = False,
    ) -> Stored | None:
        """Stores the notification, or folds it into the open group of its post when `window` is given
        (likes, comments); None if this source already made one for this recipient and type (a
        redelivered intent: nothing changed). `restoring` (a moderator's restore): a tombstone of the same
        moment (the removal's, stream times being whole seconds) does not stop it."""
        if window is None or record.post_id is None:
            return self._retrying(lambda: self._create_single(record, source, restoring))
        key = group_key(record.type, record.post_id)
        opened_after = to_iso((now or utc_now()) - window)
        return self._retrying(
            lambda: self._create_grouped(record, source, key, opened_after, now or utc_now(), restoring)
        )

    def _pointer(
        self, record: NotificationRecord, source: str, restoring: bool = False, **extra: Any
    ) -> tuple[NotificationModel, Condition]:
        pointer = NotificationModel(
            user_id=record.user_id,
            sk=pointer_key(record.type, source),
            notification_id=record.notification_id,
            activity_at=record.created_at,
            actor_id=record.actor_id,
            expires_at=_expiry(),
            **extra,
        )
        after_tombstone = (
            NotificationModel.activity_at <= record.created_at
            if restoring
            else NotificationModel.activity_at < record.created_at
        )
        newer_than_tombstone = NotificationModel.notification_id.does_not_exist() & after_tombstone
        return pointer, NotificationModel.sk.does_not_exist() | newer_than_tombstone

    def _notification(self, record: NotificationRecord, source: str, key: str | None = None) -> NotificationModel:
        values = record.model_dump(mode="json", exclude_none=True, exclude={"activity"})
        values["actor_ids"] = record.actors_newest_first
        values["activity"] = _stored_activity(record.activity)
        return NotificationModel(
            sk=f"{NOTIFICATION}{record.notification_id}",
            source=source,
            group_key=key,
            expires_at=_expiry(),
            **values,
        )

    def _create_single(self, record: NotificationRecord, source: str, restoring: bool = False) -> Stored | None:
        state = self._state(record.user_id)
        pointer, fresh = self._pointer(record, source, restoring)
        notification = self._notification(record, source)

        def build(transaction: TransactWrite) -> bool:
            transaction.save(pointer, condition=fresh)
            transaction.save(notification, condition=NotificationModel.sk.does_not_exist())
            self._count_unread(transaction, record.user_id, state, 1 if state.unread(record.notification_id) else 0)
            return True

        return Stored(record, read=not state.unread(record.notification_id)) if self._run(build) else None

    def _create_grouped(
        self,
        record: NotificationRecord,
        source: str,
        key: str,
        opened_after: str,
        now: datetime,
        restoring: bool = False,
    ) -> Stored | None:
        state = self._state(record.user_id)
        group = self._get(record.user_id, key)
        open_group = group if group is not None and (group.opened_at or "") > opened_after else None
        latest = ActorActivity(at=record.created_at, comment_id=record.comment_id)
        if open_group is not None and self._behind_the_lead(open_group, latest):
            return self._join_behind(record, source, key, open_group, latest, state, restoring)
        if open_group is None:
            merged = record.model_copy(update={"activity": {record.actor_id: latest}})
            replaces, opened_at = None, to_iso(now)
        else:
            earlier = [actor for actor in open_group.actor_ids or [] if actor != record.actor_id]
            joined = record.actor_id not in (open_group.actor_ids or [])
            actor_ids = [record.actor_id, *earlier][:ACTORS_KEPT]
            activity = {**_activity(open_group), record.actor_id: latest}
            merged = record.model_copy(
                update={
                    "actor_ids": actor_ids,
                    "actor_count": int(open_group.actor_count or 0) + (1 if joined else 0),
                    "activity": {actor: activity[actor] for actor in actor_ids if actor in activity},
                }
            )
            replaces, opened_at = open_group.notification_id, str(open_group.opened_at)
        pointer, fresh = self._pointer(record, source, restoring, group_key=key, opened_at=opened_at)
        notification = self._notification(merged, source, key)
        group_item = NotificationModel(
            user_id=record.user_id,
            sk=key,
            notification_id=merged.notification_id,
            opened_at=opened_at,
            actor_ids=merged.actors_newest_first,
            actor_count=merged.actor_count,
            activity=_stored_activity(merged.activity),
            expires_at=_expiry(),
        )
        group_unchanged = (
            NotificationModel.sk.does_not_exist()
            if group is None
            else NotificationModel.notification_id == group.notification_id
        )
        delta = (1 if state.unread(merged.notification_id) else 0) - (
            1 if replaces is not None and state.unread(replaces) else 0
        )

        def build(transaction: TransactWrite) -> bool:
            transaction.save(pointer, condition=fresh)
            transaction.save(notification, condition=NotificationModel.sk.does_not_exist())
            transaction.save(group_item, condition=group_unchanged)
            if replaces is not None:
                transaction.delete(NotificationModel(record.user_id, f"{NOTIFICATION}{replaces}"))
            self._count_unread(transaction, record.user_id, state, delta)
            return True

        read = not state.unread(merged.notification_id)
        return Stored(merged, replaces, read) if self._run(build) else None

    @staticmethod
    def _behind_the_lead(group: NotificationModel, latest: ActorActivity) -> bool:
        """Whether this activity is older than the one the open group's notification is led by (and dated and
        placed by): an activity that reached delivery late (a retry, a dead letter replayed)."""
        actor_ids = [str(actor) for actor in group.actor_ids or []]
        lead = _activity(group).get(actor_ids[0]) if actor_ids else None
        return lead is not None and latest.at < lead.at

    def _join_behind(
        self,
        record: NotificationRecord,
        source: str,
        key: str,
        group: NotificationModel,
        latest: ActorActivity,
        state: _State,
        restoring: bool,
    ) -> Stored | None:
        """An activity older than the group's lead joins it where it belongs: among the actors by time, counted,
        while the notification keeps its id, and so its place in the list and its read state (a new id minted from
        this older time would move it down, and a new one of the lead's time would be read or not by chance)."""
        activity = _activity(group)
        known = activity.get(record.actor_id)
        activity[record.actor_id] = latest if known is None or known.at < latest.at else known
        joined = record.actor_id not in (group.actor_ids or [])
        actors_before = [str(actor) for actor in group.actor_ids or []]
        actor_ids = _newest_first(actors_before + ([record.actor_id] if joined else []), activity)[:ACTORS_KEPT]
        kept = {actor: activity[actor] for actor in actor_ids if actor in activity}
        count = int(group.actor_count or 0) + (1 if joined else 0)
        notification_id = str(group.notification_id)
        lead = kept[actor_ids[0]]
        merged = record.model_copy(
            update={
                "notification_id": notification_id,
                "actor_id": actor_ids[0],
                "actor_ids": actor_ids,
                "actor_count": count,
                "activity": kept,
                "comment_id": lead.comment_id,
                "created_at": lead.at,
            }
        )
        pointer, fresh = self._pointer(record, source, restoring, group_key=key, opened_at=str(group.opened_at))
        pointer.notification_id = notification_id
        actors = [_set_actors(actor_ids), NotificationModel.actor_count.set(count), _set_activity(kept)]

        def build(transaction: TransactWrite) -> bool:
            transaction.save(pointer, condition=fresh)
            transaction.update(
                NotificationModel(record.user_id, key),
                actions=actors,
                condition=NotificationModel.notification_id == notification_id,
            )
            transaction.update(
                NotificationModel(record.user_id, f"{NOTIFICATION}{notification_id}"),
                actions=actors,
                condition=NotificationModel.sk.exists(),
            )
            return True

        read = not state.unread(notification_id)
        return Stored(merged, notification_id, read) if self._run(build) else None

    def notification_of(self, user_id: str, kind: str, source: str) -> NotificationRecord | None:
        """The notification this activity's pointer leads to now (a group's current one), if any."""
        pointer = self._get(user_id, pointer_key(kind, source))
        if pointer is None or pointer.notification_id is None:
            return None
        notification_id = pointer.notification_id
        if pointer.group_key:
            group = self._get(user_id, pointer.group_key)
            if group is None or group.opened_at != pointer.opened_at or group.notification_id is None:
                return None
            notification_id = group.notification_id
        item = self._get(user_id, f"{NOTIFICATION}{notification_id}")
        return _to_record(item) if item is not None else None

    def names(self, user_id: str, notification_id: str, actor_id: str) -> bool:
        """Whether the notification is still there and still names the actor: the push worker asks as it publishes,
        so that an unlike, a deleted comment, a withdrawn follow (or a newer like that replaced a group's notification,
        pushed itself) holds back a push still queued. One GetItem."""
        try:
            item = NotificationModel.get(
                user_id,
                f"{NOTIFICATION}{notification_id}",
                consistent_read=True,
                attributes_to_get=["user_id", "sk", "actor_id", "actor_ids"],
            )
        except DoesNotExist:
            return False
        return actor_id in ([str(actor) for actor in item.actor_ids or []] or [item.actor_id])

    def retract(
        self, user_id: str, kind: str, source: str, activity_at: str | None, *, keep_history: bool = False
    ) -> bool:
        """Takes back what this source made for this recipient and type (a group loses the actor, and
        goes when nobody is left), leaving a tombstone of the activity of `activity_at` (unless a newer
        activity of the source made the pointer since); False if there was nothing to take back.
        `keep_history` (a moderator's removal, which a restore undoes): what a closed group counts is left
        as it is, pointer included, so that the restore, finding it, makes nothing twice."""
        return bool(self._retrying(lambda: self._retract(user_id, kind, source, activity_at, keep_history)))

    def _retract(
        self, user_id: str, kind: str, source: str, activity_at: str | None, keep_history: bool = False
    ) -> bool:
        key = pointer_key(kind, source)
        pointer = self._get(user_id, key)
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
        state = self._state(user_id)
        group = self._get(user_id, pointer.group_key) if pointer is not None and pointer.group_key else None
        if group is not None and (notification_id is None or pointer is None or group.opened_at != pointer.opened_at):
            group = None  # a closed group keeps its count: its notification is history now
        if keep_history and group is None and pointer is not None and pointer.group_key and notification_id:
            return False
        # the actor's latest other activity in the open group (a second comment on the post), if they have one
        latest_left = self._latest_elsewhere(user_id, pointer, group) if group is not None and pointer else None
        expires_at = _expiry()

        def build(transaction: TransactWrite) -> bool:
            if activity_at is None:
                transaction.delete(NotificationModel(user_id, key), condition=untouched)
            else:
                tombstone = NotificationModel(user_id, key, activity_at=activity_at, expires_at=expires_at)
                not_newer = NotificationModel.activity_at.does_not_exist() | (
                    NotificationModel.activity_at <= activity_at
                )
                transaction.save(tombstone, condition=untouched if pointer is None else untouched & not_newer)
            if notification_id is None or (group is None and pointer is not None and pointer.group_key):
                return activity_at is not None
            if group is None:
                transaction.delete(NotificationModel(user_id, f"{NOTIFICATION}{notification_id}"))
                self._count_unread(transaction, user_id, state, -1 if state.unread(notification_id) else 0)
            elif latest_left is None:
                self._leave_group(transaction, user_id, group, str(pointer.actor_id or "") if pointer else "", state)
            elif pointer is not None:
                self._lead_again(transaction, user_id, group, str(pointer.actor_id), _activity_of(pointer), latest_left)
            return activity_at is not None

        return self._run(build) and notification_id is not None

    def _latest_elsewhere(
        self, user_id: str, pointer: NotificationModel, group: NotificationModel
    ) -> ActorActivity | None:
        """The pointer's actor's latest other activity in the open group (a second comment on the post), if any: taking
        one back leaves them among its actors, as of that one. One Query of the post's pointers of that kind."""
        post_prefix = f"{str(pointer.sk).rsplit('/', 1)[0]}/"
        others = [
            _activity_of(other)
            for other in NotificationModel.query(
                user_id, NotificationModel.sk.startswith(post_prefix), consistent_read=True
            )
            if other.sk != pointer.sk
            and other.actor_id == pointer.actor_id
            and other.notification_id is not None
            and other.group_key == pointer.group_key
            and other.opened_at == group.opened_at
        ]
        return max(others, key=lambda other: (other.at, other.comment_id or ""), default=None)

    def _lead_again(
        self,
        transaction: TransactWrite,
        user_id: str,
        group: NotificationModel,
        actor_id: str,
        taken_back: ActorActivity,
        latest_left: ActorActivity,
    ) -> None:
        """An actor who keeps another activity in the group took back their latest (deleted their newest comment):
        the group knows them by the one left, which may put another actor first and name another comment."""
        current = self._get(user_id, f"{NOTIFICATION}{group.notification_id}")
        if current is None:
            raise NotificationsChanged()
        activity = _activity(current)
        named = activity[actor_id].comment_id if actor_id in activity else current.comment_id
        if named != taken_back.comment_id:
            return  # an older one of theirs went: the group says the same
        activity[actor_id] = latest_left
        actor_ids = _newest_first([str(actor) for actor in current.actor_ids or []] or [actor_id], activity)
        unchanged = NotificationModel.notification_id == group.notification_id
        transaction.update(
            NotificationModel(user_id, str(group.sk)),
            actions=[_set_actors(actor_ids), _set_activity(activity)],
            condition=unchanged,
        )
        transaction.update(
            NotificationModel(user_id, str(current.sk)),
            actions=[
                _set_actors(actor_ids),
                _set_activity(activity),
                *_led_by_newest(actor_ids, activity),
            ],
            condition=NotificationModel.sk.exists(),
        )

    def _leave_group(
        self,
        transaction: TransactWrite,
        user_id: str,
        group: NotificationModel,
        actor_id: str,
        state: _State,
    ) -> None:
        current = self._get(user_id, f"{NOTIFICATION}{group.notification_id}")
        if current is None:
            raise NotificationsChanged()
        remaining = [str(actor) for actor in current.actor_ids or [] if actor != actor_id]
        activity = {actor: latest for actor, latest in _activity(current).items() if actor != actor_id}
        count = int(group.actor_count or 1) - 1
        unchanged = NotificationModel.notification_id == group.notification_id
        if count <= 0 or not remaining:
            transaction.delete(NotificationModel(user_id, str(group.sk)), condition=unchanged)
            transaction.delete(NotificationModel(user_id, str(current.sk)))
            unread = state.unread(str(group.notification_id))
            self._count_unread(transaction, user_id, state, -1 if unread else 0)
            return
        transaction.update(
            NotificationModel(user_id, str(group.sk)),
            actions=[
                _set_actors(remaining),
                NotificationModel.actor_count.set(count),
                _set_activity(activity),
            ],
            condition=unchanged,
        )
        transaction.update(
            NotificationModel(user_id, str(current.sk)),
            actions=[
                _set_actors(remaining),
                NotificationModel.actor_count.set(count),
                _set_activity(activity),
                *_led_by_newest(remaining, activity),
            ],
            condition=NotificationModel.sk.exists(),
        )

    def forget_actor(self, user_id: str, sk: str, actor_id: str) -> None:
        """The purge's: a notification (or open group) of another recipient that names a deleted account loses
        it from its actors; one with nobody left goes, and leaves the unread count with it."""
        self._retrying(lambda: self._forget_actor(user_id, sk, actor_id))

    def _forget_actor(self, user_id: str, sk: str, actor_id: str) -> None:
        item = self._get(user_id, sk)
        if item is None:
            return
        actors = [str(actor) for actor in item.actor_ids or []]
        remaining = [actor for actor in actors if actor != actor_id]
        named = len(actors) - len(remaining) or int(item.actor_id == actor_id)
        count = int(item.actor_count or 1) - named
        is_notification = sk.startswith(NOTIFICATION)
        state = self._state(user_id)
        unchanged = NotificationModel.notification_id == item.notification_id
        try:
            with TransactWrite(connection=self._connection) as transaction:
                if not remaining or count <= 0:
                    transaction.delete(NotificationModel(user_id, sk), condition=unchanged)
                    if is_notification:
                        unread = state.unread(str(item.notification_id))
                        self._count_unread(transaction, user_id, state, -1 if unread else 0)
                    return
                activity = {actor: latest for actor, latest in _activity(item).items() if actor != actor_id}
                actions: list[Action] = [
                    _set_actors(remaining),
                    NotificationModel.actor_count.set(count),
                    _set_activity(activity),
                ]
                if is_notification:
                    actions += _led_by_newest(remaining, activity)
                if actor_id in (item.source or ""):
                    actions.append(NotificationModel.source.remove())
                transaction.update(NotificationModel(user_id, sk), actions=actions, condition=unchanged)
        except TransactWriteError as error:
            raise NotificationsChanged() from error

    def page(
        self, user_id: str, limit: int, after: dict[str, Any] | None = None
    ) -> tuple[list[NotificationRecord], dict[str, Any] | None]:
        """The recipient's notifications, newest first; the key of the next page, when there may be one."""
        results = NotificationModel.query(
            user_id,
            NotificationModel.sk.startswith(NOTIFICATION),
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=after,
        )
        return [_to_record(item) for item in results], results.last_evaluated_key

    @staticmethod
    def page_key(record: NotificationRecord) -> dict[str, Any]:
        """The key a page of notifications goes on from after this one (a LastEvaluatedKey)."""
        return {"user_id": {"S": record.user_id}, "sk": {"S": f"{NOTIFICATION}{record.notification_id}"}}

    def read_up_to(self, user_id: str) -> str | None:
        return self._state(user_id).read_up_to

    def _counter(self, user_id: str) -> tuple[int, str | None]:
        """The unread counter and the watermark: one read of the recipient's state."""
        try:
            state = NotificationModel.get(user_id, STATE)
        except DoesNotExist:
            return 0, None
        return max(0, int(state.unread or 0)), state.read_up_to

    def unread_count(self, user_id: str) -> int:
        """The stored counter: every notification after the watermark (a phone's badge; one read)."""
        return self._counter(user_id)[0]

    def unread(self, user_id: str, limit: int) -> tuple[int, list[NotificationRecord]]:
        """The stored counter, and the newest unread notifications (up to `limit`, newest first): one read of the
        recipient's state, and one Query only when the counter is not 0."""
        counted, read_up_to = self._counter(user_id)
        if counted == 0:
            return 0, []
        # ids are fixed-length ULIDs: every one after the watermark sorts after `<watermark>!`
        lowest = f"{NOTIFICATION}{read_up_to}!" if read_up_to else NOTIFICATION
        results = NotificationModel.query(
            user_id,
            NotificationModel.sk.between(lowest, f"{NOTIFICATION}~"),
            scan_index_forward=False,
            limit=min(counted, limit),
        )
        return counted, [_to_record(item) for item in results]

    def mark_read(self, user_id: str, up_to: str) -> None:
        """Moves the watermark forward to `up_to`; never back (marking an older one read unreads nothing).
        The unread counter becomes the number of notifications after it, counted against the version the
        write is conditioned on (a notification stored meanwhile makes it count again, after a pause). Busy if
        notifications kept arriving through every attempt."""
        for attempt in range(CONFLICT_ATTEMPTS):
            if attempt:
                pause_before_retry(attempt - 1)  # a notification arrived meanwhile: let the burst pass
            state = self._state(user_id)
            if state.read_up_to is not None and state.read_up_to >= up_to:
                return
            # ids are fixed-length ULIDs: every one after `up_to` sorts after `up_to!`, and no other kind of item does
            after = NotificationModel.count(
                user_id,
                NotificationModel.sk.between(f"{NOTIFICATION}{up_to}!", f"{NOTIFICATION}~"),
                consistent_read=True,
            )
            same_version = (
                NotificationModel.version.does_not_exist()
                if state.version is None
                else NotificationModel.version == state.version
            )
            try:
                NotificationModel(user_id, STATE).update(
                    actions=[
                        NotificationModel.read_up_to.set(up_to),
                        NotificationModel.unread.set(after),
                        NotificationModel.version.add(1),
                    ],
                    condition=same_version & state.unchanged(),
                )
                return
            except UpdateError as error:
                if error.cause_response_code != "ConditionalCheckFailedException":
                    raise
        raise Busy("Your notifications kept changing while they were marked read: try again in a moment.")
