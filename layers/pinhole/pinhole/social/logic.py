"""Use cases of the social context: likes, comments and saved posts. Each acts on a post the caller
may read (`pinhole.posts.logic.readable_post`), so a post hidden from someone hides its likes and
comments too; only taking a post out of your own collections works whatever became of the post.
Likes and comments of people in a block with the reader are left out of the lists (the counts, being
the post's, still include them)."""

from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from typing import Protocol, TypeVar

from pinhole.graph.dal import GraphRepository
from pinhole.graph.logic import visible_authors
from pinhole.posts.dal import PostRepository
from pinhole.posts.logic import open_post, posts_seen_by, readable_post
from pinhole.posts.models import Post, PostRecord, PostStatus
from pinhole.shared import rate_limits
from pinhole.shared.caller import Caller
from pinhole.shared.clock import to_iso, utc_now
from pinhole.shared.errors import FirstResultGone, Forbidden, NotFound
from pinhole.shared.ids import new_id
from pinhole.shared.pages import filled_page, next_cursor, start_after
from pinhole.shared.parallel import gather_dict
from pinhole.social.dal import InteractionRepository, ViewerFlags, viewer_flags
from pinhole.social.models import Collection, Collections, Comment, CommentRecord, CreateCommentRequest, LikeState
from pinhole.users.dal import ProfileRepository
from pinhole.users.logic import active_profile, summary_of
from pinhole.users.models import Profile, UserSummary

_interactions = InteractionRepository()
_posts = PostRepository()
_profiles = ProfileRepository()
_graph = GraphRepository()


def like(
    caller: Caller,
    post_id: str,
    interactions: InteractionRepository = _interactions,
    posts: PostRepository = _posts,
    profiles: ProfileRepository = _profiles,
) -> LikeState:
    open_post(caller, post_id, posts, profiles)
    rate_limits.enforce(caller.user_id, "like")
    interactions.like(post_id, caller.user_id)
    return LikeState(liked=True, like_count=interactions.like_count(post_id))


def unlike(
    caller: Caller,
    post_id: str,
    interactions: InteractionRepository = _interactions,
    posts: PostRepository = _posts,
    profiles: ProfileRepository = _profiles,
) -> LikeState:
    readable_post(caller, post_id, posts, profiles)
    interactions.unlike(post_id, caller.user_id)
    return LikeState(liked=False, like_count=interactions.like_count(post_id))


def likers(
    caller: Caller,
    post_id: str,
    limit: int,
    cursor: str | None,
    interactions: InteractionRepository = _interactions,
    posts: PostRepository = _posts,
    profiles: ProfileRepository = _profiles,
    graph: GraphRepository = _graph,
) -> tuple[list[UserSummary], str | None]:
    """Who likes the post, in id order; those who have since gone, or are in a block with the reader, are left out
    (`filled_page`: a page is filled from further reads)."""
    readable_post(caller, post_id, posts, profiles)
    scope = f"likes:{post_id}"

    def shown(user_ids: list[str]) -> list[UserSummary | None]:
        hidden = graph.blocked_among(caller.user_id, user_ids)
        found = profiles.get_many([user_id for user_id in user_ids if user_id not in hidden])
        return [summary_of(found[user_id]) if user_id in found else None for user_id in user_ids]

    page, last_key = filled_page(
        lambda count, after: interactions.likers(post_id, count, after),
        shown,
        limit,
        start_after(cursor, scope),
        lambda user_id: interactions.like_page_key(post_id, user_id),
    )
    return page, next_cursor(last_key, scope)


def _to_comment(record: CommentRecord, author: Profile) -> Comment:
    return Comment(
        comment_id=record.comment_id,
        post_id=record.post_id,
        author=summary_of(author),
        text=record.text,
        created_at=record.created_at,
    )


