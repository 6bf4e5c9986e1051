"""Faults in the feed fan-out, through the real retry machinery: the tables' stream routers (the local
cloud's stream pump with the template's mapping) send each record to `feed_fanout`'s routed FIFO queues,
whose SQS pumps (the template's batch sizes, partial batch responses, redrive) run its real handlers on moto,
while botocore calls crash, are throttled, lose their answers, or are delivered twice or out of order.
Whatever happens, once the pumps settle every follower's feed holds each post exactly once, deleted and
unfollowed ones not at all, and a record that can never succeed waits in the dead-letter queue, as it came
from the stream, ready to be replayed."""

import json
from collections import Counter
from typing import Any

import boto3
import pytest

from functions.feed_fanout import handler as feed_fanout
from functions.feed_read import handler as feed_read
from pinhole.feed import fanout as fanout_module
from pinhole.feed.dal import ENTRY, FeedModel
from pinhole.graph.dal import GraphRepository
from pinhole.posts.dal import PostRepository
from pinhole.shared.settings import get_settings
from tests.support.event_sources import (
    EventSources,
    InProcessFunction,
    InProcessRunner,
    QueueConsumer,
    RoutedQueues,
    create_queue,
    drain_queue,
    queue_mapping,
    route_streams,
)
from tests.support.events import FakeLambdaContext, http_event, response_json
from tests.support.faults import CRASH, THROTTLED, THROTTLING, UNPROCESSED, Fault, FaultInjector, injected_faults
from tests.support.graph import seed_followers
from tests.support.posts import publish
from tests.support.users import sign_up_claims

CHUNKED_AFTER = 10
"""Fan-outs above this many followers go out as SQS chunks of this many (1000 deployed): the chunk path
is exercised with a few dozen followers."""


class FanOutWorld:
    def __init__(self, sources: EventSources, routed: RoutedQueues, dead_letters: str) -> None:
        self.sources, self.routed, self.dead_letters = sources, routed, dead_letters

    def given_up(self) -> list[dict[str, Any]]:
        """Everything given up on: routed records, chunks, and batches the routers could not route."""
        queues = [*self.routed.dead_letters.values(), *self.routed.on_failure.values(), self.dead_letters]
        return [message for url in queues for message in drain_queue(url)]


