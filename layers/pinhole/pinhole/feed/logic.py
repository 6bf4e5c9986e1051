"""The home feed a client reads, `GET /feed`, and the impressions it reports, `POST /feed/seen`.

Ranked (the default): the first page (no cursor) gathers up to 500 candidates — the pushed entries of the
caller's feed and the recent posts of the celebrities they follow — ranks them (pinhole.feed.ranking), and
stores the ranked ids as a snapshot for an hour; its cursor names the snapshot and the offset. Later pages
read the snapshot and never rank again: nothing repeats or goes missing across pages while posts arrive,
likes change or the caller follows someone. The snapshot also keeps what each post was scored on (its time and
counts): the caller's next first page within `standings_reuse_s` (a refresh) ranks afresh but reads only the
standings of pushed posts that snapshot did not score — the counts it ranks on are then up to that old.
Rounds of DynamoDB calls (each round's calls in parallel):
  first page  1. the caller's partition: pushed entries, followed celebrities, affinities, the standings of
                 their last snapshot if recent
              2. the celebrities' recent-posts items; the pushed posts not in those standings (their counts;
                 deleted ones dropped); the impressions reported since the oldest pushed post was made
              3. the snapshot written, while the page's posts are checked and hydrated: celebrities' posts,
                 authors, follow edges, blocks and mutes, the caller's likes and saves
  later page  1. the snapshot   2. the page's posts, authors, edges, blocks, mutes, likes and saves
Who may show is checked when a page is served, not when it is ranked: an unfollow, block or mute after the
snapshot still applies to its later pages, and ranking reads 500 posts but checks only a page's authors.
Chronological: the pushed page and the celebrities' posts merged newest first; its cursor is the post_id
the page ended at. The celebrities' posts come from the same recent-posts items (one BatchGetItem round):
  page        1. the pushed page, followed celebrities   2. the celebrities' recent-posts items
              3. the page checked and hydrated
A page deeper than an item reaches also queries the authors whose items ran out (one more round).
A page whose entries show fewer than `limit` posts (authors muted, deactivated or suspended: their entries stay)
reads on once, to 5 × (limit + 1) entries in all: 4. the pushed entries after the page's last   5. those
checked and hydrated (with, between the two, a Query of a celebrity whose item runs out among them). So 2 (or 3)
more rounds, only for a page that came out short; one still short then says where to go on.

Whatever the order, what must not show is dropped when a page is served: deleted or unpublished posts,
authors no longer followed, in a block with the caller, or muted by them. A block removes the follows and
the fan-out then cleans the feed, but the page does not rely on either having happened yet."""

from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pinhole.feed.dal import FeedEntry, FeedRepository
from pinhole.feed.models import FeedOrder, FeedPage, FeedPost, Ranking, ScoreExplanation
from pinhole.feed.ranking import Candidate, ScoreParts, ViewerSignals, rank
from pinhole.feed.ranking_dal import (
    AffinityStore,
    RecentPost,
    RecentPostsStore,
    SeenStore,
    Snapshot,
    SnapshotStore,
    Standings,
)
from pinhole.graph.dal import GraphRepository
from pinhole.posts.dal import PostRepository
from pinhole.posts.models import PostRecord, PostStatus
from pinhole.posts.views import to_post
from pinhole.shared.caller import Caller
from pinhole.shared.clock import utc_now
from pinhole.shared.cursor import decode_cursor, encode_cursor
from pinhole.shared.errors import CursorExpired, ValidationFailed
from pinhole.shared.ids import new_id, time_of
from pinhole.shared.pages import FILL_READS
from pinhole.shared.parallel import gather_dict, gather_set
from pinhole.shared.secrets import cursor_secret
from pinhole.shared.settings import FeedRankingSettings, get_settings
from pinhole.social.dal import ViewerFlags, ViewerMarks, viewer_flags
from pinhole.users.dal import ProfileRepository
from pinhole.users.models import Profile

T = TypeVar("T")

