"""Use cases of the social context: likes, comments and saved posts. Each acts on a post the caller
may read (`pinhole.posts.logic.readable_post`), so a post hidden from someone hides its likes and
comments too; only taking a post out of your own collections works whatever became of the post.
Likes and comments of people in a block with the reader are left out of the lists (the counts, being
the post's, still include them)."""

from concurrent.futures import ThreadPoolExecutor
from itertools import islice

from pinhole.graph.dal import GraphRepository
from pinhole.graph.logic import privacy_allows
from pinhole.posts.dal import PostRepository
from pinhole.posts.logic import open_post, posts_seen_by, readable_post
from pinhole.posts.models import Post, PostRecord, PostStatus
from pinhole.shared import rate_limits
from pinhole.shared.caller import Caller
from pinhole.shared.clock import to_iso, utc_now
from pinhole.shared.errors import Forbidden
from pinhole.shared.ids import new_id
from pinhole.shared.pages import next_cursor, start_after
from pinhole.social.dal import InteractionRepository, ViewerFlags, viewer_flags
from pinhole.social.models import Collections, Comment, CommentRecord, CreateCommentRequest, LikeState
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
    readable_post(caller, post_id, posts, profiles)
    scope = f"likes:{post_id}"
    user_ids, last_key = interactions.likers(post_id, limit, start_after(cursor, scope))
    hidden = graph.blocked_among(caller.user_id, user_ids)
    found = profiles.get_many([user_id for user_id in user_ids if user_id not in hidden])
    return [summary_of(found[user_id]) for user_id in user_ids if user_id in found], next_cursor(last_key, scope)


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
    """A post's comments, oldest first; those of users who have since gone, or who are in a block
    with the reader, are left out."""
    readable_post(caller, post_id, posts, profiles)
    scope = f"comments:{post_id}"
    records, last_key = interactions.comments(post_id, limit, start_after(cursor, scope))
    hidden = graph.blocked_among(caller.user_id, [record.author_id for record in records])
    authors = profiles.get_many([record.author_id for record in records if record.author_id not in hidden])
    page = [_to_comment(record, authors[record.author_id]) for record in records if record.author_id in authors]
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


def _still_readable(
    caller: Caller, record: PostRecord, author: Profile, allowed: dict[str, bool], graph: GraphRepository
) -> bool:
    """readable_post's rule for a page of posts already read, once blocked authors are out (each
    private author is asked once)."""
    if record.status != PostStatus.PUBLISHED and record.author_id != caller.user_id:
        return False
    if author.user_id not in allowed:
        allowed[author.user_id] = privacy_allows(caller.user_id, author, graph)
    return allowed[author.user_id]


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
    """One collection, newest post first; posts deleted (or hidden from the caller) since are left out."""
    scope = f"saved:{caller.user_id}:{collection}"
    post_ids, last_key = interactions.saved(caller.user_id, collection, limit, start_after(cursor, scope))
    records = posts.get_many(post_ids)
    author_ids = [record.author_id for record in records.values()]
    hidden = graph.blocked_among(caller.user_id, author_ids)
    authors = profiles.get_many([author_id for author_id in author_ids if author_id not in hidden])
    allowed: dict[str, bool] = {}
    shown: list[tuple[PostRecord, Profile]] = []
    for post_id in post_ids:
        record = records.get(post_id)
        author = authors.get(record.author_id) if record else None
        if record and author and _still_readable(caller, record, author, allowed, graph):
            shown.append((record, author))
    return posts_seen_by(caller.user_id, shown, flags), next_cursor(last_key, scope)


def collections(caller: Caller, interactions: InteractionRepository = _interactions) -> Collections:
    return Collections(items=interactions.collections(caller.user_id))


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
