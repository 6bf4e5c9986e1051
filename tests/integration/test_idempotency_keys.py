"""An Idempotency-Key names one request (API.md, docs/API_NOTES.md): the same key with the same request returns
the first result and does nothing again; the same key with a different request is refused with 422
`idempotency_key_reused` and does nothing at all, on every route that takes a key (posts, stories, comments,
direct messages over HTTP and over the WebSocket, where the frame's client_id is the key). A retry whose first result
was deleted since (a message unsent, a comment, post or story deleted) is refused with 409 `conflict`."""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from functions.messaging import handler as messaging
from functions.messaging import websocket
from functions.social import handler as social
from functions.upload import handler as upload
from pinhole.graph import logic as graph_logic
from pinhole.messaging import logic as messaging_logic
from pinhole.messaging.dal import MessagingModel
from pinhole.posts import logic as posts_logic
from pinhole.posts.dal import PostModel
from pinhole.posts.models import CreatePostRequest, CreatePostResponse
from pinhole.realtime.dal import ConnectionRepository
from pinhole.shared.caller import Caller
from pinhole.shared.idempotency import once
from pinhole.social.dal import InteractionModel
from tests.support.events import FakeLambdaContext, http_event, response_json, websocket_event
from tests.support.posts import publish
from tests.support.realtime import FakeConnectionsApi
from tests.support.users import sign_up_claims

JPEG = {"content_type": "image/jpeg", "size_bytes": 2_000_000}
REUSED = {
    "error": {
        "code": "idempotency_key_reused",
        "message": "This Idempotency-Key was used for a different request: use a new one for a new request.",
        "details": [{"field": "idempotency-key"}],
    }
}


@pytest.fixture
def people(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, dict[str, str]]]:
    monkeypatch.setattr(messaging_logic._pusher, "_client", FakeConnectionsApi())
    yield {name: sign_up_claims(name) for name in ("alice", "bob", "carol")}


def call(handler: Any, method: str, path: str, claims: dict[str, str], key: str, body: Any, **event: Any) -> Any:
    request = http_event(method, path, claims=claims, body=body, **event)
    request["headers"]["idempotency-key"] = key
    response = handler.handler(request, FakeLambdaContext())
    return response["statusCode"], response_json(response)


def create_post(claims: dict[str, str], key: str, body: Any) -> Any:
    return call(upload, "POST", "/posts", claims, key, body)


def posts_of(claims: dict[str, str]) -> int:
    return sum(1 for item in PostModel.scan() if getattr(item, "author_id", None) == claims["sub"])


def test_the_same_key_and_request_returns_the_first_post_even_written_differently(people: dict[str, Any]) -> None:
    # Given a post created with a key
    alice = people["alice"]
    first = create_post(alice, "k-1", {"caption": "dawn #sun", "media": [JPEG]})

    # When the same request is sent again with the key, its JSON spelled another way (key order, spacing)
    again = create_post(alice, "k-1", json.dumps({"media": [JPEG], "caption": "dawn #sun"}, indent=2))

    # Then it is the first result, and one post exists
    assert first[0] == again[0] == 201
    assert again[1] == first[1]
    assert posts_of(alice) == 1


@pytest.mark.parametrize(
    "second",
    [
        {"caption": "dusk", "media": [JPEG]},
        {"caption": "dawn", "media": [JPEG, JPEG]},
        {"caption": "dawn", "media": [{**JPEG, "size_bytes": 3_000_000}]},
    ],
    ids=["other caption", "other media count", "other media size"],
)
def test_the_same_key_with_another_post_is_refused_and_creates_nothing(
    people: dict[str, Any], second: dict[str, Any]
) -> None:
    # Given a post created with a key
    alice = people["alice"]
    assert create_post(alice, "k-1", {"caption": "dawn", "media": [JPEG]})[0] == 201

    # When another post is sent with the same key
    status, body = create_post(alice, "k-1", second)

    # Then it is refused, and only the first post exists
    assert (status, body) == (422, REUSED)
    assert posts_of(alice) == 1