# Wide enough that every call of a round is in flight at once (chunks have their own pool).
_pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="feed-read")


@dataclass
class FeedStores:
    """The feed's collaborators, production ones by default (tests pass their own)."""

    feeds: FeedRepository
    posts: PostRepository
    profiles: ProfileRepository
    graph: GraphRepository
    affinity: AffinityStore
    seen: SeenStore
    snapshots: SnapshotStore
    recent: RecentPostsStore
    flags: ViewerFlags = viewer_flags


_stores: FeedStores | None = None


def default_stores() -> FeedStores:
    global _stores
    if _stores is None:
        _stores = FeedStores(
            FeedRepository(),
            PostRepository(),
            ProfileRepository(),
            GraphRepository(),
            AffinityStore(),
            SeenStore(),
            SnapshotStore(),
            RecentPostsStore(),
        )
    return _stores


def _scope(caller: Caller, order: FeedOrder) -> str:
    # The chronological scope is the one its cursors always had, so cursors issued before ranking still work.
    return f"feed:{caller.user_id}" if order is FeedOrder.CHRONOLOGICAL else f"feed:{caller.user_id}:{order}"


def _invalid_cursor() -> ValidationFailed:
    return ValidationFailed("The cursor is not valid for this list.", [{"field": "cursor"}])


def _submit(call: Callable[..., T], *args: Any) -> "Future[T]":
    return _pool.submit(call, *args)


# -- what every page does once it knows its posts --


@dataclass(frozen=True)
class _Checks:
    """The round that decides what may show and hydrates it."""

    records: dict[str, PostRecord]
    profiles: dict[str, Profile]
    following: set[str]
    hidden: set[str]


def _start_checks(
    caller: Caller, post_ids: list[str], author_ids: list[str], stores: FeedStores, known: dict[str, PostRecord]
) -> Callable[[], _Checks]:
    """Starts the posts (those not `known`), profiles, follow edges, blocks and mutes of a page's candidates."""
    others = sorted(set(author_ids) - {caller.user_id})
    missing = [post_id for post_id in post_ids if post_id not in known]
    records = _submit(gather_dict, stores.posts.get_many, missing)
    profiles = _submit(gather_dict, stores.profiles.get_many, [*others, caller.user_id])
    following = _submit(gather_set, lambda chunk: stores.graph.following_among(caller.user_id, chunk), others)
    hidden = _submit(stores.graph.hidden_from, caller.user_id, others)  # blocks either way, and mutes

    def result() -> _Checks:
        return _Checks({**known, **records.result()}, profiles.result(), following.result(), hidden.result())

    return result


def _visible(record: PostRecord | None, checks: _Checks, caller: Caller) -> bool:
    if record is None or record.status != PostStatus.PUBLISHED or record.author_id not in checks.profiles:
        return False  # deleted (or not published): pushed copies go away asynchronously
    if record.author_id == caller.user_id:
        return True
    # in a block with the caller, muted by them, or unfollowed since it was pushed
    return record.author_id not in checks.hidden and record.author_id in checks.following


def _posts(
    caller: Caller,
    post_ids: list[str],
    checks: _Checks,
    marks: ViewerMarks,
    explained: dict[str, Ranking] | None = None,
) -> list[FeedPost]:
    page = []
    for post_id in post_ids:
        record = checks.records.get(post_id)
        if record is None or not _visible(record, checks, caller):
            continue
        post = to_post(record, checks.profiles[record.author_id], marks)
        page.append(FeedPost(**post.model_dump(), ranking=(explained or {}).get(post_id)))
    return page


# -- ranked --


def _explanation(score: float, parts: ScoreParts) -> Ranking:
    return Ranking(
        score=round(score, 6),
        parts=ScoreExplanation(
            affinity=round(parts.affinity, 6),
            recency=round(parts.recency, 6),
            engagement=round(parts.engagement, 6),
            own_post=parts.own_post,
            seen=parts.seen,
            diversity=round(parts.diversity, 6),
        ),
    )