def add_comment(
    caller: Caller,
    post_id: str,
    request: CreateCommentRequest,
    interactions: InteractionRepository = _interactions,
    posts: PostRepository = _posts,
    profiles: ProfileRepository = _profiles,
) -> Comment:
    open_post(caller, post_id, posts, profiles)
    author = active_profile(caller.user_id, profiles)
    rate_limits.enforce(caller.user_id, "comment")
    record = CommentRecord(
        comment_id=new_id(),
        post_id=post_id,
        author_id=caller.user_id,
        text=request.text,
        created_at=to_iso(utc_now()),
    )
    interactions.add_comment(record)
    return _to_comment(record, author)


def ensure_comment_still_there(
    caller: Caller,
    comment: Comment,
    interactions: InteractionRepository = _interactions,
    posts: PostRepository = _posts,
    profiles: ProfileRepository = _profiles,
) -> None:
    """A retried comment (the same Idempotency-Key) is answered with its first result only while that comment stands
    (removed by a moderator, it still does) on a post the caller may still read: once the comment is deleted, or its
    post with it, answering it would say it was made (FirstResultGone); a post hidden from the caller since (a block,
    an account turned private or gone) is NotFound, as her new comment on it would be, and says nothing of why."""
    try:
        readable_post(caller, comment.post_id, posts, profiles)
    except NotFound:
        if posts.exists(comment.post_id):
            raise
        raise FirstResultGone(made="comment", again="comment again") from None
    try:
        interactions.get_comment(comment.post_id, comment.comment_id)
    except NotFound:
        raise FirstResultGone(made="comment", again="comment again") from None


def comments(
    caller: Caller,
    post_id: str,
    limit: int,
    cursor: str | None,
    interactions: InteractionRepository = _interactions,
    posts: PostRepository = _posts,
    profiles: ProfileRepository = _profiles,
    graph: GraphRepository = _graph,
) -> tuple[list[Comment], str | None]:
    """A post's comments, oldest first; those a moderator removed, and those of users who have since gone or who are
    in a block with the reader, are left out, and the page is filled from further reads (`filled_page`)."""
    readable_post(caller, post_id, posts, profiles)
    scope = f"comments:{post_id}"

    def shown(records: list[CommentRecord]) -> list[Comment | None]:
        kept = [record for record in records if not record.removed]
        hidden = graph.blocked_among(caller.user_id, [record.author_id for record in kept])
        authors = profiles.get_many([record.author_id for record in kept if record.author_id not in hidden])
        return [
            _to_comment(record, authors[record.author_id])
            if not record.removed and record.author_id in authors
            else None
            for record in records
        ]

    page, last_key = filled_page(
        lambda count, after: interactions.comments(post_id, count, after),
        shown,
        limit,
        start_after(cursor, scope),
        interactions.comment_page_key,
    )
    return page, next_cursor(last_key, scope)


def delete_comment(
    caller: Caller,
    post_id: str,
    comment_id: str,
    interactions: InteractionRepository = _interactions,
    posts: PostRepository = _posts,
    profiles: ProfileRepository = _profiles,
) -> None:
    post, _ = readable_post(caller, post_id, posts, profiles)
    comment = interactions.get_comment(post_id, comment_id)
    if caller.user_id not in (comment.author_id, post.author_id):
        raise Forbidden("Only the comment's author or the post's author can delete a comment.")
    interactions.delete_comment(post_id, comment_id)


def save(
    caller: Caller,
    post_id: str,
    collection: str,
    interactions: InteractionRepository = _interactions,
    posts: PostRepository = _posts,
    profiles: ProfileRepository = _profiles,
) -> None:
    open_post(caller, post_id, posts, profiles)
    interactions.save(caller.user_id, collection, post_id)


def unsave(caller: Caller, post_id: str, collection: str, interactions: InteractionRepository = _interactions) -> None:
    interactions.unsave(caller.user_id, collection, post_id)


class _SavedPost(Protocol):
    """What the saved lists need of a post to check it: a whole record (a page) or its standing (every save)."""

    @property
    def author_id(self) -> str: ...

    @property
    def status(self) -> PostStatus: ...


SavedPost = TypeVar("SavedPost", bound=_SavedPost)


