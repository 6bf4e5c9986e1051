"""Faults in notifications, through the real retry machinery: the tables' stream routers (the local
cloud's stream pump with the template's mapping) send each record to `on_activity`'s routed FIFO queue, and
SQS pumps feed `on_activity` and the FIFO `deliver` (with the template's batch sizes, partial batch responses
and the queues' redrive), on moto, while botocore calls crash, are throttled, collide, lose their answers, or
are delivered twice. Once the pumps settle, each notification is stored exactly once, what was undone is
gone, nothing is lost, and a record or message that can never succeed waits in its dead-letter queue while
the rest of its batch goes on."""

import json
from typing import Any

import boto3
import pytest

from functions.notifications import consumers
from functions.notifications import handler as notifications
from functions.social import handler as social
from functions.users import handler as users
from pinhole.notifications.models import IntentAction, NotificationIntent, NotificationType
from pinhole.realtime.dal import ConnectionRepository
from pinhole.realtime.push import Pusher
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
from tests.support.faults import CRASH, THROTTLED, THROTTLING, Fault, FaultInjector, injected_faults
from tests.support.posts import publish
from tests.support.realtime import FakeConnectionsApi
from tests.support.users import sign_up_claims

Summary = tuple[str, str, str | None, str | None]


class NotificationWorld:
    def __init__(self, sources: EventSources, routed: RoutedQueues, dead_letters: str) -> None:
        self.sources, self.routed, self.dead_letters = sources, routed, dead_letters

    @property
    def activity_dead_letters(self) -> str:
        return self.routed.dead_letters["Notifications/Activity"]


