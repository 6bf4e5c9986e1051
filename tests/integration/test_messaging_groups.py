"""Group conversations, photo messages, typing and unsend through the messaging handlers (HTTP and
WebSocket routes) on moto, with a stand-in for API Gateway's @connections to see what each open
connection received."""

import io
import time
from collections.abc import Iterator
from functools import partial
from typing import Any

import boto3
import pytest
from PIL import Image
from pynamodb.connection.base import Connection

from functions.messaging import handler as http
from functions.messaging import websocket
from pinhole.graph.dal import GraphRepository
from pinhole.messaging import logic
from pinhole.messaging.dal import TRANSACTION_ITEMS_MAX
from pinhole.messaging.media import MessageUploadKey
from pinhole.resize.message_media import process_message_upload
from pinhole.shared import rate_limits
from pinhole.shared.clock import utc_now
from pinhole.shared.settings import get_settings
from pinhole.users.dal import ProfileRepository, UserModel
from tests.support.events import FakeLambdaContext, http_event, response_json, websocket_event
from tests.support.realtime import FakeConnectionsApi
from tests.support.users import sign_up_claims

NAMES = ("ada", "bob", "cat", "dan", "eve")


@pytest.fixture
def connections_api(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeConnectionsApi]:
    api = FakeConnectionsApi()
    monkeypatch.setattr(logic._pusher, "_client", api)
    yield api


@pytest.fixture
def people(aws: dict[str, str]) -> dict[str, dict[str, str]]:
    return {name: sign_up_claims(name) for name in (*NAMES, "zed")}


def call(method: str, path: str, claims: dict[str, str], route: str, **kwargs: Any) -> tuple[int, Any]:
    query = kwargs.pop("query", None)
    headers = kwargs.pop("headers", None)
    event = http_event(method, path, claims=claims, route_key=f"{method} {route}", **kwargs)
    if query:
        event["queryStringParameters"] = query
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    if headers:
        event["headers"].update(headers)
    response = http.handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


def create_group(claims: dict[str, str], members: list[str], title: str | None = None) -> tuple[int, Any]:
    return call("POST", "/conversations", claims, "/conversations", body={"members": members, "title": title})


def send(claims: dict[str, str], conversation_id: str, text: str, **kwargs: Any) -> tuple[int, Any]:
    body = {"conversation_id": conversation_id, "text": text, **kwargs.pop("extra", {})}
    return call("POST", "/messages", claims, "/messages", body=body, **kwargs)


def history(claims: dict[str, str], conversation_id: str) -> tuple[int, Any]:
    path = f"/conversations/{conversation_id}/messages"
    return call(
        "GET",
        path,
        claims,
        "/conversations/{conversation_id}/messages",
        path_parameters={"conversation_id": conversation_id},
    )


def remove(claims: dict[str, str], conversation_id: str, username: str) -> tuple[int, Any]:
    return call(
        "DELETE",
        f"/conversations/{conversation_id}/members/{username}",
        claims,
        "/conversations/{conversation_id}/members/{username}",
        path_parameters={"conversation_id": conversation_id, "username": username},
    )


def add(claims: dict[str, str], conversation_id: str, usernames: list[str]) -> tuple[int, Any]:
    return call(
        "POST",
        f"/conversations/{conversation_id}/members",
        claims,
        "/conversations/{conversation_id}/members",
        path_parameters={"conversation_id": conversation_id},
        body={"usernames": usernames},
    )


def unsend(claims: dict[str, str], conversation_id: str, message_id: str) -> tuple[int, Any]:
    return call(
        "DELETE",
        f"/conversations/{conversation_id}/messages/{message_id}",
        claims,
        "/conversations/{conversation_id}/messages/{message_id}",
        path_parameters={"conversation_id": conversation_id, "message_id": message_id},
    )


def inbox(claims: dict[str, str]) -> dict[str, dict[str, Any]]:
    status, body = call("GET", "/conversations", claims, "/conversations")
    assert status == 200
    return {item["conversation_id"]: item for item in body["items"]}


def frame(connection_id: str, caller: dict[str, str], body: Any, route: str) -> dict[str, Any] | None:
    response = websocket.handler(websocket_event(route, connection_id, caller, body=body), FakeLambdaContext())
    assert response["statusCode"] == 200
    return response_json(response)


def connect(connection_id: str, caller: dict[str, str]) -> None:
    response = websocket.handler(websocket_event("$connect", connection_id, caller), FakeLambdaContext())
    assert response["statusCode"] == 200


def read(claims: dict[str, str], conversation_id: str, up_to: str) -> int:
    """POST /conversations/{id}/read: its status."""
    route = "/conversations/{conversation_id}/read"
    parameters = {"conversation_id": conversation_id}
    path = f"/conversations/{conversation_id}/read"
    return call("POST", path, claims, route, path_parameters=parameters, body={"up_to": up_to})[0]


def texts(page: dict[str, Any]) -> list[str]:
    return [message["text"] for message in page["items"]]


@pytest.fixture
def group(people: dict[str, dict[str, str]], connections_api: FakeConnectionsApi) -> str:
    status, body = create_group(people["ada"], ["bob", "cat", "dan", "eve"], title="trip")
    assert status == 201, body
    return str(body["conversation_id"])


