"""Persistence of posts. PynamoDB objects never leave this module.

A post moves pending → published | failed | in_review exactly once: each transition is a conditional write on
`status = pending`, so duplicated or reordered S3 events cannot publish a post twice (the posts
table's stream, which drives the feed fan-out, sees the transition once). A moderator's removal and restore are
transitions of the same kind (published | in_review → removed, removed | in_review → published), each conditioned
on the status it leaves: a restore repeated, or raced by another moderator, publishes once.

Stories live here too (`kind = story`): the same pipeline and state machine, but from their creation they carry
`story_by` instead of `published_by` (so no post listing ever sees them, and their author's tray lists them while
they are processing or after they were refused) and an `expires_at` TTL."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from pinhole.posts.models import MediaStatus, PostKind, PostRecord, PostStatus, StoredMedia
from pinhole.shared.clock import to_iso, utc_now
from pinhole.shared.errors import Busy, Conflict, NotFound
from pinhole.shared.ids import first_id_at
from pinhole.shared.raw_items import RawItem, batch_get_raw
from pinhole.shared.settings import get_settings
from pinhole.shared.transactions import CONFLICT_ATTEMPTS, cancelled_by, commit, transact
from pinhole.stories.models import STORY_LIFETIME, expiry_of
from pinhole.users.dal import UserModel

_settings = get_settings()

PENDING_SHARDS = 8
"""The pending-uploads index is spread over this many partition keys so no single key runs hot."""


class PublishedByAuthorIndex(GlobalSecondaryIndex["PostModel"]):
    """Sparse: only published posts carry `published_by`, so a profile's grid never sees the others."""

    class Meta:
        index_name = "published-by-author-index"
        projection = AllProjection()

    published_by = UnicodeAttribute(hash_key=True)
    post_id = UnicodeAttribute(range_key=True)


class StoriesByAuthorIndex(GlobalSecondaryIndex["PostModel"]):
    """Sparse: only stories carry `story_by`, from their creation: an author's live stories, for followers who pull
    them, and the author's own in any state, for her tray."""

    class Meta:
        index_name = "stories-by-author-index"
        projection = AllProjection()

    story_by = UnicodeAttribute(hash_key=True)
    post_id = UnicodeAttribute(range_key=True)


class PendingIndex(GlobalSecondaryIndex["PostModel"]):
    """Sparse: only pending posts carry `pending_shard`; the sweep finds those whose upload never came."""

    class Meta:
        index_name = "pending-index"
        projection = KeysOnlyProjection()

    pending_shard = UnicodeAttribute(hash_key=True)
    fail_after = UnicodeAttribute(range_key=True)


@dataclass(frozen=True)
class PostStanding:
    """A post as ranking sees it: who, when, whether it may show, how it is doing."""

    post_id: str
    author_id: str
    created_at: datetime
    status: PostStatus
    like_count: int
    comment_count: int


STANDING_ATTRIBUTES = ["post_id", "author_id", "created_at", "status", "like_count", "comment_count"]


class PostModel(Model):
    class Meta:
        table_name = _settings.posts_table_name
        region = _settings.region
        billing_mode = "PAY_PER_REQUEST"
        stream_view_type = "NEW_AND_OLD_IMAGES"

    post_id = UnicodeAttribute(hash_key=True)
    author_id = UnicodeAttribute()
    caption = UnicodeAttribute(default="")
    tags = ListAttribute(of=UnicodeAttribute, default=list)
    mentions = ListAttribute(of=UnicodeAttribute, default=list)
    created_at = UTCDateTimeAttribute()
    status = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    media: MapAttribute[str, Any] = MapAttribute()
    media_order = ListAttribute(of=UnicodeAttribute)
    like_count = NumberAttribute(default=0)
    comment_count = NumberAttribute(default=0)
    upload_expires_at = UTCDateTimeAttribute()
    published_by = UnicodeAttribute(null=True)
    pending_shard = UnicodeAttribute(null=True)
    fail_after = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(default=PostKind.POST.value)
    story_by = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)
    edited_at = UTCDateTimeAttribute(null=True)
    published_at = UTCDateTimeAttribute(null=True)  # the latest publication (a moderator's restore is one)

    by_author = PublishedByAuthorIndex()
    stories_by_author = StoriesByAuthorIndex()
    pending = PendingIndex()


def _to_record(item: PostModel) -> PostRecord:
    values = dict(item.attribute_values)
    media = item.media.as_dict() if isinstance(item.media, MapAttribute) else item.media
    values["media"] = {media_id: StoredMedia.model_validate(m) for media_id, m in media.items()}
    return PostRecord.model_validate(values)


