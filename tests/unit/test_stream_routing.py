"""The stream routers without AWS: which records go to which consumer's queue, in what SendMessageBatch calls,
what happens when SQS refuses some, and records too large for an SQS message."""

import json
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.streams import handler as streams_handler
from pinhole.streams.logic import (
    MAX_GROUP_ID,
    MAX_INLINE_BYTES,
    MAX_MESSAGE_BYTES,
    StreamRouter,
    message_group,
    routed_record,
)
from pinhole.streams.models import (
    OverflowedRecord,
    OverflowLocation,
    Route,
    RoutedRecordMessage,
    RouterConfig,
    StreamRecord,
)
from tests.support.events import FakeLambdaContext
from tests.support.streams import routed_event, stream_record

REMOVED = {"eventName": ["REMOVE"]}
PUBLISHED = {
    "eventName": ["MODIFY"],
    "dynamodb": {"OldImage": {"status": {"S": ["pending"]}}, "NewImage": {"status": {"S": ["published"]}}},
}


class FakeSender:
    """SQS as a router sees it: records every SendMessageBatch call; refuses the entries `refuse` picks."""

    def __init__(self, refuse: Any = lambda queue_url, call, position, entry: False) -> None:
        self.calls: list[tuple[str, list[dict[str, str]]]] = []
        self.refuse = refuse

    def send_batch(self, queue_url: str, entries: Sequence[dict[str, str]]) -> set[str]:
        self.calls.append((queue_url, list(entries)))
        number = len(self.calls) - 1
        return {entry["Id"] for n, entry in enumerate(entries) if self.refuse(queue_url, number, n, entry)}

    def sent(self, queue_url: str) -> list[dict[str, str]]:
        return [entry for url, entries in self.calls if url == queue_url for entry in entries]


class FakeOverflow:
    def __init__(self, fail: bool = False) -> None:
        self.objects: dict[str, bytes] = {}
        self.fail = fail

    def put(self, location: OverflowLocation, body: bytes) -> None:
        if self.fail:
            raise ConnectionError("injected: S3 went away")
        self.objects[location.key] = body

    def read(self, location: OverflowLocation) -> bytes:
        return self.objects[location.key]


def route(name: str, patterns: list[dict[str, Any]], fifo: bool = True) -> Route:
    return Route(consumer=name, queue_url=f"https://queue/{name}", fifo=fifo, patterns=patterns)


def router(*routes: Route, sender: FakeSender | None = None, overflow: FakeOverflow | None = None) -> StreamRouter:
    config = RouterConfig(table="posts", overflow_bucket="overflow", routes=list(routes))
    return StreamRouter(config, sender=sender or FakeSender(), overflow=overflow or FakeOverflow())  # type: ignore[arg-type]


def post(post_id: str, status: str, **extra: Any) -> dict[str, Any]:
    return {"post_id": post_id, "author_id": "alice", "status": status, **extra}


def published(post_id: str, n: int = 0) -> StreamRecord:
    raw = stream_record("MODIFY", {"post_id": post_id}, old=post(post_id, "pending"), new=post(post_id, "published"))
    raw["eventID"] = f"published-{post_id}-{n}"
    raw["dynamodb"]["SequenceNumber"] = str(1000 + n)
    return StreamRecord.model_validate(raw)


def removed(post_id: str, n: int = 0) -> StreamRecord:
    raw = stream_record("REMOVE", {"post_id": post_id}, old=post(post_id, "published"))
    raw["eventID"] = f"removed-{post_id}-{n}"
    raw["dynamodb"]["SequenceNumber"] = str(1000 + n)
    return StreamRecord.model_validate(raw)


def liked(post_id: str, n: int = 0) -> StreamRecord:
    old, new = post(post_id, "published", like_count=1), post(post_id, "published", like_count=2)
    raw = stream_record("MODIFY", {"post_id": post_id}, old=old, new=new)
    raw["eventID"] = f"liked-{post_id}-{n}"
    raw["dynamodb"]["SequenceNumber"] = str(1000 + n)
    return StreamRecord.model_validate(raw)