def test_a_group_message_reaches_every_inbox_and_connection_once(people, connections_api, group) -> None:
    ada = people["ada"]
    for name in NAMES:
        connect(f"{name}-phone", people[name])
    connect("bob-laptop", people["bob"])

    ack = frame(
        "ada-phone",
        ada,
        {"action": "sendMessage", "conversation_id": group, "text": "hi all", "client_id": "c1"},
        "sendMessage",
    )

    assert ack is not None and ack["type"] == "ack"
    message_id = ack["message"]["message_id"]
    for connection in ("bob-phone", "bob-laptop", "cat-phone", "dan-phone", "eve-phone"):
        assert [f["message"]["message_id"] for f in connections_api.of_type(connection, "message")][-1] == message_id
        assert len([f for f in connections_api.of_type(connection, "message") if f["message"]["kind"] == "text"]) == 1
    assert [f for f in connections_api.of_type("ada-phone", "message") if f["message"]["kind"] == "text"] == []
    bobs = inbox(people["bob"])[group]
    assert (bobs["kind"], bobs["title"], bobs["with"]) == ("group", "trip", None)
    assert sorted(member["username"] for member in bobs["members"]) == sorted(NAMES)
    assert bobs["unread_count"] == 2  # the creation notice and "hi all"
    assert bobs["last_message"]["text"] == "hi all"
    assert inbox(ada)[group]["unread_count"] == 0


@pytest.mark.parametrize("destination", ["group", "direct"])
@pytest.mark.parametrize("moment", ["after the first attempt stored it", "while the first attempt pushes it"])
def test_a_send_racing_its_retry_is_delivered_once_to_every_connection(
    people, connections_api, group, monkeypatch, destination, moment
) -> None:
    # Given dan online on his phone and his laptop, and everyone else on their phones
    dan = people["dan"]
    for name in NAMES:
        connect(f"{name}-phone", people[name])
    connect("dan-laptop", dan)
    to = {"conversation_id": group} if destination == "group" else {"to": "bob"}
    body = {"action": "sendMessage", **to, "text": "race 0", "client_id": "race-0-x"}
    phones_told: list[list[str]] = []
    monkeypatch.setattr(logic, "after_delivery", lambda message, recipients: phones_told.append(recipients))
    acks: dict[str, Any] = {}

    # When the same frame comes from the laptop while the phone's attempt is at `moment`
    hooked = logic._pusher if moment.startswith("while") else logic._messages
    name = "push" if moment.startswith("while") else ("send_to_group" if destination == "group" else "send")
    first_attempt = getattr(hooked, name)

    def racing(*args: Any, **kwargs: Any) -> Any:
        if "dan-laptop" not in acks:
            acks["dan-laptop"] = None  # the laptop's own attempt goes straight through
            if moment.startswith("after"):
                stored = first_attempt(*args, **kwargs)
                acks["dan-laptop"] = frame("dan-laptop", dan, body, "sendMessage")
                return stored
            acks["dan-laptop"] = frame("dan-laptop", dan, body, "sendMessage")
        return first_attempt(*args, **kwargs)

    monkeypatch.setattr(hooked, name, racing)
    acks["dan-phone"] = frame("dan-phone", dan, body, "sendMessage")

    # Then both devices are acknowledged with the one message stored
    assert [ack["type"] for ack in acks.values()] == ["ack", "ack"]
    message_id = acks["dan-phone"]["message"]["message_id"]
    assert acks["dan-laptop"]["message"]["message_id"] == message_id
    conversation_id = acks["dan-phone"]["message"]["conversation_id"]
    assert texts(history(dan, conversation_id)[1]).count("race 0") == 1

    # and every connection of the others has it once, dan's other device too, and each phone is told once
    def frames_of(connection: str) -> list[str]:
        return [f["message"]["message_id"] for f in connections_api.of_type(connection, "message")]

    recipients = ["ada", "bob", "cat", "eve"] if destination == "group" else ["bob"]
    assert {name: frames_of(f"{name}-phone").count(message_id) for name in recipients} == dict.fromkeys(recipients, 1)
    assert frames_of("dan-phone").count(message_id) + frames_of("dan-laptop").count(message_id) == 1
    assert len(phones_told) == 1 and sorted(phones_told[0]) == sorted(people[name]["sub"] for name in recipients)
    assert inbox(people["bob"])[conversation_id]["unread_count"] == (2 if destination == "group" else 1)


def test_a_32_member_send_is_one_transaction_within_dynamodb_limit(aws, connections_api, monkeypatch) -> None:
    # Given a group of 32 (the creator and 31 others)
    members = [sign_up_claims(f"member{index:02d}") for index in range(32)]
    creator = members[0]
    status, conversation = create_group(creator, [m["username"] for m in members[1:]])
    assert status == 201, conversation
    assert len(conversation["members"]) == 32
    transactions: list[int] = []
    real = Connection.transact_write_items

    def counted(self: Connection, *args: Any, **kwargs: Any) -> Any:
        items = sum(
            len(kwargs.get(kind) or [])
            for kind in ("condition_check_items", "delete_items", "put_items", "update_items")
        )
        transactions.append(items)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Connection, "transact_write_items", counted)

    # When the creator sends with an Idempotency-Key (a receipt in the same transaction)
    status, message = send(creator, conversation["conversation_id"], "everyone", headers={"idempotency-key": "k"})

    # Then one transaction of 35 items held it (32 inboxes, the message, the receipt, the group's version)
    assert status == 201, message
    assert transactions == [35]
    assert transactions[0] <= TRANSACTION_ITEMS_MAX
    assert inbox(members[31])[conversation["conversation_id"]]["unread_count"] == 2


