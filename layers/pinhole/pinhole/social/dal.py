"""Persistence of likes, comments and saved posts: one table. PynamoDB objects never leave this module.

    pk = post#<post_id>  sk = like#<user_id>                  a like: user_id, post_id, created_at
    pk = post#<post_id>  sk = comment#<comment_id>            a comment (ULID, so oldest first): comment_id,
                                                              post_id, author_id, text, created_at
    pk = user#<user_id>  sk = saved#<collection>#<post_id>    a post in one of the user's collections:
                                                              user_id, post_id, collection, created_at
    pk = user#<user_id>  sk = savedpost#<post_id>             the post is saved somewhere: `collections`, the
                                                              set of its collections (absent once empty);
                                                              saved_post_id, the key of saves-by-post-index
                                                              (who saved a post: a deleted post leaves them)
    pk = user#<user_id>  sk = collection#<name>               a collection: collection, post_count (every save in
                                                              it, for tidying; GET /me/collections counts what
                                                              the list shows, from the markers), created_at
    pk = user#<user_id>  sk = visit#<other_user_id>           the user's latest visit of the other's profile:
                                                              user_id, visited_at (at most one write an hour;
                                                              the stream turns it into feed affinity)

A like or a comment changes two items atomically — its own, and its post's `like_count` or
`comment_count` on the posts table — in one transaction conditioned on the item's absence (or
presence, to undo it) and on the post existing, so the counts stay exact under any concurrency and
repeating a call changes nothing. Saving moves the saved item, the marker's set and the collection's
`post_count` together the same way. The marker answers "saved by me" with one key per post,
whatever the collections; the likes and markers of a page of posts are one BatchGetItem."""

from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from pinhole.posts.dal import PostModel
from pinhole.shared.clock import to_iso, utc_now
from pinhole.shared.errors import NotFound
from pinhole.shared.raw_items import batch_get_raw, query_raw
from pinhole.shared.settings import get_settings
from pinhole.shared.transactions import commit
from pinhole.social.models import CommentRecord

_settings = get_settings()

LIKE = "like#"
COMMENT = "comment#"
SAVED = "saved#"
SAVED_MARKER = "savedpost#"
COLLECTION = "collection#"
VISIT = "visit#"
VISIT_EVERY = timedelta(hours=1)


def post_key(post_id: str) -> str:
    return f"post#{post_id}"


def user_key(user_id: str) -> str:
    return f"user#{user_id}"


def _saved_prefix(collection: str) -> str:
    return f"{SAVED}{collection}#"


class SavesByPostIndex(GlobalSecondaryIndex["InteractionModel"]):
    """Sparse: only the savers' markers carry `saved_post_id`."""

    class Meta:
        index_name = "saves-by-post-index"
        projection = AllProjection()

    saved_post_id = UnicodeAttribute(hash_key=True)


class InteractionModel(Model):
    class Meta:
        table_name = _settings.interactions_table_name
        region = _settings.region
        billing_mode = "PAY_PER_REQUEST"
        stream_view_type = "NEW_AND_OLD_IMAGES"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    post_id = UnicodeAttribute(null=True)
    user_id = UnicodeAttribute(null=True)
    comment_id = UnicodeAttribute(null=True)
    author_id = UnicodeAttribute(null=True)
    text = UnicodeAttribute(null=True)
    collection = UnicodeAttribute(null=True)
    collections = UnicodeSetAttribute(null=True)
    post_count = NumberAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    visited_at = UnicodeAttribute(null=True)
    removed = BooleanAttribute(null=True)  # a comment a moderator removed (present only then)
    saved_post_id = UnicodeAttribute(null=True)  # on a saver's marker only
    saves_by_post = SavesByPostIndex()


def _to_comment(item: InteractionModel) -> CommentRecord:
    values = {name: item.attribute_values.get(name) for name in CommentRecord.model_fields}
    return CommentRecord.model_validate({**values, "removed": bool(values.get("removed"))})