def test_a_key_is_the_callers_own(people: dict[str, Any]) -> None:
    # Given alice's key, When bob uses the same key for his own, different post
    assert create_post(people["alice"], "k-1", {"caption": "hers", "media": [JPEG]})[0] == 201
    status, body = create_post(people["bob"], "k-1", {"caption": "his", "media": [JPEG]})

    # Then it is his new post
    assert status == 201 and body["post"]["caption"] == "his"


def test_the_same_key_with_another_story_is_refused(people: dict[str, Any]) -> None:
    alice = people["alice"]
    first = call(upload, "POST", "/stories", alice, "s-1", {"media": JPEG})
    retry = call(upload, "POST", "/stories", alice, "s-1", {"media": JPEG})
    other = call(upload, "POST", "/stories", alice, "s-1", {"media": {**JPEG, "content_type": "image/png"}})

    assert first[0] == retry[0] == 201 and retry[1] == first[1]
    assert other == (422, REUSED)


def comment(claims: dict[str, str], post_id: str, key: str, text: str) -> Any:
    return call(
        social,
        "POST",
        f"/posts/{post_id}/comments",
        claims,
        key,
        {"text": text},
        route_key="POST /posts/{post_id}/comments",
        path_parameters={"post_id": post_id},
    )


def test_the_same_key_with_another_comment_or_on_another_post_is_refused(people: dict[str, Any]) -> None:
    # Given two of alice's published posts, and bob's comment on the first, sent with a key
    alice, bob = people["alice"], people["bob"]
    first_post, second_post = publish(alice, "one"), publish(alice, "two")
    first = comment(bob, first_post, "c-1", "nice")

    # When he retries it, then sends other text, then the same text on the other post, all with the key
    retry = comment(bob, first_post, "c-1", "nice")
    other_text = comment(bob, first_post, "c-1", "very nice")
    other_post = comment(bob, second_post, "c-1", "nice")

    # Then the retry is the first comment; both others are refused
    assert first[0] == retry[0] == 201, first
    assert retry[1] == first[1]
    assert other_text == (422, REUSED)
    assert other_post == (422, REUSED)


def send(claims: dict[str, str], to: str, text: str, key: str) -> Any:
    return call(messaging, "POST", "/messages", claims, key, {"to": to, "text": text})


def stored_messages(conversation_id: str) -> list[str]:
    return [item.text for item in MessagingModel.query(f"conv#{conversation_id}")]


@pytest.mark.parametrize("to, text", [("bob", "bye"), ("carol", "hi")], ids=["other text", "other recipient"])
def test_the_same_key_with_another_message_is_refused_and_sends_nothing(
    people: dict[str, Any], to: str, text: str
) -> None:
    # Given alice's message to bob, sent with a key
    alice = people["alice"]
    status, first = send(alice, "bob", "hi", "m-1")
    assert status == 201

    # When another message is sent with the same key
    refused = send(alice, to, text, "m-1")

    # Then it is refused, and the conversation holds only the first
    assert refused == (422, REUSED)
    assert stored_messages(first["conversation_id"]) == ["hi"]
    assert send(alice, "bob", "hi", "m-1") == (201, first)


def test_a_websocket_frame_reusing_its_client_id_for_another_message_is_refused(people: dict[str, Any]) -> None:
    # Given alice connected, and a message she sent with client_id c-1
    alice = people["alice"]
    ConnectionRepository().add(alice["sub"], "alice-phone")

    def frame(text: str) -> Any:
        body = {"action": "sendMessage", "to": "bob", "text": text, "client_id": "c-1"}
        event = websocket_event("sendMessage", "alice-phone", alice, body=body)
        return response_json(websocket.handler(event, FakeLambdaContext()))

    assert frame("hi")["type"] == "ack"

    # When she sends another text under the same client_id, Then an error frame says so
    answer = frame("something else")
    assert (answer["type"], answer["code"], answer.get("client_id")) == ("error", "idempotency_key_reused", "c-1")
    assert "client_id" in answer["message"] and "Idempotency-Key" not in answer["message"]  # what the frame sent


