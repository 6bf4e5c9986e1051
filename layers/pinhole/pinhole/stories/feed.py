"""`GET /stories/feed`: unexpired stories of the people the caller follows, and the caller's own. Apart from
the stories' use cases (pinhole.stories.logic, `POST /stories`) so that the function reading feeds imports no
upload or account machinery.

The stories feed costs two sequential rounds of DynamoDB calls, whatever the caller follows:
1. the caller's pushed story entries (one Query of the newest, live ones) and the celebrities the
   caller follows (one Query), in parallel;
2. in parallel: one Query per followed celebrity, and one of the caller's own, on `stories-by-author-index`
   (whole items: nothing to hydrate; a story is listed there from its creation, so an author sees hers at once,
   while it is processing, and as soon as it is published, before the fan-out has pushed it anywhere),
   BatchGetItem of the pushed stories, and BatchGetItem of the authors' profiles, of the caller's follow edges to
   them and of the block edges either way (each split into calls of 100 keys, all in flight at once).
Then what must not show is dropped: expired stories (checked against `now`: TTL deletion lags), stories
gone or not published (but for the caller's own still processing or refused), authors no longer followed, in a
block with the caller or muted by them, or deleted."""

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import TypeVar

from pinhole.feed.dal import FeedRepository
from pinhole.graph.dal import GraphRepository
from pinhole.posts.dal import PostRepository
from pinhole.posts.models import PostKind, PostRecord, PostStatus
from pinhole.posts.views import media_view
from pinhole.shared.caller import Caller
from pinhole.shared.clock import to_iso, utc_now
from pinhole.stories.models import AuthorStories, StoriesFeed, Story, expiry_of
from pinhole.users.dal import ProfileRepository
from pinhole.users.models import Profile
from pinhole.users.views import summary_of

PUSHED_STORIES_READ = 500
"""The newest live stories read from the caller's feed: one Query page of ~50 KB."""
CELEBRITY_STORIES_READ = 100
AUTHORS_MAX = 50
"""The stories feed shows the 50 authors with the newest stories (a tray shows a handful at a time)."""
STORIES_PER_AUTHOR_MAX = 100
"""Instagram's own limit per 24 hours; beyond it an author's oldest live stories are left out."""
KEYS_PER_CALL = 100  # BatchGetItem's limit
USERS_PER_BLOCK_CALL = KEYS_PER_CALL // 2  # two block edges per user

_feeds = FeedRepository()
_posts = PostRepository()
_profiles = ProfileRepository()
_graph = GraphRepository()
_pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="stories-read")

Result = TypeVar("Result")
Value = TypeVar("Value")


def to_story(record: PostRecord, author: Profile) -> Story:
    return Story(
        story_id=record.post_id,
        author=summary_of(author),
        media=media_view(record.media[record.media_order[0]]),
        created_at=to_iso(record.created_at),
        expires_at=to_iso(expiry_of(record.created_at)),
    )


def _in_parallel(call: Callable[[list[str]], Result], ids: list[str], per_call: int) -> list[Future[Result]]:
    """One call per `per_call` ids, all in flight at once (PynamoDB's batch_get pages through them in turn)."""
    return [_pool.submit(call, ids[start : start + per_call]) for start in range(0, len(ids), per_call)]


def _combined(calls: list[Future[dict[str, Value]]]) -> dict[str, Value]:
    combined: dict[str, Value] = {}
    for call in calls:
        combined.update(call.result())
    return combined


def _union(calls: list[Future[set[str]]]) -> set[str]:
    return set().union(*(call.result() for call in calls))


SHOWN_TO_THEIR_AUTHOR_ONLY = frozenset({PostStatus.PENDING, PostStatus.FAILED})
"""A story still processing or refused is in its author's own tray — its media `pending` (with `processing` for a
video), or `rejected` with the `reason` — and nobody else's: the one place its author sees it is on its way, or
learns why it failed and that it will never show. (Held or removed by a moderator, it is not: a removal is told
by a `content_removed` notification.)"""


def is_live(record: PostRecord, now: datetime) -> bool:
    """Published and not expired (checked against `now`: the TTL's deletion lags by up to days)."""
    published = record.kind == PostKind.STORY and record.status == PostStatus.PUBLISHED
    return published and expiry_of(record.created_at) > now


def is_shown_to(reader_id: str, record: PostRecord, now: datetime) -> bool:
    """Live, or the reader's own story still processing or refused (SHOWN_TO_THEIR_AUTHOR_ONLY), and not expired."""
    if record.author_id == reader_id and record.status in SHOWN_TO_THEIR_AUTHOR_ONLY:
        return record.kind == PostKind.STORY and expiry_of(record.created_at) > now
    return is_live(record, now)


def read_stories_feed(
    caller: Caller,
    now: datetime | None = None,
    feeds: FeedRepository = _feeds,
    posts: PostRepository = _posts,
    profiles: ProfileRepository = _profiles,
    graph: GraphRepository = _graph,
) -> StoriesFeed:
    """Unexpired stories of the people the caller follows and the caller's own, by author: authors with
    the newest story first, each author's stories oldest first (the order they play in)."""
    now = now or utc_now()
    me = caller.user_id
    # Round 1: the pushed stories and whom to pull from.
    pushed_call = _pool.submit(feeds.live_stories, me, now, PUSHED_STORIES_READ)
    celebrities = feeds.followed_celebrities(me)
    pushed = pushed_call.result()
    pushed_authors = list(dict.fromkeys(entry.author_id for entry in pushed))[:AUTHORS_MAX]  # newest story first
    shown = set(pushed_authors)
    story_ids = [entry.story_id for entry in pushed if entry.author_id in shown]
    others = [user for user in dict.fromkeys([*pushed_authors, *celebrities]) if user != me]

    # Round 2: the celebrities' stories, and everything needed to show or hide each story, at once.
    pulled_calls = [
        _pool.submit(posts.unexpired_stories, author, now, CELEBRITY_STORIES_READ)
        for author in dict.fromkeys([me, *celebrities])
    ]
    records_calls = _in_parallel(posts.get_many, story_ids, KEYS_PER_CALL)
    profiles_calls = _in_parallel(profiles.get_many, [me, *others], KEYS_PER_CALL)
    following_calls = _in_parallel(lambda users: graph.following_among(me, users), others, KEYS_PER_CALL)
    hidden_calls = _in_parallel(lambda users: graph.hidden_from(me, users), others, USERS_PER_BLOCK_CALL)
    records = _combined(records_calls)
    for call in pulled_calls:
        records.update((record.post_id, record) for record in call.result())
    found, following, hidden = _combined(profiles_calls), _union(following_calls), _union(hidden_calls)

    by_author: dict[str, list[PostRecord]] = {}
    for record in sorted(records.values(), key=lambda record: record.post_id):
        author_id = record.author_id
        if not is_shown_to(me, record, now) or author_id not in found or author_id in hidden:  # blocked or muted
            continue
        if author_id == me or author_id in following:
            by_author.setdefault(author_id, []).append(record)
    newest_first = sorted(by_author, key=lambda author_id: by_author[author_id][-1].post_id, reverse=True)
    return StoriesFeed(
        items=[
            AuthorStories(
                author=summary_of(found[author_id]),
                stories=[to_story(r, found[author_id]) for r in by_author[author_id][-STORIES_PER_AUTHOR_MAX:]],
            )
            for author_id in newest_first[:AUTHORS_MAX]
        ]
    )