def _caught_up(unseen_recent: int, start: int) -> bool:
    """Whether the page starts past the unseen posts of the caught-up window (all of them seen, shown on earlier
    pages, or not shown to this caller): what it holds is older, or seen. `start` is the rank of the page's first
    post served, so unseen posts the caller may not be shown (an author muted, deactivated, suspended since the
    ranking) that the page skipped do not keep it from being caught up."""
    return start >= unseen_recent


PAGE_SLACK = 10
"""A ranked page checks this many posts beyond its size, in the same round, so that posts dropped when served
(deleted, hidden, unfollowed since they were ranked) leave no hole; the cursor goes on after the last one served."""


def _serve(
    caller: Caller,
    ranked_ids: list[str],
    ranked_authors: list[str],
    offset: int,
    limit: int,
    stores: FeedStores,
    known: dict[str, PostRecord],
    explained: Callable[[int], Ranking] | None,
) -> tuple[list[FeedPost], int, int]:
    """One round: the posts from `offset` on (with some slack) checked and hydrated; the first `limit` that may
    show, the rank of the first of them (the page's start), and the offset after the last of them (or after the
    slack, if too few may): with none to show, the page starts there."""
    window_ids = ranked_ids[offset : offset + limit + PAGE_SLACK]
    window_authors = ranked_authors[offset : offset + limit + PAGE_SLACK]
    flags_call = _submit(stores.flags, caller.user_id, window_ids)
    checks = _start_checks(caller, window_ids, [*window_authors, caller.user_id], stores, known)()
    flags = flags_call.result()
    served: list[str] = []
    explanations: dict[str, Ranking] = {}
    start: int | None = None
    next_offset = offset + len(window_ids)
    for index, post_id in enumerate(window_ids, start=offset):
        if len(served) == limit:
            next_offset = index
            break
        if _visible(checks.records.get(post_id), checks, caller):
            start = index if start is None else start
            served.append(post_id)
            if explained is not None:
                explanations[post_id] = explained(index)
    items = _posts(caller, served, checks, flags, explanations if explained else None)
    return items, next_offset if start is None else start, next_offset


def _ranked_page(
    caller: Caller, snapshot_id: str, next_offset: int, total: int, unseen_recent: int, start: int
) -> tuple[str | None, bool]:
    scope = _scope(caller, FeedOrder.RANKED)
    cursor = encode_cursor({"snapshot": snapshot_id, "offset": next_offset}, scope, cursor_secret())
    return (cursor if next_offset < total else None), _caught_up(unseen_recent, start)


