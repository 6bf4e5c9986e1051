"""The ranked home feed on moto: GET /feed and POST /feed/seen through their handler, the snapshot behind
later pages, and the signals the streams keep (affinity, authors' recent posts) driven as their consumer
would drive them."""

import json
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from functions.feed_read import handler as feed_read
from pinhole.feed import logic, ranking_dal
from pinhole.feed.dal import FeedRepository
from pinhole.feed.fanout import FanOut
from pinhole.feed.hot_keys import recent_posts_copies
from pinhole.feed.ranking import Candidate, RankedPost, ScoreParts
from pinhole.feed.ranking_dal import FeedStateModel, RecentPost, RecentPostsStore
from pinhole.feed.signals import FeedSignals
from pinhole.graph.dal import GraphRepository
from pinhole.posts.dal import PostRepository
from pinhole.shared.caller import Caller
from pinhole.shared.clock import to_iso, utc_now
from pinhole.shared.ids import new_id, time_of
from pinhole.shared.settings import FeedRankingSettings, get_settings
from pinhole.social.dal import InteractionRepository
from tests.support.events import FakeLambdaContext, http_event, response_json
from tests.support.feed import CapturingQueue
from tests.support.feed_signals import post_image, signal_published
from tests.support.posts import publish
from tests.support.streams import routed_event, stream_record
from tests.support.users import sign_up_claims

Claims = dict[str, str]


@pytest.fixture
def fanout(aws: dict[str, str]) -> FanOut:
    return FanOut(sqs=CapturingQueue())  # a follow's delayed second backfill; no fan-out here is chunked


def call(method: str, path: str, claims: Claims, body: Any = None, **query: str) -> tuple[int, Any]:
    event = http_event(method, path, claims=claims, body=body)
    if query:
        event["queryStringParameters"] = query
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    response = feed_read.handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


def feed(claims: Claims, **query: str) -> dict[str, Any]:
    status, page = call("GET", "/feed", claims, **query)
    assert status == 200, page
    return dict(page)


def ids(page: dict[str, Any]) -> list[str]:
    return [post["post_id"] for post in page["items"]]


def follow(follower: Claims, followee: Claims, fanout: FanOut) -> None:
    assert GraphRepository().follow(follower["sub"], followee["sub"])
    fanout.followed(follower["sub"], followee["sub"])


def share(author: Claims, fanout: FanOut) -> str:
    """A post published, and what the posts stream triggers: the fan-out and the recent-posts item."""
    post_id = publish(author)
    fanout.post_published(post_id, author["sub"])
    signal_published(post_id)
    return post_id


def like(viewer: Claims, post_id: str) -> None:
    """A like, and what the interactions stream triggers: the viewer's affinity for the author."""
    assert InteractionRepository().like(post_id, viewer["sub"])
    item = {
        "sk": f"like#{viewer['sub']}",
        "user_id": viewer["sub"],
        "post_id": post_id,
        "created_at": to_iso(utc_now()),
    }
    FeedSignals().interaction_changed("INSERT", {}, item)


def like_item(viewer: Claims, post_id: str) -> dict[str, str]:
    liker = viewer["sub"]
    return {"sk": f"like#{liker}", "user_id": liker, "post_id": post_id, "created_at": to_iso(utc_now())}


def seen(claims: Claims, post_ids: list[str]) -> None:
    status, body = call("POST", "/feed/seen", claims, body={"post_ids": post_ids})
    assert status == 204, body


def test_liking_a_friends_posts_raises_them_above_newer_posts(fanout: FanOut) -> None:
    reader, friend, other = sign_up_claims("reader"), sign_up_claims("friend"), sign_up_claims("other")
    follow(reader, friend, fanout)
    follow(reader, other, fanout)
    liked_before = share(friend, fanout)
    friends = share(friend, fanout)
    newer = [share(other, fanout) for _ in range(2)]
    assert ids(feed(reader))[0] == newer[-1]  # nothing known: the newest first

    like(reader, liked_before)
    like(reader, friends)

    ranked = feed(reader, explain="true")
    assert ids(ranked)[0] == friends
    top = ranked["items"][0]["ranking"]
    assert top["parts"]["affinity"] == pytest.approx(2.0, rel=1e-3)
    assert top["parts"]["diversity"] == 1.0 and top["score"] > ranked["items"][1]["ranking"]["score"]
    assert ids(feed(reader, order="chronological")) == [*reversed(newer), friends, liked_before]
    assert all(post["ranking"] is None for post in feed(reader)["items"])


def test_later_pages_come_from_the_snapshot_without_repeats_while_posts_and_likes_arrive(fanout: FanOut) -> None:
    reader, authors = sign_up_claims("reader"), [sign_up_claims(f"author{n}") for n in range(3)]
    for author in authors:
        follow(reader, author, fanout)
    shared = {share(authors[n % 3], fanout) for n in range(9)}

    first = feed(reader, limit="4")
    assert first["next_cursor"] and len(first["items"]) == 4
    share(authors[0], fanout)  # new posts and likes between pages change nothing already ranked
    like(reader, ids(first)[-1])
    for post_id in list(shared)[:3]:
        assert InteractionRepository().like(post_id, authors[1]["sub"])
    second = feed(reader, limit="4", cursor=first["next_cursor"])
    third = feed(reader, limit="4", cursor=second["next_cursor"])

    pages = ids(first) + ids(second) + ids(third)
    assert sorted(pages) == sorted(shared) and len(set(pages)) == 9
    assert third["next_cursor"] is None