def test_the_creators_own_name_is_not_counted_against_the_32_members(aws, connections_api) -> None:
    # Given 33 people: a creator and 32 others
    creator, *others = [sign_up_claims(f"member{index:02d}") for index in range(33)]
    names = [person["username"] for person in others]

    # When the creator names 31 others and herself (as written, or in capitals)
    made = [create_group(creator, [*names[:31], own]) for own in (creator["username"], creator["username"].upper())]

    # Then each is a group of 32, her included once
    for status, body in made:
        assert status == 201, body
        assert sorted(member["username"] for member in body["members"]) == sorted([creator["username"], *names[:31]])
    # while 32 others, however named, are one too many
    status, body = create_group(creator, names)
    assert (status, body["error"]["code"]) == (422, "validation_error")
    assert body["error"]["details"] == [{"field": "members"}]
    assert body["error"]["message"] == "A group has 3 to 32 members, you included: name 2 to 31 others."


def test_a_member_who_leaves_reads_up_to_leaving_and_receives_nothing_after(people, connections_api, group) -> None:
    ada, cat = people["ada"], people["cat"]
    connect("cat-phone", cat)
    send(ada, group, "before")

    assert remove(cat, group, "cat")[0] == 204
    seen_before = len(connections_api.frames["cat-phone"])
    send(ada, group, "after")

    assert len(connections_api.frames["cat-phone"]) == seen_before
    status, page = history(cat, group)
    assert status == 200
    assert texts(page) == ["cat left", "before", "ada created the group"]
    assert send(cat, group, "still here?")[0] == 404
    assert inbox(cat)[group]["last_message"]["text"] == "cat left"
    assert texts(history(people["bob"], group)[1])[:2] == ["after", "cat left"]


def test_only_the_admin_removes_and_a_removed_member_gets_404(people, connections_api, group) -> None:
    ada, bob = people["ada"], people["bob"]

    status, body = remove(bob, group, "dan")
    assert (status, body["error"]["code"]) == (403, "forbidden")
    assert remove(ada, group, "dan")[0] == 204

    dan = people["dan"]
    assert history(dan, group)[0] == 404
    assert send(dan, group, "hello?")[0] == 404
    assert group not in inbox(dan)
    event = history(bob, group)[1]["items"][0]
    assert (event["kind"], event["event"]["type"], event["event"]["usernames"]) == ("system", "removed", ["dan"])


def test_nobody_in_a_block_with_a_member_is_added(people, connections_api, group) -> None:
    graph = GraphRepository()
    graph.block(people["eve"]["sub"], people["zed"]["sub"])  # eve blocks zed

    status, body = add(people["ada"], group, ["zed"])
    assert (status, body["error"]["code"]) == (403, "forbidden")
    status, body = create_group(people["ada"], ["eve", "zed"])
    assert (status, body["error"]["code"]) == (403, "forbidden")
    assert "zed" not in [m["username"] for m in inbox(people["ada"])[group]["members"]]


def test_strangers_cannot_read_write_type_or_change_a_group(people, connections_api, group) -> None:
    zed = people["zed"]
    assert history(zed, group)[0] == 404
    assert send(zed, group, "let me in")[0] == 404
    assert add(zed, group, ["zed"])[0] == 404
    answer = frame("zed-phone", zed, {"action": "typing", "conversation_id": group}, "typing")
    assert answer is not None and answer["code"] == "not_found"
    answer = frame(
        "zed-phone",
        zed,
        {"action": "sendMessage", "conversation_id": group, "text": "x", "client_id": "z"},
        "sendMessage",
    )
    assert answer is not None and answer["code"] == "not_found"


def test_group_size_and_title_rules(people, connections_api, group) -> None:
    ada = people["ada"]
    status, body = create_group(ada, ["bob"])
    assert status == 422
    status, body = create_group(ada, ["bob", "nobody.here"])
    assert (status, body["error"]["details"]) == (404, [{"field": "members"}])
    status, body = add(ada, group, ["nobody.here"])
    assert (status, body["error"]["details"]) == (404, [{"field": "usernames"}])
    # Someone named twice as written is refused (the document says uniqueItems), not merged into a pair
    status, body = create_group(ada, ["bob", "bob", "cat"])
    assert (status, [detail["field"] for detail in body["error"]["details"]]) == (422, ["members"]), body
    status, body = add(ada, group, ["zed", "zed"])
    assert (status, [detail["field"] for detail in body["error"]["details"]]) == (422, ["usernames"]), body
    # but in two cases, which the document cannot call one name, they are one person, counted once
    status, body = create_group(ada, ["bob", "BOB", "cat"])
    assert (status, sorted(member["username"] for member in body["members"])) == (201, ["ada", "bob", "cat"]), body
    status, body = call(
        "PATCH",
        f"/conversations/{group}",
        people["bob"],
        "/conversations/{conversation_id}",
        path_parameters={"conversation_id": group},
        body={"title": "new name"},
    )
    assert (status, body["title"]) == (200, "new name")
    assert history(ada, group)[1]["items"][0]["event"] == {
        "type": "title_changed",
        "usernames": [],
        "title": "new name",
    }
    adding = [sign_up_claims(f"extra{index:02d}")["username"] for index in range(28)]
    status, body = add(ada, group, adding)
    assert (status, body["error"]["code"]) == (422, "validation_error")  # 5 + 28 = 33