def _ranked_first_page(
    caller: Caller, limit: int, explain: bool, stores: FeedStores, weights: FeedRankingSettings, now: datetime
) -> FeedPage:
    # Round 1: the caller's partition.
    pushed_call = _submit(stores.feeds.page, caller.user_id, None, weights.candidates)
    affinity_call = _submit(stores.affinity.of_viewer, caller.user_id, now)
    singles_call = _submit(stores.seen.single_impressions, caller.user_id)
    reused_call = (
        _submit(stores.snapshots.recent_standings, caller.user_id, now - timedelta(seconds=weights.standings_reuse_s))
        if weights.standings_reuse_s
        else None
    )
    celebrities = stores.feeds.followed_celebrities(caller.user_id)
    pushed, _ = pushed_call.result()
    last = reused_call.result() if reused_call is not None else None
    reused = last.posts if last is not None else {}

    # Round 2: the celebrities' recent posts; the standings (counts; deleted ones dropped) of the pushed posts that
    # the caller's last ranking, if recent, did not score — and that could rank: when it ranked a full set of
    # candidates, a post older than all of them stays below them now, unless some of them are gone since.
    recent_call = _submit(stores.recent.of_authors, celebrities)
    # and the impressions that could matter: a full set of pushed posts bounds the candidates' age from below
    since = time_of(pushed[-1].post_id) if len(pushed) >= weights.candidates else None
    seen_call = _submit(stores.seen.of_viewer, caller.user_id, since)
    cut = min(reused) if len(reused) >= weights.candidates else ""
    standings = gather_dict(
        stores.posts.standings_of, [e.post_id for e in pushed if e.post_id not in reused and e.post_id > cut]
    )
    recent = recent_call.result()
    candidates = [reused[entry.post_id] for entry in pushed if entry.post_id in reused]
    candidates += [
        Candidate(s.post_id, s.author_id, s.created_at, s.like_count, s.comment_count)
        for s in (standings.get(entry.post_id) for entry in pushed)
        if s is not None and s.status == PostStatus.PUBLISHED
    ]
    candidates += [post.as_candidate(author) for author, posts in recent.items() for post in posts]
    candidates = sorted({c.post_id: c for c in candidates}.values(), key=lambda c: c.post_id, reverse=True)
    ranking = rank(
        candidates[: weights.candidates],
        caller.user_id,
        ViewerSignals(affinity_call.result(), seen_call.result() | singles_call.result()),
        now,
        weights,
    )

    # Round 3: the snapshot written, while the page is checked (authors, follows, blocks, mutes) and hydrated.
    ranked_ids, ranked_authors = ranking.post_ids, [post.author_id for post in ranking.posts]
    snapshot_id = new_id()
    # counts reused keep the time they were read: a chain of refreshes never reuses them past standings_reuse_s
    scored = Standings(last.as_of if last is not None and reused else now, {c.post_id: c for c in candidates})
    snapshot_call = (
        _submit(
            stores.snapshots.put, caller.user_id, snapshot_id, ranking.posts, ranking.unseen_recent, explain, scored
        )
        if len(ranked_ids) > limit
        else None
    )
    explained = (
        (lambda index: _explanation(ranking.posts[index].score, ranking.posts[index].parts)) if explain else None
    )
    items, start, next_offset = _serve(caller, ranked_ids, ranked_authors, 0, limit, stores, {}, explained)
    if snapshot_call is not None:
        snapshot_call.result()
    next_cursor, caught_up = _ranked_page(
        caller, snapshot_id, next_offset, len(ranked_ids), ranking.unseen_recent, start
    )
    return FeedPage(items=items, next_cursor=next_cursor, caught_up=caught_up)


def _ranked_later_page(
    caller: Caller, limit: int, cursor: str, explain: bool, stores: FeedStores, now: datetime
) -> FeedPage:
    position = decode_cursor(cursor, _scope(caller, FeedOrder.RANKED), cursor_secret())
    snapshot_id, offset = position.get("snapshot"), position.get("offset")
    if not isinstance(snapshot_id, str) or not isinstance(offset, int) or offset < 0:
        raise _invalid_cursor()
    # Round 1: the snapshot.
    snapshot: Snapshot | None = stores.snapshots.get(caller.user_id, snapshot_id, now)
    if snapshot is None:
        raise CursorExpired(
            "This feed's ranking has expired (a ranked feed is kept for an hour): read the first page again, "
            "without a cursor.",
            [{"field": "cursor"}],
        )
    scores, parts = snapshot.scores, snapshot.parts
    if explain and (scores is None or parts is None):
        # the scores belong to the ranking: kept only when its first page asked for them
        raise ValidationFailed(
            "explain=true needs a ranking made with it: this cursor's first page was read without explain; "
            "read the first page again with explain=true.",
            [{"field": "explain"}],
        )
    # Round 2: the page checked and hydrated.
    explained = (
        (lambda index: _explanation(scores[index], parts[index]))
        if explain and scores is not None and parts is not None
        else None
    )
    items, start, next_offset = _serve(
        caller, snapshot.post_ids, snapshot.author_ids, offset, limit, stores, {}, explained
    )
    next_cursor, caught_up = _ranked_page(
        caller, snapshot_id, next_offset, len(snapshot.post_ids), snapshot.unseen_recent, start
    )
    return FeedPage(items=items, next_cursor=next_cursor, caught_up=caught_up)


# -- chronological --


