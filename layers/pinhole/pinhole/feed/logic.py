"""The pull half of the hybrid feed, and the page a client reads: `GET /feed`.

A page costs three sequential rounds of DynamoDB calls, whatever the user follows:
1. the pushed entries of the caller's feed and the celebrities the caller follows (in parallel);
2. the recent posts of each of those celebrities (in parallel);
3. one round of BatchGetItem (in parallel per table) for the posts, their authors, the caller's
   follow edges to them, the block edges either way between the caller and them, and the caller's
   likes and saves.
Then what must not show is dropped: deleted or unpublished posts, authors no longer followed, and
authors in a block with the caller or muted by them (`GraphRepository.hidden_from`, the one filter).
A block removes the follows and the fan-out then cleans the
feed, but the page does not rely on either having happened yet (a block whose clean-up failed
half-way leaves a follow until it is repeated).

The cursor is the post_id the page ended at: the next page starts strictly below it, so posts
arriving meanwhile (with larger ids) never shift a page, and nothing is skipped or repeated."""

from concurrent.futures import ThreadPoolExecutor

from pinhole.feed.dal import FeedEntry, FeedRepository
from pinhole.graph.dal import GraphRepository
from pinhole.posts.dal import PostRepository
from pinhole.posts.logic import to_post
from pinhole.posts.models import Post, PostStatus
from pinhole.shared.caller import Caller
from pinhole.shared.cursor import decode_cursor, encode_cursor
from pinhole.shared.errors import ValidationFailed
from pinhole.shared.secrets import cursor_secret
from pinhole.social.dal import viewer_flags
from pinhole.users.dal import ProfileRepository

_feeds = FeedRepository()
_posts = PostRepository()
_profiles = ProfileRepository()
_graph = GraphRepository()
# Wide enough that every celebrity query of a page (p99 <= 50, docs/SCALING.md) is in flight at once.
_pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="feed-read")


def _position(cursor: str | None, caller: Caller) -> str | None:
    if not cursor:
        return None
    before = decode_cursor(cursor, f"feed:{caller.user_id}", cursor_secret()).get("before")
    if not isinstance(before, str):
        raise ValidationFailed("The cursor is not valid for this list.", [{"field": "cursor"}])
    return before


def _celebrity_posts(
    celebrities: list[str], before: str | None, limit: int, posts: PostRepository
) -> tuple[list[FeedEntry], bool]:
    def recent(author_id: str) -> tuple[list[FeedEntry], bool]:
        records, more = posts.published_before(author_id, before, limit)
        return [FeedEntry(r.post_id, r.author_id) for r in records], more

    entries: list[FeedEntry] = []
    more = False
    for found, has_more in _pool.map(recent, celebrities):
        entries.extend(found)
        more = more or has_more
    return entries, more


def read_feed(
    caller: Caller,
    limit: int,
    cursor: str | None,
    feeds: FeedRepository = _feeds,
    posts: PostRepository = _posts,
    profiles: ProfileRepository = _profiles,
    graph: GraphRepository = _graph,
) -> tuple[list[Post], str | None]:
    before = _position(cursor, caller)
    # Round 1: the pushed page and whom to pull from.
    pushed_call = _pool.submit(feeds.page, caller.user_id, before, limit)
    celebrities = feeds.followed_celebrities(caller.user_id)
    pushed, more_pushed = pushed_call.result()
    # Round 2: the celebrities' recent posts.
    pulled, more_pulled = _celebrity_posts(celebrities, before, limit, posts) if celebrities else ([], False)

    merged = sorted(
        {entry.post_id: entry for entry in [*pushed, *pulled]}.values(), key=lambda entry: entry.post_id, reverse=True
    )
    candidates = merged[:limit]
    has_more = more_pushed or more_pulled or len(merged) > limit

    # Round 3: hydrate and check, all in parallel.
    post_ids = [entry.post_id for entry in candidates]
    authors = sorted({entry.author_id for entry in candidates} - {caller.user_id})
    records_call = _pool.submit(posts.get_many, post_ids)
    profiles_call = _pool.submit(profiles.get_many, [*authors, caller.user_id])
    following_call = _pool.submit(graph.following_among, caller.user_id, authors)
    hidden_call = _pool.submit(graph.hidden_from, caller.user_id, authors)
    flags_call = _pool.submit(viewer_flags, caller.user_id, post_ids)
    records, found_profiles = records_call.result(), profiles_call.result()
    following, hidden, flags = following_call.result(), hidden_call.result(), flags_call.result()

    page = []
    for entry in candidates:
        record = records.get(entry.post_id)
        author = found_profiles.get(record.author_id) if record else None
        if record is None or author is None or record.status != PostStatus.PUBLISHED:
            continue  # deleted (or not published): pushed copies go away asynchronously
        if record.author_id in hidden or (record.author_id != caller.user_id and record.author_id not in following):
            continue  # in a block with the caller, muted by them, or unfollowed since it was pushed
        page.append(to_post(record, author, flags))

    next_cursor = (
        encode_cursor({"before": candidates[-1].post_id}, f"feed:{caller.user_id}", cursor_secret())
        if has_more and candidates
        else None
    )
    return page, next_cursor
