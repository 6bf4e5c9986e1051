"""Stream records → notification intents, and their way onto the FIFO queue, without any AWS."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamRecordModel
from pydantic import ValidationError

from functions.notifications import consumers
from pinhole.notifications.activity import MAX_MENTIONS, intents_of
from pinhole.notifications.delivery import relay
from pinhole.notifications.intent_queue import IntentQueue, IntentsNotQueued
from pinhole.notifications.models import IntentAction, NotificationIntent, NotificationType
from pinhole.notifications.queue_records import IntentMessage
from tests.support.events import FakeLambdaContext, load_event
from tests.support.streams import routed_event, stream_record

POST, ALICE, BOB, COMMENT = "01JPOST0000000000000000000", "alice-sub", "bob-sub", "01JCOMMENT0000000000000000"
AT = "2026-11-22T10:00:00.123Z"


def parsed(record: dict[str, Any]) -> DynamoDBStreamRecordModel:
    return DynamoDBStreamRecordModel.model_validate(record)


def like_item() -> dict[str, Any]:
    return {"pk": f"post#{POST}", "sk": f"like#{BOB}", "user_id": BOB, "post_id": POST, "created_at": AT}


def comment_item(text: str) -> dict[str, Any]:
    return {
        "pk": f"post#{POST}",
        "sk": f"comment#{COMMENT}",
        "comment_id": COMMENT,
        "post_id": POST,
        "author_id": BOB,
        "text": text,
        "created_at": AT,
    }


def edge_item(kind: str, source_id: str, target_id: str) -> dict[str, Any]:
    return {
        "pk": f"user#{source_id}",
        "sk": f"{kind}{target_id}",
        "gsi1pk": f"followers#{target_id}",
        "gsi1sk": "01JEDGE00000000000000000000",
        "source_id": source_id,
        "target_id": target_id,
        "created_at": AT,
    }


def post_item(status: str, mentions: list[str], like_count: int = 0) -> dict[str, Any]:
    return {
        "post_id": POST,
        "author_id": ALICE,
        "caption": " ".join(f"@{name}" for name in mentions),
        "mentions": mentions,
        "tags": [],
        "status": status,
        "like_count": like_count,
        "media": {"m1": {"media_id": "m1", "status": "ready"}},
        "media_order": ["m1"],
        "created_at": "2026-11-22T09:59:00.000000+0000",
    }


def keys_of(item: dict[str, Any]) -> dict[str, Any]:
    """The item's key in its table: pk and sk on interactions and graph, post_id on posts."""
    return {"pk": item["pk"], "sk": item["sk"]} if "pk" in item else {"post_id": item["post_id"]}


def insert(item: dict[str, Any]) -> DynamoDBStreamRecordModel:
    return parsed(stream_record("INSERT", keys_of(item), new=item))


def remove(item: dict[str, Any]) -> DynamoDBStreamRecordModel:
    return parsed(stream_record("REMOVE", keys_of(item), old=item))


def modify(old: dict[str, Any], new: dict[str, Any], at: datetime | None = None) -> DynamoDBStreamRecordModel:
    return parsed(stream_record("MODIFY", keys_of(new), old=old, new=new, at=at))


# Likes, comments and mentions in them


def test_like_creates_an_intent_for_the_posts_author_and_unlike_takes_it_back() -> None:
    created, retracted = intents_of(insert(like_item())), intents_of(remove(like_item()))

    source = f"post#{POST}/like#{BOB}"
    assert created == [
        NotificationIntent(
            action=IntentAction.CREATE,
            type=NotificationType.LIKE,
            source=source,
            actor_id=BOB,
            post_id=POST,
            created_at=AT,
        )
    ]
    assert [(i.action, i.type, i.source, i.actor_id, i.recipient_id) for i in retracted] == [
        (IntentAction.RETRACT, NotificationType.LIKE, source, BOB, None)
    ]