def test_typing_reaches_the_others_once_per_window(people, connections_api, group, monkeypatch) -> None:
    # Given the rate limiter's clock held in one window (on a loaded machine three frames can straddle a window's
    # end, and the second window rightly lets one more notice out)
    now = time.time()
    monkeypatch.setattr(logic.rate_limits, "enforce", partial(rate_limits.enforce, clock=lambda: now))
    for name in NAMES:
        connect(f"{name}-phone", people[name])

    for _ in range(3):
        assert frame("ada-phone", people["ada"], {"action": "typing", "conversation_id": group}, "typing") is None

    assert connections_api.of_type("bob-phone", "typing") == [{"type": "typing", "conversation_id": group, "by": "ada"}]
    assert connections_api.of_type("ada-phone", "typing") == []


def test_unsending_keeps_previews_and_unread_counts_right(people, connections_api, group) -> None:
    ada, bob = people["ada"], people["bob"]
    connect("cat-phone", people["cat"])
    _, first = send(ada, group, "first")
    _, second = send(ada, group, "oops")
    before = inbox(bob)[group]["unread_count"]

    status, body = unsend(bob, group, second["message_id"])
    assert (status, body["error"]["code"]) == (403, "forbidden")
    assert unsend(ada, group, second["message_id"])[0] == 204

    bobs = inbox(bob)[group]
    assert bobs["unread_count"] == before - 1
    assert bobs["last_message"]["message_id"] == first["message_id"]
    assert "oops" not in texts(history(bob, group)[1])
    assert connections_api.of_type("cat-phone", "message_deleted") == [
        {"type": "message_deleted", "conversation_id": group, "message_id": second["message_id"]}
    ]
    assert unsend(ada, group, second["message_id"])[0] == 404


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 40, 90)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_a_photo_message_is_delivered_when_ready_through_private_signed_urls(people, connections_api, group) -> None:
    ada, bob = people["ada"], people["bob"]
    connect("bob-phone", bob)
    picture = _jpeg()

    status, sent = send(ada, group, "look", extra={"media": {"content_type": "image/jpeg", "size_bytes": len(picture)}})

    assert status == 201, sent
    assert sent["kind"] == "media" and sent["media"]["status"] == "pending" and sent["upload"]["url"]
    assert "look" not in texts(history(bob, group)[1])  # not delivered before its picture is ready
    assert connections_api.of_type("bob-phone", "message") == []
    key = MessageUploadKey(group, sent["message_id"], sent["media"]["media_id"])
    uploads = get_settings().uploads_bucket_name
    boto3.client("s3").put_object(Bucket=uploads, Key=str(key), Body=picture, ContentType="image/jpeg")

    assert process_message_upload(uploads, key).value == "ready"  # type: ignore[union-attr]
    assert process_message_upload(uploads, key) is None  # a duplicate event does nothing

    pushed = connections_api.of_type("bob-phone", "message")[-1]["message"]
    assert pushed["message_id"] == sent["message_id"] and pushed["media"]["status"] == "ready"
    url = pushed["media"]["renditions"]["large"]["url"]
    assert get_settings().message_media_bucket_name in url and "X-Amz-Signature" in url
    assert not url.startswith(get_settings().media_base_url)
    assert inbox(bob)[group]["last_message"]["message_id"] == sent["message_id"]
    bucket = get_settings().message_media_bucket_name
    assert boto3.client("s3").list_objects_v2(Bucket=bucket)["KeyCount"] == 6

    assert unsend(ada, group, sent["message_id"])[0] == 204
    assert boto3.client("s3").list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    assert boto3.client("s3").list_objects_v2(Bucket=uploads, Prefix=str(key))["KeyCount"] == 0  # the upload too


def test_the_ack_of_a_photo_message_is_the_http_answer_upload_included(people, connections_api) -> None:
    # Given ada on her phone
    ada = people["ada"]
    connect("ada-phone", ada)
    media = {"content_type": "image/png", "size_bytes": 500}

    # When she sends a photo over the WebSocket, and another over HTTP
    ack = frame(
        "ada-phone", ada, {"action": "sendMessage", "to": "bob", "media": media, "client_id": "mm1"}, "sendMessage"
    )
    status, answer = call("POST", "/messages", ada, "/messages", body={"to": "bob", "media": media})

    # Then the ack is {type, client_id, message} and its message carries `upload` where the HTTP answer has it
    assert status == 201 and ack is not None
    assert set(ack) == {"type", "client_id", "message"} and (ack["type"], ack["client_id"]) == ("ack", "mm1")
    assert set(ack["message"]) == set(answer)
    upload = ack["message"]["upload"]
    assert upload["media_id"] == ack["message"]["media"]["media_id"] and upload["url"] and upload["fields"]
    assert set(upload) == set(answer["upload"]) == {"media_id", "url", "fields", "expires_at"}
    # and a text's ack, as its HTTP answer, says there is nothing to upload
    text_ack = frame(
        "ada-phone", ada, {"action": "sendMessage", "to": "bob", "text": "hi", "client_id": "t1"}, "sendMessage"
    )
    assert text_ack is not None and set(text_ack) == {"type", "client_id", "message"}
    assert text_ack["message"]["upload"] is None