def test_a_retry_while_the_first_request_still_runs_is_told_to_retry_shortly(people: dict[str, Any]) -> None:
    # Given a post being created with a key (as the upload function's POST /posts does: same caller, operation,
    # key and request), and the client's retry (a double tap) arriving over HTTP while it runs
    alice = people["alice"]
    body = {"caption": "dawn", "media": [JPEG]}
    caller, request = Caller(user_id=alice["sub"], username="alice"), CreatePostRequest.model_validate(body)
    retried = []

    def first_request() -> CreatePostResponse:
        retried.append(create_post(alice, "k-busy", body))
        return posts_logic.create_post(caller, request)

    first = once(
        caller, "create_post", "k-busy", first_request, CreatePostResponse, FakeLambdaContext(), request=request
    )

    # Then the retry is told to come back shortly (not a 500), and once the first has finished it gets its answer
    [(status, refused)] = retried
    assert status == 409 and refused["error"]["code"] == "conflict"
    assert refused["error"]["details"] == [{"field": "idempotency-key"}]
    status, answer = create_post(alice, "k-busy", body)
    assert status == 201 and answer["post"]["post_id"] == first.post.post_id
    assert posts_of(alice) == 1


def unsend(claims: dict[str, str], message: dict[str, Any]) -> int:
    path = "/conversations/{conversation_id}/messages/{message_id}"
    params = {"conversation_id": message["conversation_id"], "message_id": message["message_id"]}
    request = http_event(
        "DELETE", path.format(**params), claims=claims, route_key=f"DELETE {path}", path_parameters=params
    )
    return int(messaging.handler(request, FakeLambdaContext())["statusCode"])


def test_a_retry_of_a_message_unsent_since_is_refused_and_sends_nothing(people: dict[str, Any]) -> None:
    # Given alice's message sent with a key, then unsent
    alice = people["alice"]
    status, first = send(alice, "bob", "hi", "m-gone")
    assert status == 201
    assert unsend(alice, first) == 204

    # When the same request comes again with the same key (a retry after a lost answer)
    status, refused = send(alice, "bob", "hi", "m-gone")

    # Then it is refused (409, naming the key), not a 500; nothing is sent again
    assert status == 409 and refused["error"]["code"] == "conflict"
    assert refused["error"]["details"] == [{"field": "idempotency-key"}]
    assert stored_messages(first["conversation_id"]) == []


def test_a_websocket_retry_of_a_message_unsent_since_is_refused(people: dict[str, Any]) -> None:
    alice = people["alice"]
    ConnectionRepository().add(alice["sub"], "alice-phone")
    body = {"action": "sendMessage", "to": "bob", "text": "hi", "client_id": "c-gone"}

    def frame() -> Any:
        return response_json(
            websocket.handler(websocket_event("sendMessage", "alice-phone", alice, body=body), FakeLambdaContext())
        )

    ack = frame()
    assert ack["type"] == "ack" and unsend(alice, ack["message"]) == 204

    answer = frame()
    assert (answer["type"], answer["code"], answer.get("client_id")) == ("error", "conflict", "c-gone")
    assert "client_id" in answer["message"]


def delete(handler: Any, path: str, claims: dict[str, str], params: dict[str, str]) -> int:
    """DELETE of a route (`path` as API Gateway names it, its parameters filled in from `params`)."""
    request = http_event(
        "DELETE", path.format(**params), claims=claims, route_key=f"DELETE {path}", path_parameters=params
    )
    return int(handler.handler(request, FakeLambdaContext())["statusCode"])