def test_comment_notifies_the_author_and_each_mentioned_user_once() -> None:
    intents = intents_of(insert(comment_item("@Carol look! cc @dave and @carol, mail me at x@example.com")))

    assert [(i.type, i.mentioned) for i in intents] == [
        (NotificationType.COMMENT, None),
        (NotificationType.MENTION, "carol"),
        (NotificationType.MENTION, "dave"),
    ]
    assert {(i.action, i.source, i.actor_id, i.post_id, i.comment_id) for i in intents} == {
        (IntentAction.CREATE, f"post#{POST}/comment#{COMMENT}", BOB, POST, COMMENT)
    }


def test_deleted_comment_takes_back_its_comment_and_mention_notifications() -> None:
    intents = intents_of(remove(comment_item("hi @carol")))

    assert [(i.action, i.type, i.mentioned) for i in intents] == [
        (IntentAction.RETRACT, NotificationType.COMMENT, None),
        (IntentAction.RETRACT, NotificationType.MENTION, "carol"),
    ]


def test_mentions_of_one_text_are_capped() -> None:
    names = [f"user{n:03d}" for n in range(MAX_MENTIONS + 5)]

    intents = intents_of(insert(comment_item(" ".join(f"@{name}" for name in names))))

    assert [i.mentioned for i in intents if i.type == NotificationType.MENTION] == names[:MAX_MENTIONS]


# Follows and requests


@pytest.mark.parametrize(
    ("kind", "expected"), [("follows#", NotificationType.FOLLOW), ("requested#", NotificationType.FOLLOW_REQUEST)]
)
def test_follow_and_request_notify_their_target_until_undone(kind: str, expected: NotificationType) -> None:
    edge = edge_item(kind, BOB, ALICE)

    created, retracted = intents_of(insert(edge)), intents_of(remove(edge))

    assert [(i.action, i.type, i.actor_id, i.recipient_id, i.source) for i in created + retracted] == [
        (IntentAction.CREATE, expected, BOB, ALICE, f"user#{BOB}/{kind}{ALICE}"),
        (IntentAction.RETRACT, expected, BOB, ALICE, f"user#{BOB}/{kind}{ALICE}"),
    ]


# Posts


def test_publishing_a_post_notifies_its_caption_mentions_at_the_time_of_publication() -> None:
    at = datetime(2026, 11, 22, 10, 0, 5, tzinfo=UTC)  # the stream's time: whole seconds
    published = {**post_item("published", ["carol", "dave"]), "published_at": "2026-11-22T10:00:05.678000+0000"}

    intents = intents_of(modify(post_item("pending", ["carol", "dave"]), published, at))

    assert [(i.action, i.type, i.mentioned, i.actor_id, i.post_id, i.source) for i in intents] == [
        (IntentAction.CREATE, NotificationType.MENTION, "carol", ALICE, POST, f"post#{POST}"),
        (IntentAction.CREATE, NotificationType.MENTION, "dave", ALICE, POST, f"post#{POST}"),
    ]
    assert {i.created_at for i in intents} == {"2026-11-22T10:00:05.678Z"}  # the post's own, to the millisecond
    # A post published before posts kept their moment is dated by the stream
    older = intents_of(modify(post_item("pending", ["carol"]), post_item("published", ["carol"]), at))
    assert {i.created_at for i in older} == {"2026-11-22T10:00:05.000Z"}


def test_editing_a_caption_notifies_the_mentions_it_adds_at_the_time_of_the_edit() -> None:
    # Given a published post mentioning carol, whose caption is edited at 09:33:36.942 to mention dave too
    at = datetime(2026, 11, 22, 9, 33, 36, tzinfo=UTC)  # the stream's time: whole seconds
    before = {**post_item("published", ["carol"]), "edited_at": "2026-11-22T09:30:00.000000+0000"}
    after = {**post_item("published", ["carol", "dave"]), "edited_at": "2026-11-22T09:33:36.942000+0000"}

    # When the edit comes off the stream
    intents = intents_of(modify(before, after, at))

    # Then only dave is told, as of the edit itself, to the millisecond (not the second before it)
    assert [(i.action, i.type, i.mentioned, i.actor_id, i.post_id, i.source) for i in intents] == [
        (IntentAction.CREATE, NotificationType.MENTION, "dave", ALICE, POST, f"post#{POST}"),
    ]
    assert [i.created_at for i in intents] == ["2026-11-22T09:33:36.942Z"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (post_item("published", ["carol"]), post_item("published", ["carol"], like_count=1)),  # a like counted
        (post_item("pending", ["carol"]), post_item("pending", ["carol"])),  # one media item processed
        (post_item("pending", ["carol"]), post_item("failed", ["carol"])),
    ],
)
def test_other_post_changes_notify_nobody(old: dict[str, Any], new: dict[str, Any]) -> None:
    assert intents_of(modify(old, new)) == []