def _still_shown(
    caller: Caller, saved: Mapping[str, SavedPost], profiles: ProfileRepository, graph: GraphRepository
) -> dict[str, tuple[SavedPost, Profile]]:
    """The saved posts (read already, by id) the caller may still see, with their authors: readable_post's rule —
    published (or the caller's own), by an author the caller may see (`visible_authors`). The one check of both
    GET /me/saved and GET /me/collections, so a collection counts exactly what its list shows."""
    authors = visible_authors(caller.user_id, [post.author_id for post in saved.values()], graph, profiles)
    return {
        post_id: (post, authors[post.author_id])
        for post_id, post in saved.items()
        if post.author_id in authors and (post.status == PostStatus.PUBLISHED or post.author_id == caller.user_id)
    }


def saved_posts(
    caller: Caller,
    collection: str,
    limit: int,
    cursor: str | None,
    interactions: InteractionRepository = _interactions,
    posts: PostRepository = _posts,
    profiles: ProfileRepository = _profiles,
    graph: GraphRepository = _graph,
    flags: ViewerFlags = viewer_flags,
) -> tuple[list[Post], str | None]:
    """One collection, newest post first; posts deleted (or hidden from the caller) since are left out, and the page
    is filled from further reads (`filled_page`); the like and save flags are read once, for the page."""
    scope = f"saved:{caller.user_id}:{collection}"

    def shown(post_ids: list[str]) -> list[tuple[PostRecord, Profile] | None]:
        still_shown = _still_shown(caller, posts.get_many(post_ids), profiles, graph)
        return [still_shown.get(post_id) for post_id in post_ids]

    page, last_key = filled_page(
        lambda count, after: interactions.saved(caller.user_id, collection, count, after),
        shown,
        limit,
        start_after(cursor, scope),
        lambda post_id: interactions.saved_page_key(caller.user_id, collection, post_id),
    )
    return posts_seen_by(caller.user_id, page, flags), next_cursor(last_key, scope)


def collections(
    caller: Caller,
    interactions: InteractionRepository = _interactions,
    posts: PostRepository = _posts,
    profiles: ProfileRepository = _profiles,
    graph: GraphRepository = _graph,
) -> Collections:
    """Each collection, by name, with how many of its posts GET /me/saved shows (`_still_shown`); one showing none
    is not listed. A post hidden since it was saved (its author blocked either way, deactivated, suspended or
    turned private and not followed; a moderator's removal) is not counted, and is again once it shows again. Every
    save is read, each post once whatever its collections: the caller's saved markers (one Query page per some
    10,000 saves), the posts' standings (a projected BatchGetItem per 100, at once) and each author once."""
    saves = interactions.collections_of_saved_posts(caller.user_id)
    shown = _still_shown(caller, gather_dict(posts.standings_of, list(saves)), profiles, graph)
    counts = Counter(name for post_id in shown for name in saves[post_id])
    return Collections(items=[Collection(name=name, post_count=count) for name, count in sorted(counts.items())])


SAVES_FORGOTTEN_AT_ONCE = 16


def forget_saves_of(post_id: str, interactions: InteractionRepository = _interactions) -> int:
    """A deleted post leaves every collection it was saved in (their `post_count` with it); how many saves it
    took out. Repeating it changes nothing, and a run cut short (a post saved by very many) is taken up by the
    record's redelivery from the saves left: the index no longer holds those already forgotten. The saves are
    forgotten SAVES_FORGOTTEN_AT_ONCE at a time (each is a transaction and two conditional deletes)."""
    saves = (
        (user_id, collection)
        for user_id, collections in interactions.savers_of(post_id)
        for collection in sorted(collections)
    )
    forgotten = 0
    with ThreadPoolExecutor(max_workers=SAVES_FORGOTTEN_AT_ONCE, thread_name_prefix="unsave") as pool:
        # 128 saves at a time: Executor.map would take every save of the index in first
        while page := list(islice(saves, SAVES_FORGOTTEN_AT_ONCE * 8)):
            forgotten += sum(pool.map(lambda save: interactions.unsave(save[0], save[1], post_id), page))
    return forgotten
