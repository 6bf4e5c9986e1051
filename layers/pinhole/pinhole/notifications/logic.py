"""Use cases of a recipient's notifications: listing them, the badge, and marking them read (the HTTP routes).
What makes and delivers them is pinhole.notifications.delivery (the queue consumers), which the API never
imports: it brings push, the WebSocket pusher and the stream models.

A notification is left out of the list (and the badge) once its actor has gone or is in a block with the
recipient, once its post was deleted or taken down, or once the recipient may no longer open that post."""

from collections.abc import Mapping

from pinhole.graph.dal import GraphRepository
from pinhole.graph.logic import visible_authors
from pinhole.notifications.dal import NotificationRepository
from pinhole.notifications.models import MODERATION_NOTICES, Notification, NotificationRecord
from pinhole.posts.dal import PostRepository
from pinhole.posts.models import PostRecord, PostStatus
from pinhole.shared.caller import Caller
from pinhole.shared.pages import filled_page, next_cursor, start_after
from pinhole.users.dal import ProfileRepository
from pinhole.users.models import UserSummary
from pinhole.users.views import summary_of

_store = NotificationRepository()
_posts = PostRepository()
_profiles = ProfileRepository()
_graph = GraphRepository()


ACTORS_SHOWN = 3


def visible_actors(
    recipient_id: str, records: list[NotificationRecord], profiles: ProfileRepository, graph: GraphRepository
) -> dict[str, UserSummary]:
    """The people these notifications name whom the recipient may see, by id: every actor a group keeps (its
    latest ten, pinhole.notifications.dal.ACTORS_KEPT) who is still there — not deleted, deactivated or
    suspended — and in no block with them. One BatchGetItem of profiles per 100 ids, then one of block edges per
    50 people found."""
    actor_ids = list(
        dict.fromkeys(
            actor_id
            for record in records
            if record.type not in MODERATION_NOTICES
            for actor_id in record.actors_newest_first
        )
    )
    if not actor_ids:
        return {}
    found = profiles.get_many(actor_ids)
    hidden = graph.blocked_among(recipient_id, list(found))
    return {actor_id: summary_of(profile) for actor_id, profile in found.items() if actor_id not in hidden}


def to_notification(record: NotificationRecord, visible: Mapping[str, UserSummary], read: bool) -> Notification:
    """The notification as its recipient may see it, `visible` the people they may see (`visible_actors`):
    `actors` the latest ACTORS_SHOWN of its kept actors among them, `actor_count` its count less the kept actors
    they may not see, and `comment_id`/`created_at` those of the newest activity of the first actor shown. Exact while
    the group has at most ten actors (ACTORS_KEPT); past that, the earlier ones (whose ids it does not keep) are
    counted whoever they are. A moderation notice names nobody (Pinhole's moderators)."""
    if record.type in MODERATION_NOTICES:
        actors, count = [], 0
    else:
        kept = record.actors_newest_first
        seen = [visible[actor_id] for actor_id in kept if actor_id in visible]
        actors, count = seen[:ACTORS_SHOWN], max(record.actor_count - (len(kept) - len(seen)), len(seen))
        if actors:
            record = record.led_by(actors[0].user_id)
    return Notification(
        notification_id=record.notification_id,
        type=record.type,
        actor=actors[0] if actors else None,
        actors=actors,
        actor_count=count,
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
    """The caller's notifications, newest first, those `_shown` leaves out left out, the page filled from further
    reads (`filled_page`)."""
    scope = f"notifications:{caller.user_id}"
    read_up_to = store.read_up_to(caller.user_id) or ""
    page, last_key = filled_page(
        lambda count, after: store.page(caller.user_id, count, after),
        lambda records: _shown(caller.user_id, records, read_up_to, profiles, posts, graph),
        limit,
        start_after(cursor, scope),
        store.page_key,
    )
    return page, next_cursor(last_key, scope)


def _shown(
    recipient_id: str,
    records: list[NotificationRecord],
    read_up_to: str,
    profiles: ProfileRepository,
    posts: PostRepository,
    graph: GraphRepository,
) -> list[Notification | None]:
    """Each of these records as the notification its recipient is shown, or None for one left out: naming nobody
    they may see any more (every kept actor gone, suspended or in a block with them since the notification), about a
    deleted post or a post not published (removed by a moderator), or about someone else's post the recipient may
    no longer open (a mention by an account that went private, which they do not follow). A moderation notice is
    shown whatever its post's state (it tells why it was removed), until the post (or story) is deleted — expired, for
    a story — as every notification about a deleted post goes (read in the same BatchGetItem: no further cost)."""
    visible = visible_actors(recipient_id, records, profiles, graph)
    existing = posts.get_many([record.post_id for record in records if record.post_id])
    openable = _openable_posts(recipient_id, existing, graph, profiles)
    page = [to_notification(record, visible, read=record.notification_id <= read_up_to) for record in records]
    return [
        notification
        if (record.post_id is None or record.post_id in existing)
        and (
            record.type in MODERATION_NOTICES
            or (notification.actors and (record.post_id is None or record.post_id in openable))
        )
        else None
        for record, notification in zip(records, page, strict=True)
    ]


def _openable_posts(
    recipient_id: str, posts: Mapping[str, PostRecord], graph: GraphRepository, profiles: ProfileRepository
) -> set[str]:
    """The ids of these posts the recipient may open: published, by themselves or by an author they may see
    (pinhole.graph.logic.visible_authors). Their own posts — the likes and comments — cost no read; others'
    (mentions) one BatchGetItem of the authors' profiles, and of blocks and follows as `visible_authors` reads."""
    published = [post for post in posts.values() if post.status == PostStatus.PUBLISHED]
    others = [post.author_id for post in published if post.author_id != recipient_id]
    seen = visible_authors(recipient_id, others, graph, profiles) if others else {}
    return {post.post_id for post in published if post.author_id == recipient_id or post.author_id in seen}


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
    shown = _shown(recipient_id, newest, "", profiles, posts, graph)
    return sum(notification is not None for notification in shown) + max(0, counted - len(newest))


def mark_read(caller: Caller, up_to: str | None, store: NotificationRepository = _store) -> None:
    """Everything up to `up_to` (or everything there is) becomes read; what arrives later is not, even
    when the client names an id from the future."""
    newest, _ = store.page(caller.user_id, 1)
    if not newest:
        return
    latest = newest[0].notification_id
    store.mark_read(caller.user_id, min(up_to, latest) if up_to else latest)