@pytest.fixture
def three_candidates(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Rankings of 3 candidates (instead of 500): a feed whose pushed posts fill them takes a few posts."""
    monkeypatch.setenv("FEED_RANKING", json.dumps({"candidates": 3}))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


class _CountingPosts(PostRepository):
    """The posts' standings reads a page makes."""

    def __init__(self) -> None:
        super().__init__()
        self.standings_read: list[str] = []

    def standings_of(self, post_ids: list[str]) -> Any:
        self.standings_read += post_ids
        return super().standings_of(post_ids)


def test_a_refresh_within_minutes_reuses_the_standings_its_last_ranking_read(fanout: FanOut) -> None:
    # Given a reader's first page ranked over three posts
    reader, author = sign_up_claims("reader"), sign_up_claims("author")
    follow(reader, author, fanout)
    older = [share(author, fanout) for _ in range(3)]
    posts = _CountingPosts()
    stores = replace(logic.default_stores(), posts=posts)
    caller, start = Caller(reader["sub"], "reader"), utc_now()

    def ranked(after_s: float) -> dict[str, float]:
        """A first page (of one post: a page that holds every post stores no snapshot), then the rest of its
        ranking: each post's engagement term."""
        now, cursor, engagement = start + timedelta(seconds=after_s), None, {}
        while True:
            page = logic.read_feed(caller, 1, cursor, explain=True, stores=stores, now=now)
            engagement |= {post.post_id: post.ranking.parts.engagement for post in page.items if post.ranking}
            if not (cursor := page.next_cursor):
                return engagement

    assert set(ranked(0)) == set(older) and sorted(posts.standings_read) == sorted(older)

    # When one of them is liked, another deleted, a new one pushed, and the reader refreshes a minute later
    for fan in range(5):
        assert InteractionRepository().like(older[0], f"fan-{fan}")
    PostRepository().delete(PostRepository().get(older[1]))
    newer = share(author, fanout)
    posts.standings_read.clear()
    refreshed = ranked(60)

    # Then only the new post's standing is read; the liked one ranks on the counts read a minute ago
    assert posts.standings_read == [newer]
    assert refreshed[older[0]] == 0.0
    assert set(refreshed) == {older[0], older[2], newer}  # the deleted one dropped when served

    # and the refresh's snapshot keeps the time those counts were read, not its own
    kept = ranking_dal.SnapshotStore().recent_standings(reader["sub"], start - timedelta(seconds=1))
    assert kept is not None and kept.as_of == start and kept.posts[older[0]].like_count == 0

    # And once the window has passed, every standing is read again, the like counted
    posts.standings_read.clear()
    later = ranked(get_settings().feed_ranking.standings_reuse_s + 120)
    assert sorted(posts.standings_read) == sorted([*older, newer])  # the deleted post's entry is not retracted here
    assert later[older[0]] > 0.0


def test_standings_read_before_the_window_are_not_reused_whatever_the_snapshots_age(aws: Any) -> None:
    # Given a snapshot made now of standings read 10 minutes ago (a chain of refreshes reusing them)
    now = utc_now()
    read_then = now - timedelta(minutes=10)
    post = Candidate("01POST", "author", (now - timedelta(hours=1)).replace(microsecond=0), 5, 1)  # kept to the second
    ranked = RankedPost("01POST", "author", 1.0, ScoreParts(0.0, 1.0, 0.0, 0.0, False))
    store = ranking_dal.SnapshotStore()
    store.put("viewer", new_id(), [ranked], 1, False, ranking_dal.Standings(read_then, {"01POST": post}))

    # Then a first page reusing standings read in the last 5 minutes finds none; one allowing 15 minutes does
    assert store.recent_standings("viewer", now - timedelta(minutes=5)) is None
    found = store.recent_standings("viewer", now - timedelta(minutes=15))
    assert found is not None and found.posts == {"01POST": post}
    assert abs((found.as_of - read_then).total_seconds()) < 1e-3


class _CountingSeen(ranking_dal.SeenStore):
    """Since when a page asks for impressions."""

    def __init__(self) -> None:
        super().__init__()
        self.since: list[Any] = []

    def of_viewer(self, viewer_id: str, since: Any = None) -> frozenset[str]:
        self.since.append(since)
        return super().of_viewer(viewer_id, since)


def test_a_first_page_reads_the_impressions_since_its_oldest_pushed_post_and_seen_posts_still_sink(
    fanout: FanOut, three_candidates: None
) -> None:
    # Given rankings of 3 candidates, and a reader who saw the newest and the oldest of a friend's 4 posts
    reader, friend = sign_up_claims("reader"), sign_up_claims("friend")
    follow(reader, friend, fanout)
    oldest, *middle, newest = [share(friend, fanout) for _ in range(4)]
    seen(reader, [oldest, newest])
    impressions = _CountingSeen()
    stores, caller = replace(logic.default_stores(), seen=impressions), Caller(reader["sub"], "reader")

    page = logic.read_feed(caller, 10, None, stores=stores)

    # Then the impressions asked for start at the oldest of the 3 pushed posts it ranks
    assert impressions.since == [time_of(middle[0])]
    # and the one seen among them ranks last
    assert [post.post_id for post in page.items] == [*reversed(middle), newest]


def test_a_refresh_does_not_read_pushed_posts_older_than_a_full_last_ranking(
    fanout: FanOut, three_candidates: None
) -> None:
    # Given rankings of 3 candidates, and a reader whose friend posted twice before a celebrity they follow did
    reader, friend, star = (sign_up_claims(name) for name in ("reader", "friend", "star"))
    FeedRepository().mark_celebrity(star["sub"], 10**6)
    follow(reader, friend, fanout)
    follow(reader, star, fanout)
    older, newer = share(friend, fanout), share(friend, fanout)
    stars = [share(star, fanout) for _ in range(2)]
    posts = _CountingPosts()
    stores, caller = replace(logic.default_stores(), posts=posts), Caller(reader["sub"], "reader")

    # When the first page ranks the newest 3 (the star's 2 and the friend's newer), and the reader refreshes
    assert logic.read_feed(caller, 1, None, stores=stores).next_cursor  # a snapshot was kept
    assert sorted(posts.standings_read) == sorted([older, newer])
    posts.standings_read.clear()
    page = logic.read_feed(caller, 3, None, stores=stores)

    # Then the friend's older post, below all 3 then, is not read again: it could not rank among them now
    assert posts.standings_read == []
    assert {post.post_id for post in page.items} == {newer, *stars}


def test_an_expired_snapshot_is_410_and_other_cursors_are_422(fanout: FanOut) -> None:
    alice, bob = sign_up_claims("alice"), sign_up_claims("bob")
    for _ in range(3):
        share(alice, fanout)
    ranked_cursor = feed(alice, limit="1")["next_cursor"]
    chronological_cursor = feed(alice, limit="1", order="chronological")["next_cursor"]

    assert call("GET", "/feed", bob, cursor=ranked_cursor)[0] == 422  # another user's
    status, body = call("GET", "/feed", alice, cursor=ranked_cursor, order="chronological")
    assert status == 422 and body["error"]["code"] == "validation_error"  # another order's
    assert call("GET", "/feed", alice, cursor=chronological_cursor)[0] == 422

    for item in FeedStateModel.query(alice["sub"], FeedStateModel.sk.startswith("snapshot#")):
        item.update(actions=[FeedStateModel.expires_at.set(utc_now() - timedelta(seconds=1))])  # TTL lags
    status, body = call("GET", "/feed", alice, cursor=ranked_cursor)
    assert status == 410
    assert body["error"]["code"] == "cursor_expired" and "first page" in body["error"]["message"]
    assert feed(alice, limit="1")["next_cursor"]  # a first page starts afresh


def test_seen_posts_sink_and_the_feed_says_caught_up_then_goes_on_with_older_posts(fanout: FanOut) -> None:
    reader, friend = sign_up_claims("reader"), sign_up_claims("friend")
    follow(reader, friend, fanout)
    old = share(friend, fanout)
    _age(old, hours=72)
    fresh = [share(friend, fanout) for _ in range(3)]
    mine = share(reader, fanout)

    first = feed(reader, limit="2")
    second = feed(reader, limit="2", cursor=first["next_cursor"])
    third = feed(reader, limit="2", cursor=second["next_cursor"])
    assert [first["caught_up"], second["caught_up"], third["caught_up"]] == [False, False, True]
    assert ids(third) == [old]  # past the 4 new ones: the older post

    seen(reader, [*fresh, mine])
    seen(reader, [*fresh, mine])  # idempotent
    page = feed(reader, limit="10")
    assert page["caught_up"] is True
    assert ids(page)[0] == old  # unseen older posts come before what was seen
    assert set(ids(page)) == {old, *fresh, mine}


def _age(post_id: str, hours: float) -> None:
    """Makes a post (and its recent-posts entry) `hours` older, as if published then."""
    from pinhole.posts.dal import PostModel

    item = PostModel.get(post_id)
    created = item.created_at - timedelta(hours=hours)
    item.update(actions=[PostModel.created_at.set(created)])


def test_seen_ignores_unknown_ids_and_refuses_bad_bodies(fanout: FanOut) -> None:
    reader = sign_up_claims("reader")
    mine = share(reader, fanout)
    seen(reader, [mine, "01UNKNOWN0000000000000000", "not-a-post"])
    stored = [
        (item.sk, item.post_ids) for item in FeedStateModel.query(reader["sub"], FeedStateModel.sk.startswith("seen#"))
    ]
    assert stored == [(f"seen#@{utc_now():%Y%m%d%H}", {mine})]
    for bad in ({"post_ids": []}, {"post_ids": ["x"] * 51}, {"post_ids": "x"}, {"ids": ["x"]}, {"post_ids": [""]}):
        status, body = call("POST", "/feed/seen", reader, body=bad)
        assert status == 422 and body["error"]["code"] == "validation_error", (bad, body)


def test_impressions_are_packed_by_the_hour_and_read_with_the_single_ones_of_the_format_before(aws: Any) -> None:
    # Given impressions reported in two hours, one twice, and one stored as the format before stored them
    viewer, hour = "viewer", utc_now().replace(minute=30)
    first, second = (
        ranking_dal.SeenStore(clock=lambda: hour),
        ranking_dal.SeenStore(clock=lambda: hour + timedelta(hours=1)),
    )
    first.record(viewer, ["p1", "p2"])
    first.record(viewer, ["p2", "p3"])
    second.record(viewer, ["p4"])
    single = new_id()  # a post id: impressions were keyed by them
    FeedStateModel(user_id=viewer, sk=f"seen#{single}", expires_at=hour + timedelta(days=1)).save()

    # Then each hour is one item, and every impression is read
    items = {item.sk: item.post_ids for item in FeedStateModel.query(viewer, FeedStateModel.sk.startswith("seen#@"))}
    assert items == {
        f"seen#@{hour:%Y%m%d%H}": {"p1", "p2", "p3"},
        f"seen#@{hour + timedelta(hours=1):%Y%m%d%H}": {"p4"},
    }
    store = ranking_dal.SeenStore()
    assert store.of_viewer(viewer) == {"p1", "p2", "p3", "p4"} and store.single_impressions(viewer) == {single}
    # and a first page asks only for the hours since its oldest candidate was made (and the hour before)
    assert store.of_viewer(viewer, since=hour + timedelta(hours=1)) == {"p1", "p2", "p3", "p4"}
    assert store.of_viewer(viewer, since=hour + timedelta(hours=2)) == {"p4"}
    expires = FeedStateModel.get(viewer, f"seen#@{hour:%Y%m%d%H}").expires_at
    assert expires is not None and abs((expires - (hour + ranking_dal.SEEN_LIFETIME)).total_seconds()) < 1


def test_an_hour_of_impressions_past_dynamodbs_item_size_goes_on_in_the_minutes_item(aws: Any) -> None:
    moment = utc_now()
    store = ranking_dal.SeenStore(clock=lambda: moment)
    batches = [[f"{batch:02d}{index:024d}" for index in range(5_000)] for batch in range(4)]  # 26-char ids
    for batch in batches:
        store.record("viewer", batch)
    items = {item.sk: len(item.post_ids or ()) for item in FeedStateModel.query("viewer")}
    hour, minute = f"seen#@{moment:%Y%m%d%H}", f"seen#@{moment:%Y%m%d%H%M}"
    assert items == {hour: 15_000, minute: 5_000}  # a fourth 5,000 would take the hour's item past 400 KB
    assert store.of_viewer("viewer") == {post_id for batch in batches for post_id in batch}


def test_a_first_page_reads_one_query_page_of_impressions_the_newest_hours(aws: Any) -> None:
    # Given three hours of ~360 KB of impressions each, ~1.1 MB in all
    start = utc_now() - timedelta(hours=5)
    hours = [[f"{hour}{index:025d}" for index in range(14_000)] for hour in range(3)]
    for offset, ids in enumerate(hours):
        ranking_dal.SeenStore(clock=lambda offset=offset: start + timedelta(hours=offset)).record("viewer", ids)

    # Then what is read stops at DynamoDB's 1 MB page: the newest hours
    seen = ranking_dal.SeenStore().of_viewer("viewer")
    assert set(hours[2]) <= seen and set(hours[1]) <= seen
    assert not set(hours[0]) & seen


def test_following_no_one_gives_own_posts_and_caught_up_holds(fanout: FanOut) -> None:
    loner = sign_up_claims("loner")
    assert feed(loner) == {"items": [], "next_cursor": None, "caught_up": True}
    posts = [share(loner, fanout) for _ in range(2)]
    page = feed(loner)
    assert sorted(ids(page)) == sorted(posts) and page["caught_up"] is False
    seen(loner, posts)
    assert feed(loner)["caught_up"] is True


def test_deleted_unfollowed_and_blocked_authors_never_show_in_either_order(fanout: FanOut) -> None:
    reader, kept, gone, blocker = (sign_up_claims(name) for name in ("reader", "kept", "gone", "blocker"))
    for author in (kept, gone, blocker):
        follow(reader, author, fanout)
    keep = share(kept, fanout)
    deleted = share(kept, fanout)
    unfollowed = share(gone, fanout)
    blocked = share(blocker, fanout)
    first = feed(reader, limit="1")  # a snapshot holding all four

    posts = PostRepository()
    posts.delete(posts.get(deleted))
    GraphRepository().unfollow(reader["sub"], gone["sub"])
    GraphRepository().block(blocker["sub"], reader["sub"])

    for order in ("ranked", "chronological"):
        assert ids(feed(reader, order=order)) == [keep], order
    rest = []
    cursor = first["next_cursor"]
    while cursor:
        page = feed(reader, limit="1", cursor=cursor)
        rest += ids(page)
        cursor = page["next_cursor"]
    assert set(ids(first) + rest) <= {keep, deleted, unfollowed, blocked}
    assert not {deleted, unfollowed, blocked} & set(rest)


def test_muted_authors_never_show_in_either_order_even_on_a_snapshots_later_pages(fanout: FanOut) -> None:
    reader, friend, muted, star = (sign_up_claims(name) for name in ("reader", "friend", "muted", "star"))
    FeedRepository().mark_celebrity(star["sub"], 10**6)  # its posts reach the feed through its recent-posts item
    for author in (friend, muted, star):
        follow(reader, author, fanout)
    kept = share(friend, fanout)
    quiet = [share(muted, fanout), share(star, fanout)]
    first = feed(reader, limit="1")  # a snapshot holding all three, ranked before the mutes

    graph = GraphRepository()
    assert graph.mute(reader["sub"], muted["sub"]) and graph.mute(reader["sub"], star["sub"])

    for order in ("ranked", "chronological"):
        assert ids(feed(reader, order=order)) == [kept], order
    rest = []
    cursor = first["next_cursor"]
    while cursor:
        page = feed(reader, limit="1", cursor=cursor)
        rest += ids(page)
        cursor = page["next_cursor"]
    assert set(ids(first) + rest) <= {kept, *quiet}
    assert not set(quiet) & set(rest)

    # A mute hides, it does not unfollow: unmuted, both come back in either order
    assert graph.unmute(reader["sub"], muted["sub"]) and graph.unmute(reader["sub"], star["sub"])
    for order in ("ranked", "chronological"):
        assert sorted(ids(feed(reader, order=order))) == sorted([kept, *quiet]), order


def recent_copies(author: Claims) -> dict[int, list[str]]:
    """Each copy of the author's recent-posts item: its post ids."""
    return {
        int(item.sk.removeprefix("recent#")): [row[0] for row in json.loads(item.posts or "[]")]
        for item in FeedStateModel.query(author["sub"], FeedStateModel.sk.startswith("recent#"))
    }


def test_a_celebritys_copies_grow_with_the_follower_count_and_every_edge_learns_k(
    monkeypatch: pytest.MonkeyPatch, aws: dict[str, str]
) -> None:
    monkeypatch.setenv("CELEBRITY_THRESHOLD", "2")
    get_settings.cache_clear()
    fanout = FanOut(sqs=CapturingQueue())
    star, fan, later_fan = sign_up_claims("star"), sign_up_claims("fan"), sign_up_claims("later")
    follow(fan, star, fanout)
    posts = [share(star, fanout) for _ in range(2)]

    # Given a celebrity whose follower count calls for one copy
    fanout.follower_count_changed(star["sub"], 2)
    assert FeedRepository().followed_celebrities(fan["sub"]) == {star["sub"]: 1}
    assert list(recent_copies(star)) == [0]

    # When the count reaches 100M: ⌈10⁸ × 4 / 86,400 × 3 × 0.5 / 1,500⌉ = 5 copies, rounded up to 8
    huge = 100_000_000
    assert recent_posts_copies(huge, FeedRankingSettings()) == 8
    fanout.follower_count_changed(star["sub"], huge)

    # Then 8 copies hold the same posts, and every follower's edge (and a new follower's) names 8
    copies = recent_copies(star)
    assert sorted(copies) == list(range(8)) and all(found == copies[0] for found in copies.values())
    assert sorted(copies[0]) == sorted(posts)
    assert FeedRepository().followed_celebrities(fan["sub"]) == {star["sub"]: 8}
    follow(later_fan, star, fanout)
    assert FeedRepository().followed_celebrities(later_fan["sub"]) == {star["sub"]: 8}

    # A later post reaches every copy; fewer followers shrink nothing (edges still name 8)
    newer = share(star, fanout)
    fanout.follower_count_changed(star["sub"], huge // 4)
    assert FeedRepository().followed_celebrities(fan["sub"]) == {star["sub"]: 8}
    assert all(newer in found for found in recent_copies(star).values()) and len(recent_copies(star)) == 8
    for reader in (fan, later_fan):
        assert sorted(ids(feed(reader))) == sorted([*posts, newer])
        assert sorted(ids(feed(reader, order="chronological"))) == sorted([*posts, newer])

    # A deleted post leaves every copy
    PostRepository().delete(PostRepository().get(posts[0]))
    FeedSignals().post_changed("REMOVE", post_image(posts[1]) | {"post_id": posts[0]}, {})
    assert all(posts[0] not in found for found in recent_copies(star).values())
    assert sorted(ids(feed(fan))) == sorted([posts[1], newer])


def test_readers_pick_a_copy_at_random_among_the_k_their_edge_names(
    monkeypatch: pytest.MonkeyPatch, aws: dict[str, str]
) -> None:
    store = RecentPostsStore(cache_s=0)
    store.published("author", RecentPost("01", 1000.0))
    store.spread("author", 4)
    asked: list[str] = []
    batch_get = ranking_dal.batch_get_raw

    def recorded(model: Any, keys: list[tuple[str, str]], *args: Any) -> Any:
        asked.extend(sk for _, sk in keys)
        return batch_get(model, keys, *args)

    monkeypatch.setattr(ranking_dal, "batch_get_raw", recorded)
    random.seed(13)
    for _ in range(40):
        assert [post.post_id for post in store.of_authors({"author": 4})["author"]] == ["01"]
    assert sorted(set(asked)) == [f"recent#{copy}" for copy in range(4)]

    asked.clear()
    for _ in range(10):
        store.of_authors({"author": 1})
    assert set(asked) == {"recent#0"}


def test_a_post_taken_down_leaves_its_authors_recent_posts_and_a_restore_brings_it_back(aws: dict[str, str]) -> None:
    store = RecentPostsStore(keep=3, cache_s=0)
    signals = FeedSignals(recent=store)
    image = {"post_id": "01", "author_id": "author", "status": "published", "created_at": "2026-12-01T00:00:00Z"}
    signals.post_changed("MODIFY", {**image, "status": "pending"}, image)
    assert [p.post_id for p in store.of_authors({"author": 1})["author"]] == ["01"]

    signals.post_changed("MODIFY", image, {**image, "status": "removed"})  # a moderator's takedown
    assert store.of_authors({"author": 1}).get("author", []) == []

    signals.post_changed("MODIFY", {**image, "status": "removed"}, image)  # restored
    assert [p.post_id for p in store.of_authors({"author": 1})["author"]] == ["01"]


def test_recent_posts_keep_the_newest_n_and_a_celebritys_counts_move_by_steps(aws: dict[str, str]) -> None:
    store = RecentPostsStore(keep=3, cache_s=0)
    store.spread("author", 2)
    FeedRepository().mark_celebrity("author", 10**6, copies=2)
    for index in range(5):
        store.published("author", RecentPost(f"0{index}", 1000.0 + index))
    store.published("author", RecentPost("04", 1004.0))  # redelivered: nothing changes
    assert [p.post_id for p in store.of_authors({"author": 2})["author"]] == ["04", "03", "02"]

    signals = FeedSignals(recent=store)
    image = {"post_id": "04", "author_id": "author", "status": "published", "created_at": "2026-12-01T00:00:00Z"}
    writes = 0
    for likes in range(1, 200):
        before = FeedStateModel.get("author", "recent#0").version
        signals.post_changed("MODIFY", {**image, "like_count": likes - 1}, {**image, "like_count": likes})
        writes += FeedStateModel.get("author", "recent#0").version != before
    assert writes < 60  # one write per ~10% step, not per like
    assert store.of_authors({"author": 2})["author"][0].like_count > 180
    assert {FeedStateModel.get("author", f"recent#{copy}").version for copy in range(2)} == {
        FeedStateModel.get("author", "recent#0").version
    }
    store.published("nobody", RecentPost("09", 1009.0))  # not a celebrity: counts are not kept
    before = FeedStateModel.get("nobody", "recent#0").version
    image = {**image, "post_id": "09", "author_id": "nobody"}
    signals.post_changed("MODIFY", {**image, "like_count": 0}, {**image, "like_count": 5})
    assert FeedStateModel.get("nobody", "recent#0").version == before


def test_affinity_comes_from_likes_comments_messages_and_visits_and_decays(aws: dict[str, str]) -> None:
    from pinhole.feed.ranking_dal import AffinityStore

    viewer, author = sign_up_claims("viewer"), sign_up_claims("author")
    post_id = publish(author)
    signals = FeedSignals()
    now = utc_now()
    signals.interaction_changed(
        "INSERT", {}, {"sk": f"like#{viewer['sub']}", "user_id": viewer["sub"], "post_id": post_id}
    )
    comment = {"sk": "comment#01X", "author_id": viewer["sub"], "post_id": post_id, "created_at": to_iso(now)}
    signals.interaction_changed("INSERT", {}, comment)
    signals.interaction_changed("REMOVE", comment, {})  # a deleted comment takes nothing back
    inbox = {"sk": "conv#c1", "user_id": viewer["sub"], "with_id": author["sub"], "last_sender_id": viewer["sub"]}
    signals.inbox_changed("MODIFY", {**inbox, "last_message_id": "m1"}, {**inbox, "last_message_id": "m2"})
    signals.inbox_changed("MODIFY", {**inbox, "last_message_id": "m2"}, {**inbox, "last_message_id": "m2"})  # read
    assert InteractionRepository().record_visit(viewer["sub"], author["sub"])
    assert not InteractionRepository().record_visit(viewer["sub"], author["sub"])  # within the hour: no write
    visit = {"sk": f"visit#{author['sub']}", "user_id": viewer["sub"], "visited_at": to_iso(now)}
    signals.interaction_changed("INSERT", {}, visit)
    signals.interaction_changed(
        "INSERT", {}, {"sk": f"like#{author['sub']}", "user_id": author["sub"], "post_id": post_id}
    )

    store = AffinityStore()
    assert store.of_viewer(viewer["sub"], now)[author["sub"]] == pytest.approx(1 + 2 + 3 + 0.5, rel=1e-3)
    assert store.of_viewer(author["sub"], now) == {}  # liking one's own post is no affinity
    two_weeks = now + timedelta(days=14)
    assert store.of_viewer(viewer["sub"], two_weeks)[author["sub"]] == pytest.approx(6.5 / 2, rel=1e-3)


def test_the_entry_points_take_records_routed_through_their_queues(aws: dict[str, str]) -> None:
    from functions.feed_signals import handler as feed_signals
    from pinhole.feed.ranking_dal import AffinityStore

    viewer, author = sign_up_claims("viewer"), sign_up_claims("author")
    post_id = publish(author)
    like = like_item(viewer, post_id)
    inbox = {"user_id": viewer["sub"], "sk": "conv#c1", "with_id": author["sub"], "last_sender_id": viewer["sub"]}
    published = post_image(post_id)
    for table, record in (
        ("interactions", stream_record("INSERT", {"sk": like["sk"]}, new=like)),
        (
            "messages",
            stream_record("INSERT", {"sk": inbox["sk"]}, new={**inbox, "last_message_id": "m1"}),
        ),
        (
            "posts",
            stream_record("MODIFY", {"post_id": post_id}, old={**published, "status": "pending"}, new=published),
        ),
    ):
        result = feed_signals.on_record(routed_event([record], table=table), FakeLambdaContext())
        assert result == {"batchItemFailures": []}, table

    assert AffinityStore().of_viewer(viewer["sub"], utc_now())[author["sub"]] == pytest.approx(1 + 3, rel=1e-3)
    assert [post.post_id for post in RecentPostsStore().of_authors({author["sub"]: 1})[author["sub"]]] == [post_id]


def test_concurrent_affinity_updates_lose_nothing(aws: dict[str, str]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from pinhole.feed.ranking_dal import AffinityStore

    store, now = AffinityStore(), utc_now()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda _: store.add("v", "a", 1.0, now), range(12)))
    assert store.of_viewer("v", now)["a"] == pytest.approx(12.0)


def test_the_first_page_ranks_at_most_the_candidate_limit(fanout: FanOut, monkeypatch: pytest.MonkeyPatch) -> None:
    reader, author = sign_up_claims("reader"), sign_up_claims("author")
    follow(reader, author, fanout)
    for _ in range(6):
        share(author, fanout)
    weights = feed_read.logic.get_settings().feed_ranking.model_copy(update={"candidates": 4})
    monkeypatch.setattr(feed_read.logic, "get_settings", lambda: type("S", (), {"feed_ranking": weights})())
    pages, cursor = [], None
    while True:
        page = feed(reader, limit="3", **({"cursor": cursor} if cursor else {}))
        pages += ids(page)
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(pages) == len(set(pages)) == 4


def test_an_explained_first_page_keeps_its_scores_for_later_pages(fanout: FanOut) -> None:
    reader, author = sign_up_claims("reader"), sign_up_claims("author")
    follow(reader, author, fanout)
    for _ in range(3):
        share(author, fanout)

    first = feed(reader, limit="2", explain="true")
    second = feed(reader, limit="2", cursor=first["next_cursor"], explain="true")
    unasked = feed(reader, limit="2", cursor=first["next_cursor"])

    scores = [post["ranking"]["score"] for page in (first, second) for post in page["items"]]
    assert scores == sorted(scores, reverse=True) and len(scores) == 3
    assert [post["ranking"]["parts"]["diversity"] for page in (first, second) for post in page["items"]] == [
        1.0,
        0.625,
        0.4375,
    ]
    assert ids(unasked) == ids(second) and unasked["items"][0]["ranking"] is None  # explained only when asked


def test_explain_on_a_later_page_of_a_ranking_made_without_it_is_refused_naming_explain(fanout: FanOut) -> None:
    # Given a ranked first page read without explain, with more to read
    reader, author = sign_up_claims("reader"), sign_up_claims("author")
    follow(reader, author, fanout)
    for _ in range(3):
        share(author, fanout)
    plain = feed(reader, limit="2")

    # When its next page is asked for with explain=true
    status, body = call("GET", "/feed", reader, limit="2", cursor=plain["next_cursor"], explain="true")

    # Then it is refused, naming explain and what to do, instead of items whose ranking is null
    assert status == 422
    assert body["error"]["code"] == "validation_error" and body["error"]["details"] == [{"field": "explain"}]
    assert "first page again with explain=true" in body["error"]["message"]
    # and the same page without explain still reads
    assert len(ids(feed(reader, limit="2", cursor=plain["next_cursor"]))) == 1


def test_standings_are_what_ranking_needs_of_any_number_of_posts_deleted_ones_absent(fanout: FanOut) -> None:
    # Given three published posts, one liked twice and one deleted, among 150 ids of posts that do not exist
    author, fans = sign_up_claims("author"), [sign_up_claims(f"fan{index}") for index in range(2)]
    liked, plain, deleted = (publish(author) for _ in range(3))
    for fan in fans:
        assert InteractionRepository().like(liked, fan["sub"])
    posts = PostRepository()
    posts.delete(posts.get(deleted))
    unknown = [f"{index:026d}" for index in range(150)]

    # When their standings are read (two BatchGetItems: more than 100 keys)
    standings = posts.standings_of([*unknown[:75], liked, plain, deleted, liked, *unknown[75:]])

    # Then the published ones are there with their author, time, status and counts, as the post reads back
    assert set(standings) == {liked, plain}
    for post_id, likes in ((liked, 2), (plain, 0)):
        record, standing = posts.get(post_id), standings[post_id]
        assert (standing.author_id, standing.created_at, standing.status) == (
            author["sub"],
            record.created_at,
            record.status,
        )
        assert (standing.like_count, standing.comment_count) == (likes, 0)


def test_standings_ask_again_for_the_keys_dynamodb_left_unprocessed(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given posts, and a table that processes only the first key of each BatchGetItem (as DynamoDB may, under load)
    from pinhole.posts.dal import PostModel

    author = sign_up_claims("author")
    post_ids = [publish(author) for _ in range(3)]
    connection = PostModel._get_connection()
    original, requests = connection.batch_get_item, []

    def one_at_a_time(keys: list[Any], **options: Any) -> Any:
        requests.append(len(keys))
        answer = original(keys[:1], **options)
        answer["UnprocessedKeys"] = {PostModel.Meta.table_name: {"Keys": keys[1:]}} if keys[1:] else {}
        return answer

    monkeypatch.setattr(connection, "batch_get_item", one_at_a_time)
    # When their standings are read, Then every post is there, after one request per key left over
    assert set(PostRepository().standings_of(post_ids)) == set(post_ids)
    assert requests == [3, 2, 1]


def _hide_author(reader: Claims, author: Claims, how: str) -> None:
    """The reader no longer sees the author's posts, whose feed entries stay: a mute, or the account gone."""
    from pinhole.users.dal import ProfileRepository, UserModel

    if how == "muted":
        assert GraphRepository().mute(reader["sub"], author["sub"])
    elif how == "deactivated":
        UserModel.get(author["sub"]).update(actions=[UserModel.deactivated_at.set(utc_now())])
    else:
        assert ProfileRepository().set_suspended(author["sub"], True)


@pytest.mark.parametrize("how", ["muted", "deactivated", "suspended"])
def test_chronological_pages_read_past_entries_of_hidden_authors_instead_of_coming_back_empty(
    fanout: FanOut, how: str
) -> None:
    # Given a reader following two authors; the one they can no longer see posted 21 times after the other
    reader, hidden, other = (sign_up_claims(name) for name in ("reader", "hidden", "other"))
    follow(reader, hidden, fanout)
    follow(reader, other, fanout)
    kept = share(other, fanout)
    for _ in range(21):
        share(hidden, fanout)
    _hide_author(reader, hidden, how)

    # When the reader reads the chronological feed, at the default limit and 5 at a time
    whole = feed(reader, order="chronological")
    pages, cursor = [], None
    while True:
        page = feed(reader, order="chronological", limit="5", **({"cursor": cursor} if cursor else {}))
        pages.append(ids(page))
        cursor = page["next_cursor"]
        if not cursor:
            break
        assert len(pages) < 5, pages

    # Then the first page holds the post they can see and says the feed ends there
    assert whole == {"items": whole["items"], "next_cursor": None, "caught_up": False}
    assert ids(whole) == [kept] and whole["items"][0]["author"]["user_id"] == other["sub"]
    assert pages == [[kept]]


def test_a_chronological_page_is_short_only_when_hidden_entries_fill_its_bound(fanout: FanOut) -> None:
    # Given a reader whose feed holds, newest first, 12 posts of a muted author, then 3 of a friend
    reader, muted, friend = (sign_up_claims(name) for name in ("reader", "muted", "friend"))
    follow(reader, muted, fanout)
    follow(reader, friend, fanout)
    friends = [share(friend, fanout) for _ in range(3)]
    for _ in range(12):
        share(muted, fanout)
    assert GraphRepository().mute(reader["sub"], muted["sub"])

    # When it is read a post at a time: each page reads at most 5 × (1 + 1) = 10 entries
    first = feed(reader, order="chronological", limit="1")
    second = feed(reader, order="chronological", limit="1", cursor=first["next_cursor"])
    third = feed(reader, order="chronological", limit="1", cursor=second["next_cursor"])

    # Then the first page stops at its bound, short but with a cursor; the next goes on where it stopped
    assert first["items"] == [] and first["next_cursor"] is not None
    assert ids(second) == [friends[2]] and second["next_cursor"] is not None
    assert ids(third) == [friends[1]]


@pytest.mark.parametrize("how", ["muted", "deactivated", "suspended"])
def test_a_ranked_feed_is_caught_up_when_the_only_unseen_posts_are_of_authors_it_cannot_show(
    fanout: FanOut, how: str
) -> None:
    # Given a reader who saw every post of two friends; then one of them posts, and can no longer be seen
    reader, friend, hidden = (sign_up_claims(name) for name in ("reader", "friend", "hidden"))
    follow(reader, friend, fanout)
    follow(reader, hidden, fanout)
    old = [share(friend, fanout), share(hidden, fanout), share(friend, fanout)]
    seen(reader, old)
    assert feed(reader)["caught_up"] is True
    unseen = share(hidden, fanout)
    _hide_author(reader, hidden, how)

    # When the reader reads the ranked feed, whole and a post at a time
    whole = feed(reader, limit="50", explain="true")
    first = feed(reader, limit="1")
    second = feed(reader, limit="1", cursor=first["next_cursor"])

    # Then every item is one seen before, the hidden author's new post is not one, and the feed is caught up
    assert set(ids(whole)) == {old[0], old[2]} and unseen not in ids(whole)
    assert all(item["ranking"]["parts"]["seen"] for item in whole["items"])
    assert whole["caught_up"] is True and whole["next_cursor"] is None
    assert [first["caught_up"], second["caught_up"]] == [True, True]
    assert set(ids(first) + ids(second)) == {old[0], old[2]} and second["next_cursor"] is None