def _newest_first(entries: list[FeedEntry]) -> list[FeedEntry]:
    return sorted({entry.post_id: entry for entry in entries}.values(), key=lambda e: e.post_id, reverse=True)


@dataclass(frozen=True)
class _Pulled:
    """The celebrities' posts a chronological page may show, and what the page must still ask of them."""

    entries: list[FeedEntry]
    records: dict[str, PostRecord]
    more: bool


def _celebrity_posts(
    recent: Mapping[str, list[RecentPost]],
    pushed: list[FeedEntry],
    before: str | None,
    limit: int,
    stores: FeedStores,
) -> _Pulled:
    """The celebrities' posts older than `before`, from their recent-posts items (`recent`: read in one
    BatchGetItem round, as the ranked page reads them). An item holds an author's newest N posts: only an author
    whose item is full and whose oldest post in it is newer than the page's last could have an older post on the
    page, and only those are queried, in one more round (deep pages, or an author who posted more than N times
    among the page's newest)."""
    entries: list[FeedEntry] = []
    oldest: dict[str, str] = {}  # of each author whose item is full: older posts may exist
    for author, posts in recent.items():
        entries += [FeedEntry(p.post_id, author) for p in posts if before is None or p.post_id < before]
        if len(posts) >= stores.recent.keep:
            oldest[author] = min(p.post_id for p in posts)
    merged = _newest_first([*pushed, *entries])
    last_shown = merged[limit - 1].post_id if len(merged) >= limit else None
    unknown = {
        author: min(post_id, before) if before else post_id
        for author, post_id in oldest.items()
        if last_shown is None or post_id > last_shown
    }
    records: dict[str, PostRecord] = {}
    more = bool(oldest.keys() - unknown.keys())
    for found, has_more in _pool.map(
        lambda author: stores.posts.published_before(author, unknown[author], limit), unknown
    ):
        entries += [FeedEntry(r.post_id, r.author_id) for r in found]
        records.update((r.post_id, r) for r in found)
        more = more or has_more
    return _Pulled(entries, records, more)


@dataclass(frozen=True)
class _Window:
    """The next `count` entries of the chronological feed after `before`, newest first: pushed and pulled merged."""

    entries: list[FeedEntry]
    records: dict[str, PostRecord]  # the pulled posts already read (their Query returned them whole)
    more: bool


def _window(
    pushed: list[FeedEntry],
    more_pushed: bool,
    recent: Mapping[str, list[RecentPost]],
    before: str | None,
    count: int,
    stores: FeedStores,
) -> _Window:
    pulled = _celebrity_posts(recent, pushed, before, count, stores) if recent else _Pulled([], {}, False)
    merged = _newest_first([*pushed, *pulled.entries])
    return _Window(merged[:count], pulled.records, more_pushed or pulled.more or len(merged) > count)


FILL_ENTRIES = FILL_READS
"""A chronological page whose window shows fewer than `limit` posts (their authors muted, deactivated, suspended,
their posts deleted: entries not cleaned up, or not yet) reads on, once, up to this many times `limit + 1` entries
in all, and is short only when hidden entries fill all of those (as pinhole.shared.pages.filled_page bounds a
comments page)."""


def _checked(
    caller: Caller, entries: list[FeedEntry], known: dict[str, PostRecord], checked: _Checks | None, stores: FeedStores
) -> tuple[_Checks, ViewerMarks]:
    """One round: the entries' posts, likes and saves, and the authors `checked` does not cover yet; merged."""
    post_ids = [entry.post_id for entry in entries]
    authors = [entry.author_id for entry in entries]
    if checked is not None:
        authors = [author for author in authors if author not in checked.profiles and author != caller.user_id]
    flags = _submit(stores.flags, caller.user_id, post_ids)
    found = _start_checks(caller, post_ids, authors, stores, known)()
    if checked is not None:
        found = _Checks(
            {**checked.records, **found.records},
            {**checked.profiles, **found.profiles},
            checked.following | found.following,
            checked.hidden | found.hidden,
        )
    return found, flags.result()


