"""Push to phones on moto: devices registered over HTTP (SNS platform endpoints in moto's SNS), jobs queued
by what happens (a message sent, a notification stored) and published by the push worker, and what each
phone would receive read back from moto's endpoints as the local cloud's device inbox shows it."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from functions.messaging import handler as messaging
from functions.push import handler as push
from local.pumps.sqs import sqs_record
from local.push_inbox import disable, inboxes
from pinhole.notifications.dal import NotificationRepository
from pinhole.notifications.delivery import Notifier
from pinhole.notifications.models import (
    IntentAction,
    Notification,
    NotificationIntent,
    NotificationRecord,
    NotificationType,
)
from pinhole.push import logic, queue
from pinhole.push.models import PushJob
from pinhole.realtime.push import Pusher
from pinhole.shared.settings import get_settings
from pinhole.users.models import UserSummary
from tests.support.event_sources import (
    EventSources,
    InProcessFunction,
    InProcessRunner,
    QueueConsumer,
    create_queue,
    drain_queue,
    queue_mapping,
)
from tests.support.events import FakeLambdaContext, http_event, response_json
from tests.support.faults import CRASH, Fault, injected_faults
from tests.support.posts import publish
from tests.support.realtime import FakeConnectionsApi
from tests.support.users import sign_up_claims

APNS_TOKEN = "a1" * 32
FCM_TOKEN = "fcm-token:" + "Zq9_" * 12


def call(claims: dict[str, str], method: str, route: str, path: str | None = None, body: Any = None) -> tuple[int, Any]:
    params = {"device_id": path.rsplit("/", 1)[1]} if path and "{device_id}" in route else None
    event = http_event(
        method, path or route, claims=claims, body=body, route_key=f"{method} {route}", path_parameters=params
    )
    response = push.handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


def register(claims: dict[str, str], platform: str, token: str) -> dict[str, Any]:
    status, device = call(claims, "POST", "/me/devices", body={"platform": platform, "token": token})
    assert status == 201, device
    return dict(device)


@pytest.fixture
def queue_url(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Push on: an APNs and an FCM platform application in moto's SNS, and the push queue."""
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    apps = {
        platform: sns.create_platform_application(Name=f"pinhole-{platform}", Platform=kind, Attributes={})[
            "PlatformApplicationArn"
        ]
        for platform, kind in (("apns", "APNS"), ("apns_sandbox", "APNS_SANDBOX"), ("fcm", "GCM"))
    }
    url = sqs.create_queue(QueueName="pinhole-push", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    monkeypatch.setenv("PUSH_PLATFORM_APPLICATIONS", json.dumps(apps))
    monkeypatch.setenv("PUSH_QUEUE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


@pytest.fixture
def people(aws: dict[str, str]) -> dict[str, dict[str, str]]:
    return {name: sign_up_claims(name) for name in ("alice", "bob", "carol")}


def run_worker(queue_url: str) -> list[str]:
    """The push queue into the worker until empty, as the SQS event source does; the failed message ids."""
    sqs = boto3.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    failed: list[str] = []
    for _ in range(10):
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]).get(
            "Messages", []
        )
        if not messages:
            return failed
        records = [sqs_record(message, arn) for message in messages]
        try:
            response = push.deliver({"Records": records}, FakeLambdaContext())
            failing = {failure["itemIdentifier"] for failure in response["batchItemFailures"]}
        except BatchProcessingError:
            failing = {record["messageId"] for record in records}
        failed.extend(sorted(failing))
        done = [record for record in records if record["messageId"] not in failing]
        if done:
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": r["receiptHandle"]} for n, r in enumerate(done)],
            )
    raise AssertionError("the push queue did not drain")


def inbox(token: str) -> list[Any]:
    [device] = inboxes(token)
    return [message["payload"] for message in device["messages"]]


def like_job(recipient: dict[str, str], push_id: str = "n:01JLIKE") -> PushJob:
    """The push of a like notification, stored as delivery stores it (the worker checks it is still there)."""
    actor = UserSummary(user_id="u-bob", username="bob", display_name="Bob", avatar_url=None, avatar=None)
    stored = NotificationRecord(
        notification_id=push_id.removeprefix("n:"),
        user_id=recipient["sub"],
        type=NotificationType.LIKE,
        actor_id=actor.user_id,
        post_id="01JPOST",
        created_at="2026-12-05T10:00:00.000Z",
    )
    NotificationRepository().create(stored, f"post#01JPOST/like#{actor.user_id}")
    notification = Notification(
        notification_id=push_id.removeprefix("n:"),
        type=NotificationType.LIKE,
        actor=actor,
        actors=[actor],
        actor_count=3,
        post_id="01JPOST",
        comment_id=None,
        created_at="2026-12-05T10:00:00.000Z",
        read=False,
    )
    return queue.notification_push(notification, recipient["sub"])


