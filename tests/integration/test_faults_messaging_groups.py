"""Faults in group sends: the send's one transaction cancelled (by DynamoDB, by a collision that outlasts
its retries, by a membership change between reading the group and writing), or committed with its answer
lost; and a photo message whose delivery transaction is cancelled inside resize, which SQS redelivers.
The client retries with its Idempotency-Key, as API.md tells it to. Every message is stored once, counted
unread once in every member's inbox, and pushed once to every connection: nothing lost, nothing doubled."""

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from PIL import Image
from pynamodb.exceptions import TransactWriteError

from functions.messaging import handler as http
from pinhole.messaging import logic
from pinhole.messaging.dal import MessagingModel
from pinhole.messaging.media import MessageUploadKey
from pinhole.messaging.models import AddMembersRequest
from pinhole.realtime.dal import ConnectionRepository
from pinhole.resize.message_media import process_message_upload
from pinhole.shared.caller import Caller
from pinhole.shared.settings import get_settings
from pinhole.shared.transactions import CONFLICT_ATTEMPTS
from tests.support.events import FakeLambdaContext, http_event, response_json
from tests.support.faults import CANCELLED, THROTTLED, Fault, injected_faults
from tests.support.realtime import FakeConnectionsApi
from tests.support.users import sign_up_claims

NAMES = ("ada", "bob", "cat", "dan", "eve")


@pytest.fixture
def api(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeConnectionsApi]:
    fake = FakeConnectionsApi()
    monkeypatch.setattr(logic._pusher, "_client", fake)
    yield fake


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> Any:
    with injected_faults(monkeypatch) as injector:
        yield injector


@pytest.fixture
def members(aws: dict[str, str], api: FakeConnectionsApi) -> dict[str, dict[str, str]]:
    people = {name: sign_up_claims(name) for name in (*NAMES, "fay")}
    for name, claims in people.items():
        ConnectionRepository().add(claims["sub"], f"{name}-phone")
    return people


def post(claims: dict[str, str], path: str, body: dict[str, Any], key: str | None = None) -> tuple[int, Any]:
    event = http_event("POST", path, claims=claims, route_key=f"POST {path}", body=body)
    if key is not None:
        event["headers"]["idempotency-key"] = key
    response = http.handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


def send_until_accepted(sender: dict[str, str], group: str, text: str) -> tuple[list[int], Any]:
    """What a client does: the same request, same key, until it is accepted (bounded)."""
    statuses = []
    for _ in range(5):
        status, body = post(sender, "/messages", {"conversation_id": group, "text": text}, key=f"key-{text}")
        statuses.append(status)
        if status == 201:
            return statuses, body
        assert (status, body["error"]["code"]) in {(503, "unavailable"), (500, "internal")}, body
    raise AssertionError(f"never accepted: {statuses}")


def unread(claims: dict[str, str], group: str) -> int:
    return int(MessagingModel.get(f"user#{claims['sub']}", f"conv#{group}").unread_count or 0)


def test_cancelled_group_sends_are_stored_counted_and_pushed_once(members, api, faults, monkeypatch) -> None:
    # Given a group of five, everyone online
    ada = members["ada"]
    status, group = post(ada, "/conversations", {"members": ["bob", "cat", "dan", "eve"]})
    assert status == 201
    group_id = group["conversation_id"]
    store = "TransactWriteItems"
    faults.add(Fault("dynamodb", store, CANCELLED, when=lambda params: "cancelled" in json.dumps(params)))
    collided = Fault("dynamodb", store, "TransactionConflict", when=lambda p: "collided" in json.dumps(p))
    collided.times = CONFLICT_ATTEMPTS  # outlasts every retry of one attempt
    faults.add(collided)
    faults.add(Fault("dynamodb", store, THROTTLED, when=lambda p: "answer lost" in json.dumps(p), answer_lost=True))
    # and fay added to the group between the send reading it and writing (the version check cancels the write)
    real_send = logic._messages.send_to_group
    raced: list[bool] = []

    def send_racing_a_change(record: Any, group: Any, client_id: Any) -> Any:
        if record.text == "raced" and not raced:
            raced.append(True)
            logic.add_members(
                Caller(user_id=ada["sub"], username="ada"), group_id, AddMembersRequest(usernames=["fay"])
            )
        return real_send(record, group, client_id)

    monkeypatch.setattr(logic._messages, "send_to_group", send_racing_a_change)
    texts = ["cancelled", "collided", "answer lost", "raced"]

    # When each is sent until accepted
    outcomes = {text: send_until_accepted(ada, group_id, text) for text in texts}

    # Then the first attempts failed as injected, the race was resolved inside the first attempt
    assert {text: statuses for text, (statuses, _) in outcomes.items()} == {
        "cancelled": [500, 201],
        "collided": [503, 201],
        "answer lost": [503, 201],
        "raced": [201],
    }
    # and each message is stored once, counted unread once per member, and pushed once per connection
    stored = [item.text for item in MessagingModel.query(f"conv#{group_id}") if item.kind in ("text", "media")]
    assert sorted(stored) == sorted(texts)
    for name in ("bob", "cat", "dan", "eve"):
        assert unread(members[name], group_id) == 1 + len(texts) + 1  # created, the texts, "ada added fay"
        pushed = [
            f["message"]["text"] for f in api.of_type(f"{name}-phone", "message") if f["message"]["kind"] == "text"
        ]
        assert sorted(pushed) == sorted(texts)
    # and fay, who joined before "raced" was written, got it (and nothing from before she joined)
    fays = [f["message"]["text"] for f in api.of_type("fay-phone", "message") if f["message"]["kind"] == "text"]
    assert fays == ["raced"]
    assert unread(members["fay"], group_id) == 2  # "ada added fay" and "raced"
    print("\ngroup send faults:", json.dumps({"messages": len(texts), "faults_injected": faults.injected}))


def test_a_photo_delivery_cancelled_in_resize_is_delivered_once_by_the_redelivery(members, api, faults) -> None:
    # Given a group and a photo message whose picture is uploaded
    ada = members["ada"]
    _, group = post(ada, "/conversations", {"members": ["bob", "cat"]})
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (10, 20, 30)).save(buffer, "JPEG")
    picture = buffer.getvalue()
    body = {
        "conversation_id": group["conversation_id"],
        "media": {"content_type": "image/jpeg", "size_bytes": len(picture)},
    }
    status, sent = post(ada, "/messages", body)
    assert status == 201
    key = MessageUploadKey(group["conversation_id"], sent["message_id"], sent["media"]["media_id"])
    uploads = get_settings().uploads_bucket_name
    boto3.client("s3").put_object(Bucket=uploads, Key=str(key), Body=picture, ContentType="image/jpeg")
    # and the delivery transaction cancelled the first time
    faults.add(Fault("dynamodb", "TransactWriteItems", CANCELLED, when=lambda p: sent["message_id"] in json.dumps(p)))

    # When resize handles the upload event, fails, and SQS delivers it again (and once more, a duplicate)
    with pytest.raises(TransactWriteError):
        process_message_upload(uploads, key)
    assert process_message_upload(uploads, key).value == "ready"  # type: ignore[union-attr]
    assert process_message_upload(uploads, key) is None

    # Then bob and cat got the photo once, counted once
    for name in ("bob", "cat"):
        photos = [f for f in api.of_type(f"{name}-phone", "message") if f["message"]["kind"] == "media"]
        assert [f["message"]["media"]["status"] for f in photos] == ["ready"]
        assert unread(members[name], group["conversation_id"]) == 2  # created, the photo