def test_a_removed_comment_takes_back_its_notifications_and_a_restore_makes_them_again_as_of_the_restore() -> None:
    # Given a comment mentioning carol, removed by a moderator at 10:05, restored at 10:09
    shown = comment_item("nice @carol")
    removed = {**shown, "removed": True}
    at_removal, at_restore = (datetime(2026, 11, 22, 10, minute, tzinfo=UTC) for minute in (5, 9))

    # When the two changes come off the stream
    taken_back = intents_of(modify(shown, removed, at_removal))
    made_again = intents_of(modify(removed, shown, at_restore))

    # Then the post's author's and carol's notifications are taken back, then made again, each as of its moment
    expected = [(NotificationType.COMMENT, None), (NotificationType.MENTION, "carol")]
    assert [(i.action, i.type, i.mentioned) for i in taken_back] == [(IntentAction.RETRACT, *e) for e in expected]
    assert [(i.action, i.type, i.mentioned) for i in made_again] == [(IntentAction.CREATE, *e) for e in expected]
    assert {i.created_at for i in taken_back} == {"2026-11-22T10:05:00.000Z"}
    assert {i.created_at for i in made_again} == {"2026-11-22T10:09:00.000Z"}
    assert {i.source for i in taken_back + made_again} == {f"post#{POST}/comment#{COMMENT}"}
    assert all(i.moderated for i in taken_back + made_again)  # a closed group's history is left as it is
    # And a removal within the second the comment was made is not dated before it (stream times are whole seconds)
    same_second = intents_of(modify(shown, removed, datetime(2026, 11, 22, 10, 0, tzinfo=UTC)))
    assert {i.created_at for i in same_second} == {AT}
    # And another change of a comment notifies nobody
    assert intents_of(modify(shown, {**shown, "like_count": 1})) == []


def test_a_removed_post_takes_back_its_caption_mentions_until_restored() -> None:
    at = datetime(2026, 11, 22, 10, 7, tzinfo=UTC)
    published, removed = post_item("published", ["carol"]), post_item("removed", ["carol"])

    taken_back, made_again = intents_of(modify(published, removed, at)), intents_of(modify(removed, published, at))

    assert [(i.action, i.type, i.mentioned, i.source) for i in taken_back + made_again] == [
        (IntentAction.RETRACT, NotificationType.MENTION, "carol", f"post#{POST}"),
        (IntentAction.CREATE, NotificationType.MENTION, "carol", f"post#{POST}"),
    ]
    assert all(i.moderated for i in taken_back + made_again)


def test_a_new_or_deleted_post_notifies_nobody() -> None:
    post = post_item("published", ["carol"])

    assert intents_of(insert(post)) == [] and intents_of(remove(post)) == []


@pytest.mark.parametrize(
    "item",
    [
        {"pk": f"user#{BOB}", "sk": f"saved#saved#{POST}", "post_id": POST, "collection": "saved"},
        {"pk": f"user#{BOB}", "sk": "collection#saved", "post_count": 1},
        edge_item("blocks#", BOB, ALICE),
    ],
    ids=["saved", "collection", "block"],
)
def test_other_items_notify_nobody(item: dict[str, Any]) -> None:
    assert intents_of(insert(item)) == [] and intents_of(remove(item)) == []


# Onto the queue