def test_devices_register_idempotently_on_the_token_and_are_listed(
    queue_url: str, people: dict[str, dict[str, str]]
) -> None:
    alice = people["alice"]
    first = register(alice, "apns", APNS_TOKEN)
    again = register(alice, "apns", APNS_TOKEN)
    upper = register(alice, "apns", APNS_TOKEN.upper())  # the same phone: a hex token's case means nothing
    phone = register(alice, "fcm", FCM_TOKEN)

    assert again == first == upper and set(first) == {"device_id", "platform", "created_at"}
    status, listed = call(alice, "GET", "/me/devices")
    assert status == 200
    assert sorted((d["device_id"], d["platform"]) for d in listed["items"]) == sorted(
        [(first["device_id"], "apns"), (phone["device_id"], "fcm")]
    )
    assert len(inboxes(APNS_TOKEN)) == 1  # one SNS endpoint per token, whatever the registrations


def test_a_token_registered_by_another_account_moves_to_it(queue_url: str, people: dict[str, dict[str, str]]) -> None:
    alice, bob = people["alice"], people["bob"]
    register(alice, "apns", APNS_TOKEN)

    moved = register(bob, "apns", APNS_TOKEN)

    assert call(alice, "GET", "/me/devices")[1]["items"] == []
    assert [d["device_id"] for d in call(bob, "GET", "/me/devices")[1]["items"]] == [moved["device_id"]]
    assert len(inboxes(APNS_TOKEN)) == 1
    queue.PushQueue().enqueue([like_job(alice, "n:01JFORALICE"), like_job(bob, "n:01JFORBOB")])
    assert run_worker(queue_url) == []
    assert [payload["pinhole"]["notification_id"] for payload in inbox(APNS_TOKEN)] == ["01JFORBOB"]


def test_a_device_is_removed_with_its_endpoint_and_a_second_removal_is_404(
    queue_url: str, people: dict[str, dict[str, str]]
) -> None:
    alice, bob = people["alice"], people["bob"]
    device = register(alice, "fcm", FCM_TOKEN)
    path = f"/me/devices/{device['device_id']}"

    assert call(bob, "DELETE", "/me/devices/{device_id}", path)[0] == 404  # not bob's
    assert call(alice, "DELETE", "/me/devices/{device_id}", path)[0] == 204
    assert inboxes(FCM_TOKEN) == []
    status, error = call(alice, "DELETE", "/me/devices/{device_id}", path)
    assert (status, error["error"]["code"]) == (404, "not_found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"platform": "apns", "token": "not-hex-at-all-but-long-enough-to-pass-length-checks"}, "token"),
        ({"platform": "windows", "token": APNS_TOKEN}, "platform"),
        ({"platform": "fcm", "token": "short"}, "token"),
        ({"platform": "fcm", "token": APNS_TOKEN + "\n"}, "token"),
        ({"platform": "apns", "token": APNS_TOKEN, "extra": 1}, "extra"),
        ({"token": APNS_TOKEN}, "platform"),
    ],
    ids=["apns-token-not-hex", "unknown-platform", "short-token", "trailing-newline", "unknown-field", "no-platform"],
)
def test_a_bad_registration_is_422_naming_the_field_and_registers_nothing(
    queue_url: str, people: dict[str, dict[str, str]], body: dict[str, Any], field: str
) -> None:
    status, error = call(people["alice"], "POST", "/me/devices", body=body)
    assert (status, error["error"]["code"]) == (422, "validation_error")
    # the body's own field, not the union's branch (`fcm.token`, until session 14)
    assert [detail["field"] for detail in error["error"]["details"]] == [field], error
    assert call(people["alice"], "GET", "/me/devices")[1]["items"] == []


def test_without_platform_applications_push_is_off_and_nothing_fails(
    aws: dict[str, str], people: dict[str, dict[str, str]]
) -> None:
    status, error = call(people["alice"], "POST", "/me/devices", body={"platform": "apns", "token": APNS_TOKEN})
    assert (status, error["error"]["code"]) == (409, "push_unavailable")
    assert queue.PushQueue().enqueue([like_job(people["alice"])]) == 0  # nothing queued, no error


