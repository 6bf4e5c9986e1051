"""The hybrid feed on moto: the fan-out use cases driven directly (as the stream handlers would), and
GET /feed through its handler."""

import math
from typing import Any

import pytest

from functions.feed_read import handler as feed_read
from pinhole.feed.dal import FeedModel, FeedRepository
from pinhole.feed.fanout import BACKFILL_AGAIN_AFTER_S, INLINE_FOLLOWERS, FanOut
from pinhole.graph.dal import GraphRepository
from pinhole.shared.settings import get_settings
from tests.support.events import FakeLambdaContext, http_event, response_json
from tests.support.feed import CapturingQueue
from tests.support.feed_signals import signal_published
from tests.support.graph import seed_followers
from tests.support.posts import publish
from tests.support.users import sign_up_claims


@pytest.fixture(autouse=True)
def interactions_table(aws: dict[str, str]) -> None:
    from pinhole.social.dal import InteractionModel

    if not InteractionModel.exists():
        InteractionModel.create_table(wait=True)


@pytest.fixture
def fanout(aws: dict[str, str]) -> FanOut:
    return FanOut(sqs=CapturingQueue())


def feed(claims: dict[str, str], **query: str) -> dict[str, Any]:
    event = http_event("GET", "/feed", claims=claims)
    if query:
        event["queryStringParameters"] = query
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    response = feed_read.handler(event, FakeLambdaContext())
    assert response["statusCode"] == 200, response
    return dict(response_json(response))


def feed_ids(claims: dict[str, str], **query: str) -> list[str]:
    return [post["post_id"] for post in feed(claims, **query)["items"]]


def follow(follower: dict[str, str], followee: dict[str, str], fanout: FanOut) -> None:
    assert GraphRepository().follow(follower["sub"], followee["sub"])
    fanout.followed(follower["sub"], followee["sub"])  # what the graph stream triggers


def stored_entries(user: dict[str, str]) -> list[str]:
    return [item.sk for item in FeedModel.query(user["sub"], FeedModel.sk.startswith("post#"))]


def test_post_reaches_followers_and_author_but_not_others(fanout: FanOut) -> None:
    alice, bob, carol = sign_up_claims("alice"), sign_up_claims("bob"), sign_up_claims("carol")
    follow(bob, alice, fanout)

    post_id = publish(alice)
    fanout.post_published(post_id, alice["sub"])

    assert feed_ids(bob) == [post_id]
    assert feed_ids(alice) == [post_id]
    assert feed_ids(carol) == []
    assert feed(bob)["items"][0]["liked_by_me"] is False


def test_redelivered_publication_creates_no_duplicate(fanout: FanOut) -> None:
    alice, bob = sign_up_claims("alice"), sign_up_claims("bob")
    follow(bob, alice, fanout)
    post_id = publish(alice)

    fanout.post_published(post_id, alice["sub"])
    fanout.post_published(post_id, alice["sub"])

    assert stored_entries(bob) == [f"post#{post_id}"]
    assert feed_ids(bob) == [post_id]


def test_follow_backfills_recent_posts_and_unfollow_removes_them(fanout: FanOut) -> None:
    alice, bob = sign_up_claims("alice"), sign_up_claims("bob")
    older = [publish(alice) for _ in range(3)]

    follow(bob, alice, fanout)
    assert feed_ids(bob) == list(reversed(older))

    GraphRepository().unfollow(bob["sub"], alice["sub"])
    assert feed_ids(bob) == []  # read-time filter, before the stream catches up
    fanout.unfollowed(bob["sub"], alice["sub"])
    assert stored_entries(bob) == []


def _deliver_queued(fanout: FanOut) -> None:
    queue = fanout.sqs
    assert isinstance(queue, CapturingQueue)
    for message in queue.messages:
        fanout.deliver(message["op"], message["post_id"], message["author_id"], message["followers"])
    queue.messages.clear()


