"""Making and delivering notifications (the queue consumers, functions/notifications/consumers.py): relaying
stream activity to the intents queue, and delivering what comes off it — storing a notification, or taking one
back, and pushing it live and to phones — and a moderator's notice to an author.

Nobody is notified of their own doing, nor of anything by someone they block or who blocks them, nor
of a mention in a post they may not see. A notification is stored before it is pushed; the push is
best-effort (the notification waits in GET /notifications either way)."""

from datetime import datetime, timedelta

from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamRecordModel
from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from pinhole.graph.dal import GraphRepository
from pinhole.graph.logic import can_view
from pinhole.notifications.activity import intents_of
from pinhole.notifications.dal import NotificationRepository, Stored
from pinhole.notifications.intent_queue import IntentQueue
from pinhole.notifications.logic import to_notification, visible_actors
from pinhole.notifications.models import (
    MODERATORS_ACTOR,
    IntentAction,
    Notification,
    NotificationFrame,
    NotificationIntent,
    NotificationRecord,
    NotificationType,
)
from pinhole.posts.dal import PostRepository
from pinhole.posts.models import PostRecord, PostStatus
from pinhole.push.queue import PushQueue, notification_push
from pinhole.realtime.push import Pusher
from pinhole.shared.clock import to_iso, utc_now
from pinhole.shared.errors import NotFound
from pinhole.shared.ids import id_at
from pinhole.shared.observability import logger
from pinhole.shared.settings import get_settings
from pinhole.users.dal import ProfileRepository
from pinhole.users.models import Profile
from pinhole.users.views import summary_of

_store = NotificationRepository()
_posts = PostRepository()
_profiles = ProfileRepository()
_graph = GraphRepository()


def relay(record: DynamoDBStreamRecordModel, queue: IntentQueue) -> int:
    """Queues what a stream record means for notifications; how many intents that was. An item's records
    reach `on_activity` in order (one message group of its routed FIFO queue), and one that fails holds back
    the later records of its item only (skip_group_on_error): an unlike is never queued before the like it
    undoes, and other items go on."""
    intents = intents_of(record)
    if intents:
        queue.send(intents, record.eventID)
    return len(intents)


GROUPED = (NotificationType.LIKE, NotificationType.COMMENT)
"""Kinds that fold into one notification per post within the window (settings' notification_group_window_s)."""


def notify_moderation(
    recipient_id: str,
    kind: NotificationType,
    post_id: str,
    reason: str,
    source: str,
    comment_id: str | None = None,
    store: NotificationRepository = _store,
) -> bool:
    """Tells an author what a moderator did to their post, story or comment, and why (once per `source`: the
    action)."""
    now = utc_now()
    record = NotificationRecord(
        notification_id=id_at(now),
        user_id=recipient_id,
        type=kind,
        actor_id=MODERATORS_ACTOR,
        post_id=post_id,
        comment_id=comment_id,
        reason=reason,
        created_at=to_iso(now),
    )
    return store.create(record, source) is not None