def test_settings_default_on_and_change_one_kind_at_a_time(queue_url: str, people: dict[str, dict[str, str]]) -> None:
    alice = people["alice"]
    assert call(alice, "GET", "/me/notification-settings") == (
        200,
        {"likes": True, "comments": True, "follows": True, "mentions": True, "messages": True},
    )
    status, changed = call(alice, "PATCH", "/me/notification-settings", body={"likes": False})
    assert status == 200 and changed["likes"] is False and changed["messages"] is True
    for bad in ({"likes": "sometimes"}, {"sounds": True}):
        status, error = call(alice, "PATCH", "/me/notification-settings", body=bad)
        assert (status, error["error"]["code"]) == (422, "validation_error")
    assert call(alice, "GET", "/me/notification-settings")[1]["likes"] is False


def test_a_like_reaches_both_platforms_with_their_payloads(queue_url: str, people: dict[str, dict[str, str]]) -> None:
    alice = people["alice"]
    register(alice, "apns", APNS_TOKEN)
    register(alice, "fcm", FCM_TOKEN)

    queue.PushQueue().enqueue([like_job(alice)])
    assert run_worker(queue_url) == []

    [apns] = inbox(APNS_TOKEN)
    assert apns["aps"]["alert"] == {"title": "Pinhole", "body": "bob and 2 others liked your post."}
    assert apns["aps"]["thread-id"] == "post:01JPOST" and apns["aps"]["badge"] == 0
    assert apns["pinhole"] == {"type": "like", "notification_id": "01JLIKE", "actor": "bob", "post_id": "01JPOST"}
    [fcm] = inbox(FCM_TOKEN)
    message = fcm["fcmV1Message"]["message"]
    assert message["notification"] == {"title": "Pinhole", "body": "bob and 2 others liked your post."}
    assert message["data"]["post_id"] == "01JPOST" and message["data"]["type"] == "like"
    assert all(isinstance(value, str) for value in message["data"].values())  # FCM v1: data values are strings


def test_a_kind_turned_off_is_not_pushed(queue_url: str, people: dict[str, dict[str, str]]) -> None:
    alice = people["alice"]
    register(alice, "apns", APNS_TOKEN)
    call(alice, "PATCH", "/me/notification-settings", body={"likes": False})

    queue.PushQueue().enqueue([like_job(alice)])
    assert run_worker(queue_url) == []

    assert inbox(APNS_TOKEN) == []


def test_a_disabled_endpoint_removes_the_device(queue_url: str, people: dict[str, dict[str, str]]) -> None:
    alice = people["alice"]
    register(alice, "apns", APNS_TOKEN)
    phone = register(alice, "fcm", FCM_TOKEN)
    disable(APNS_TOKEN)  # APNs said the token is no longer valid

    queue.PushQueue().enqueue([like_job(alice)])
    assert run_worker(queue_url) == []

    assert [d["device_id"] for d in call(alice, "GET", "/me/devices")[1]["items"]] == [phone["device_id"]]
    assert inboxes(APNS_TOKEN) == []  # its endpoint deleted too
    assert len(inbox(FCM_TOKEN)) == 1


def test_registering_again_re_enables_a_disabled_endpoint(queue_url: str, people: dict[str, dict[str, str]]) -> None:
    alice = people["alice"]
    register(alice, "apns", APNS_TOKEN)
    disable(APNS_TOKEN)

    register(alice, "apns", APNS_TOKEN)  # the app starts and registers its token again

    [device] = inboxes(APNS_TOKEN)
    assert device["enabled"] is True


