"""Use cases of a recipient's notifications: listing them, the badge, and marking them read (the HTTP routes).
What makes and delivers them is pinhole.notifications.delivery (the queue consumers), which the API never
imports: it brings push, the WebSocket pusher and the stream models.

A notification is left out of the list (and the badge) once its actor has gone or is in a block with the
recipient, or once its post was deleted or taken down."""

from pinhole.graph.dal import GraphRepository
from pinhole.notifications.dal import NotificationRepository
from pinhole.notifications.models import MODERATION_NOTICES, Notification, NotificationRecord
from pinhole.posts.dal import PostRepository
from pinhole.posts.models import PostRecord, PostStatus
from pinhole.shared.caller import Caller
from pinhole.shared.pages import next_cursor, start_after
from pinhole.users.dal import ProfileRepository
from pinhole.users.models import UserSummary
from pinhole.users.views import summary_of

_store = NotificationRepository()
_posts = PostRepository()
_profiles = ProfileRepository()
_graph = GraphRepository()


ACTORS_SHOWN = 3


def to_notification(record: NotificationRecord, actors: list[UserSummary], read: bool) -> Notification:
    """`actors` is empty for a moderation notice: Pinhole's moderators, never one by name."""
    return Notification(
        notification_id=record.notification_id,
        type=record.type,
        actor=actors[0] if actors else None,
        actors=actors[:ACTORS_SHOWN],
        actor_count=max(record.actor_count, len(actors[:ACTORS_SHOWN])) if actors else 0,
        post_id=record.post_id,
        comment_id=record.comment_id,
        reason=record.reason,
        created_at=record.created_at,
        read=read,
    )


def notifications(
    caller: Caller,
    limit: int,
    cursor: str | None,
    store: NotificationRepository = _store,
    profiles: ProfileRepository = _profiles,
    posts: PostRepository = _posts,
    graph: GraphRepository = _graph,
) -> tuple[list[Notification], str | None]:
    """The caller's notifications, newest first, those `_listed` leaves out left out."""
    scope = f"notifications:{caller.user_id}"
    records, last_key = store.page(caller.user_id, limit, start_after(cursor, scope))
    read_up_to = store.read_up_to(caller.user_id) or ""
    return _listed(caller.user_id, records, read_up_to, profiles, posts, graph), next_cursor(last_key, scope)


def _listed(
    recipient_id: str,
    records: list[NotificationRecord],
    read_up_to: str,
    profiles: ProfileRepository,
    posts: PostRepository,
    graph: GraphRepository,
) -> list[Notification]:
    """The notifications of these records that their recipient is shown. Left out: those of users who have since gone
    (or been suspended) or who are in a block with the recipient (made after the notification), and those about
    deleted posts or posts not published (removed by a moderator); a moderation notice is always shown."""
    actor_ids = list(dict.fromkeys(a for record in records for a in record.actors_newest_first[:ACTORS_SHOWN]))
    profiles_found = profiles.get_many(actor_ids)
    hidden = graph.blocked_among(recipient_id, actor_ids)
    existing = posts.get_many([record.post_id for record in records if record.post_id])
    page = []
    for record in records:
        read = record.notification_id <= read_up_to
        if record.type in MODERATION_NOTICES:
            page.append(to_notification(record, [], read=read))
            continue
        actors = [
            summary_of(profiles_found[a])
            for a in record.actors_newest_first[:ACTORS_SHOWN]
            if a in profiles_found and a not in hidden
        ]
        if actors and (record.post_id is None or _shown(existing.get(record.post_id))):
            page.append(to_notification(record, actors, read=read))
    return page


def _shown(post: PostRecord | None) -> bool:
    return post is not None and post.status == PostStatus.PUBLISHED


BADGE_CHECKED = 100
"""The newest unread notifications the badge checks one by one; past them it takes the stored counter's word."""


def unread_count(
    recipient_id: str,
    store: NotificationRepository = _store,
    profiles: ProfileRepository = _profiles,
    posts: PostRepository = _posts,
    graph: GraphRepository = _graph,
) -> int:
    """The badge: how many of the notifications the list shows are unread. The stored counter (one read) counts
    every notification after the watermark, those the list leaves out too (a post deleted since, an actor gone or
    blocked since): when it is not 0, its newest unread notifications are read and checked as the list checks
    them, so that a badge never promises what the list does not show."""
    counted, newest = store.unread(recipient_id, BADGE_CHECKED)
    if not newest:
        return counted
    shown = _listed(recipient_id, newest, "", profiles, posts, graph)
    return len(shown) + max(0, counted - len(newest))


def mark_read(caller: Caller, up_to: str | None, store: NotificationRepository = _store) -> None:
    """Everything up to `up_to` (or everything there is) becomes read; what arrives later is not, even
    when the client names an id from the future."""
    newest, _ = store.page(caller.user_id, 1)
    if not newest:
        return
    latest = newest[0].notification_id
    store.mark_read(caller.user_id, min(up_to, latest) if up_to else latest)