def test_each_record_goes_to_the_consumers_whose_patterns_it_matches_and_to_no_other() -> None:
    # Given a cleanup that wants deletions and a fan-out that wants publications and deletions
    sender = FakeSender()
    routing = router(route("cleanup", [REMOVED], fifo=False), route("fanout", [PUBLISHED, REMOVED]), sender=sender)

    # When a publication, a like (a counter changing) and a deletion are routed
    deletion = removed("p1", 3)
    assert routing.route([published("p1", 1), liked("p1", 2), deletion]) is None

    # Then each consumer got what it wants, as Lambda delivered it, and the like went nowhere
    bodies = {
        name: [json.loads(e["MessageBody"])["eventID"] for e in sender.sent(f"https://queue/{name}")]
        for name in ("cleanup", "fanout")
    }
    assert bodies == {"cleanup": ["removed-p1-3"], "fanout": ["published-p1-1", "removed-p1-3"]}
    assert json.loads(sender.sent("https://queue/cleanup")[0]["MessageBody"]) == deletion.as_delivered()


def test_a_fifo_message_is_grouped_by_its_item_and_deduplicated_by_its_record() -> None:
    sender = FakeSender()
    router(route("fanout", [PUBLISHED]), route("cleanup", [REMOVED], fifo=False), sender=sender).route(
        [published("p1", 1), removed("p1", 2)]
    )

    [fifo] = sender.sent("https://queue/fanout")
    [standard] = sender.sent("https://queue/cleanup")
    assert (fifo["MessageGroupId"], fifo["MessageDeduplicationId"]) == ("posts/post_id=p1", "published-p1-1")
    assert "MessageGroupId" not in standard and "MessageDeduplicationId" not in standard


def test_a_call_holds_at_most_ten_messages_and_never_two_of_one_item() -> None:
    # Given 25 publications, three of them of one post
    sender = FakeSender()
    records = [published("same", n) for n in range(3)] + [published(f"p{n}", n) for n in range(3, 25)]

    # When they are routed to a FIFO queue
    router(route("fanout", [PUBLISHED]), sender=sender).route(records)

    # Then they went out in order, in calls of at most ten, none with two messages of one item
    calls = [entries for _, entries in sender.calls]
    assert [json.loads(e["MessageBody"])["eventID"] for call in calls for e in call] == [r.eventID for r in records]
    assert all(len(call) <= 10 for call in calls)
    assert all(len({e["MessageGroupId"] for e in call}) == len(call) for call in calls)
    assert [len(call) for call in calls] == [1, 1, 10, 10, 3]


def test_a_call_stays_within_sqs_256_kb() -> None:
    # Given records of ~100 KB each
    sender = FakeSender()
    records = [published(f"p{n}", n) for n in range(5)]
    records = [
        StreamRecord.model_validate(
            record.as_delivered()
            | {
                "dynamodb": record.as_delivered()["dynamodb"]
                | {"NewImage": {"caption": {"S": "x" * 100_000}, "status": {"S": "published"}}}
            }
        )
        for record in records
    ]

    router(route("fanout", [PUBLISHED]), sender=sender).route(records)

    sizes = [sum(len(e["MessageBody"].encode()) for e in entries) for _, entries in sender.calls]
    assert all(size <= MAX_MESSAGE_BYTES for size in sizes) and len(sizes) == 3


def test_a_refused_message_stops_the_batch_there_for_every_queue() -> None:
    # Given SQS refusing the fan-out's message of the second record
    sender = FakeSender(refuse=lambda url, call, position, entry: url.endswith("fanout") and entry["Id"] == "1")
    records = [published(f"p{n}", n) for n in range(4)]

    # When the batch is routed to the fan-out, then to search
    first_unsent = router(route("fanout", [PUBLISHED]), route("search", [PUBLISHED]), sender=sender).route(records)

    # Then the router reports the second record as the first to retry, and search got only what came before it
    assert first_unsent == 1
    assert [e["Id"] for e in sender.sent("https://queue/search")] == ["0"]


def test_the_handler_reports_the_first_unsent_record_and_every_one_after_it(monkeypatch: pytest.MonkeyPatch) -> None:
    sender = FakeSender(refuse=lambda url, call, position, entry: entry["Id"] == "1")
    monkeypatch.setattr(streams_handler, "router", router(route("fanout", [PUBLISHED]), sender=sender))
    records = [published(f"p{n}", n).as_delivered() for n in range(3)]

    response = streams_handler.route({"Records": records}, FakeLambdaContext())

    assert response == {"batchItemFailures": [{"itemIdentifier": "1001"}, {"itemIdentifier": "1002"}]}