def test_a_photo_opening_a_direct_conversation_is_its_senders_to_read_and_unsend_before_it_is_ready(
    people, connections_api
) -> None:
    ada, bob = people["ada"], people["bob"]
    picture = _jpeg()
    declared = {"media": {"content_type": "image/jpeg", "size_bytes": len(picture)}}

    status, sent = call("POST", "/messages", ada, "/messages", body={"to": "bob", **declared})

    assert status == 201, sent
    conversation = sent["conversation_id"]
    status, page = history(ada, conversation)
    assert status == 200 and [m["message_id"] for m in page["items"]] == [sent["message_id"]]
    assert page["items"][0]["media"]["status"] == "pending"
    # listed for its sender at once (she finds the thread she opened; no preview of what only she sees), for its
    # recipient once delivered
    assert inbox(ada)[conversation]["last_message"] is None and inbox(ada)[conversation]["unread_count"] == 0
    assert inbox(ada)[conversation]["with"]["username"] == "bob"
    assert conversation not in inbox(bob)
    assert history(bob, conversation)[0] == 404
    key = MessageUploadKey(conversation, sent["message_id"], sent["media"]["media_id"])
    uploads = get_settings().uploads_bucket_name
    boto3.client("s3").put_object(Bucket=uploads, Key=str(key), Body=picture, ContentType="image/jpeg")
    assert process_message_upload(uploads, key).value == "ready"  # type: ignore[union-attr]
    assert inbox(ada)[conversation]["last_message"]["message_id"] == sent["message_id"]
    assert inbox(bob)[conversation]["unread_count"] == 1
    # and one unsent before it was ready leaves its sender nothing to see, and its recipient nothing to hear
    _, again = call("POST", "/messages", ada, "/messages", body={"to": "cat", **declared})
    assert unsend(ada, again["conversation_id"], again["message_id"])[0] == 204
    assert history(ada, again["conversation_id"])[1]["items"] == []
    assert again["conversation_id"] not in inbox(people["cat"])


def _unsigned(message: dict[str, Any]) -> dict[str, Any]:
    """A message with its renditions' URLs cut at the query (each read signs them anew)."""
    media = message.get("media")
    if not media:
        return message
    renditions = {name: {**r, "url": r["url"].split("?")[0]} for name, r in media["renditions"].items()}
    return {**message, "media": {**media, "renditions": renditions}}


def test_a_conversations_last_message_is_the_message_as_listed_every_field(people, connections_api) -> None:
    ada, bob = people["ada"], people["bob"]
    connect("bob-phone", bob)
    status, created = create_group(ada, ["bob", "cat"], title="trip")
    assert status == 201
    group = created["conversation_id"]

    def newest_listed(claims: dict[str, str]) -> dict[str, Any]:
        return dict(history(claims, group)[1]["items"][0])

    # a system message, as the creator's answer, the inbox and the pushed conversation show it
    assert created["last_message"]["event"] == {"type": "created", "usernames": ["bob", "cat"], "title": "trip"}
    assert created["last_message"] == newest_listed(ada)
    assert inbox(bob)[group]["last_message"] == newest_listed(bob)
    pushed = connections_api.of_type("bob-phone", "conversation")[-1]["conversation"]
    assert pushed["last_message"] == newest_listed(bob)
    # each change of the group is a system message with its event
    for change in (
        lambda: call(
            "PATCH",
            f"/conversations/{group}",
            ada,
            "/conversations/{conversation_id}",
            path_parameters={"conversation_id": group},
            body={"title": "summer"},
        ),
        lambda: add(ada, group, ["dan"]),
        lambda: remove(people["cat"], group, "cat"),
    ):
        assert change()[0] in (200, 204)
        last = inbox(bob)[group]["last_message"]
        assert last["kind"] == "system" and last["event"] is not None
        assert last == newest_listed(bob)
    # a photo message, once delivered: its media, ready, as the list shows it
    picture = _jpeg()
    status, sent = send(ada, group, "look", extra={"media": {"content_type": "image/jpeg", "size_bytes": len(picture)}})
    assert status == 201
    key = MessageUploadKey(group, sent["message_id"], sent["media"]["media_id"])
    uploads = get_settings().uploads_bucket_name
    boto3.client("s3").put_object(Bucket=uploads, Key=str(key), Body=picture, ContentType="image/jpeg")
    assert process_message_upload(uploads, key).value == "ready"  # type: ignore[union-attr]
    last = inbox(bob)[group]["last_message"]
    assert (last["kind"], last["media"]["status"]) == ("media", "ready")
    assert "X-Amz-Signature" in last["media"]["renditions"]["large"]["url"]
    assert _unsigned(last) == _unsigned(newest_listed(bob))
    # and a text message after it: the preview as it always was
    assert send(bob, group, "nice")[0] == 201
    assert inbox(ada)[group]["last_message"] == newest_listed(ada)