def _count(value: dict[str, str] | None) -> int:
    """A counter as stored (only ever ADDed to by whole numbers): int() of its text, not NumberAttribute's
    json.loads (a ranked first page's 500 standings: 12.8 -> 11.5 ms of CPU, same run)."""
    return int(value["N"]) if value else 0


def _standing(raw: RawItem) -> PostStanding:
    likes, comments = raw.get("like_count"), raw.get("comment_count")
    return PostStanding(
        post_id=raw["post_id"]["S"],
        author_id=raw["author_id"]["S"],
        created_at=PostModel.created_at.deserialize(raw["created_at"]["S"]),
        status=PostStatus(raw["status"]["S"]),
        like_count=_count(likes),
        comment_count=_count(comments),
    )


def _ttl(moment: datetime) -> datetime:
    """`moment` rounded up to the whole second a TTL attribute holds (PynamoDB's would cut the milliseconds off),
    so that DynamoDB never deletes a story before the instant every route shows as its `expires_at`."""
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else whole + timedelta(seconds=1)


def _is_conditional_failure(error: PutError | UpdateError | DeleteError) -> bool:
    return error.cause_response_code == "ConditionalCheckFailedException"


def _shard(post_id: str) -> str:
    return f"pending#{sum(post_id.encode()) % PENDING_SHARDS}"


def _delete_as_read(record: PostRecord, transaction: TransactWrite) -> None:
    """The post's delete, on condition that its status is still the one read, and its author's count with it."""
    transaction.delete(PostModel(post_id=record.post_id), condition=PostModel.status == record.status.value)
    if record.status == PostStatus.PUBLISHED and record.kind == PostKind.POST:
        transaction.update(UserModel(user_id=record.author_id), actions=[UserModel.post_count.add(-1)])