def test_a_duplicate_delivery_pushes_once_and_a_failed_push_is_retried_for_its_device_only(
    queue_url: str, people: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = people["alice"]
    register(alice, "apns", APNS_TOKEN)
    register(alice, "fcm", FCM_TOKEN)
    publish = push.worker.endpoints.publish
    failures = {"left": 1}

    def fcm_down_once(endpoint_arn: str, message: dict[str, str]) -> str:
        if "GCM" in message and failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("FCM unreachable")
        return publish(endpoint_arn, message)

    monkeypatch.setattr(push.worker.endpoints, "publish", fcm_down_once)
    job = like_job(alice)
    queue.PushQueue().enqueue([job, job])  # the same push queued twice (a retried send)

    failed = run_worker(queue_url)

    assert len(failed) == 1  # the attempt that met FCM down came back, and was delivered on its retry
    assert len(inbox(APNS_TOKEN)) == 1 and len(inbox(FCM_TOKEN)) == 1


def test_a_direct_message_is_pushed_to_the_recipient_only(queue_url: str, people: dict[str, dict[str, str]]) -> None:
    alice, bob = people["alice"], people["bob"]
    register(bob, "fcm", FCM_TOKEN)
    register(alice, "apns", APNS_TOKEN)
    event = http_event(
        "POST", "/messages", claims=alice, body={"to": "bob", "text": "the secret plan"}, route_key="POST /messages"
    )
    response = messaging.handler(event, FakeLambdaContext())
    assert response["statusCode"] == 201
    message = response_json(response)

    assert run_worker(queue_url) == []

    [fcm] = inbox(FCM_TOKEN)
    data = fcm["fcmV1Message"]["message"]["data"]
    assert data["conversation_id"] == message["conversation_id"] and data["message_id"] == message["message_id"]
    assert data["thread_id"] == f"conversation:{message['conversation_id']}"
    assert "the secret plan" not in json.dumps(fcm)  # never the message's text
    assert inbox(APNS_TOKEN) == []  # the sender's own phone hears nothing


def _send(sender: dict[str, str], to: str, text: str) -> dict[str, Any]:
    event = http_event("POST", "/messages", claims=sender, body={"to": to, "text": text}, route_key="POST /messages")
    response = messaging.handler(event, FakeLambdaContext())
    assert response["statusCode"] == 201, response
    return dict(response_json(response))


def _alerts(token: str) -> list[str]:
    """The alert bodies that reached a phone, APNs' or FCM's."""
    return [
        payload["aps"]["alert"]["body"]
        if "aps" in payload
        else payload["fcmV1Message"]["message"]["notification"]["body"]
        for payload in inbox(token)
    ]


def _messaging(claims: dict[str, str], method: str, route: str, path: str, body: Any = None) -> tuple[int, Any]:
    """A call to the messaging API."""
    parts = zip(route.split("/"), path.split("/"), strict=True)
    parameters = {pattern.strip("{}"): part for pattern, part in parts if pattern.startswith("{")}
    event = http_event(
        method, path, claims=claims, body=body, route_key=f"{method} {route}", path_parameters=parameters
    )
    response = messaging.handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


def test_phones_hear_of_a_group_when_it_adds_them_and_of_its_other_changes_in_the_thread(
    queue_url: str, people: dict[str, dict[str, str]]
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    register(bob, "fcm", FCM_TOKEN)
    register(carol, "apns", APNS_TOKEN)
    created = {"members": ["bob", "carol"], "title": "Trip"}
    group = _messaging(alice, "POST", "/conversations", "/conversations", created)[1]["conversation_id"]
    assert run_worker(queue_url) == []
    assert _alerts(FCM_TOKEN) == _alerts(APNS_TOKEN) == ["added you to “Trip”."]

    path = f"/conversations/{group}"
    assert _messaging(alice, "PATCH", "/conversations/{conversation_id}", path, {"title": "Trip 2"})[0] == 200
    removal = ("/conversations/{conversation_id}/members/{username}", f"{path}/members/carol")
    assert _messaging(alice, "DELETE", *removal)[0] == 204
    members = {"usernames": ["carol"]}
    assert _messaging(alice, "POST", "/conversations/{conversation_id}/members", f"{path}/members", members)[0] == 200
    assert run_worker(queue_url) == []

    assert _alerts(FCM_TOKEN) == ["added you to “Trip”."]  # a rename and a removal are read in the thread
    assert _alerts(APNS_TOKEN) == ["added you to “Trip”.", "added you to a group."]


def _mute(claims: dict[str, str], conversation_id: str, method: str) -> int:
    route = "/conversations/{conversation_id}/mute"
    event = http_event(
        method,
        f"/conversations/{conversation_id}/mute",
        claims=claims,
        route_key=f"{method} {route}",
        path_parameters={"conversation_id": conversation_id},
    )
    return int(messaging.handler(event, FakeLambdaContext())["statusCode"])


def test_a_muted_conversation_is_not_pushed_and_is_again_once_unmuted(
    queue_url: str, people: dict[str, dict[str, str]]
) -> None:
    # Given bob's phone, a conversation with alice that bob muted, and one with carol he did not
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    register(bob, "fcm", FCM_TOKEN)
    muted = _send(alice, "bob", "first")["conversation_id"]
    _send(carol, "bob", "hello")
    assert run_worker(queue_url) == []
    assert len(inbox(FCM_TOKEN)) == 2
    assert _mute(bob, muted, "POST") == 204

    # When alice and carol write again
    _send(alice, "bob", "while muted")
    from_carol = _send(carol, "bob", "not muted")
    assert run_worker(queue_url) == []

    # Then only carol's message reaches bob's phone
    pushed = [payload["fcmV1Message"]["message"]["data"]["message_id"] for payload in inbox(FCM_TOKEN)]
    assert len(pushed) == 3 and pushed[-1] == from_carol["message_id"]

    # And once bob unmutes, alice's messages are pushed again
    assert _mute(bob, muted, "DELETE") == 204
    again = _send(alice, "bob", "unmuted")
    assert run_worker(queue_url) == []
    assert inbox(FCM_TOKEN)[-1]["fcmV1Message"]["message"]["data"]["message_id"] == again["message_id"]


def test_a_mute_holds_back_a_push_still_queued(queue_url: str, people: dict[str, dict[str, str]]) -> None:
    # Given a message to bob queued for his phone, and bob muting the conversation before the worker runs
    alice, bob = people["alice"], people["bob"]
    register(bob, "apns", APNS_TOKEN)
    conversation = _send(alice, "bob", "queued")["conversation_id"]
    assert _mute(bob, conversation, "POST") == 204

    # When the worker runs / Then nothing reaches the phone (the mute is read as the push goes out)
    assert run_worker(queue_url) == []
    assert inbox(APNS_TOKEN) == []


def _unsend(claims: dict[str, str], message: dict[str, Any]) -> int:
    route = "/conversations/{conversation_id}/messages/{message_id}"
    path = f"/conversations/{message['conversation_id']}/messages/{message['message_id']}"
    return int(_messaging(claims, "DELETE", route, path)[0])


@pytest.mark.parametrize("later", [False, True], ids=["the latest", "with a later message"])
def test_a_message_unsent_before_its_push_went_out_is_not_pushed(
    queue_url: str, people: dict[str, dict[str, str]], later: bool
) -> None:
    # Given a message to bob queued for his phone, unsent by alice before the worker runs (and, maybe, another after)
    alice, bob = people["alice"], people["bob"]
    register(bob, "fcm", FCM_TOKEN)
    oops = _send(alice, "bob", "oops")
    assert _unsend(alice, oops) == 204
    kept = _send(alice, "bob", "meant this") if later else None

    # When the worker runs
    assert run_worker(queue_url) == []

    # Then only what is still there reaches the phone
    pushed = [payload["fcmV1Message"]["message"]["data"]["message_id"] for payload in inbox(FCM_TOKEN)]
    assert pushed == ([kept["message_id"]] if kept else [])


def test_a_like_or_comment_undone_before_its_push_went_out_is_not_pushed(
    queue_url: str, people: dict[str, dict[str, str]]
) -> None:
    # Given alice's phone, bob's like and carol's comment on her post, and carol's follow, all queued for the phone
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    register(alice, "fcm", FCM_TOKEN)
    post_id = publish(alice)
    notifier = Notifier(pusher=Pusher(client=FakeConnectionsApi()))
    at = "2026-12-05T10:00:00.000Z"
    like = NotificationIntent(
        action=IntentAction.CREATE,
        type=NotificationType.LIKE,
        source=f"post#{post_id}/like#{bob['sub']}",
        actor_id=bob["sub"],
        post_id=post_id,
        created_at=at,
    )
    comment = like.model_copy(
        update={
            "type": NotificationType.COMMENT,
            "source": f"post#{post_id}/comment#01JCOMMENT0000000000000000",
            "actor_id": carol["sub"],
            "comment_id": "01JCOMMENT0000000000000000",
        }
    )
    follow = NotificationIntent(
        action=IntentAction.CREATE,
        type=NotificationType.FOLLOW,
        source=f"user#{carol['sub']}/follows#{alice['sub']}",
        actor_id=carol["sub"],
        recipient_id=alice["sub"],
        created_at=at,
    )
    for intent in (like, comment, follow):
        assert notifier.deliver(intent) is not None

    # When bob unlikes and carol deletes her comment at once, before the worker runs
    for intent in (like, comment):
        notifier.deliver(intent.model_copy(update={"action": IntentAction.RETRACT}))
    assert run_worker(queue_url) == []

    # Then the phone hears only of what is still there: no push names a notification that no longer exists
    pushed = [payload["fcmV1Message"]["message"] for payload in inbox(FCM_TOKEN)]
    assert [(message["notification"]["body"], message["data"]["actor"]) for message in pushed] == [
        ("carol started following you.", "carol")
    ]


def test_a_member_removed_before_the_push_went_out_is_not_pushed_what_they_cannot_open(
    queue_url: str, people: dict[str, dict[str, str]]
) -> None:
    # Given carol's phone, in alice's group, and a message to it queued when alice removes carol
    alice, carol = people["alice"], people["carol"]
    register(carol, "apns", APNS_TOKEN)
    created = {"members": ["bob", "carol"], "title": "Trip"}
    group = _messaging(alice, "POST", "/conversations", "/conversations", created)[1]["conversation_id"]
    assert run_worker(queue_url) == []
    assert _messaging(alice, "POST", "/messages", "/messages", {"conversation_id": group, "text": "hi"})[0] == 201
    removal = ("/conversations/{conversation_id}/members/{username}", f"/conversations/{group}/members/carol")
    assert _messaging(alice, "DELETE", *removal)[0] == 204

    # When the worker runs / Then carol's phone has only what came while she was in it and pushed then
    assert run_worker(queue_url) == []
    assert _alerts(APNS_TOKEN) == ["added you to “Trip”."]


def test_signing_out_everywhere_forgets_every_device(queue_url: str, people: dict[str, dict[str, str]]) -> None:
    alice = people["alice"]
    register(alice, "apns", APNS_TOKEN)
    register(alice, "fcm", FCM_TOKEN)

    assert logic.forget_devices(alice["sub"]) == 2

    assert call(alice, "GET", "/me/devices")[1]["items"] == []
    assert inboxes(APNS_TOKEN) == [] and inboxes(FCM_TOKEN) == []


def test_faults_through_the_retry_machinery_lose_nothing_and_double_nothing(
    queue_url: str, people: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the push worker behind the local cloud's SQS pump, with the template's mapping and redrive policy
    mapping = queue_mapping("Push/Deliver", "PushQueue")
    assert mapping.report_failures and not mapping.fifo
    url, dead_letters = create_queue("pinhole-push-faults", dead_letters_after=mapping.max_receive_count)
    monkeypatch.setenv("PUSH_QUEUE_URL", url)
    get_settings.cache_clear()
    runner = InProcessRunner()
    sources = EventSources(
        runner, queues=[QueueConsumer(InProcessFunction("PushDeliver", push.deliver), runner, url, mapping)]
    )
    alice = people["alice"]
    register(alice, "apns", APNS_TOKEN)
    register(alice, "fcm", FCM_TOKEN)

    with injected_faults(monkeypatch) as faults:
        # the first publish fails (SNS answered 500), and the first "sent" mark crashes after its publish went out
        failed_publish = Fault("sns", "Publish", "InternalError")
        crashed_mark = Fault("dynamodb", "UpdateItem", CRASH, when=lambda params: "pushed#" in json.dumps(params))
        faults.add(failed_publish)
        faults.add(crashed_mark)
        job = like_job(alice)
        queue.PushQueue().enqueue([job, job])  # and the push is queued twice
        sources.settle()

    # Then each phone has it exactly once, after retries, and nothing was given up on
    assert len(inbox(APNS_TOKEN)) == 1 and len(inbox(FCM_TOKEN)) == 1
    assert failed_publish.injected == 1 and crashed_mark.injected == 1
    assert runner.invocations["PushDeliver"] > 1
    assert drain_queue(str(dead_letters)) == []


def test_a_token_taken_by_another_account_between_read_and_write_is_read_again(
    queue_url: str, people: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = people["alice"], people["bob"]
    register(alice, "apns", APNS_TOKEN)
    owner_of = logic._devices.owner_of
    stale = {"left": 1}

    def read_before_alice_registered(device_id: str) -> str | None:
        if stale["left"]:  # bob's first read is from before alice's registration
            stale["left"] -= 1
            return None
        return owner_of(device_id)

    monkeypatch.setattr(logic._devices, "owner_of", read_before_alice_registered)
    register(bob, "apns", APNS_TOKEN)

    assert call(alice, "GET", "/me/devices")[1]["items"] == []  # not left holding the token bob took
    assert len(call(bob, "GET", "/me/devices")[1]["items"]) == 1