def test_a_member_who_left_sees_the_group_as_it_was_when_they_left(people, connections_api, group) -> None:
    ada, cat = people["ada"], people["cat"]
    connect("cat-phone", cat)
    assert remove(cat, group, "cat")[0] == 204
    [told] = [frame["conversation"] for frame in connections_api.of_type("cat-phone", "conversation")]

    # When the group is renamed, loses a member and gains one after cat left
    rename = {"title": "secret plans"}
    route = "/conversations/{conversation_id}"
    assert (
        call("PATCH", f"/conversations/{group}", ada, route, path_parameters={"conversation_id": group}, body=rename)[0]
        == 200
    )
    assert remove(ada, group, "dan")[0] == 204
    assert add(ada, group, ["zed"])[0] == 200

    # Then cat's inbox shows the group as the frame at leaving told it: none of it is cat's to hear of
    seen = inbox(cat)[group]
    assert (seen["title"], [m["username"] for m in seen["members"]]) == (
        "trip",
        [m["username"] for m in told["members"]],
    )
    assert seen == {**told, "unread_count": seen["unread_count"]}
    assert {"dan", "zed"} & {m["username"] for m in seen["members"]} == {"dan"}  # dan was still in it then
    # And once added back, cat sees the group as it is
    assert add(ada, group, ["cat"])[0] == 200
    assert inbox(cat)[group]["title"] == "secret plans"


def test_a_deleted_members_messages_are_not_left_unread_once_the_rest_is_read(people, connections_api, group) -> None:
    ada, bob, cat = people["ada"], people["bob"], people["cat"]
    _, from_cat = send(cat, group, "from cat")
    send(ada, group, "from ada last")
    UserModel(user_id=ada["sub"]).update(actions=[UserModel.deactivated_at.set(utc_now())])  # as DELETE /me marks it

    # When bob reads everything he is shown (ada's messages are not, while her account is deleted)
    assert "from ada last" not in texts(history(bob, group)[1])
    assert read(bob, group, from_cat["message_id"]) == 204

    # Then nothing is left unread that he could never read, and the preview is the newest message he is shown
    assert inbox(bob)[group]["unread_count"] == 0
    assert inbox(bob)[group]["last_message"] == history(bob, group)[1]["items"][0]


def test_the_last_member_leaving_deletes_the_conversations_pictures(people, connections_api) -> None:
    ada = people["ada"]
    _, conversation = create_group(ada, ["bob", "cat"])
    group = conversation["conversation_id"]
    picture = _jpeg()
    _, sent = send(ada, group, "pic", extra={"media": {"content_type": "image/jpeg", "size_bytes": len(picture)}})
    key = MessageUploadKey(group, sent["message_id"], sent["media"]["media_id"])
    uploads = get_settings().uploads_bucket_name
    boto3.client("s3").put_object(Bucket=uploads, Key=str(key), Body=picture, ContentType="image/jpeg")
    process_message_upload(uploads, key)
    bucket = get_settings().message_media_bucket_name

    for name in ("ada", "bob"):
        assert remove(people[name], group, name)[0] == 204
        assert boto3.client("s3").list_objects_v2(Bucket=bucket)["KeyCount"] == 6
    assert remove(people["cat"], group, "cat")[0] == 204

    assert boto3.client("s3").list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    assert boto3.client("s3").list_objects_v2(Bucket=uploads, Prefix=f"messages/{group}/")["KeyCount"] == 0


def mute(claims: dict[str, str], conversation_id: str, method: str = "POST") -> tuple[int, Any]:
    return call(
        method,
        f"/conversations/{conversation_id}/mute",
        claims,
        "/conversations/{conversation_id}/mute",
        path_parameters={"conversation_id": conversation_id},
    )


def test_when_the_creator_leaves_the_longest_standing_member_manages_the_group(people, connections_api, group) -> None:
    # Given ada's group of five founders, and zed added later
    ada = people["ada"]
    assert inbox(ada)[group]["admin"]["username"] == "ada"
    assert add(ada, group, ["zed"])[0] == 200

    # When ada leaves
    assert remove(ada, group, "ada")[0] == 204

    # Then a founder, not zed, is the admin (the founders joined together: the smallest user id among them), shown
    # on the conversation, and the admin alone removes members
    founders = {people[name]["sub"]: name for name in ("bob", "cat", "dan", "eve")}
    admin = founders[min(founders)]
    others = [name for name in founders.values() if name != admin]
    assert inbox(people["zed"])[group]["admin"]["username"] == admin
    status, body = remove(people[others[0]], group, "zed")
    assert (status, body["error"]["code"]) == (403, "forbidden")
    assert remove(people[admin], group, "zed")[0] == 204
    assert history(people["zed"], group)[0] == 404

    # And when that admin leaves too, the next founder takes over
    assert remove(people[admin], group, admin)[0] == 204
    remaining = {sub: name for sub, name in founders.items() if name != admin}
    successor = remaining[min(remaining)]
    assert inbox(people[successor])[group]["admin"]["username"] == successor
    victim = next(name for name in remaining.values() if name != successor)
    assert remove(people[successor], group, victim)[0] == 204


def test_a_member_who_joined_later_is_admin_only_once_every_earlier_one_left(people, connections_api) -> None:
    # Given ada's group with bob and cat, dan added later, then bob and cat leaving
    ada = people["ada"]
    _, conversation = create_group(ada, ["bob", "cat"])
    group = conversation["conversation_id"]
    assert add(ada, group, ["dan", "eve"])[0] == 200
    for name in ("bob", "cat"):
        assert remove(people[name], group, name)[0] == 204

    # When ada leaves / Then dan or eve (who joined together: the smaller user id) manages the group
    assert remove(ada, group, "ada")[0] == 204
    later = {people[name]["sub"]: name for name in ("dan", "eve")}
    assert inbox(people["dan"])[group]["admin"]["username"] == later[min(later)]