def test_a_retry_of_a_comment_deleted_since_is_refused_and_comments_nothing(people: dict[str, Any]) -> None:
    # Given bob's comment on alice's post, sent with a key, then deleted
    alice, bob = people["alice"], people["bob"]
    post_id = publish(alice, "one")
    status, first = comment(bob, post_id, "c-gone", "nice")
    assert status == 201
    params = {"post_id": post_id, "comment_id": first["comment_id"]}
    assert delete(social, "/posts/{post_id}/comments/{comment_id}", bob, params) == 204

    # When the same request comes again with the same key (a retry after a lost answer)
    status, refused = comment(bob, post_id, "c-gone", "nice")

    # Then it is refused as a retried message unsent since is (409 naming the key), and nothing is commented again
    assert (status, refused) == (
        409,
        {
            "error": {
                "code": "conflict",
                "message": "The comment this Idempotency-Key first made has been deleted since: "
                "use a new key to comment again.",
                "details": [{"field": "idempotency-key"}],
            }
        },
    )
    assert [item.sk for item in InteractionModel.query(f"post#{post_id}")] == []
    # and a new key comments again
    assert comment(bob, post_id, "c-new", "nice")[0] == 201


def test_a_retry_of_a_comment_whose_post_was_deleted_since_is_refused_as_the_comment_went_with_it(
    people: dict[str, Any],
) -> None:
    # Given bob's comment on alice's post, sent with a key, then alice deletes the post
    alice, bob = people["alice"], people["bob"]
    post_id = publish(alice, "doomed")
    assert comment(bob, post_id, "c-doomed", "on doomed")[0] == 201
    assert delete(upload, "/posts/{post_id}", alice, {"post_id": post_id}) == 204

    # When bob retries the same request with the same key
    status, refused = comment(bob, post_id, "c-doomed", "on doomed")

    # Then it is refused as a retry of a comment deleted since is: his comment went with the post
    assert (status, refused) == (
        409,
        {
            "error": {
                "code": "conflict",
                "message": "The comment this Idempotency-Key first made has been deleted since: "
                "use a new key to comment again.",
                "details": [{"field": "idempotency-key"}],
            }
        },
    )


def test_a_retry_of_a_comment_on_a_post_hidden_from_its_author_since_is_not_found(people: dict[str, Any]) -> None:
    # Given bob's comment on alice's post, sent with a key, then alice blocks bob
    alice, bob = people["alice"], people["bob"]
    post_id = publish(alice, "mine")
    assert comment(bob, post_id, "c-blocked", "hello")[0] == 201
    graph_logic.block(Caller(user_id=alice["sub"], username="alice"), "bob")

    # When bob retries the same request with the same key
    status, answer = comment(bob, post_id, "c-blocked", "hello")

    # Then it answers what a new comment on the post would: no such post (not his comment, nor that he was blocked)
    assert (status, answer) == (404, {"error": {"code": "not_found", "message": "No such post."}})
    assert comment(bob, post_id, "c-new", "hello") == (status, answer)


def test_a_retry_of_a_comment_still_there_is_its_first_answer_even_when_another_was_deleted(
    people: dict[str, Any],
) -> None:
    alice, bob = people["alice"], people["bob"]
    post_id = publish(alice, "one")
    kept = comment(bob, post_id, "c-kept", "kept")
    gone = comment(bob, post_id, "c-other", "gone")
    params = {"post_id": post_id, "comment_id": gone[1]["comment_id"]}
    assert delete(social, "/posts/{post_id}/comments/{comment_id}", bob, params) == 204

    assert comment(bob, post_id, "c-kept", "kept") == kept


def test_a_retry_of_a_post_deleted_since_is_refused_and_creates_nothing(people: dict[str, Any]) -> None:
    # Given alice's post created with a key, then deleted
    alice = people["alice"]
    status, first = create_post(alice, "p-gone", {"caption": "dawn", "media": [JPEG]})
    assert status == 201
    assert delete(upload, "/posts/{post_id}", alice, {"post_id": first["post"]["post_id"]}) == 204

    # When the same request comes again with the key
    status, refused = create_post(alice, "p-gone", {"caption": "dawn", "media": [JPEG]})

    # Then it is refused (its upload URLs would lead nowhere), and no post exists
    assert (status, refused["error"]["code"], refused["error"]["details"]) == (
        409,
        "conflict",
        [{"field": "idempotency-key"}],
    )
    assert refused["error"]["message"] == (
        "The post this Idempotency-Key first made has been deleted since: use a new key to post again."
    )
    assert posts_of(alice) == 0


