"""Direct messages through the messaging handlers (HTTP and WebSocket routes) on moto, with a
stand-in for API Gateway's @connections to see what each open connection received."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from functions.messaging import handler as http
from functions.messaging import websocket
from pinhole.graph.dal import BLOCKS, EdgeModel, user_key
from pinhole.messaging import logic
from pinhole.messaging.dal import MessagingModel, conversation_key
from pinhole.realtime.dal import CONNECTING_FOR, ConnectionModel, ConnectionRepository
from pinhole.shared.clock import to_iso, utc_now
from pinhole.shared.settings import get_settings
from pinhole.users.dal import ProfileRepository, UserModel
from tests.support.events import FakeLambdaContext, http_event, response_json, websocket_event
from tests.support.realtime import FakeConnectionsApi
from tests.support.users import sign_up_claims


@pytest.fixture
def connections_api(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeConnectionsApi]:
    api = FakeConnectionsApi()
    monkeypatch.setattr(logic._pusher, "_client", api)
    yield api


@pytest.fixture
def people(aws: dict[str, str]) -> dict[str, dict[str, str]]:
    return {name: sign_up_claims(name) for name in ("alice", "bob", "carol")}


def call(method: str, path: str, claims: dict[str, str], route: str, **kwargs: Any) -> tuple[int, Any, dict]:
    query = kwargs.pop("query", None)
    headers = kwargs.pop("headers", None)
    event = http_event(method, path, claims=claims, route_key=f"{method} {route}", **kwargs)
    if query:
        event["queryStringParameters"] = query
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    if headers:
        event["headers"].update(headers)
    response = http.handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response), response.get("headers") or {}


def send_http(sender: dict[str, str], to: str, text: str, **kwargs: Any) -> tuple[int, Any, dict]:
    return call("POST", "/messages", sender, "/messages", body={"to": to, "text": text}, **kwargs)


def frame(connection_id: str, caller: dict[str, str], body: Any, route: str) -> dict[str, Any] | None:
    """Sends one frame on a connection; the frame the route answers with, if any."""
    response = websocket.handler(websocket_event(route, connection_id, caller, body=body), FakeLambdaContext())
    assert response["statusCode"] == 200
    return response_json(response)


def connect(connection_id: str, caller: dict[str, str], headers: dict[str, str] | None = None) -> dict[str, Any]:
    return websocket.handler(websocket_event("$connect", connection_id, caller, headers=headers), FakeLambdaContext())


def conversations(claims: dict[str, str]) -> list[dict[str, Any]]:
    status, body, _ = call("GET", "/conversations", claims, "/conversations")
    assert status == 200
    return body["items"]


def messages_of(claims: dict[str, str], conversation_id: str, **kwargs: Any) -> tuple[int, Any]:
    path = f"/conversations/{conversation_id}/messages"
    status, body, _ = call(
        "GET",
        path,
        claims,
        "/conversations/{conversation_id}/messages",
        path_parameters={"conversation_id": conversation_id},
        **kwargs,
    )
    return status, body


def read(claims: dict[str, str], conversation_id: str, up_to: str) -> int:
    """POST /conversations/{id}/read: its status."""
    path = f"/conversations/{conversation_id}/read"
    route = "/conversations/{conversation_id}/read"
    parameters = {"conversation_id": conversation_id}
    return call("POST", path, claims, route, path_parameters=parameters, body={"up_to": up_to})[0]


def test_a_message_is_stored_in_both_inboxes_and_counted_unread_for_the_recipient(people, connections_api) -> None:
    alice, bob = people["alice"], people["bob"]

    status, message, _ = send_http(alice, "Bob", "  hello bob  ")

    assert status == 201
    assert message["text"] == "hello bob"
    assert message["sender"]["username"] == "alice"
    [bobs] = conversations(bob)
    assert bobs["with"]["username"] == "alice"
    assert bobs["unread_count"] == 1
    assert bobs["last_message"]["message_id"] == message["message_id"]
    [alices] = conversations(alice)
    assert alices["conversation_id"] == bobs["conversation_id"] == message["conversation_id"]
    assert alices["unread_count"] == 0


def test_a_frame_is_acked_to_its_connection_and_pushed_to_every_other_device(people, connections_api) -> None:
    alice, bob = people["alice"], people["bob"]
    for connection_id, owner in (("alice-phone", alice), ("alice-laptop", alice), ("bob-phone", bob)):
        assert connect(connection_id, owner)["statusCode"] == 200

    ack = frame(
        "alice-phone",
        alice,
        {"action": "sendMessage", "to": "bob", "text": "hi", "client_id": "c-1"},
        "sendMessage",
    )

    assert ack is not None and ack["type"] == "ack" and ack["client_id"] == "c-1"
    message_id = ack["message"]["message_id"]
    assert [f["message"]["message_id"] for f in connections_api.of_type("bob-phone", "message")] == [message_id]
    assert [f["message"]["message_id"] for f in connections_api.of_type("alice-laptop", "message")] == [message_id]
    assert connections_api.frames["alice-phone"] == []  # answered by the ack, not pushed again


def test_a_retried_send_with_the_same_client_id_changes_nothing(people, connections_api) -> None:
    alice, bob = people["alice"], people["bob"]
    connect("bob-phone", bob)
    body = {"action": "sendMessage", "to": "bob", "text": "once", "client_id": "retry-me"}

    first = frame("alice-phone", alice, body, "sendMessage")
    again = frame("alice-phone", alice, body, "sendMessage")

    assert first is not None and again is not None
    assert again["message"] == first["message"]
    assert len(connections_api.of_type("bob-phone", "message")) == 1
    _, page = messages_of(bob, first["message"]["conversation_id"])
    assert [m["text"] for m in page["items"]] == ["once"]
    assert conversations(bob)[0]["unread_count"] == 1


def test_an_idempotency_key_makes_an_http_send_a_no_op_on_retry(people, connections_api) -> None:
    alice = people["alice"]
    key = {"idempotency-key": "k-42"}

    first = send_http(alice, "bob", "twice?", headers=key)
    second = send_http(alice, "bob", "twice?", headers=key)

    assert first[0] == second[0] == 201
    assert first[1] == second[1]
    assert len(list(MessagingModel.query(f"conv#{first[1]['conversation_id']}"))) == 1


def test_messages_are_paged_newest_first_without_gaps(people, connections_api) -> None:
    alice, bob = people["alice"], people["bob"]
    sent = [send_http(alice if i % 2 else bob, "bob" if i % 2 else "alice", f"m{i}")[1] for i in range(5)]
    conversation_id = sent[0]["conversation_id"]

    status, first = messages_of(bob, conversation_id, query={"limit": "3"})
    _, second = messages_of(bob, conversation_id, query={"limit": "3", "cursor": first["next_cursor"]})

    assert status == 200
    texts = [m["text"] for m in first["items"] + second["items"]]
    assert texts == ["m4", "m3", "m2", "m1", "m0"]
    assert second["next_cursor"] is None


def test_only_participants_can_read_a_conversation(people, connections_api) -> None:
    alice, carol = people["alice"], people["carol"]
    message = send_http(alice, "bob", "private")[1]
    conversation_id = message["conversation_id"]

    status, body = messages_of(carol, conversation_id)
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, body, _ = call(
        "POST",
        f"/conversations/{conversation_id}/read",
        carol,
        "/conversations/{conversation_id}/read",
        path_parameters={"conversation_id": conversation_id},
        body={"up_to": message["message_id"]},
    )
    assert status == 404
    answer = frame(
        "carol-phone",
        carol,
        {"action": "markRead", "conversation_id": conversation_id, "up_to": message["message_id"]},
        "markRead",
    )
    assert answer == {"type": "error", "code": "not_found", "message": "No such conversation."}
    assert messages_of(carol, f"{carol['sub']}_{carol['sub']}")[0] == 404
    assert messages_of(carol, "not-a-conversation")[0] == 404


def test_marking_read_resets_the_count_and_tells_the_other_side(people, connections_api) -> None:
    alice, bob = people["alice"], people["bob"]
    connect("alice-phone", alice)
    connect("bob-laptop", bob)
    sent = [send_http(alice, "bob", text)[1] for text in ("one", "two", "three")]
    conversation_id = sent[0]["conversation_id"]

    answer = frame(
        "bob-phone",
        bob,
        {"action": "markRead", "conversation_id": conversation_id, "up_to": sent[1]["message_id"]},
        "markRead",
    )

    assert answer is None
    assert conversations(bob)[0]["unread_count"] == 1  # "three" is still unread
    receipts = connections_api.of_type("alice-phone", "read")
    assert receipts == [
        {"type": "read", "conversation_id": conversation_id, "up_to": sent[1]["message_id"], "by": "bob"}
    ]
    assert connections_api.of_type("bob-laptop", "read") == receipts  # bob's other device, too
    assert read(bob, conversation_id, sent[2]["message_id"]) == 204
    assert conversations(bob)[0]["unread_count"] == 0


def test_a_reply_reads_what_came_before_and_later_marks_still_count(people, connections_api) -> None:
    alice, bob = people["alice"], people["bob"]
    sent = [send_http(alice, "bob", text)[1] for text in ("one", "two")]
    conversation_id = sent[0]["conversation_id"]

    send_http(bob, "alice", "hi both")

    assert conversations(bob)[0]["unread_count"] == 0
    later = [send_http(alice, "bob", text)[1] for text in ("three", "four")]
    assert conversations(bob)[0]["unread_count"] == 2
    assert read(bob, conversation_id, later[0]["message_id"]) == 204
    assert conversations(bob)[0]["unread_count"] == 1  # "four"


def send_frame(caller: dict[str, str], to: str, text: str, client_id: str) -> dict[str, Any] | None:
    return frame("c", caller, {"action": "sendMessage", "to": to, "text": text, "client_id": client_id}, "sendMessage")


def test_bad_frames_get_error_frames(people, connections_api) -> None:
    alice = people["alice"]

    # The last two nested deeper than the parser goes; the local gateway, as API Gateway, routes both to $default
    deep_action = '{"action":"ping","x":' + "[" * 3000 + "]" * 3000 + "}"
    for not_a_frame in ("not json", "[" * 5000 + "]" * 5000, deep_action):
        assert frame("c", alice, not_a_frame, "$default") == {
            "type": "error",
            "code": "invalid_frame",
            "message": "A frame is a JSON object with an `action`.",
        }
    unknown = frame("c", alice, {"action": "dance"}, "$default")
    assert unknown is not None and unknown["code"] == "unknown_action"
    invalid = send_frame(alice, "bob", "", "c-9")
    assert invalid is not None and (invalid["code"], invalid["client_id"]) == ("validation_error", "c-9")
    missing = frame(
        "c", alice, {"action": "sendMessage", "to": "nobody_here", "text": "x", "client_id": "c-10"}, "sendMessage"
    )
    assert missing is not None and (missing["code"], missing["client_id"]) == ("not_found", "c-10")
    to_self = frame(
        "c", alice, {"action": "sendMessage", "to": "alice", "text": "x", "client_id": "c-11"}, "sendMessage"
    )
    assert to_self is not None and to_self["code"] == "cannot_message_self"
    assert frame("c", alice, {"action": "ping"}, "ping") == {"type": "pong"}
    # A client_id is the message's Idempotency-Key over the WebSocket: as long as the header may be, no longer
    longest = send_frame(alice, "bob", "x", "k" * 255)
    assert longest is not None and longest["type"] == "ack"
    too_long = send_frame(alice, "bob", "x", "k" * 256)
    assert too_long is not None and too_long["code"] == "validation_error"


def test_http_validation_errors_use_the_envelope(people, connections_api) -> None:
    alice = people["alice"]
    status, body, _ = send_http(alice, "bob", "x" * 2001)
    assert (status, body["error"]["code"]) == (422, "validation_error")
    status, body, _ = call("POST", "/messages", alice, "/messages", body={"to": "bob", "text": "x", "admin": True})
    assert status == 422
    assert send_http(alice, "nobody_here", "x")[0] == 404


def test_a_message_that_is_not_utf8_is_refused_and_nothing_is_sent(people, connections_api) -> None:
    # When Alice's message to Bob arrives in Latin-1 (as the local cloud passes it: base64-encoded, byte for byte)
    status, body, _ = call(
        "POST", "/messages", people["alice"], "/messages", raw_body=b'{"to": "bob", "text": "caf\xe9"}'
    )

    # Then it is refused as JSON that cannot be read, and no conversation holds it
    assert (status, body["error"]["code"]) == (422, "validation_error")
    (detail,) = body["error"]["details"]
    assert (detail["field"], detail["type"]) == ("body", "json_invalid")
    assert detail["message"].startswith("The body is not valid UTF-8")
    assert conversations(people["alice"]) == conversations(people["bob"]) == []


def test_a_block_either_way_stops_messages_and_hides_the_conversation(people, connections_api) -> None:
    alice, bob = people["alice"], people["bob"]
    conversation_id = send_http(alice, "bob", "before")[1]["conversation_id"]
    EdgeModel(
        pk=user_key(bob["sub"]),
        sk=f"{BLOCKS}{alice['sub']}",
        gsi1pk=f"blockedby#{alice['sub']}",
        gsi1sk="01",
        source_id=bob["sub"],
        target_id=alice["sub"],
        created_at="2026-11-22T10:00:00.000Z",
    ).save()

    status, body, _ = send_http(alice, "bob", "after")
    assert (status, body["error"]["code"]) == (403, "forbidden")
    assert send_http(bob, "alice", "after")[0] == 403
    assert conversations(alice) == [] and conversations(bob) == []
    assert messages_of(alice, conversation_id)[0] == 404


def connected_ago(user: dict[str, Any], connection_id: str, seconds: float) -> None:
    """As if `$connect` had recorded the connection `seconds` ago."""
    ConnectionModel(user_id=user["sub"], connection_id=connection_id).update(
        actions=[ConnectionModel.connected_at.set(to_iso(utc_now() - timedelta(seconds=seconds)))]
    )


def test_a_vanished_connection_is_forgotten_when_a_push_finds_it_gone(people, connections_api) -> None:
    alice, bob = people["alice"], people["bob"]
    connect("bob-old", bob)
    connect("bob-new", bob)
    connected_ago(bob, "bob-old", 60)
    connections_api.gone.add("bob-old")

    send_http(alice, "bob", "are you there?")

    assert len(connections_api.of_type("bob-new", "message")) == 1
    assert ConnectionRepository().of_user(bob["sub"]) == ["bob-new"]


def test_a_connection_still_connecting_is_kept_when_a_push_finds_it_not_open_yet(people, connections_api) -> None:
    # Given Bob's connection, recorded by $connect 29 s ago and not open yet: API Gateway answers a post with Gone
    alice, bob = people["alice"], people["bob"]
    connect("bob-phone", bob)
    connected_ago(bob, "bob-phone", CONNECTING_FOR.total_seconds() - 1)
    connections_api.gone.add("bob-phone")

    # When Alice writes to him meanwhile
    send_http(alice, "bob", "are you there?")

    # Then that frame is lost, but the connection is not forgotten: once open, it gets the next message
    assert ConnectionRepository().of_user(bob["sub"]) == ["bob-phone"]
    connections_api.gone.discard("bob-phone")
    send_http(alice, "bob", "hello?")
    assert [frame["message"]["text"] for frame in connections_api.of_type("bob-phone", "message")] == ["hello?"]


def test_a_push_to_a_connection_that_disconnected_meanwhile_forgets_nothing_else(people, connections_api) -> None:
    # Given a connection a push finds gone after its $disconnect already forgot it
    bob = people["bob"]
    connect("bob-phone", bob)
    connect("bob-laptop", bob)
    websocket.handler(websocket_event("$disconnect", "bob-phone", bob), FakeLambdaContext())

    # Then forgetting it again is a no-op, and the other connection stays
    assert ConnectionRepository().remove_gone(bob["sub"], "bob-phone") is True
    assert ConnectionRepository().of_user(bob["sub"]) == ["bob-laptop"]


def test_disconnect_forgets_the_connection(people, connections_api) -> None:
    bob = people["bob"]
    connect("bob-phone", bob)
    assert [c.connection_id for c in ConnectionModel.query(bob["sub"])] == ["bob-phone"]

    websocket.handler(websocket_event("$disconnect", "bob-phone", bob), FakeLambdaContext())

    assert list(ConnectionModel.query(bob["sub"])) == []


def test_connect_selects_the_pinhole_subprotocol_when_offered(people, connections_api) -> None:
    answer = connect("c", people["bob"], headers={"Sec-WebSocket-Protocol": "pinhole, eyJhbGciOi.token"})
    assert answer["headers"] == {"sec-websocket-protocol": "pinhole"}
    assert connect("d", people["bob"])["headers"] == {}


def test_sending_is_rate_limited_per_user(people, connections_api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATE_LIMITS", '{"message": {"limit": 2, "per_seconds": 3600}}')
    get_settings.cache_clear()
    alice = people["alice"]
    assert [send_http(alice, "bob", f"m{i}")[0] for i in range(2)] == [201, 201]

    status, body, headers = send_http(alice, "bob", "one too many")
    limited = send_frame(alice, "bob", "x", "c-1")

    assert (status, body["error"]["code"]) == (429, "rate_limited")
    assert 0 < int(headers["Retry-After"]) <= 3600
    assert limited is not None and limited["code"] == "rate_limited" and limited["retry_after_s"] > 0
    assert send_http(people["carol"], "bob", "someone else")[0] == 201  # the limit is per user


def _pages_of_conversations(claims: dict[str, str], limit: int) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        query = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        status, body, _ = call("GET", "/conversations", claims, "/conversations", query=query)
        assert status == 200, body
        pages.append([item["with"]["username"] for item in body["items"]])
        cursor = body.get("next_cursor")
        if not cursor:
            return pages


@pytest.mark.parametrize("read_exactly", [100, 0], ids=["first page from the table", "from the inbox index"])
def test_a_conversations_page_is_filled_past_conversations_with_people_since_suspended(
    people, connections_api, monkeypatch: pytest.MonkeyPatch, read_exactly: int
) -> None:
    # Given alice wrote to nine pals, latest activity first pal8 to pal0: all but every third since suspended
    from pinhole.messaging import dal

    monkeypatch.setattr(dal, "INBOX_READ_EXACTLY", read_exactly)
    pals = [sign_up_claims(f"pal{n}") for n in range(9)]
    for pal in pals:
        assert send_http(people["alice"], pal["username"], "hi")[0] == 201
    for pal in pals:
        if pal["username"] not in ("pal8", "pal5", "pal2"):
            assert ProfileRepository().set_suspended(pal["sub"], True)

    # When she pages through her conversations one at a time
    pages, cursor = [], None
    while len(pages) < 20:
        query = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        status, body, _ = call("GET", "/conversations", people["alice"], "/conversations", query=query)
        assert status == 200, body
        cursor = body["next_cursor"]
        pages.append(([item["with"]["username"] for item in body["items"]], cursor is not None))
        if cursor is None:
            break

    # Then each page with a cursor holds the next conversation she is shown, never nothing
    assert pages == [(["pal8"], True), (["pal5"], True), (["pal2"], True), ([], False)]


@pytest.mark.parametrize("read_exactly", [100, 0])
def test_conversations_page_the_same_from_the_table_and_from_the_inbox_index(
    people, connections_api, monkeypatch: pytest.MonkeyPatch, read_exactly: int
) -> None:
    # Given Alice wrote to Bob, then Carol, then Dave, then Bob again
    from pinhole.messaging import dal

    monkeypatch.setattr(dal, "INBOX_READ_EXACTLY", read_exactly)
    sign_up_claims("dave")
    alice = people["alice"]
    for to in ("bob", "carol", "dave", "bob"):
        assert send_http(alice, to, f"hi {to}")[0] == 201

    # When she pages through her conversations two at a time: the first page from her own partition
    # (strongly consistent), or from the inbox index when she has more than INBOX_READ_EXACTLY
    pages = _pages_of_conversations(alice, limit=2)

    # Then the order is the same either way (latest activity first) and the cursor carries on
    assert pages == [["bob", "dave"], ["carol"]]


def _answers_on(caller: dict[str, str], conversation_id: str, message_id: str) -> dict[str, Any]:
    """What every route on a conversation answers the caller, HTTP and WebSocket alike."""
    path, parameters = f"/conversations/{conversation_id}", {"conversation_id": conversation_id}
    route = "/conversations/{conversation_id}"

    def http_answer(method: str, suffix: str, body: Any = None) -> tuple[int, Any]:
        status, answer, _ = call(method, path + suffix, caller, route + suffix, path_parameters=parameters, body=body)
        return status, answer

    def frame_answer(action: str, **fields: str) -> dict[str, Any] | None:
        return frame("c", caller, {"action": action, "conversation_id": conversation_id, **fields}, action)

    sent = call("POST", "/messages", caller, "/messages", body={"conversation_id": conversation_id, "text": "x"})
    unsend_route = "/conversations/{conversation_id}/messages/{message_id}"
    unsent = call(
        "DELETE",
        f"{path}/messages/{message_id}",
        caller,
        unsend_route,
        path_parameters={**parameters, "message_id": message_id},
    )
    return {
        "send": sent[:2],
        "sendMessage frame": frame_answer("sendMessage", text="x", client_id="k1"),
        "messages": messages_of(caller, conversation_id),
        "read": http_answer("POST", "/read", {"up_to": message_id}),
        "markRead frame": frame_answer("markRead", up_to=message_id),
        "typing frame": frame_answer("typing"),
        "mute": http_answer("POST", "/mute"),
        "unmute": http_answer("DELETE", "/mute"),
        "unsend": unsent[:2],
    }


@pytest.mark.parametrize("hidden_by", ["suspension", "deactivation"])
def test_a_direct_conversation_with_a_hidden_account_answers_as_one_that_does_not_exist(
    people, connections_api, hidden_by
) -> None:
    # Given bob wrote to alice, alice answered, and then bob was suspended or deleted his account
    alice, bob = people["alice"], people["bob"]
    first = send_http(bob, "alice", "hello")[1]
    conversation_id = first["conversation_id"]
    own = send_http(alice, "bob", "hi bob")[1]
    if hidden_by == "suspension":
        assert ProfileRepository().set_suspended(bob["sub"], True)
    else:
        UserModel(user_id=bob["sub"]).update(actions=[UserModel.deactivated_at.set(utc_now())])  # as DELETE /me
    nowhere = "_".join(sorted((alice["sub"], "00000000-0000-0000-0000-000000000000")))

    # When alice tries every route on the conversation, and on one that does not exist
    answers = _answers_on(alice, conversation_id, own["message_id"])
    answers_nowhere = _answers_on(alice, nowhere, own["message_id"])

    # Then each answers exactly as for the conversation that does not exist, and nothing reached bob
    assert answers == answers_nowhere
    assert answers["send"] == (404, {"error": {"code": "not_found", "message": "No such conversation."}})
    assert answers["sendMessage frame"] == {
        "type": "error",
        "code": "not_found",
        "message": "No such conversation.",
        "client_id": "k1",
    }
    stored = list(MessagingModel.query(conversation_key(conversation_id)))
    assert sorted(item.text for item in stored if item.text) == ["hello", "hi bob"]