def test_a_muted_conversation_still_arrives_and_lists_as_muted(people, connections_api, group) -> None:
    # Given bob muting the group (twice: it is idempotent)
    ada, bob = people["ada"], people["bob"]
    connect("bob-phone", bob)
    assert inbox(bob)[group]["muted"] is False
    assert mute(bob, group)[0] == 204
    assert mute(bob, group)[0] == 204

    # When ada writes
    _, sent = send(ada, group, "still here")

    # Then bob's connection and list still get it, the conversation shows muted (for bob only), unread counts
    assert [frame["message"]["message_id"] for frame in connections_api.of_type("bob-phone", "message")] == [
        sent["message_id"]
    ]
    bobs = inbox(bob)[group]
    assert (bobs["muted"], bobs["last_message"]["message_id"], bobs["unread_count"]) == (True, sent["message_id"], 2)
    assert inbox(ada)[group]["muted"] is False

    # And unmuting (twice) shows it unmuted again
    assert mute(bob, group, "DELETE")[0] == 204
    assert mute(bob, group, "DELETE")[0] == 204
    assert inbox(bob)[group]["muted"] is False


def test_only_a_member_mutes_a_conversation(people, connections_api, group) -> None:
    status, body = mute(people["zed"], group)
    assert (status, body["error"]["code"]) == (404, "not_found")
    assert remove(people["eve"], group, "eve")[0] == 204
    assert mute(people["eve"], group)[0] == 404  # a member who left has nothing left to mute
    assert mute(people["zed"], "no-such-conversation", "DELETE")[0] == 404


def test_one_to_one_conversations_keep_their_ids_and_shape(people, connections_api) -> None:
    ada, bob = people["ada"], people["bob"]
    status, message = call("POST", "/messages", ada, "/messages", body={"to": "bob", "text": "hey"})
    assert status == 201
    assert message["conversation_id"] == "_".join(sorted((ada["sub"], bob["sub"])))
    bobs = inbox(bob)[message["conversation_id"]]
    assert (bobs["kind"], bobs["with"]["username"], bobs["title"]) == ("direct", "ada", None)
    status, reply = send(bob, message["conversation_id"], "hey back")
    assert status == 201 and reply["conversation_id"] == message["conversation_id"]
    # a direct conversation has no title or members to change
    direct = message["conversation_id"]
    path = {"conversation_id": direct}
    renamed = call(
        "PATCH",
        f"/conversations/{direct}",
        ada,
        "/conversations/{conversation_id}",
        body={"title": "x"},
        path_parameters=path,
    )
    added = add(ada, direct, ["cat"])
    for status, answer in (renamed, added):
        assert (status, answer["error"]["code"]) == (422, "not_a_group")
        assert answer["error"]["details"] == [{"field": "conversation_id"}]
    assert (inbox(ada)[direct]["title"], len(inbox(ada)[direct]["members"])) == (None, 2)


def test_a_photo_not_yet_delivered_is_never_counted_unread(people, connections_api, group) -> None:
    ada, bob = people["ada"], people["bob"]
    picture = _jpeg()
    send(ada, group, "pic", extra={"media": {"content_type": "image/jpeg", "size_bytes": len(picture)}})
    send(ada, group, "words")
    created = history(bob, group)[1]["items"][-1]

    status, _ = call(
        "POST",
        f"/conversations/{group}/read",
        bob,
        "/conversations/{conversation_id}/read",
        path_parameters={"conversation_id": group},
        body={"up_to": created["message_id"]},
    )

    assert status == 204
    assert inbox(bob)[group]["unread_count"] == 1  # "words"; the photo is not delivered yet


def _hide(claims: dict[str, str], how: str) -> None:
    """As a moderator's suspend_user, or DELETE /me, leaves the account."""
    if how == "suspension":
        assert ProfileRepository().set_suspended(claims["sub"], True)
    else:
        UserModel(user_id=claims["sub"]).update(actions=[UserModel.deactivated_at.set(utc_now())])


def _bring_back(claims: dict[str, str], how: str) -> None:
    """As unsuspend_user, or logging in again within the grace period, brings the account back."""
    if how == "suspension":
        assert ProfileRepository().set_suspended(claims["sub"], False)
    else:
        UserModel(user_id=claims["sub"]).update(actions=[UserModel.deactivated_at.remove()])


@pytest.mark.parametrize("hidden_by", ["suspension", "deactivation"])
def test_unread_counts_only_what_the_reader_is_shown_and_reading_the_newest_shown_clears_it(
    people, connections_api, hidden_by
) -> None:
    # Given dan's group where ada and bob write, dan writes last, and then dan is suspended or deleted his account
    ada, bob, cat, dan = people["ada"], people["bob"], people["cat"], people["dan"]
    group = create_group(dan, ["ada", "bob", "cat"])[1]["conversation_id"]
    send(ada, group, "from ada")
    _, from_bob = send(bob, group, "from bob")
    send(dan, group, "from dan last")
    _hide(dan, hidden_by)

    # Then each member's count is what they are shown unread: bob read all of it by writing, cat has two to read
    assert texts(history(cat, group)[1]) == ["from bob", "from ada"]
    assert inbox(bob)[group]["unread_count"] == 0
    assert inbox(cat)[group]["unread_count"] == 2

    # When both mark read up to the newest message they are shown (for bob, his own: the mark he has already)
    assert read(bob, group, from_bob["message_id"]) == 204
    assert read(cat, group, from_bob["message_id"]) == 204

    # Then nothing is unread, and it stays so once dan is back: marking read the newest message shown covered his
    assert inbox(bob)[group]["unread_count"] == 0
    assert inbox(cat)[group]["unread_count"] == 0
    _bring_back(dan, hidden_by)
    assert texts(history(cat, group)[1])[0] == "from dan last"
    assert inbox(bob)[group]["unread_count"] == 0
    assert inbox(cat)[group]["unread_count"] == 0