def test_a_post_both_indexes_missed_around_a_follow_arrives_with_the_second_backfill(fanout: FanOut) -> None:
    # Given a follow whose backfill ran before the author's post was in the author's index, and the
    # post's fan-out before the follow was in the followers index (GSIs lag: both missed it)
    alice, bob = sign_up_claims("alice"), sign_up_claims("bob")
    assert GraphRepository().follow(bob["sub"], alice["sub"])
    fanout.followed(bob["sub"], alice["sub"])
    post_id = publish(alice)
    assert stored_entries(bob) == []

    # When the follow's second backfill, queued with a delay, is delivered
    queue = fanout.sqs
    assert isinstance(queue, CapturingQueue) and queue.delays == [BACKFILL_AGAIN_AFTER_S]
    _deliver_queued(fanout)

    # Then the post is in the follower's feed
    assert stored_entries(bob) == [f"post#{post_id}"]


def test_an_unfollow_before_the_second_backfill_keeps_the_feed_clean(fanout: FanOut) -> None:
    alice, bob = sign_up_claims("alice"), sign_up_claims("bob")
    follow(bob, alice, fanout)
    publish(alice)
    GraphRepository().unfollow(bob["sub"], alice["sub"])
    fanout.unfollowed(bob["sub"], alice["sub"])

    _deliver_queued(fanout)

    assert stored_entries(bob) == []


def test_deleted_post_disappears_at_once_and_is_retracted(fanout: FanOut) -> None:
    from pinhole.posts.dal import PostRepository

    alice, bob = sign_up_claims("alice"), sign_up_claims("bob")
    follow(bob, alice, fanout)
    kept, deleted = publish(alice), publish(alice)
    for post_id in (kept, deleted):
        fanout.post_published(post_id, alice["sub"])

    posts = PostRepository()
    posts.delete(posts.get(deleted))
    assert feed_ids(bob) == [kept]
    fanout.post_deleted(deleted, alice["sub"])
    assert stored_entries(bob) == [f"post#{kept}"]


def test_celebrity_posts_are_pulled_not_pushed(fanout: FanOut) -> None:
    star, fan, friend = sign_up_claims("star"), sign_up_claims("fan"), sign_up_claims("friend")
    FeedRepository().mark_celebrity(star["sub"], 10**6)
    follow(fan, star, fanout)
    follow(fan, friend, fanout)

    starred = publish(star)
    fanout.post_published(starred, star["sub"])
    friendly = publish(friend)
    fanout.post_published(friendly, friend["sub"])

    assert stored_entries(fan) == [f"post#{friendly}"]  # nothing pushed from the celebrity
    signal_published(starred)  # both orders read the celebrity's recent-posts item
    assert feed_ids(fan, order="chronological") == [friendly, starred]
    assert sorted(feed_ids(fan)) == sorted([friendly, starred])


def test_pages_are_stable_while_posts_arrive(fanout: FanOut) -> None:
    star, author, reader = sign_up_claims("star"), sign_up_claims("author"), sign_up_claims("reader")
    FeedRepository().mark_celebrity(star["sub"], 10**6)
    follow(reader, star, fanout)
    follow(reader, author, fanout)
    expected = []
    for index in range(7):
        who = star if index % 3 == 0 else author
        post_id = publish(who)
        fanout.post_published(post_id, who["sub"])
        signal_published(post_id)
        expected.append(post_id)

    first = feed(reader, limit="3", order="chronological")
    for who in (author, star):  # new posts between pages
        post_id = publish(who)
        fanout.post_published(post_id, who["sub"])
        signal_published(post_id)
    second = feed(reader, limit="3", cursor=first["next_cursor"], order="chronological")
    third = feed(reader, limit="3", cursor=second["next_cursor"], order="chronological")

    seen = [post["post_id"] for page in (first, second, third) for post in page["items"]]
    assert seen == list(reversed(expected))
    assert third["next_cursor"] is None