def _count(transaction: TransactWrite, counter: NumberAttribute, post_id: str, delta: int) -> None:
    """The post's counter moves with the item; the post must still exist (a deleted one is not revived)."""
    transaction.update(PostModel(post_id=post_id), actions=[counter.add(delta)], condition=PostModel.post_id.exists())


class InteractionRepository:
    def __init__(self) -> None:
        self._connection = Connection(region=_settings.region)

    # Profile visits

    def record_visit(self, visitor_id: str, visited_id: str) -> bool:
        """Stamps the visit unless one was stamped within the hour (so a refreshing visitor costs no writes);
        False if it was."""
        now = utc_now()
        visit = InteractionModel(
            pk=user_key(visitor_id), sk=f"{VISIT}{visited_id}", user_id=visitor_id, visited_at=to_iso(now)
        )
        try:
            visit.save(
                condition=InteractionModel.pk.does_not_exist()
                | (InteractionModel.visited_at < to_iso(now - VISIT_EVERY))
            )
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # Likes

    def like(self, post_id: str, user_id: str) -> bool:
        """Adds the like and counts it; False if it was already there or the post is gone (nothing changed)."""
        like = InteractionModel(
            pk=post_key(post_id),
            sk=f"{LIKE}{user_id}",
            user_id=user_id,
            post_id=post_id,
            created_at=to_iso(utc_now()),
        )

        def build(transaction: TransactWrite) -> None:
            transaction.save(like, condition=InteractionModel.pk.does_not_exist())
            _count(transaction, PostModel.like_count, post_id, 1)

        return commit(build, self._connection)

    def unlike(self, post_id: str, user_id: str) -> bool:
        """Removes the like and its count; False if there was none or the post is gone (nothing changed)."""

        def build(transaction: TransactWrite) -> None:
            transaction.delete(
                InteractionModel(post_key(post_id), f"{LIKE}{user_id}"), condition=InteractionModel.pk.exists()
            )
            _count(transaction, PostModel.like_count, post_id, -1)

        return commit(build, self._connection)

    def like_count(self, post_id: str) -> int:
        """The post's count as of now (a strongly consistent read: it includes the caller's own like)."""
        try:
            item = PostModel.get(post_id, consistent_read=True, attributes_to_get=["post_id", "like_count"])
        except DoesNotExist as error:
            raise NotFound("No such post.") from error
        return int(item.like_count or 0)

    def likers(
        self, post_id: str, limit: int, after: dict[str, Any] | None = None
    ) -> tuple[list[str], dict[str, Any] | None]:
        """Ids of the users who like the post, in id order (stable under new likes between pages)."""
        results = InteractionModel.query(
            post_key(post_id), InteractionModel.sk.startswith(LIKE), limit=limit, last_evaluated_key=after
        )
        ids = [item.user_id for item in results if item.user_id]
        return ids, results.last_evaluated_key

    # Comments

    def add_comment(self, record: CommentRecord) -> None:
        comment = InteractionModel(
            pk=post_key(record.post_id), sk=f"{COMMENT}{record.comment_id}", **record.model_dump(exclude={"removed"})
        )

        def build(transaction: TransactWrite) -> None:
            transaction.save(comment, condition=InteractionModel.pk.does_not_exist())
            _count(transaction, PostModel.comment_count, record.post_id, 1)

        if not commit(build, self._connection):
            raise NotFound("No such post.")

    def get_comment(self, post_id: str, comment_id: str) -> CommentRecord:
        try:
            return _to_comment(InteractionModel.get(post_key(post_id), f"{COMMENT}{comment_id}", consistent_read=True))
        except DoesNotExist as error:
            raise NotFound("No such comment.") from error

    def delete_comment(self, post_id: str, comment_id: str) -> None:
        """Deletes the comment and its count (a removed one was uncounted already); NotFound if it (or its post)
        is already gone."""
        key = InteractionModel(post_key(post_id), f"{COMMENT}{comment_id}")

        def counted(transaction: TransactWrite) -> None:
            transaction.delete(key, condition=InteractionModel.pk.exists() & InteractionModel.removed.does_not_exist())
            _count(transaction, PostModel.comment_count, post_id, -1)

        def uncounted(transaction: TransactWrite) -> None:
            transaction.delete(key, condition=InteractionModel.pk.exists() & InteractionModel.removed.exists())

        if not (commit(counted, self._connection) or commit(uncounted, self._connection)):
            raise NotFound("No such comment.")

    def set_comment_removed(self, post_id: str, comment_id: str, removed: bool) -> bool:
        """A moderator's removal (or restore) of a comment, with the post's comment count, atomically; False if it
        was already so (or is gone)."""
        item = InteractionModel(post_key(post_id), f"{COMMENT}{comment_id}")
        state = InteractionModel.removed.does_not_exist() if removed else InteractionModel.removed.exists()
        action = InteractionModel.removed.set(True) if removed else InteractionModel.removed.remove()

        def build(transaction: TransactWrite) -> None:
            transaction.update(item, actions=[action], condition=InteractionModel.pk.exists() & state)
            _count(transaction, PostModel.comment_count, post_id, -1 if removed else 1)

        return commit(build, self._connection)

    def comments(
        self, post_id: str, limit: int, after: dict[str, Any] | None = None
    ) -> tuple[list[CommentRecord], dict[str, Any] | None]:
        """A post's comments, oldest first, those a moderator removed included (`removed`: the reader leaves them
        out); the key of the next page, when there may be one."""
        results = InteractionModel.query(
            post_key(post_id), InteractionModel.sk.startswith(COMMENT), limit=limit, last_evaluated_key=after
        )
        return list(map(_to_comment, results)), results.last_evaluated_key

    @staticmethod
    def like_page_key(post_id: str, user_id: str) -> dict[str, Any]:
        """The key a page of likers goes on from after this one (a LastEvaluatedKey)."""
        return {"pk": {"S": post_key(post_id)}, "sk": {"S": f"{LIKE}{user_id}"}}

    @staticmethod
    def comment_page_key(comment: CommentRecord) -> dict[str, Any]:
        """The key a page of comments goes on from after this one (a LastEvaluatedKey)."""
        return {"pk": {"S": post_key(comment.post_id)}, "sk": {"S": f"{COMMENT}{comment.comment_id}"}}

    # Saved posts

    def save(self, user_id: str, collection: str, post_id: str) -> bool:
        """Puts the post in the collection; False if it was already there (nothing changed)."""
        now = to_iso(utc_now())
        saved = InteractionModel(
            pk=user_key(user_id),
            sk=f"{_saved_prefix(collection)}{post_id}",
            user_id=user_id,
            post_id=post_id,
            collection=collection,
            created_at=now,
        )

        def build(transaction: TransactWrite) -> None:
            transaction.save(saved, condition=InteractionModel.pk.does_not_exist())
            transaction.update(
                InteractionModel(user_key(user_id), f"{SAVED_MARKER}{post_id}"),
                actions=[
                    InteractionModel.collections.add({collection}),
                    InteractionModel.user_id.set(user_id),
                    InteractionModel.post_id.set(post_id),
                    InteractionModel.saved_post_id.set(post_id),
                ],
            )
            transaction.update(
                InteractionModel(user_key(user_id), f"{COLLECTION}{collection}"),
                actions=[
                    InteractionModel.post_count.add(1),
                    InteractionModel.collection.set(collection),
                    InteractionModel.created_at.set(InteractionModel.created_at | now),
                ],
            )

        return commit(build, self._connection)

    def unsave(self, user_id: str, collection: str, post_id: str) -> bool:
        """Takes the post out of the collection; False if it was not there (nothing changed)."""

        def build(transaction: TransactWrite) -> None:
            transaction.delete(
                InteractionModel(user_key(user_id), f"{_saved_prefix(collection)}{post_id}"),
                condition=InteractionModel.pk.exists(),
            )
            transaction.update(
                InteractionModel(user_key(user_id), f"{SAVED_MARKER}{post_id}"),
                actions=[InteractionModel.collections.delete({collection})],
            )
            transaction.update(
                InteractionModel(user_key(user_id), f"{COLLECTION}{collection}"),
                actions=[InteractionModel.post_count.add(-1)],
            )

        if not commit(build, self._connection):
            return False
        # Tidying, safe under races: each delete holds only while the item is still empty, and a
        # save that comes after simply creates the item again.
        self._delete_if(
            InteractionModel(user_key(user_id), f"{SAVED_MARKER}{post_id}"),
            InteractionModel.collections.does_not_exist(),
        )
        self._delete_if(
            InteractionModel(user_key(user_id), f"{COLLECTION}{collection}"), InteractionModel.post_count <= 0
        )
        return True

    def savers_of(self, post_id: str) -> Iterator[tuple[str, set[str]]]:
        """Each user who has the post saved, with the collections it is in (the index is eventually consistent:
        a save made a moment ago may not be there yet)."""
        for marker in InteractionModel.saves_by_post.query(post_id):
            if marker.user_id and marker.collections:
                yield marker.user_id, set(marker.collections)

    @staticmethod
    def _delete_if(item: InteractionModel, condition: Any) -> None:
        try:
            item.delete(condition=condition)
        except DeleteError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise

    def saved(
        self, user_id: str, collection: str, limit: int, after: dict[str, Any] | None = None
    ) -> tuple[list[str], dict[str, Any] | None]:
        """Ids of the posts in one collection, newest post first; the key of the next page, when there may be one."""
        results = InteractionModel.query(
            user_key(user_id),
            InteractionModel.sk.startswith(_saved_prefix(collection)),
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=after,
        )
        return [item.post_id for item in results if item.post_id], results.last_evaluated_key

    @staticmethod
    def saved_page_key(user_id: str, collection: str, post_id: str) -> dict[str, Any]:
        """The key a page of a collection goes on from after this post (a LastEvaluatedKey)."""
        return {"pk": {"S": user_key(user_id)}, "sk": {"S": f"{_saved_prefix(collection)}{post_id}"}}

    def collections_of_saved_posts(self, user_id: str) -> dict[str, set[str]]:
        """Every post the user has saved, with the collections it is in: their markers, read projected (some 100
        bytes each, so one Query page per 10,000 saves)."""
        markers = query_raw(
            InteractionModel,
            user_key(user_id),
            InteractionModel.sk.startswith(SAVED_MARKER),
            None,
            ["sk", "collections"],
        )
        return {
            marker["sk"]["S"].removeprefix(SAVED_MARKER): set(marker["collections"]["SS"])
            for marker in markers
            if marker.get("collections", {}).get("SS")  # a marker whose set emptied has none
        }


