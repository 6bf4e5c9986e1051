"""Stream records → notification intents, from the record alone (no I/O: delivery looks up whatever
else it needs). Which table a record comes from shows in its key: the posts table's is `post_id`;
the interactions and graph tables' sort keys start with the kinds below, and their other items
(saved posts, collections, blocks) notify nobody.

    interactions  like#<user> INSERT / REMOVE       like            → the post's author
                  comment#<id> INSERT / REMOVE      comment         → the post's author
                                                    mention         → each @username in the text
    graph         follows#<followee> INSERT/REMOVE  follow          → the followee
                  requested#<target> INSERT/REMOVE  follow_request  → the target
    posts         MODIFY pending → published        mention         → each @username of the caption
                  (a story's publication: nothing)
                  MODIFY caption edited (published)  mention        → each @username the edit added

An INSERT creates, a REMOVE takes back what the INSERT created (an unlike, an unfollow, a withdrawn
or answered request, a deleted comment)."""

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamRecordModel
from pydantic import BaseModel

from pinhole.graph.dal import FOLLOWS, REQUESTED
from pinhole.notifications.models import IntentAction, NotificationIntent, NotificationType
from pinhole.posts.caption import MAX_MENTIONS, extract_mentions
from pinhole.posts.models import PostKind, PostStatus
from pinhole.shared.clock import to_iso
from pinhole.social.dal import COMMENT, LIKE

_ACTIONS = {"INSERT": IntentAction.CREATE, "REMOVE": IntentAction.RETRACT}


class _Like(BaseModel):
    post_id: str
    user_id: str
    created_at: str | None = None


class _Comment(BaseModel):
    post_id: str
    comment_id: str
    author_id: str
    text: str
    created_at: str | None = None


class _Edge(BaseModel):
    source_id: str
    target_id: str
    created_at: str | None = None


class _Post(BaseModel):
    post_id: str
    author_id: str
    status: PostStatus
    mentions: list[str] = []
    published_at: datetime | None = None  # to the millisecond, where the stream's time is whole seconds
    edited_at: datetime | None = None  # as published_at: a mention the edit added is dated by the edit itself


def _image(image: Any) -> dict[str, Any]:
    return image if isinstance(image, dict) else {}


def intents_of(record: DynamoDBStreamRecordModel) -> list[NotificationIntent]:
    change = record.dynamodb
    old, new = _image(change.OldImage), _image(change.NewImage)
    when = change.ApproximateCreationDateTime
    at = to_iso(when) if when else None
    if "sk" not in change.Keys:  # the posts table's, keyed by post_id alone
        if record.eventName != "MODIFY":
            return []
        if _was_published(old, new):
            post = _Post.model_validate(new)
            return _caption_mentions(post, to_iso(post.published_at) if post.published_at else at)
        moderated = _moderation_of(old.get("status") == PostStatus.REMOVED, new.get("status") == PostStatus.REMOVED)
        if moderated is not None and new.get("kind", PostKind.POST) == PostKind.POST:
            mentions = _caption_mentions(_Post.model_validate(new), at, moderated)
            return [intent.model_copy(update={"moderated": True}) for intent in mentions]
        if _caption_edited(old, new):
            post, before = _Post.model_validate(new), _Post.model_validate(old)
            added = [name for name in dict.fromkeys(post.mentions) if name not in set(before.mentions)]
            edited = to_iso(post.edited_at) if post.edited_at else at
            return _caption_mentions(post.model_copy(update={"mentions": added}), edited)
        return []
    source = f"{change.Keys['pk']}/{change.Keys['sk']}"
    kind = str(change.Keys["sk"])
    if record.eventName == "MODIFY" and kind.startswith(COMMENT):
        moderated = _moderation_of(bool(old.get("removed")), bool(new.get("removed")))
        if moderated is None:
            return []
        comment = _Comment.model_validate(new)
        # the stream's time is whole seconds: never before the comment's own (the pointer a take-back must pass)
        moment = max(filter(None, (at, comment.created_at)), default=None)
        comment = comment.model_copy(update={"created_at": moment})
        return [intent.model_copy(update={"moderated": True}) for intent in _comment(moderated, source, comment)]
    action = _ACTIONS.get(record.eventName)
    if action is None:
        return []
    item = new if action == IntentAction.CREATE else old
    if kind.startswith(LIKE):
        return [_like(action, source, _Like.model_validate(item))]
    if kind.startswith(COMMENT):
        return _comment(action, source, _Comment.model_validate(item))
    if kind.startswith(FOLLOWS):
        return [_edge(action, NotificationType.FOLLOW, source, _Edge.model_validate(item))]
    if kind.startswith(REQUESTED):
        return [_edge(action, NotificationType.FOLLOW_REQUEST, source, _Edge.model_validate(item))]
    return []


def _moderation_of(was_removed: bool, is_removed: bool) -> IntentAction | None:
    """A moderator's removal takes back, a restore creates again; anything else is no moderation."""
    if was_removed == is_removed:
        return None
    return IntentAction.RETRACT if is_removed else IntentAction.CREATE


def _was_published(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """A post's first publication — after its upload, or after automatic screening held it and a moderator
    released it (a restore after a removal is not one: its mentions were told the first time); a story's (the
    same table, `kind = story`) notifies nobody: it has no caption."""
    first = old.get("status") in (PostStatus.PENDING, PostStatus.IN_REVIEW)
    published = new.get("status") == PostStatus.PUBLISHED and first
    return published and new.get("kind", PostKind.POST) == PostKind.POST


def _caption_edited(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """A published post's caption changed (PATCH /posts/{id}); only the people it newly mentions are told. A
    pending post's edit notifies nobody yet: its publication will, with the caption it has then."""
    published = old.get("status") == PostStatus.PUBLISHED and new.get("status") == PostStatus.PUBLISHED
    return (
        published and new.get("edited_at") != old.get("edited_at") and new.get("kind", PostKind.POST) == PostKind.POST
    )


def _caption_mentions(
    post: _Post, when: str | None, action: IntentAction = IntentAction.CREATE
) -> list[NotificationIntent]:
    return [
        NotificationIntent(
            action=action,
            type=NotificationType.MENTION,
            source=f"post#{post.post_id}",
            actor_id=post.author_id,
            mentioned=username,
            post_id=post.post_id,
            created_at=when,
        )
        for username in list(dict.fromkeys(post.mentions))[:MAX_MENTIONS]
    ]


def _like(action: IntentAction, source: str, like: _Like) -> NotificationIntent:
    return NotificationIntent(
        action=action,
        type=NotificationType.LIKE,
        source=source,
        actor_id=like.user_id,
        post_id=like.post_id,
        created_at=like.created_at,
    )


def _comment(action: IntentAction, source: str, comment: _Comment) -> list[NotificationIntent]:
    to_author = NotificationIntent(
        action=action,
        type=NotificationType.COMMENT,
        source=source,
        actor_id=comment.author_id,
        post_id=comment.post_id,
        comment_id=comment.comment_id,
        created_at=comment.created_at,
    )
    mentions = extract_mentions(comment.text)[:MAX_MENTIONS]
    return [
        to_author,
        *(to_author.model_copy(update={"type": NotificationType.MENTION, "mentioned": name}) for name in mentions),
    ]


def _edge(action: IntentAction, kind: NotificationType, source: str, edge: _Edge) -> NotificationIntent:
    return NotificationIntent(
        action=action,
        type=kind,
        source=source,
        actor_id=edge.source_id,
        recipient_id=edge.target_id,
        created_at=edge.created_at,
    )