@pytest.fixture
def api(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> FakeConnectionsApi:
    fake = FakeConnectionsApi()
    monkeypatch.setattr(consumers.notifier, "pusher", Pusher(client=fake))
    return fake


@pytest.fixture
def world(aws: dict[str, str], api: FakeConnectionsApi) -> NotificationWorld:
    settings = get_settings()
    runner = InProcessRunner()
    sources = EventSources(runner)
    routed = route_streams(
        sources,
        {"Notifications/Activity": consumers.on_activity},
        {
            "Interactions": settings.interactions_table_name,
            "Graph": settings.graph_table_name,
            "Posts": settings.posts_table_name,
        },
    )
    intents = queue_mapping("Notifications/Deliver", "NotificationsQueue")
    assert intents.fifo
    queue_url, dead_letters = create_queue(
        settings.notifications_queue_url.rsplit("/", 1)[1], fifo=True, dead_letters_after=intents.max_receive_count
    )
    assert queue_url == settings.notifications_queue_url and dead_letters is not None
    sources.queues.append(
        QueueConsumer(InProcessFunction("NotificationsDeliver", consumers.deliver), runner, queue_url, intents)
    )
    return NotificationWorld(sources, routed, dead_letters)


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> Any:
    with injected_faults(monkeypatch) as injector:
        yield injector


@pytest.fixture
def people(aws: dict[str, str]) -> dict[str, dict[str, str]]:
    people = {name: sign_up_claims(name) for name in ("alice", "bob", "carol", "dave")}
    for name, claims in people.items():
        ConnectionRepository().add(claims["sub"], f"{name}-phone")
    return people


def mentioning(*texts: str) -> Any:
    return lambda params: all(text in json.dumps(params, default=str) for text in texts)


def sending(queue_url: str, *texts: str) -> Any:
    """A SendMessageBatch to that queue whose messages name all of `texts`."""
    return lambda params: params["QueueUrl"] == queue_url and mentioning(*texts)(params)


def call(handler: Any, method: str, path: str, route: str, claims: dict[str, str], **kwargs: Any) -> Any:
    event = http_event(method, path, claims=claims, route_key=f"{method} {route}", **kwargs)
    response = handler(event, FakeLambdaContext())
    assert response["statusCode"] in (200, 201, 204), response
    return response_json(response)


def like(claims: dict[str, str], post_id: str, method: str = "POST") -> None:
    path_parameters = {"post_id": post_id}
    call(
        social.handler,
        method,
        f"/posts/{post_id}/like",
        "/posts/{post_id}/like",
        claims,
        path_parameters=path_parameters,
    )


def comment(claims: dict[str, str], post_id: str, text: str) -> str:
    answer = call(
        social.handler,
        "POST",
        f"/posts/{post_id}/comments",
        "/posts/{post_id}/comments",
        claims,
        path_parameters={"post_id": post_id},
        body={"text": text},
    )
    return str(answer["comment_id"])


def follow(claims: dict[str, str], username: str, method: str = "POST") -> None:
    path = f"/users/{username}/follow"
    call(users.handler, method, path, "/users/{username}/follow", claims, path_parameters={"username": username})


def listed(claims: dict[str, str]) -> list[Summary]:
    event = http_event("GET", "/notifications", claims=claims, route_key="GET /notifications")
    event["queryStringParameters"] = {"limit": "50"}
    response = notifications.handler(event, FakeLambdaContext())
    assert response["statusCode"] == 200, response
    return sorted(  # a group (likes on one post) names its actors, in name order
        (n["type"], ",".join(sorted(a["username"] for a in n["actors"])), n["post_id"], n["comment_id"])
        for n in response_json(response)["items"]
    )


def pushed(api: FakeConnectionsApi, connection_id: str) -> list[str]:
    return [frame["notification"]["notification_id"] for frame in api.of_type(connection_id, "notification")]


def test_throttles_conflicts_crashes_and_redeliveries_leave_each_notification_once(
    people: dict[str, dict[str, str]], world: NotificationWorld, faults: FaultInjector, api: FakeConnectionsApi
) -> None:
    # Given activity of every kind, some of it undone at once
    alice, bob, carol, dave = people["alice"], people["bob"], people["carol"], people["dave"]
    first, second = publish(alice), publish(alice)
    like(bob, first)
    comment_id = comment(carol, first, "Look, @bob and @dave")
    follow(carol, "alice")
    like(bob, second)
    like(bob, second, "DELETE")
    follow(bob, "carol")
    follow(bob, "carol", "DELETE")
    like(dave, first)

    # When queueing is refused or its answer lost, and delivery is throttled, collides, crashes, or
    # stores with its answer lost (the message comes back although the notification is stored)
    intents_url = get_settings().notifications_queue_url
    faults.add(Fault("sqs", "SendMessageBatch", THROTTLING, when=sending(intents_url, f"like#{bob['sub']}", first)))
    faults.add(Fault("sqs", "SendMessageBatch", THROTTLING, when=sending(intents_url, comment_id), answer_lost=True))
    # and the routers' sends of the follow and of dave's like are refused, or accepted with the answer lost
    activity_url = world.routed.queue_urls["Notifications/Activity"]
    faults.add(Fault("sqs", "SendMessageBatch", "ServiceUnavailable", when=sending(activity_url, "follows#")))
    faults.add(
        Fault(
            "sqs", "SendMessageBatch", THROTTLING, when=sending(activity_url, f"like#{dave['sub']}"), answer_lost=True
        )
    )
    faults.add(Fault("dynamodb", "TransactWriteItems", "TransactionConflict", when=mentioning("src#follow#"), times=2))
    faults.add(Fault("dynamodb", "TransactWriteItems", THROTTLED, when=mentioning("src#mention#", bob["sub"])))
    faults.add(
        Fault(
            "dynamodb", "TransactWriteItems", THROTTLED, when=mentioning(f"like#{bob['sub']}", first), answer_lost=True
        )
    )
    faults.add(Fault("dynamodb", "GetItem", THROTTLING, when=mentioning(dave["sub"]), times=2))
    faults.add(Fault("dynamodb", "TransactWriteItems", CRASH, when=mentioning(f"like#{dave['sub']}")))
    world.sources.settle()
    # and every stream record is delivered all over again (a replay from the trim horizon, long after)
    world.sources.replay_streams(world.routed.sender)
    world.sources.settle()

    # Then each notification is there exactly once, and what was undone is not
    assert listed(alice) == sorted(
        [
            ("comment", "carol", first, comment_id),
            ("follow", "carol", None, None),
            ("like", "bob,dave", first, None),  # one notification: likes on one post are grouped
        ]
    )
    assert listed(bob) == [("mention", "carol", first, comment_id)]
    assert listed(dave) == [("mention", "carol", first, comment_id)]
    assert listed(carol) == []
    # and none was pushed twice, nor pushed again when its undoing was long past (the replay came
    # after SQS's deduplication window): alice's phone heard of three of her four notifications and
    # of the like undone since; the fourth was stored by an attempt whose answer was lost, and
    # delivery, finding it stored, does not push it again (it waits in GET /notifications)
    for name in ("alice", "bob", "carol", "dave"):
        assert len(pushed(api, f"{name}-phone")) == len(set(pushed(api, f"{name}-phone")))
    assert len(pushed(api, "alice-phone")) == 4 and len(pushed(api, "bob-phone")) == 1
    # and nothing was given up on
    assert drain_queue(world.dead_letters) == [] and drain_queue(world.activity_dead_letters) == []
    assert all(drain_queue(url) == [] for url in world.routed.on_failure.values())
    assert faults.injected == 1 + 1 + 1 + 1 + 2 + 1 + 1 + 2 + 1
    print(
        "\nnotification faults:",
        json.dumps(
            {
                "records_delivered": dict(world.sources.runner.records),
                "invocations": dict(world.sources.runner.invocations),
                "faults_injected": faults.injected,
            }
        ),
    )


def test_a_like_again_after_an_unlike_is_notified_again_despite_the_replay_guard(
    people: dict[str, dict[str, str]], world: NotificationWorld, api: FakeConnectionsApi
) -> None:
    # Given bob liked alice's post and took it back
    alice, bob = people["alice"], people["bob"]
    post_id = publish(alice)
    like(bob, post_id)
    like(bob, post_id, "DELETE")
    world.sources.settle()
    assert listed(alice) == []

    # When he likes it again, and the whole history is delivered once more
    like(bob, post_id)
    world.sources.settle()
    world.sources.replay_streams(world.routed.sender)
    world.sources.settle()

    # Then alice has the new like, once, and her phone heard of each like once
    assert listed(alice) == [("like", "bob", post_id, None)]
    assert len(pushed(api, "alice-phone")) == 2


def test_a_poison_stream_record_waits_in_the_dead_letter_queue_and_the_rest_of_its_batch_is_notified(
    people: dict[str, dict[str, str]], world: NotificationWorld
) -> None:
    # Given a like item that cannot be read (written by a bug: no user), between two good likes
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    post_id = publish(alice)
    world.sources.settle()
    like(bob, post_id)
    boto3.client("dynamodb").put_item(
        TableName=get_settings().interactions_table_name,
        Item={"pk": {"S": f"post#{post_id}"}, "sk": {"S": "like#broken"}, "post_id": {"S": post_id}},
    )
    like(carol, post_id)

    # When the stream is consumed until the queue gives up on it
    world.sources.settle()

    # Then both good likes are notified
    assert listed(alice) == [("like", "bob,carol", post_id, None)]  # grouped: one notification of both
    # and the bad record, as it came from the stream, is the one message of the dead-letter queue
    [failure] = drain_queue(world.activity_dead_letters)
    record = json.loads(failure["Body"])
    assert record["dynamodb"]["Keys"] == {"pk": {"S": f"post#{post_id}"}, "sk": {"S": "like#broken"}}
    assert (
        int(failure["Attributes"]["ApproximateReceiveCount"])
        >= queue_mapping("Notifications/Activity").max_receive_count
    )


def intent(actor: dict[str, str], recipient: dict[str, str]) -> str:
    return NotificationIntent(
        action=IntentAction.CREATE,
        type=NotificationType.FOLLOW,
        source=f"user#{actor['sub']}/follows#{recipient['sub']}",
        actor_id=actor["sub"],
        recipient_id=recipient["sub"],
    ).model_dump_json()


def test_poison_messages_land_in_the_dead_letter_queue_and_every_other_group_is_delivered(
    people: dict[str, dict[str, str]], world: NotificationWorld, faults: FaultInjector, api: FakeConnectionsApi
) -> None:
    # Given a malformed message and an intent whose delivery always fails, among good intents
    alice, bob, carol, dave = people["alice"], people["bob"], people["carol"], people["dave"]
    world.sources.settle()
    always = faults.add(Fault("dynamodb", "TransactWriteItems", THROTTLED, when=mentioning(dave["sub"]), times=None))
    entries = [
        ("malformed", '{"action": "poke"}', "group-malformed"),
        ("dave", intent(dave, alice), "group-dave"),
        ("bob", intent(bob, alice), "group-bob"),
        ("carol", intent(carol, alice), "group-carol"),
    ]
    sqs = boto3.client("sqs")
    sent = sqs.send_message_batch(
        QueueUrl=get_settings().notifications_queue_url,
        Entries=[
            {"Id": name, "MessageBody": body, "MessageGroupId": group, "MessageDeduplicationId": name}
            for name, body, group in entries
        ],
    )
    ids = {entry["Id"]: entry["MessageId"] for entry in sent["Successful"]}

    # When the queue is consumed until it gives up on them
    world.sources.settle()

    # Then both poisons are dead letters, after maxReceiveCount receives each
    max_receives = queue_mapping("Notifications/Deliver", "NotificationsQueue").max_receive_count
    dead = drain_queue(world.dead_letters)
    assert sorted(message["MessageId"] for message in dead) == sorted([ids["malformed"], ids["dave"]])
    assert always.injected == max_receives
    assert all(int(message["Attributes"]["ApproximateReceiveCount"]) >= max_receives for message in dead)
    # and the good intents were delivered, once each
    assert listed(alice) == [("follow", "bob", None, None), ("follow", "carol", None, None)]
    assert len(pushed(api, "alice-phone")) == 2

    # When the dead letter of the throttled one is replayed once DynamoDB takes writes again
    faults.clear()
    [replay] = [message for message in dead if message["MessageId"] == ids["dave"]]
    sqs.send_message(
        QueueUrl=get_settings().notifications_queue_url,
        MessageBody=replay["Body"],
        MessageGroupId="group-dave",
        MessageDeduplicationId="dave-replay",
    )
    world.sources.settle()

    # Then it is notified too
    assert listed(alice) == [
        ("follow", "bob", None, None),
        ("follow", "carol", None, None),
        ("follow", "dave", None, None),
    ]
    print("\nnotification dead letters:", json.dumps({"receives": max_receives, "dead_lettered": len(dead)}))
