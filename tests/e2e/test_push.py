"""Push to phones through the local cloud, the deployed way: the app synthesized with push credentials named
(context `push_apns_secret`, `push_fcm_secret`: the local cloud stands in for the operator's secrets), its
SNS platform applications made in moto's SNS by their AwsCustomResource calls, devices registered over
HTTP, pushes queued by a direct message and a like and published by the push worker through the push
queue's pump. What each phone would receive is read at the local-only `/_local/push` device inboxes.
Nobody holds a WebSocket connection: the app is closed."""

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import RunningLocalCloud, start_local_cloud
from tests.e2e.test_feed import post_photo
from tests.support.api_client import Member, eventually
from tests.support.push_app import synthesized_with_push

pytestmark = pytest.mark.e2e

APNS_TOKEN = "0f" * 32
FCM_TOKEN = "fcm:" + "Ab9_-" * 10


@pytest.fixture(scope="module")
def push_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLocalCloud]:
    running = start_local_cloud(tmp_path_factory.mktemp("push-cloud"), cdk_out=synthesized_with_push())
    yield running
    returncode, output = running.stop()
    assert returncode == 0, output
    assert "Traceback" not in output and "local IAM enforcement denied" not in output, output


def inbox(cloud: RunningLocalCloud, token: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{cloud.outputs['HttpApiUrl'].rstrip('/')}/_local/push", params={"token": token})
    assert response.status_code == 200, response.text
    return [message["payload"] for device in response.json()["items"] for message in device["messages"]]


def devices(member: Member) -> list[str]:
    response = member.http.get("/me/devices")
    assert response.status_code == 200, response.text
    return sorted(device["platform"] for device in response.json()["items"])


def apns_kinds(payloads: list[dict[str, Any]]) -> list[str]:
    return [payload["pinhole"]["type"] for payload in payloads]


def fcm_kinds(payloads: list[dict[str, Any]]) -> list[str]:
    return [payload["fcmV1Message"]["message"]["data"]["type"] for payload in payloads]


def test_a_closed_app_hears_of_a_message_and_a_like_on_both_phones(push_cloud: RunningLocalCloud) -> None:
    ann, ben, cat, dan = (Member(push_cloud.http) for _ in range(4))
    for platform, token in (("apns", APNS_TOKEN), ("fcm", FCM_TOKEN)):
        response = ann.http.post("/me/devices", json={"platform": platform, "token": token})
        assert response.status_code == 201, response.text
    assert devices(ann) == ["apns", "fcm"]
    post_id = post_photo(ann, "harbour at dawn")
    eventually(lambda: ann.http.get(f"/posts/{post_id}").json()["status"], lambda status: status == "published")

    # A direct message and a like, while ann has no connection open
    sent = ben.http.post("/messages", json={"to": ann.username, "text": "lunch at noon?"})
    assert sent.status_code == 201, sent.text
    message = sent.json()
    assert ben.http.post(f"/posts/{post_id}/like").status_code == 200

    apns = eventually(lambda: inbox(push_cloud, APNS_TOKEN), lambda found: len(found) == 2, timeout_s=60)
    fcm = eventually(lambda: inbox(push_cloud, FCM_TOKEN), lambda found: len(found) == 2, timeout_s=60)
    assert apns_kinds(apns) == ["message", "like"] and fcm_kinds(fcm) == ["message", "like"]
    dm, like = apns
    assert dm["aps"]["thread-id"] == f"conversation:{message['conversation_id']}"
    assert dm["pinhole"]["message_id"] == message["message_id"] and dm["aps"]["alert"]["body"] == "sent you a message."
    assert like["pinhole"]["post_id"] == post_id and like["aps"]["alert"]["body"] == f"{ben.username} liked your post."
    assert like["aps"]["badge"] == 1  # the unread notifications: the like
    fcm_like = fcm[1]["fcmV1Message"]["message"]
    assert fcm_like["data"]["post_id"] == post_id and fcm_like["android"]["notification"]["tag"] == f"post:{post_id}"
    assert "lunch at noon?" not in json.dumps(apns + fcm)  # a message's text never leaves in a push

    # Likes turned off: cat's like is stored and grouped, but no phone hears of it
    assert ann.http.patch("/me/notification-settings", json={"likes": False}).json()["likes"] is False
    assert cat.http.post(f"/posts/{post_id}/like").status_code == 200
    eventually(
        lambda: ann.http.get("/notifications").json()["items"],
        lambda items: bool(items) and items[0]["actor_count"] == 2,
    )
    # (a sentinel: the queue hands out cat's like before this message, so when the message has arrived,
    # the like was handled — and left out)
    assert ben.http.post("/messages", json={"to": ann.username, "text": "still on?"}).status_code == 201
    apns = eventually(lambda: inbox(push_cloud, APNS_TOKEN), lambda found: len(found) == 3, timeout_s=60)
    assert apns_kinds(apns) == ["message", "like", "message"]

    # APNs reports the token invalid: the next push finds the endpoint disabled and the device goes
    base = push_cloud.outputs["HttpApiUrl"].rstrip("/")
    assert httpx.post(f"{base}/_local/push/disable", params={"token": APNS_TOKEN}).status_code == 204
    assert ben.http.post("/messages", json={"to": ann.username, "text": "hello?"}).status_code == 201
    eventually(lambda: devices(ann), lambda found: found == ["fcm"], timeout_s=60)
    eventually(lambda: inbox(push_cloud, FCM_TOKEN), lambda found: len(found) == 4, timeout_s=60)

    # The same FCM token registered by dan (the phone changed hands): it is his now, not ann's
    assert dan.http.post("/me/devices", json={"platform": "fcm", "token": FCM_TOKEN}).status_code == 201
    assert devices(ann) == [] and devices(dan) == ["fcm"]
    assert ben.http.post("/messages", json={"to": ann.username, "text": "gone?"}).status_code == 201
    assert ben.http.post("/messages", json={"to": dan.username, "text": "hi dan"}).status_code == 201
    fcm = eventually(lambda: inbox(push_cloud, FCM_TOKEN), lambda found: len(found) == 5, timeout_s=60)
    assert fcm[-1]["fcmV1Message"]["message"]["data"]["sender"] == ben.username
    assert fcm[-1]["fcmV1Message"]["message"]["data"]["conversation_id"].count(dan.user_id) == 1


def test_the_badge_counts_grouped_notifications_in_one_read(push_cloud: RunningLocalCloud) -> None:
    ann, ben, cat = (Member(push_cloud.http) for _ in range(3))
    post_id = post_photo(ann, "one post, two likes")
    eventually(lambda: ann.http.get(f"/posts/{post_id}").json()["status"], lambda status: status == "published")

    for member in (ben, cat):
        assert member.http.post(f"/posts/{post_id}/like").status_code == 200
    items = eventually(
        lambda: ann.http.get("/notifications").json()["items"],
        lambda found: len(found) == 1 and found[0]["actor_count"] == 2,
    )

    assert {actor["username"] for actor in items[0]["actors"]} == {cat.username, ben.username}
    assert ann.http.get("/notifications/unread-count").json() == {"count": 1}
    assert ann.http.post("/notifications/read", json={}).status_code == 204
    assert ann.http.get("/notifications/unread-count").json() == {"count": 0}


def test_a_phones_badge_counts_what_the_list_shows(push_cloud: RunningLocalCloud) -> None:
    token = "2f" * 32
    ann, ben, cat = (Member(push_cloud.http) for _ in range(3))
    assert ann.http.post("/me/devices", json={"platform": "apns", "token": token}).status_code == 201
    post_id = post_photo(ann, "a post to like")
    # Cat mentions ann in a post, then deletes it: ann's stored counter still counts that mention
    mention = post_photo(cat, f"look @{ann.username}")
    eventually(lambda: ann.http.get("/notifications").json()["items"], lambda items: len(items) == 1)
    assert cat.http.delete(f"/posts/{mention}").status_code == 204
    eventually(lambda: ann.http.get("/notifications/unread-count").json(), lambda body: body == {"count": 0})
    eventually(lambda: ann.http.get(f"/posts/{post_id}").json()["status"], lambda status: status == "published")

    # When ben likes ann's post, the like is pushed (after the mention, pushed when it was made)
    assert ben.http.post(f"/posts/{post_id}/like").status_code == 200
    pushed = eventually(lambda: inbox(push_cloud, token), lambda found: len(found) == 2, timeout_s=60)

    # Then its badge is the like alone, as the list and GET /notifications/unread-count have it
    assert apns_kinds(pushed) == ["mention", "like"] and pushed[1]["aps"]["badge"] == 1
    assert ann.http.get("/notifications/unread-count").json() == {"count": 1}


def test_a_muted_conversation_is_not_pushed_but_still_listed(push_cloud: RunningLocalCloud) -> None:
    token = "1e" * 32
    eve, fay, gus = (Member(push_cloud.http) for _ in range(3))
    assert eve.http.post("/me/devices", json={"platform": "apns", "token": token}).status_code == 201
    first = fay.http.post("/messages", json={"to": eve.username, "text": "hi"})
    assert first.status_code == 201, first.text
    conversation = first.json()["conversation_id"]
    eventually(lambda: inbox(push_cloud, token), lambda found: len(found) == 1, timeout_s=60)

    # Eve mutes her conversation with fay; fay writes again, then gus (a sentinel: the queue hands out fay's push
    # first, so once gus's has arrived, fay's was handled — and left out)
    assert eve.http.post(f"/conversations/{conversation}/mute").status_code == 204
    muted = fay.http.post("/messages", json={"to": eve.username, "text": "are you there?"})
    assert muted.status_code == 201, muted.text
    assert gus.http.post("/messages", json={"to": eve.username, "text": "hello"}).status_code == 201
    pushed = eventually(lambda: inbox(push_cloud, token), lambda found: len(found) == 2, timeout_s=60)
    assert [payload["pinhole"]["sender"] for payload in pushed] == [fay.username, gus.username]

    # And the muted conversation still has fay's message, unread, marked muted
    [listed] = [c for c in eve.http.get("/conversations").json()["items"] if c["conversation_id"] == conversation]
    assert (listed["muted"], listed["unread_count"]) == (True, 2)
    assert listed["last_message"]["message_id"] == muted.json()["message_id"]