def test_foreign_or_tampered_feed_cursor_is_refused(fanout: FanOut) -> None:
    alice, bob = sign_up_claims("alice"), sign_up_claims("bob")
    for _ in range(3):
        fanout.post_published(publish(alice), alice["sub"])
    cursor = feed(alice, limit="1")["next_cursor"]

    event = http_event("GET", "/feed", claims=bob)
    event["queryStringParameters"] = {"cursor": cursor}
    response = feed_read.handler(event, FakeLambdaContext())

    assert response["statusCode"] == 422


def test_large_fan_out_goes_out_in_chunks_of_25_item_batches(fanout: FanOut) -> None:
    author = sign_up_claims("author")
    followers = [f"follower-{index:05d}" for index in range(INLINE_FOLLOWERS + 250)]
    seed_followers(author["sub"], followers)
    post_id = publish(author)

    fanout.post_published(post_id, author["sub"])
    queue = fanout.sqs
    assert isinstance(queue, CapturingQueue)
    reports = [fanout.deliver(m["op"], m["post_id"], m["author_id"], m["followers"]) for m in queue.messages]

    assert [len(m["followers"]) for m in queue.messages] == [1000, 250]
    assert sum(report.requests for report in reports) == math.ceil(1000 / 25) + math.ceil(250 / 25)
    assert FeedModel.count(followers[-1], FeedModel.sk == f"post#{post_id}") == 1