class FakeSqs:
    """Records SendMessageBatch calls; refuses every entry of the calls numbered in `refuse`."""

    def __init__(self, refuse: tuple[int, ...] = ()) -> None:
        self.calls: list[list[dict[str, str]]] = []
        self.refuse = refuse

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        self.calls.append(Entries)
        if len(self.calls) - 1 in self.refuse:
            return {"Successful": [], "Failed": [{"Id": e["Id"], "Code": "InternalError"} for e in Entries]}
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}


def test_intents_go_out_in_batches_of_ten_grouped_by_source_and_deduplicated_by_record() -> None:
    sqs = FakeSqs()
    names = [f"user{n:03d}" for n in range(MAX_MENTIONS)]
    intents = intents_of(insert(comment_item(" ".join(f"@{name}" for name in names))))

    IntentQueue(sqs=sqs, queue_url="https://queue").send(intents, "event-1")

    assert [len(call) for call in sqs.calls] == [10, 10, 1]
    entries = [entry for call in sqs.calls for entry in call]
    assert {entry["MessageGroupId"] for entry in entries} == {f"post#{POST}/comment#{COMMENT}"}
    assert [entry["MessageDeduplicationId"] for entry in entries] == [f"event-1:{n}" for n in range(21)]
    assert [NotificationIntent.model_validate_json(entry["MessageBody"]) for entry in entries] == intents


def test_a_refused_send_fails_the_record() -> None:
    with pytest.raises(IntentsNotQueued):
        IntentQueue(sqs=FakeSqs(refuse=(0,)), queue_url="https://queue").send(intents_of(insert(like_item())), "e")


def test_a_failed_record_holds_back_the_later_records_of_its_item_and_no_other(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a like, its undoing and someone else's like, in one batch of the routed queue, where queueing the
    # first like fails
    sqs = FakeSqs(refuse=(0,))
    monkeypatch.setattr(consumers, "intent_queue", IntentQueue(sqs=sqs, queue_url="https://queue"))
    other = {**like_item(), "sk": f"like#{ALICE}", "user_id": ALICE}
    event = routed_event(
        [
            stream_record("INSERT", keys_of(like_item()), new=like_item(), event_id="like"),
            stream_record("REMOVE", keys_of(like_item()), old=like_item(), event_id="unlike"),
            stream_record("INSERT", keys_of(other), new=other, event_id="other"),
        ],
        "interactions",
    )

    # When on_activity gets the batch
    response = consumers.on_activity(event, FakeLambdaContext())

    # Then the like and its undoing come back together (the unlike cannot overtake the like it undoes), and
    # the other like, another item, was queued
    like, unlike, _ = (record["messageId"] for record in event["Records"])
    assert response == {"batchItemFailures": [{"itemIdentifier": like}, {"itemIdentifier": unlike}]}
    assert [[entry["MessageGroupId"] for entry in call] for call in sqs.calls] == [
        [f"post#{POST}/like#{BOB}"],
        [f"post#{POST}/like#{ALICE}"],
    ]


def test_records_that_mean_nothing_send_nothing() -> None:
    sqs = FakeSqs()

    sent = relay(
        modify(post_item("published", []), post_item("published", [], like_count=3)),
        IntentQueue(sqs=sqs, queue_url="https://queue"),
    )

    assert (sent, sqs.calls) == (0, [])


# Off the queue


def sqs_record(body: str) -> dict[str, Any]:
    record = dict(load_event("sqsEvent.json")["Records"][0])
    record["body"] = body
    record["attributes"] = {**record["attributes"], "MessageGroupId": "g", "MessageDeduplicationId": "d"}
    return record


def test_a_queued_intent_parses_back() -> None:
    intent = intents_of(insert(like_item()))[0]

    message = IntentMessage.model_validate(sqs_record(intent.model_dump_json(exclude_none=True)))

    assert message.body == intent


@pytest.mark.parametrize("body", ["Test message.", json.dumps({"action": "create"}), json.dumps({"type": "poke"})])
def test_a_malformed_message_does_not_parse(body: str) -> None:
    with pytest.raises(ValidationError):
        IntentMessage.model_validate(sqs_record(body))