@pytest.mark.parametrize("hidden_by", ["suspension", "deactivation"])
def test_marking_read_up_to_a_hidden_members_message_answers_as_for_a_message_nowhere(
    people, connections_api, hidden_by
) -> None:
    # Given dan's group where ada writes, then dan, then bob; and then dan is suspended or deleted his account
    ada, bob, cat, dan = people["ada"], people["bob"], people["cat"], people["dan"]
    group = create_group(dan, ["ada", "bob", "cat"])[1]["conversation_id"]
    send(ada, group, "from ada")
    _, from_dan = send(dan, group, "from dan")
    send(bob, group, "from bob")
    _hide(dan, hidden_by)
    route = "/conversations/{conversation_id}/read"
    connect("cat-phone", cat)

    def answers(up_to: str) -> tuple[tuple[int, Any], dict[str, Any] | None]:
        over_http = call(
            "POST",
            f"/conversations/{group}/read",
            cat,
            route,
            path_parameters={"conversation_id": group},
            body={"up_to": up_to},
        )
        frame_body = {"action": "markRead", "conversation_id": group, "up_to": up_to}
        return over_http, frame("cat-phone", cat, frame_body, "markRead")

    unread_before = inbox(cat)[group]["unread_count"]

    # When cat marks read up to dan's message (whose id she was never shown), and up to an id that is nowhere
    hidden = answers(from_dan["message_id"])
    nowhere = answers("01J0000000000000000000000Z")

    # Then both answer alike, over HTTP and the WebSocket, and her read mark has not moved (it would have recounted
    # her unread to bob's message alone)
    assert hidden == nowhere
    assert hidden[0] == (404, {"error": {"code": "not_found", "message": "No such message in this conversation."}})
    assert hidden[1] == {"type": "error", "code": "not_found", "message": "No such message in this conversation."}
    assert inbox(cat)[group]["unread_count"] == unread_before > 1


def test_system_messages_leave_out_the_members_the_reader_is_not_shown(people, connections_api, group) -> None:
    # Given ada's group of bob, cat, dan and eve, to which she added zed; then bob was suspended, cat deleted her
    # account, and zed was suspended
    ada, dan = people["ada"], people["dan"]
    assert add(ada, group, ["zed"])[0] == 200
    _hide(people["bob"], "suspension")
    _hide(people["cat"], "deactivation")
    _hide(people["zed"], "suspension")

    # When dan reads the group, and his list
    status, page = history(dan, group)
    listed = inbox(dan)[group]

    # Then the system messages name only the people his list shows as members, in their event and their sentence
    assert status == 200
    assert sorted(member["username"] for member in listed["members"]) == ["ada", "dan", "eve"]
    added, created = page["items"]
    assert (added["event"], added["text"]) == (
        {"type": "joined", "usernames": [], "title": None},
        "ada added someone",
    )
    assert (created["event"], created["text"]) == (
        {"type": "created", "usernames": ["dan", "eve"], "title": "trip"},
        "ada created the group",
    )
    assert listed["last_message"] == added

    # And once they are back, they are named again
    _bring_back(people["zed"], "suspension")
    assert history(dan, group)[1]["items"][0]["text"] == "ada added zed"


def test_a_messages_page_is_filled_past_messages_of_a_member_since_suspended(people, connections_api) -> None:
    # Given a group's nine messages after its creation, newest first ada's and bob's: A B B A B B A B B; then a
    # moderator suspends bob (a direct conversation with him would be gone whole: only a group shows the rest)
    ada, bob = people["ada"], people["bob"]
    _, group = create_group(ada, ["bob", "cat"])
    for n, who in enumerate(["bob", "bob", "ada"] * 3):
        status, _ = send(bob if who == "bob" else ada, group["conversation_id"], f"m{n}")
        assert status == 201
    assert ProfileRepository().set_suspended(bob["sub"], True)

    # When ada reads the conversation a page of one at a time
    pages, cursor = [], None
    while len(pages) < 20:
        query = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        status, page = call(
            "GET",
            f"/conversations/{group['conversation_id']}/messages",
            ada,
            "/conversations/{conversation_id}/messages",
            path_parameters={"conversation_id": group["conversation_id"]},
            query=query,
        )
        assert status == 200, page
        cursor = page["next_cursor"]
        pages.append(([m["text"] if m["kind"] == "text" else m["kind"] for m in page["items"]], cursor is not None))
        if cursor is None:
            break

    # Then each page with a cursor holds her next message, never nothing; the list ends with the group's creation
    assert pages[:3] == [(["m8"], True), (["m5"], True), (["m2"], True)]
    assert [items for items, _ in pages[3:]] in ([["system"]], [["system"], []]), pages
    assert pages[-1][1] is False