def test_unprocessed_writes_are_retried_with_backoff() -> None:
    class Throttling:
        def __init__(self) -> None:
            self.calls: list[int] = []

        def batch_write_item(self, RequestItems: dict[str, list[Any]]) -> dict[str, Any]:
            (requests,) = RequestItems.values()
            self.calls.append(len(requests))
            unprocessed = requests[: len(requests) // 2] if len(self.calls) < 3 else []
            return {"UnprocessedItems": {get_settings().feeds_table_name: unprocessed} if unprocessed else {}}

    client, pauses = Throttling(), []
    report = FeedRepository(client=client, sleep=pauses.append).push("p1", "author", [f"u{i}" for i in range(20)])

    assert client.calls == [20, 10, 5]
    assert (report.requests, report.retries) == (3, 2)
    assert len(pauses) == 2


def test_feeds_are_trimmed_to_the_cap(monkeypatch: pytest.MonkeyPatch, aws: dict[str, str]) -> None:
    monkeypatch.setenv("FEED_CAP", "5")
    get_settings.cache_clear()
    fanout = FanOut(sqs=CapturingQueue(), trim_one_in=1)
    alice, bob = sign_up_claims("alice"), sign_up_claims("bob")
    follow(bob, alice, fanout)

    posts = [publish(alice) for _ in range(8)]
    for post_id in posts:
        fanout.post_published(post_id, alice["sub"])

    assert stored_entries(bob) == [f"post#{post_id}" for post_id in posts[-5:]]


def test_crossing_the_threshold_either_way_loses_and_doubles_nothing(
    monkeypatch: pytest.MonkeyPatch, aws: dict[str, str]
) -> None:
    monkeypatch.setenv("CELEBRITY_THRESHOLD", "2")
    get_settings.cache_clear()
    fanout = FanOut(sqs=CapturingQueue())
    star, fan1, fan2 = sign_up_claims("star"), sign_up_claims("fan1"), sign_up_claims("fan2")
    follow(fan1, star, fanout)
    before = publish(star)
    fanout.post_published(before, star["sub"])
    signal_published(before)

    follow(fan2, star, fanout)
    fanout.follower_count_changed(star["sub"], 2)  # the users stream: now a celebrity
    during = publish(star)
    fanout.post_published(during, star["sub"])
    signal_published(during)
    assert stored_entries(fan1) == [f"post#{before}"]  # not pushed any more
    assert feed_ids(fan1) == [during, before] and feed_ids(fan2) == [during, before]

    GraphRepository().unfollow(fan2["sub"], star["sub"])
    fanout.unfollowed(fan2["sub"], star["sub"])
    fanout.follower_count_changed(star["sub"], 1)  # below 90% of the threshold: pushed again
    after = publish(star)
    fanout.post_published(after, star["sub"])
    signal_published(after)

    assert feed_ids(fan1) == [after, during, before]
    assert feed_ids(fan2) == []


class CountedWrites:
    """A DynamoDB client for the feeds that counts every BatchWriteItem request AWS would receive, and its items."""

    def __init__(self) -> None:
        import boto3

        self.requests: list[int] = []
        self.client = boto3.client("dynamodb")
        self.client.meta.events.register("before-parameter-build.dynamodb.BatchWriteItem", self._count)

    def _count(self, params: dict[str, Any], **_: Any) -> None:
        self.requests.append(sum(len(requests) for requests in params["RequestItems"].values()))


def test_fan_out_sends_one_full_batch_per_25_followers_and_a_later_follow_one_more(aws: dict[str, str]) -> None:
    # Given 100 followers whose follows the graph stream has already handled (their backfills found no post)
    writes = CountedWrites()
    fanout = FanOut(feeds=FeedRepository(client=writes.client), sqs=CapturingQueue())
    author = sign_up_claims("author")
    followers = [f"fan-{index:03d}" for index in range(100)]
    seed_followers(author["sub"], followers)
    for follower in followers:
        fanout.followed(follower, author["sub"])
    assert writes.requests == []

    # When the post is published
    post_id = publish(author)
    fanout.post_published(post_id, author["sub"])

    # Then the author's own feed and four full batches: the floor, ⌈100/25⌉ + 1
    assert sorted(writes.requests) == [1, 25, 25, 25, 25]

    # And a follow handled after the publish backfills the post with a request of its own: what the benchmark
    # counted as fan-out waste while its seeded follows were still being handled (docs/BENCHMARKS.md)
    late = "fan-late"
    seed_followers(author["sub"], [late])
    fanout.followed(late, author["sub"])
    assert sorted(writes.requests) == [1, 1, 25, 25, 25, 25]
    assert FeedModel.count(late, FeedModel.sk == f"post#{post_id}") == 1


def test_chronological_pages_read_celebrities_items_and_query_only_an_author_whose_item_ran_out(
    fanout: FanOut, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pinhole.posts.dal import PostRepository

    # Given a celebrity with more posts than their recent-posts item keeps, and a friend who posted earlier
    star, friend, reader = sign_up_claims("star"), sign_up_claims("friend"), sign_up_claims("reader")
    FeedRepository().mark_celebrity(star["sub"], 10**6)
    follow(reader, star, fanout)
    follow(reader, friend, fanout)
    older = []
    for _ in range(2):
        older.append(publish(friend))
        fanout.post_published(older[-1], friend["sub"])
    kept = get_settings().feed_ranking.recent_posts_per_author
    starred = []
    for _ in range(kept + 3):
        starred.append(publish(star))
        signal_published(starred[-1])
    queried: list[str] = []
    published_before = PostRepository.published_before

    def counted(self: PostRepository, author_id: str, before: str | None, limit: int) -> Any:
        queried.append(author_id)
        return published_before(self, author_id, before, limit)

    monkeypatch.setattr(PostRepository, "published_before", counted)

    # When the reader pages through the chronological feed, 5 posts a page
    pages, queries_so_far, cursor = [], [], None
    while True:
        page = feed(reader, limit="5", order="chronological", **({"cursor": cursor} if cursor else {}))
        pages.append([post["post_id"] for post in page["items"]])
        queries_so_far.append(len(queried))
        cursor = page["next_cursor"]
        if not cursor:
            break
        assert len(pages) < 6, pages

    # Then every post shows once, newest first; only the page past the item's oldest post queried the author
    assert [post for found in pages for post in found] == [*reversed(starred), *reversed(older)]
    assert [len(found) for found in pages] == [5, 5, 5]
    assert queries_so_far == [0, 0, 1] and queried == [star["sub"]]