class Notifier:
    """Delivers intents off the queue, with its collaborators as parameters (tests pass their own)."""

    def __init__(
        self,
        store: NotificationRepository = _store,
        posts: PostRepository = _posts,
        profiles: ProfileRepository = _profiles,
        graph: GraphRepository = _graph,
        pusher: Pusher | None = None,
        phones: PushQueue | None = None,
    ) -> None:
        self.store, self.posts, self.profiles, self.graph = store, posts, profiles, graph
        self.pusher = pusher or Pusher()
        self.phones = phones or PushQueue()

    def deliver(self, intent: NotificationIntent) -> Notification | None:
        """Stores and pushes the notification the intent asks for, or takes it back; the notification if
        one was stored now (None if it was not wanted, or was stored already: an intent delivered again)."""
        post = self._post(intent.post_id)
        recipient_id = self._recipient(intent, post)
        if recipient_id is None:
            logger.info("Nobody to notify", extra={"source": intent.source, "type": intent.type})
            return None
        if intent.action == IntentAction.RETRACT:
            # Nothing to take back for or from an account deleted (or being purged): the purge removes its
            # notifications itself, and a tombstone written after it would outlive the account.
            if len(self.profiles.get_many([recipient_id, intent.actor_id])) == len({recipient_id, intent.actor_id}):
                self.store.retract(
                    recipient_id, intent.type, intent.source, intent.created_at, keep_history=intent.moderated
                )
            return None
        if not self._wanted(intent, recipient_id, post):
            return None
        try:
            actor = self.profiles.get(intent.actor_id)
        except NotFound:
            return None
        happened = datetime.fromisoformat(intent.created_at) if intent.created_at else utc_now()
        record = NotificationRecord(
            # minted from when it happened, not when the stream got here: the list, newest first, is by that time
            notification_id=id_at(happened),
            user_id=recipient_id,
            type=intent.type,
            actor_id=intent.actor_id,
            post_id=intent.post_id,
            comment_id=intent.comment_id,
            created_at=intent.created_at or to_iso(happened),  # as the activity has it: its take-back compares it
        )
        window = timedelta(seconds=get_settings().notification_group_window_s) if intent.type in GROUPED else None
        stored = self.store.create(record, intent.source, window, restoring=intent.moderated)
        if stored is None:
            self._push_again(recipient_id, intent)
            return None
        notification = self._merged(recipient_id, stored, actor, read=stored.read)
        self._push(recipient_id, notification, stored.replaces)
        self.phones.enqueue([notification_push(notification, recipient_id)])
        return notification

    def _merged(self, recipient_id: str, stored: Stored, actor: Profile, read: bool = False) -> Notification:
        """The notification as the list will show it: its earlier actors who have gone, or are in a block with the
        recipient since, left out of `actors` and of `actor_count`."""
        visible = visible_actors(recipient_id, [stored.record], self.profiles, self.graph)
        return to_notification(stored.record, {**visible, actor.user_id: summary_of(actor)}, read=read)

    def _push_again(self, recipient_id: str, intent: NotificationIntent) -> None:
        """An intent delivered again: its push may not have been queued (the first delivery failed after
        storing); queued again, it reaches no device twice (the worker's marks)."""
        record = self.store.notification_of(recipient_id, intent.type, intent.source)
        if record is None or record.actor_id != intent.actor_id:
            return
        try:
            actor = self.profiles.get(record.actor_id)
        except NotFound:
            return
        notification = self._merged(recipient_id, Stored(record), actor)
        self.phones.enqueue([notification_push(notification, recipient_id)])

    def _post(self, post_id: str | None) -> PostRecord | None:
        if post_id is None:
            return None
        try:
            return self.posts.get(post_id)
        except NotFound:
            return None

    def _recipient(self, intent: NotificationIntent, post: PostRecord | None) -> str | None:
        """Whom the intent concerns: named, mentioned by username, or else the post's author."""
        if intent.recipient_id:
            return intent.recipient_id
        if intent.mentioned:
            try:
                return self.profiles.find_by_username(intent.mentioned).user_id
            except NotFound:
                return None
        return post.author_id if post else None

    def _wanted(self, intent: NotificationIntent, recipient_id: str, post: PostRecord | None) -> bool:
        if recipient_id == intent.actor_id:
            return False
        if intent.type == NotificationType.MENTION and not self._mention_wanted(intent, recipient_id, post):
            return False
        return not self.graph.blocked_between(intent.actor_id, recipient_id)

    def _mention_wanted(self, intent: NotificationIntent, recipient_id: str, post: PostRecord | None) -> bool:
        if post is None or post.status != PostStatus.PUBLISHED:
            return False
        if intent.comment_id and recipient_id == post.author_id:
            return False  # told of the comment itself already
        try:
            author = self.profiles.get(post.author_id)
        except NotFound:
            return False
        return can_view(recipient_id, author, self.graph)

    def _push(self, recipient_id: str, notification: Notification, replaces: str | None) -> None:
        try:
            self.pusher.push([recipient_id], NotificationFrame(notification=notification, replaces=replaces))
        except (BotoCoreError, ClientError, PynamoDBException):
            # Delivering again would not push again (the notification is stored): it waits to be listed.
            logger.warning("Live push failed", extra={"notification_id": notification.notification_id}, exc_info=True)