class PostRepository:
    def __init__(self) -> None:
        self._connection = Connection(region=_settings.region)

    def create(self, record: PostRecord, fail_after: datetime) -> None:
        values: dict[str, Any] = record.model_dump(exclude={"media"})
        values["media"] = {media_id: m.model_dump(mode="json") for media_id, m in record.media.items()}
        if record.expires_at is not None:
            values["expires_at"] = _ttl(record.expires_at)
        if record.kind == PostKind.STORY:
            values["story_by"] = record.author_id
        item = PostModel(**values, pending_shard=_shard(record.post_id), fail_after=to_iso(fail_after))
        try:
            item.save(condition=PostModel.post_id.does_not_exist())
        except PutError as error:
            if _is_conditional_failure(error):
                raise Conflict("A post with this id exists.") from error
            raise

    def get(self, post_id: str) -> PostRecord:
        try:
            return _to_record(PostModel.get(post_id))
        except DoesNotExist as error:
            raise NotFound("No such post.") from error

    def exists(self, post_id: str) -> bool:
        """Whether the post (or story) is there now: a strongly consistent GetItem of its key alone."""
        try:
            PostModel.get(post_id, consistent_read=True, attributes_to_get=["post_id"])
        except DoesNotExist:
            return False
        return True

    def list_published_by(
        self, author_id: str, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[PostRecord], dict[str, Any] | None]:
        results = PostModel.by_author.query(author_id, scan_index_forward=False, limit=limit, last_evaluated_key=after)
        records = [_to_record(item) for item in results]
        return records, results.last_evaluated_key

    def published_before(self, author_id: str, before: str | None, limit: int) -> tuple[list[PostRecord], bool]:
        """An author's published posts older than `before` (a post_id), newest first; and whether more exist."""
        condition = PostModel.post_id < before if before else None
        results = PostModel.by_author.query(author_id, condition, scan_index_forward=False, limit=limit + 1)
        records = [_to_record(item) for item in results]
        return records[:limit], len(records) > limit

    def get_many(self, post_ids: list[str]) -> dict[str, PostRecord]:
        """Posts by id, in one BatchGetItem per 100; deleted ones are simply absent."""
        unique = list(dict.fromkeys(post_ids))
        return {item.post_id: _to_record(item) for item in PostModel.batch_get(unique)} if unique else {}

    def standings_of(self, post_ids: list[str]) -> dict[str, PostStanding]:
        """What ranking needs of these posts (author, time, status, counts): one BatchGetItem per 100 that
        projects away caption and media, the bulk of a post item, read as raw items (no model per post);
        deleted ones are simply absent."""
        unique = list(dict.fromkeys(post_ids))
        return {
            standing.post_id: standing
            for standing in map(_standing, batch_get_raw(PostModel, unique, STANDING_ATTRIBUTES))
        }

    def mark_media(self, post_id: str, media: StoredMedia) -> PostRecord | None:
        """Records the outcome of processing one media item, once: None if it was already recorded."""
        item = PostModel(post_id=post_id)
        path = PostModel.media[media.media_id]
        try:
            item.update(
                actions=[path.set(media.model_dump(mode="json"))],
                condition=PostModel.post_id.exists() & (path["status"] == MediaStatus.PENDING.value),
            )
        except UpdateError as error:
            if _is_conditional_failure(error):
                return None
            raise
        return _to_record(item)

    def claim_media(
        self, post_id: str, media_id: str, claimant: str, until: datetime, now: datetime, total_steps: int
    ) -> bool:
        """Takes a pending media item for `claimant` (an SQS message id) until `until`, its processing at step 0 of
        `total_steps`: False if the item is settled or another claimant's claim still holds. The same claimant (its
        message delivered again after a failure) may take it again, and starts again from step 0."""
        path = PostModel.media[media_id]
        claim = path["claim"]
        unclaimed = claim.does_not_exist() | claim.is_type("NULL")  # an item written with `claim: None`
        free = unclaimed | (claim["by"] == claimant) | (claim["until"] < to_iso(now))
        try:
            PostModel(post_id=post_id).update(
                actions=[
                    claim.set({"by": claimant, "until": to_iso(until)}),
                    path["processing"].set({"done": 0, "total": total_steps}),
                ],
                condition=PostModel.post_id.exists() & (path["status"] == MediaStatus.PENDING.value) & free,
            )
        except UpdateError as error:
            if _is_conditional_failure(error):
                return False
            raise
        return True

    def record_progress(self, post_id: str, media_id: str, claimant: str, done: int) -> bool:
        """`done` steps of a claimed item's processing; False if the claim was lost or the item settled."""
        path = PostModel.media[media_id]
        try:
            PostModel(post_id=post_id).update(
                actions=[path["processing"]["done"].set(done)],
                condition=(path["status"] == MediaStatus.PENDING.value) & (path["claim"]["by"] == claimant),
            )
        except UpdateError as error:
            if _is_conditional_failure(error):
                return False
            raise
        return True

    def keep_pending(self, post_id: str, until: datetime) -> bool:
        """A pending post the sweep must leave alone until `until` (its upload arrived; processing takes longer)."""
        try:
            PostModel(post_id=post_id).update(
                actions=[PostModel.fail_after.set(to_iso(until))],
                condition=(PostModel.status == PostStatus.PENDING.value) & (PostModel.fail_after < to_iso(until)),
            )
        except UpdateError as error:
            if _is_conditional_failure(error):
                return False
            raise
        return True

    def publish(self, record: PostRecord, held: PostStatus = PostStatus.PENDING) -> bool:
        """`held` (pending, or in_review / removed when a moderator restores it) → published and the author's post
        count + 1, atomically; False if the post was not `held` any more (already settled)."""

        def build(transaction: TransactWrite) -> None:
            transaction.update(
                PostModel(post_id=record.post_id),
                actions=[
                    PostModel.status.set(PostStatus.PUBLISHED.value),
                    PostModel.published_by.set(record.author_id),
                    PostModel.published_at.set(utc_now()),
                    PostModel.pending_shard.remove(),
                    PostModel.fail_after.remove(),
                ],
                condition=PostModel.status == held.value,
            )
            transaction.update(UserModel(user_id=record.author_id), actions=[UserModel.post_count.add(1)])

        try:
            transact(build, self._connection)  # the author's profile may be in another transaction: retried
        except TransactWriteError as error:
            if cancelled_by(error, "ConditionalCheckFailed"):
                return False
            raise
        return True

    def publish_story(self, record: PostRecord, held: PostStatus = PostStatus.PENDING) -> bool:
        """`held` → published, listed in the author's stories until it expires (fixed at its creation), when the TTL
        written then takes it (and the stream's REMOVE its renditions); False if already settled. No post count
        moves."""
        return self._move(
            record.post_id,
            held,
            PostStatus.PUBLISHED,
            [
                PostModel.story_by.set(record.author_id),  # listed already, unless created before stories were
                PostModel.published_at.set(utc_now()),
                PostModel.pending_shard.remove(),
                PostModel.fail_after.remove(),
            ],
            extra_condition=PostModel.kind == PostKind.STORY.value,
        )

    def hold_for_review(self, post_id: str) -> bool:
        """pending → in_review (automatic screening flagged a media item): listed nowhere, counted nowhere, until a
        moderator restores it; False if already settled."""
        return self._move(
            post_id,
            PostStatus.PENDING,
            PostStatus.IN_REVIEW,
            [PostModel.pending_shard.remove(), PostModel.fail_after.remove()],
        )

    def take_down(self, record: PostRecord) -> bool:
        """A moderator's removal: published (leaving the author's grid and post count, atomically) or in_review →
        removed. Nothing is deleted, so a restore puts it back as it was. False if it was neither any more."""
        if record.status == PostStatus.IN_REVIEW or record.kind == PostKind.STORY:
            return self._move(record.post_id, record.status, PostStatus.REMOVED, [])

        def build(transaction: TransactWrite) -> None:
            transaction.update(
                PostModel(post_id=record.post_id),
                actions=[PostModel.status.set(PostStatus.REMOVED.value), PostModel.published_by.remove()],
                condition=PostModel.status == PostStatus.PUBLISHED.value,
            )
            transaction.update(UserModel(user_id=record.author_id), actions=[UserModel.post_count.add(-1)])

        try:
            transact(build, self._connection)  # the author's profile may be in another transaction: retried
        except TransactWriteError as error:
            if cancelled_by(error, "ConditionalCheckFailed"):
                return False
            raise
        return True

    def _move(
        self,
        post_id: str,
        held: PostStatus,
        to: PostStatus,
        actions: list[Any],
        extra_condition: Any = None,
    ) -> bool:
        condition = PostModel.status == held.value
        if extra_condition is not None:
            condition = condition & extra_condition
        try:
            PostModel(post_id=post_id).update(actions=[PostModel.status.set(to.value), *actions], condition=condition)
        except UpdateError as error:
            if _is_conditional_failure(error):
                return False
            raise
        return True

    def unexpired_stories(self, author_id: str, now: datetime, limit: int) -> list[PostRecord]:
        """An author's stories not expired at `now`, in any state (pending, published, failed, held, removed: the
        caller picks), newest first, at most `limit`. One Query, bounded below by the oldest id an unexpired story
        can have; expired ones the TTL has not deleted yet (that can take days) are dropped here."""
        oldest = first_id_at(now - STORY_LIFETIME)
        results = PostModel.stories_by_author.query(
            author_id, PostModel.post_id >= oldest, scan_index_forward=False, limit=limit
        )
        return [record for record in map(_to_record, results) if expiry_of(record.created_at) > now]

    def edit_caption(
        self, post_id: str, author_id: str, caption: str, tags: list[str], mentions: list[str], edited_at: datetime
    ) -> PostRecord | None:
        """The caption, its tags and mentions replaced, if the post is still the author's (a post, not a
        story); the post as it is now, or None. The stream's MODIFY moves tag entries and notifies new
        mentions."""
        item = PostModel(post_id=post_id)
        try:
            item.update(
                actions=[
                    PostModel.caption.set(caption),
                    PostModel.tags.set(tags),  # type: ignore[arg-type]  # PynamoDB types list items as attributes
                    PostModel.mentions.set(mentions),  # type: ignore[arg-type]
                    PostModel.edited_at.set(edited_at),
                ],
                condition=(PostModel.author_id == author_id)
                & (PostModel.kind.does_not_exist() | (PostModel.kind == PostKind.POST.value)),
            )
        except UpdateError as error:
            if _is_conditional_failure(error):
                return None
            raise
        return _to_record(item)

    def fail(self, post_id: str, reason: str) -> bool:
        """pending → failed with a reason; False if the post was already settled (or is gone)."""
        return self._move(
            post_id,
            PostStatus.PENDING,
            PostStatus.FAILED,
            [PostModel.reason.set(reason), PostModel.pending_shard.remove(), PostModel.fail_after.remove()],
        )

    def overdue(self, now: datetime) -> list[str]:
        """Ids of pending posts whose upload window closed more than the grace period ago."""
        return [
            item.post_id
            for shard in range(PENDING_SHARDS)
            for item in PostModel.pending.query(f"pending#{shard}", PostModel.fail_after < to_iso(now))
        ]

    def delete(self, record: PostRecord) -> bool:
        """Deletes the post or story; a published post also leaves its author's post count, atomically (a story
        is never counted). The delete is conditioned on the status it was read with: if the post moved meanwhile
        (published by the pipeline, taken down by a moderator), it is read again and the count follows what it
        is now. False if it was gone already (another delete got there first)."""
        current: PostRecord | None = record
        for _ in range(CONFLICT_ATTEMPTS):
            if current is None:
                return False
            if commit(partial(_delete_as_read, current), self._connection):
                return True
            try:
                current = _to_record(PostModel.get(record.post_id, consistent_read=True))
            except DoesNotExist:
                current = None
        raise Busy("The post kept changing while it was deleted: try again in a moment.")