def _chronological_page(
    caller: Caller, limit: int, cursor: str | None, stores: FeedStores, weights: FeedRankingSettings, now: datetime
) -> FeedPage:
    before = None
    if cursor:
        before = decode_cursor(cursor, _scope(caller, FeedOrder.CHRONOLOGICAL), cursor_secret()).get("before")
        if not isinstance(before, str):
            raise _invalid_cursor()
    # Round 1: the pushed page and whom to pull from.
    pushed_call = _submit(stores.feeds.page, caller.user_id, before, limit)
    celebrities = stores.feeds.followed_celebrities(caller.user_id)
    pushed, more_pushed = pushed_call.result()
    # Round 2: the celebrities' recent-posts items (and, for a deep page, a Query of the few that run out).
    recent = stores.recent.of_authors(celebrities) if celebrities else {}
    window = _window(pushed, more_pushed, recent, before, limit, stores)
    # Round 3: hydrate and check, all in parallel.
    checks, marks = _checked(caller, window.entries, window.records, None, stores)
    taken = [e for e in window.entries if _visible(checks.records.get(e.post_id), checks, caller)]
    last, more = (window.entries[-1] if window.entries else None), window.more
    if len(taken) < limit and more and last is not None:
        # Rounds 4-5, only when hidden entries left the page short: the next entries, up to the bound, then
        # their check. The recent-posts items are those read above; a celebrity whose item runs out among
        # these entries is queried in between (one more round).
        count = FILL_ENTRIES * (limit + 1) - len(window.entries)
        pushed, more_pushed = stores.feeds.page(caller.user_id, last.post_id, count)
        further = _window(pushed, more_pushed, recent, last.post_id, count, stores)
        checks, more_marks = _checked(caller, further.entries, further.records, checks, stores)
        marks = {**marks, **more_marks}
        more = True  # unless the entries run out before the page fills
        for entry in further.entries:
            if len(taken) == limit:
                break
            last = entry
            if _visible(checks.records.get(entry.post_id), checks, caller):
                taken.append(entry)
        else:
            more = further.more
    page = _posts(caller, [entry.post_id for entry in taken], checks, marks)
    next_cursor = (
        encode_cursor({"before": last.post_id}, _scope(caller, FeedOrder.CHRONOLOGICAL), cursor_secret())
        if more and last is not None
        else None
    )
    # Newest first: a page that starts past the caught-up window (or past the end) follows every newer post.
    window_start = now - timedelta(hours=weights.caught_up_window_hours)
    first = checks.records.get(window.entries[0].post_id) if window.entries else None
    past_window = not window.entries or (first is not None and first.created_at < window_start)
    return FeedPage(items=page, next_cursor=next_cursor, caught_up=past_window)


def read_feed(
    caller: Caller,
    limit: int,
    cursor: str | None,
    order: FeedOrder = FeedOrder.RANKED,
    explain: bool = False,
    stores: FeedStores | None = None,
    now: datetime | None = None,
) -> FeedPage:
    stores = stores or default_stores()
    now = now or utc_now()
    weights = get_settings().feed_ranking
    if order is FeedOrder.CHRONOLOGICAL:
        return _chronological_page(caller, limit, cursor, stores, weights, now)
    if cursor:
        return _ranked_later_page(caller, limit, cursor, explain, stores, now)
    return _ranked_first_page(caller, limit, explain, stores, weights, now)


def mark_seen(caller: Caller, post_ids: list[str], stores: FeedStores | None = None) -> None:
    """Records impressions of existing published posts; unknown ids (and others' unpublished ones) are
    ignored. Repeating it changes nothing."""
    stores = stores or default_stores()
    records = stores.posts.get_many(post_ids)
    published = {post_id for post_id, record in records.items() if record.status == PostStatus.PUBLISHED}
    known = [post_id for post_id in dict.fromkeys(post_ids) if post_id in published]
    if known:
        stores.seen.record(caller.user_id, known)