@given(
    items=st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=30),
    # (call number, position in the call) of the entries SQS refuses
    refusals=st.sets(
        st.tuples(st.integers(min_value=0, max_value=12), st.integers(min_value=0, max_value=3)), max_size=6
    ),
)
def test_whatever_sqs_refuses_each_item_reaches_the_queue_in_stream_order(
    items: list[str], refusals: set[tuple[int, int]]
) -> None:
    # Given a stream of publications of a few posts, and SQS refusing some entries of some calls (at random)
    records = [published(item, n) for n, item in enumerate(items)]
    sender = FakeSender(refuse=lambda url, call, position, entry: (call, position) in refusals)
    routing = router(route("fanout", [PUBLISHED]), sender=sender)
    queue: list[str] = []  # what the FIFO queue holds (deduplicated by record, as SQS does within five minutes)

    # When Lambda retries from the first unsent record until the whole stream is routed
    start = 0
    for _ in range(100):
        before = len(sender.calls)
        first_unsent = routing.route(records[start:])
        for c in range(before, len(sender.calls)):
            for position, entry in enumerate(sender.calls[c][1]):
                if (c, position) not in refusals and entry["MessageDeduplicationId"] not in queue:
                    queue.append(entry["MessageDeduplicationId"])
        if first_unsent is None:
            break
        start += first_unsent
    else:
        pytest.fail("the stream was never routed")

    # Then every record is in the queue once, and each post's records in the order the stream has them
    assert sorted(queue) == sorted(r.eventID for r in records)
    for item in set(items):
        assert [q for q in queue if f"-{item}-" in q] == [
            r.eventID for r in records if r.dynamodb.Keys["post_id"]["S"] == item
        ]


def test_a_record_too_large_for_sqs_is_sent_by_reference_once_for_all_its_consumers() -> None:
    # Given a publication whose images are larger than an SQS message
    big = published("big", 1).as_delivered()
    big["dynamodb"]["NewImage"]["caption"] = {"S": "x" * MAX_INLINE_BYTES}
    record = StreamRecord.model_validate(big)
    sender, overflow = FakeSender(), FakeOverflow()

    # When it is routed to two consumers
    router(route("fanout", [PUBLISHED]), route("search", [PUBLISHED]), sender=sender, overflow=overflow).route([record])

    # Then it was put in the overflow bucket once, and both messages name it
    assert list(overflow.objects) == ["posts/published-big-1.json"]
    for name in ("fanout", "search"):
        [entry] = sender.sent(f"https://queue/{name}")
        reference = OverflowedRecord.model_validate_json(entry["MessageBody"])
        assert reference.overflow == OverflowLocation(bucket="overflow", key="posts/published-big-1.json")
        assert len(entry["MessageBody"]) < 1000

    # And a consumer reads the record back whole
    event = routed_event([big], "posts")
    event["Records"][0]["body"] = sender.sent("https://queue/fanout")[0]["MessageBody"]
    message = RoutedRecordMessage.model_validate(event["Records"][0])
    restored = routed_record(message, overflow=overflow)  # type: ignore[arg-type]
    assert restored.eventID == "published-big-1" and restored.dynamodb.NewImage["caption"] == "x" * MAX_INLINE_BYTES


def test_a_record_that_cannot_be_put_in_the_overflow_bucket_stops_the_batch_there() -> None:
    big = published("big", 1).as_delivered()
    big["dynamodb"]["NewImage"]["caption"] = {"S": "x" * MAX_INLINE_BYTES}
    sender = FakeSender()
    records = [published("p0", 0), StreamRecord.model_validate(big), published("p2", 2)]

    first_unsent = router(route("fanout", [PUBLISHED]), sender=sender, overflow=FakeOverflow(fail=True)).route(records)

    assert first_unsent == 1
    assert [json.loads(e["MessageBody"])["eventID"] for e in sender.sent("https://queue/fanout")] == ["published-p0-0"]


def test_a_message_group_is_the_item_key_readable_when_sqs_allows_it_else_hashed() -> None:
    assert message_group("graph", {"sk": {"S": "follows#b"}, "pk": {"S": "user#a"}}) == "graph/pk=user#a/sk=follows#b"
    long = message_group("graph", {"pk": {"S": "x" * 200}})
    spaced = message_group("search", {"pk": {"S": "a b"}})
    assert len(long) <= MAX_GROUP_ID and long.startswith("graph/") and " " not in spaced
    assert long == message_group("graph", {"pk": {"S": "x" * 200}})