@pytest.fixture
def world(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> FanOutWorld:
    monkeypatch.setattr(fanout_module, "INLINE_FOLLOWERS", CHUNKED_AFTER)
    monkeypatch.setattr(fanout_module, "CHUNK_FOLLOWERS", CHUNKED_AFTER)
    # A follow's second backfill runs in the same settle as the follow, not in the middle of a later fault
    monkeypatch.setattr(fanout_module, "BACKFILL_AGAIN_AFTER_S", 0)
    settings = get_settings()
    runner = InProcessRunner()
    sources = EventSources(runner)
    routed = route_streams(
        sources,
        {
            "FeedFanout/PostsStream": feed_fanout.on_post_change,
            "FeedFanout/GraphStream": feed_fanout.on_follow_change,
            "FeedFanout/UsersStream": feed_fanout.on_user_change,
        },
        {"Posts": settings.posts_table_name, "Graph": settings.graph_table_name, "Users": settings.users_table_name},
    )
    chunks = queue_mapping("FeedFanout/Deliver", "FanoutQueue")
    queue_url, dead_letters = create_queue(
        settings.fanout_queue_url.rsplit("/", 1)[1], dead_letters_after=chunks.max_receive_count
    )
    assert queue_url == settings.fanout_queue_url and dead_letters is not None
    deliver = InProcessFunction("FeedFanoutDeliver", feed_fanout.deliver)
    sources.queues.append(QueueConsumer(deliver, runner, queue_url, chunks))
    return FanOutWorld(sources, routed, dead_letters)


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> Any:
    with injected_faults(monkeypatch) as injector:
        yield injector


def mentioning(*texts: str) -> Any:
    """A call whose parameters name all of `texts` (a post id, a follower id...)."""
    return lambda params: all(text in json.dumps(params, default=str) for text in texts)


def sending(queue_url: str, *texts: str) -> Any:
    """A SendMessageBatch to that queue whose messages name all of `texts`."""
    return lambda params: params["QueueUrl"] == queue_url and mentioning(*texts)(params)


def feed_ids(claims: dict[str, str]) -> list[str]:
    event = http_event("GET", "/feed", claims=claims)
    event["queryStringParameters"] = {"limit": "50"}
    response = feed_read.handler(event, FakeLambdaContext())
    assert response["statusCode"] == 200, response
    return [post["post_id"] for post in response_json(response)["items"]]


def stored_post_entries() -> Counter[tuple[str, str]]:
    """(feed owner, post) for every pushed post entry in the feeds table."""
    return Counter(
        (item.user_id, item.sk.removeprefix(ENTRY))
        for item in FeedModel.scan(FeedModel.sk.startswith(ENTRY), consistent_read=True)
    )


def test_crashes_throttles_and_redeliveries_leave_each_post_once_in_every_feed(
    world: FanOutWorld, faults: FaultInjector
) -> None:
    # Given a small author with three followers and a larger one whose fan-out goes out in chunks
    small, large = sign_up_claims("small"), sign_up_claims("large")
    readers = [sign_up_claims(name) for name in ("reader1", "reader2", "reader3")]
    graph = GraphRepository()
    for reader in readers:
        graph.follow(reader["sub"], small["sub"])
        graph.follow(reader["sub"], large["sub"])
    crowd = [f"crowd-{index:03d}" for index in range(3 * CHUNKED_AFTER + 5)]
    seed_followers(large["sub"], crowd)
    world.sources.settle()

    # When both publish while writes crash, are throttled, half-processed, or applied with the answer lost
    small_posts = [publish(small) for _ in range(3)]
    large_posts = [publish(large) for _ in range(2)]
    deleted = publish(small)
    faults.add(Fault("dynamodb", "BatchWriteItem", CRASH, when=mentioning(small_posts[1])))
    faults.add(Fault("dynamodb", "BatchWriteItem", THROTTLED, when=mentioning(small_posts[2]), times=2))
    faults.add(Fault("dynamodb", "BatchWriteItem", UNPROCESSED, when=mentioning(small_posts[0]), times=3))
    faults.add(Fault("dynamodb", "Query", THROTTLING, when=mentioning(f"followers#{large['sub']}"), times=1))
    chunks_url = get_settings().fanout_queue_url
    faults.add(Fault("sqs", "SendMessageBatch", "ServiceUnavailable", when=sending(chunks_url, large_posts[0])))
    faults.add(Fault("sqs", "SendMessageBatch", THROTTLING, when=sending(chunks_url, large_posts[1]), answer_lost=True))
    # and the posts router's sends are refused, and accepted with the answer lost (sent again, deduplicated)
    routed_posts = world.routed.queue_urls["FeedFanout/PostsStream"]
    faults.add(Fault("sqs", "SendMessageBatch", "ServiceUnavailable", when=sending(routed_posts, small_posts[1])))
    faults.add(
        Fault("sqs", "SendMessageBatch", THROTTLING, when=sending(routed_posts, small_posts[2]), answer_lost=True)
    )
    faults.add(Fault("dynamodb", "BatchWriteItem", CRASH, when=mentioning(large_posts[1], crowd[-1]), times=2))
    # and a post is deleted, its retraction crashing once, before the fan-out of its publication ran
    PostRepository().delete(PostRepository().get(deleted))
    faults.add(Fault("dynamodb", "BatchWriteItem", CRASH, when=mentioning(deleted, "DeleteRequest")))
    world.sources.settle()
    # and then every stream record is delivered all over again (a replay from the trim horizon, long after)
    world.sources.replay_streams(world.routed.sender)
    world.sources.settle()

    # Then every follower holds each post of the authors they follow exactly once, the deleted one nowhere
    entries = stored_post_entries()
    expected = Counter(
        [(reader["sub"], post) for reader in readers for post in small_posts + large_posts]
        + [(follower, post) for follower in crowd for post in large_posts]
        + [(small["sub"], post) for post in small_posts]
        + [(large["sub"], post) for post in large_posts]
    )
    assert entries == expected
    for reader in readers:
        assert feed_ids(reader) == sorted(small_posts + large_posts, reverse=True)
    # and nothing was given up on
    assert world.given_up() == []
    assert faults.injected == 1 + 2 + 3 + 1 + 1 + 1 + 1 + 1 + 2 + 1
    print(
        "\nfan-out faults:",
        json.dumps(
            {
                "records_delivered": dict(world.sources.runner.records),
                "invocations": dict(world.sources.runner.invocations),
                "faults_injected": faults.injected,
                "feed_entries": sum(entries.values()),
            }
        ),
    )


def test_unfollow_and_delete_overtaking_their_fan_out_leave_nothing_behind(
    world: FanOutWorld, faults: FaultInjector
) -> None:
    # Given bob follows alice and alice publishes, then bob unfollows and alice deletes, all before
    # the fan-out runs (the posts stream is consumed before the graph stream: each sees the other's end)
    alice, bob, carol = sign_up_claims("alice"), sign_up_claims("bob"), sign_up_claims("carol")
    graph, posts = GraphRepository(), PostRepository()
    graph.follow(carol["sub"], alice["sub"])
    world.sources.settle()
    graph.follow(bob["sub"], alice["sub"])
    kept, gone = publish(alice), publish(alice)
    graph.unfollow(bob["sub"], alice["sub"])
    posts.delete(posts.get(gone))

    # When the backfill of bob's follow is throttled once and the retraction crashes once
    faults.add(Fault("dynamodb", "Query", THROTTLED, when=mentioning(alice["sub"]), times=1))
    faults.add(Fault("dynamodb", "BatchWriteItem", CRASH, when=mentioning(gone, "DeleteRequest")))
    world.sources.settle()

    # Then bob's feed holds nothing of alice's, carol's holds the kept post once
    entries = stored_post_entries()
    assert [key for key in entries if key[0] == bob["sub"]] == []
    assert entries[(carol["sub"], kept)] == 1 and (carol["sub"], gone) not in entries
    assert feed_ids(bob) == [] and feed_ids(carol) == [kept]
    assert faults.injected == 2


def test_a_post_whose_fan_out_always_fails_waits_in_the_dead_letter_queue_and_the_rest_proceed(
    world: FanOutWorld, faults: FaultInjector
) -> None:
    # Given three posts published together, the middle one's fan-out always crashing
    alice, bob = sign_up_claims("alice"), sign_up_claims("bob")
    GraphRepository().follow(bob["sub"], alice["sub"])
    world.sources.settle()
    before, poison, after = publish(alice), publish(alice), publish(alice)
    always = faults.add(Fault("dynamodb", "BatchWriteItem", CRASH, when=mentioning(poison), times=None))

    # When the queue gives up on it
    world.sources.settle()

    # Then the posts around it reached bob's feed, and it was tried maxReceiveCount times
    max_receives = queue_mapping("FeedFanout/PostsStream").max_receive_count
    assert always.injected == max_receives
    assert feed_ids(bob) == [after, before]
    # and its dead-letter queue holds the stream record itself, nothing else
    [dead] = drain_queue(world.routed.dead_letters["FeedFanout/PostsStream"])
    record = json.loads(dead["Body"])
    assert (record["eventName"], record["dynamodb"]["Keys"]) == ("MODIFY", {"post_id": {"S": poison}})
    assert world.given_up() == []

    # When an operator sends it back once the fault is gone
    faults.clear()
    boto3.client("sqs").send_message(
        QueueUrl=world.routed.queue_urls["FeedFanout/PostsStream"],
        MessageBody=dead["Body"],
        MessageGroupId=dead["Attributes"]["MessageGroupId"],
        MessageDeduplicationId=f"{record['eventID']}:replayed",
    )
    world.sources.settle()

    # Then every post is in bob's feed exactly once
    assert feed_ids(bob) == [after, poison, before]
    assert stored_post_entries()[(bob["sub"], poison)] == 1
    print("\nfan-out poison:", json.dumps({"attempts": max_receives}))


def test_a_chunk_that_always_fails_lands_in_the_dead_letter_queue_and_the_other_chunks_are_delivered(
    world: FanOutWorld, faults: FaultInjector
) -> None:
    # Given a fan-out of four chunks, one of which can never be written
    author = sign_up_claims("author")
    crowd = [f"crowd-{index:03d}" for index in range(3 * CHUNKED_AFTER + 5)]
    seed_followers(author["sub"], crowd)
    world.sources.settle()
    post_id = publish(author)
    poisoned_follower = crowd[0]
    always = faults.add(
        Fault("dynamodb", "BatchWriteItem", CRASH, when=mentioning(post_id, poisoned_follower), times=None)
    )

    # When the chunks are delivered until the queue gives up
    world.sources.settle()

    # Then the queue's redrive moved exactly that chunk to the dead-letter queue after maxReceiveCount
    max_receives = queue_mapping("FeedFanout/Deliver", "FanoutQueue").max_receive_count
    assert always.injected == max_receives
    [dead] = drain_queue(world.dead_letters)
    chunk = json.loads(dead["Body"])
    assert (chunk["op"], chunk["post_id"], poisoned_follower in chunk["followers"]) == ("push", post_id, True)
    # and every follower outside it has the post exactly once
    entries = stored_post_entries()
    delivered = {follower for follower in crowd if (follower, post_id) in entries}
    assert delivered == set(crowd) - set(chunk["followers"])
    assert all(entries[(follower, post_id)] == 1 for follower in delivered)

    # When the dead letter is replayed once the fault is gone
    faults.clear()
    boto3.client("sqs").send_message(QueueUrl=get_settings().fanout_queue_url, MessageBody=dead["Body"])
    world.sources.settle()

    # Then everyone has it, once
    entries = stored_post_entries()
    assert all(entries[(follower, post_id)] == 1 for follower in crowd)
    print("\nfan-out dead letters:", json.dumps({"receives": max_receives, "dead_lettered_chunks": 1}))