ViewerMarks = Mapping[str, tuple[bool, bool]]
"""(liked_by_me, saved_by_me) by post id, for one viewer; a post missing is neither."""
ViewerFlags = Callable[[str, list[str]], ViewerMarks]
NOT_MARKED: ViewerMarks = MappingProxyType({})


def viewer_flags(viewer_id: str, post_ids: list[str]) -> ViewerMarks:
    """(liked_by_me, saved_by_me) for each post id: the viewer's like items and saved markers, read in
    one BatchGetItem per 100 keys (strongly consistent: a like shows on the very next read)."""
    unique = list(dict.fromkeys(post_ids))
    keys = [(post_key(post_id), f"{LIKE}{viewer_id}") for post_id in unique]
    keys += [(user_key(viewer_id), f"{SAVED_MARKER}{post_id}") for post_id in unique]
    liked: set[str] = set()
    saved: set[str] = set()
    for item in batch_get_raw(InteractionModel, keys, ["pk", "sk", "collections"], consistent_read=True):
        sk = item["sk"]["S"]
        if sk.startswith(LIKE):
            liked.add(item["pk"]["S"].removeprefix(post_key("")))
        elif item.get("collections", {}).get("SS"):  # a marker whose set emptied has none
            saved.add(sk.removeprefix(SAVED_MARKER))
    return {post_id: (post_id in liked, post_id in saved) for post_id in unique}