def test_a_retry_of_a_story_deleted_since_is_refused(people: dict[str, Any]) -> None:
    alice = people["alice"]
    status, first = call(upload, "POST", "/stories", alice, "s-gone", {"media": JPEG})
    assert status == 201
    assert delete(upload, "/me/stories/{story_id}", alice, {"story_id": first["story"]["story_id"]}) == 204

    status, refused = call(upload, "POST", "/stories", alice, "s-gone", {"media": JPEG})

    assert (status, refused["error"]["code"], refused["error"]["details"]) == (
        409,
        "conflict",
        [{"field": "idempotency-key"}],
    )
    assert refused["error"]["message"] == (
        "The story this Idempotency-Key first made has been deleted since: use a new key to post again."
    )
    assert posts_of(alice) == 0


def create_group(claims: dict[str, str], key: str, body: Any) -> Any:
    return call(messaging, "POST", "/conversations", claims, key, body)


def groups_of(claims: dict[str, str]) -> list[str]:
    caller = Caller(user_id=claims["sub"], username=claims["username"])
    return [item.conversation_id for item in messaging_logic.conversations(caller, 50, None)[0]]


def test_a_retried_group_creation_returns_the_first_group_and_creates_no_second(people: dict[str, Any]) -> None:
    # Given alice's group with bob and carol, created with a key
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    first = create_group(alice, "g-1", {"members": ["bob", "carol"], "title": "trip"})
    assert first[0] == 201

    # When the same request comes again with the key, its JSON spelled another way (a retry after a lost answer)
    again = create_group(alice, "g-1", json.dumps({"title": "trip", "members": ["bob", "carol"]}, indent=2))

    # Then it is the first answer, and each member has one group, with one "created" message in it
    assert again == first
    for member in (alice, bob, carol):
        assert groups_of(member) == [first[1]["conversation_id"]]
    assert [text for text in stored_messages(first[1]["conversation_id"]) if text] == ["alice created the group"]


@pytest.mark.parametrize(
    "members",
    [
        ["carol", "bob"],
        ["bob", "carol", "alice"],
        ["ALICE", "bob", "carol"],
        ["bob", "carol", "CAROL"],
        ["BOB", "carol"],
    ],
    ids=["another order", "her own name too", "her own name in capitals", "a name twice in two cases", "capitals"],
)
def test_a_retried_group_creation_naming_the_same_group_another_way_returns_the_first_group(
    people: dict[str, Any], members: list[str]
) -> None:
    # Given alice's group with bob and carol, created with a key
    alice = people["alice"]
    first = create_group(alice, "g-1", {"members": ["bob", "carol"], "title": "trip"})
    assert first[0] == 201

    # When it is retried with the key, naming the same members another way (her own name and duplicates in any case
    # are ignored, and members are kept in user-id order: API_NOTES, "group conversations")
    again = create_group(alice, "g-1", {"members": members, "title": "trip"})

    # Then it is the same request: the first answer, and no second group
    assert again == first
    assert groups_of(alice) == [first[1]["conversation_id"]]


@pytest.mark.parametrize(
    "second",
    [
        {"members": ["bob", "carol"], "title": "party"},
        {"members": ["bob", "carol"]},
        {"members": ["bob", "carol", "dave"], "title": "trip"},
    ],
    ids=["other title", "no title", "a member more"],
)
def test_the_same_key_with_another_group_is_refused_and_creates_nothing(
    people: dict[str, Any], second: dict[str, Any]
) -> None:
    alice = people["alice"]
    status, first = create_group(alice, "g-1", {"members": ["bob", "carol"], "title": "trip"})
    assert status == 201

    assert create_group(alice, "g-1", second) == (422, REUSED)
    assert groups_of(alice) == [first["conversation_id"]]
