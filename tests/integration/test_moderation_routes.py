"""Moderation through its HTTP routes on moto, as a moderator's client and the people concerned see it: what a
removal or a restore does to each participant's conversation and open connections, the target a case shows, and
the queue walked page by page; with a stand-in for API Gateway's @connections (tests/support/realtime.py)."""

from collections.abc import Iterator
from typing import Any

import pytest

from functions.messaging import handler as messaging_http
from functions.messaging import websocket
from functions.moderation import handler as moderation_http
from pinhole.messaging import logic as messaging_logic
from pinhole.messaging import moderation as messaging_moderation
from pinhole.moderation import logic as moderation_logic
from pinhole.posts.models import MediaDeclaration
from pinhole.realtime.dal import ConnectionRepository
from pinhole.shared.caller import MODERATORS_GROUP, Caller
from pinhole.social import logic as social_logic
from pinhole.social.models import DEFAULT_COLLECTION
from pinhole.stories import logic as stories_logic
from pinhole.stories.models import CreateStoryRequest
from tests.support.events import FakeLambdaContext, http_event, response_json, websocket_event
from tests.support.posts import make_ready, publish
from tests.support.realtime import FakeConnectionsApi
from tests.support.users import sign_up_claims

Claims = dict[str, str]


@pytest.fixture
def connections_api(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeConnectionsApi]:
    api = FakeConnectionsApi()
    monkeypatch.setattr(messaging_logic._pusher, "_client", api)
    monkeypatch.setattr(messaging_moderation._pusher, "_client", api)
    yield api


def _call(handler: Any, method: str, path: str, claims: Claims, route: str | None = None, **kwargs: Any) -> Any:
    query = kwargs.pop("query", None)
    event = http_event(method, path, claims=claims, route_key=f"{method} {route or path}", **kwargs)
    if query:
        event["queryStringParameters"] = query
        event["rawQueryString"] = "&".join(f"{name}={value}" for name, value in query.items())
    response = handler.handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


def moderator(name: str) -> Claims:
    return {**sign_up_claims(name), "cognito:groups": f"[{MODERATORS_GROUP}]"}


def report(claims: Claims, target_type: str, target_id: str, reason: str) -> tuple[int, Any]:
    body = {"target_type": target_type, "target_id": target_id, "reason": reason}
    return _call(moderation_http, "POST", "/reports", claims, body=body)


def act(claims: Claims, case_id: str, action: str, note: str = "looked at") -> tuple[int, Any]:
    path = f"/moderation/cases/{case_id}/actions"
    parameters = {"case_id": case_id}
    body = {"action": action, "note": note}
    return _call(
        moderation_http,
        "POST",
        path,
        claims,
        "/moderation/cases/{case_id}/actions",
        path_parameters=parameters,
        body=body,
    )


def case(claims: Claims, case_id: str) -> Any:
    parameters = {"case_id": case_id}
    status, body = _call(
        moderation_http,
        "GET",
        f"/moderation/cases/{case_id}",
        claims,
        "/moderation/cases/{case_id}",
        path_parameters=parameters,
    )
    assert status == 200, body
    return body


def queue_page(claims: Claims, limit: int, cursor: str | None = None) -> tuple[list[str], str | None]:
    query = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
    status, body = _call(moderation_http, "GET", "/moderation/queue", claims, query=query)
    assert status == 200, body
    return [item["case_id"] for item in body["items"]], body["next_cursor"]


def my_report_statuses(claims: Claims) -> list[str]:
    status, body = _call(moderation_http, "GET", "/me/reports", claims)
    assert status == 200, body
    return [item["status"] for item in body["items"]]


def send(claims: Claims, to: str, text: str) -> Any:
    """The message as sent (the answer without its `upload`, which only a photo has)."""
    status, body = _call(messaging_http, "POST", "/messages", claims, body={"to": to, "text": text})
    assert status == 201, body
    return {name: value for name, value in body.items() if name != "upload"}


def messages(claims: Claims, conversation_id: str) -> list[str]:
    status, body = _call(
        messaging_http,
        "GET",
        f"/conversations/{conversation_id}/messages",
        claims,
        "/conversations/{conversation_id}/messages",
        path_parameters={"conversation_id": conversation_id},
    )
    assert status == 200, body
    return [message["text"] for message in body["items"]]


def conversation(claims: Claims, conversation_id: str) -> Any:
    status, body = _call(messaging_http, "GET", "/conversations", claims)
    assert status == 200, body
    return next(item for item in body["items"] if item["conversation_id"] == conversation_id)


def connect(connection_id: str, claims: Claims) -> None:
    response = websocket.handler(websocket_event("$connect", connection_id, claims), FakeLambdaContext())
    assert response["statusCode"] == 200


def test_a_moderator_removes_a_reported_message_for_both_and_restores_it_as_it_was(
    connections_api: FakeConnectionsApi,
) -> None:
    # Given ann's two messages to bob, the last one harassing and unread, both with a connection open
    ann, bob, warden = sign_up_claims("msgann"), sign_up_claims("msgbob"), moderator("msgwarden")
    connect("ann-phone", ann)
    connect("bob-phone", bob)
    send(ann, "msgbob", "hello")
    abuse = send(ann, "msgbob", "abuse")
    conversation_id = abuse["conversation_id"]
    connections_api.frames.clear()

    # When bob reports it and a moderator removes it
    target = f"{conversation_id}/{abuse['message_id']}"
    assert report(bob, "message", target, "harassment")[0] == 202
    [case_id], _ = queue_page(warden, 1)  # as a moderator's client finds it
    status, removed = act(warden, case_id, "remove", "harassment")

    # Then the answer is the case, actioned, its target the message flagged removed
    assert status == 200, removed
    assert (removed["status"], removed["last_action"], removed["report_count"]) == ("actioned", "remove", 0)
    assert (removed["target"]["text"], removed["target"]["removed"]) == ("abuse", True)
    assert [report["status"] for report in removed["reports"]] == ["actioned"]
    assert my_report_statuses(bob) == ["actioned"]
    # And neither participant sees it: the list, the preview and bob's unread count are as if it had never come
    assert messages(bob, conversation_id) == messages(ann, conversation_id) == ["hello"]
    bobs, anns = conversation(bob, conversation_id), conversation(ann, conversation_id)
    assert (bobs["last_message"]["text"], bobs["unread_count"]) == ("hello", 1)
    assert (anns["last_message"]["text"], anns["unread_count"]) == ("hello", 0)
    # And both connections heard it as an unsend, once
    deleted = {"type": "message_deleted", "conversation_id": conversation_id, "message_id": abuse["message_id"]}
    assert connections_api.frames == {"ann-phone": [deleted], "bob-phone": [deleted]}
    # And removing it again does not apply
    assert act(warden, case_id, "remove")[0] == 409

    # When the moderator restores it
    connections_api.frames.clear()
    status, restored = act(warden, case_id, "restore", "banter between friends")

    # Then the case is settled dismissed (what stands is the message), saying it was restored
    assert status == 200, restored
    assert (restored["status"], restored["last_action"]) == ("dismissed", "restore")
    assert restored["target"]["removed"] is False
    # And the message is back for both, the latest again, unread again for bob and never for its sender
    assert messages(bob, conversation_id) == messages(ann, conversation_id) == ["abuse", "hello"]
    bobs, anns = conversation(bob, conversation_id), conversation(ann, conversation_id)
    assert (bobs["last_message"], bobs["unread_count"]) == (abuse, 2)
    assert (anns["last_message"], anns["unread_count"]) == (abuse, 0)
    # And both connections got it again as a message arriving, once
    assert connections_api.frames == {
        "ann-phone": [{"type": "message", "message": abuse}],
        "bob-phone": [{"type": "message", "message": abuse}],
    }
    # And a second restore does not apply; the reports the removal settled keep their answer
    assert act(warden, case_id, "restore")[0] == 409
    assert my_report_statuses(bob) == ["actioned"]


def test_a_reported_storys_case_shows_the_story_as_stories_show_it_with_its_state(aws: dict[str, str]) -> None:
    # Given a published story of ann's that bob, her follower, can see and reports
    ann, bob, warden = sign_up_claims("storyann"), sign_up_claims("storybob"), moderator("storywarden")
    created = stories_logic.create_story(
        Caller(user_id=ann["sub"], username=ann["username"]),
        CreateStoryRequest(media=MediaDeclaration(content_type="image/jpeg", size_bytes=1)),
    ).story
    make_ready(created.story_id, created.media.media_id)
    assert report(bob, "story", created.story_id, "nudity")[0] == 202
    [case_id], _ = queue_page(warden, 1)

    # When a moderator opens the case
    target = case(warden, case_id)["target"]

    # Then the target is the Story (its id, author, media and expiry, as POST /stories answered), with its state
    assert set(target) == {"story_id", "author", "media", "created_at", "expires_at", "status"}
    assert (target["story_id"], target["author"]["username"]) == (created.story_id, "storyann")
    assert (target["created_at"], target["expires_at"]) == (created.created_at, created.expires_at)
    assert (target["media"]["media_id"], target["media"]["status"]) == (created.media.media_id, "ready")
    assert target["status"] == "published"

    # And once removed, the case shows it still, saying so
    status, removed = act(warden, case_id, "remove", "nudity")
    assert status == 200, removed
    assert (removed["target"]["story_id"], removed["target"]["status"]) == (created.story_id, "removed")


def test_a_case_that_grows_more_urgent_during_a_walk_of_the_queue_is_at_the_top_of_a_fresh_first_page(
    aws: dict[str, str],
) -> None:
    # Given five posts reported once each as spam (the same severity and count: the queue orders them by age)
    author, tattler, warden = sign_up_claims("qauthor"), sign_up_claims("qtattler"), moderator("qwarden")
    post_ids = [publish(author) for _ in range(5)]
    for post_id in post_ids:
        assert report(tattler, "post", post_id, "spam")[0] == 202
    first_page, cursor = queue_page(warden, 4)
    [last_case], _ = queue_page(warden, 1, cursor)

    # When, the first page read, two people report the last case as self-harm
    for name in ("qworried1", "qworried2"):
        assert report(sign_up_claims(name), "post", post_ids[-1], "self_harm")[0] == 202

    # Then it moved above the cursor: the rest of the walk does not show it (API_NOTES says so)
    assert queue_page(warden, 4, cursor) == ([], None)
    # And a fresh first page, which the moderator's client reloads, starts with it
    assert queue_page(warden, 4)[0] == [last_case, *first_page[:3]]


def test_suspending_a_user_closes_every_connection_they_have_open(
    connections_api: FakeConnectionsApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given mal, reported, with a phone and a laptop connected, and bob with a connection of his own
    mal, bob, warden = sign_up_claims("susmal"), sign_up_claims("susbob"), moderator("suswarden")
    monkeypatch.setattr(moderation_logic._pusher, "_client", connections_api)
    for connection_id, claims in (("mal-phone", mal), ("mal-laptop", mal), ("bob-phone", bob)):
        connect(connection_id, claims)
    assert report(bob, "user", mal["sub"], "harassment")[0] == 202
    [case_id], _ = queue_page(warden, 1)

    # When a moderator suspends mal
    status, suspended = act(warden, case_id, "suspend_user", "harassment")

    # Then both of mal's connections are closed and forgotten, bob's stays
    assert (status, suspended["author_suspended"]) == (200, True)
    assert sorted(connections_api.closed) == ["mal-laptop", "mal-phone"]
    assert ConnectionRepository().of_user(mal["sub"]) == []
    assert ConnectionRepository().of_user(bob["sub"]) == ["bob-phone"]

    # And a frame already on its way on one of them is refused with the documented code
    frame = {"action": "sendMessage", "to": "susbob", "text": "one more", "client_id": "late"}
    response = websocket.handler(websocket_event("sendMessage", "mal-phone", mal, body=frame), FakeLambdaContext())
    assert (response_json(response)["code"], response_json(response)["client_id"]) == ("account_suspended", "late")


def test_a_reported_posts_case_shows_the_moderators_own_like_and_save_as_every_post_does(aws: dict[str, str]) -> None:
    # Given ann's post, which the moderator liked and saved before bob reported it
    ann, bob, warden = sign_up_claims("flagann"), sign_up_claims("flagbob"), moderator("flagwarden")
    post_id = publish(ann)
    as_warden = Caller(user_id=warden["sub"], username=warden["username"])
    social_logic.like(as_warden, post_id)
    social_logic.save(as_warden, post_id, DEFAULT_COLLECTION)
    assert report(bob, "post", post_id, "spam")[0] == 202
    [case_id], _ = queue_page(warden, 1)

    # When the moderator opens the case, then dismisses it
    opened = case(warden, case_id)["target"]
    status, dismissed = act(warden, case_id, "dismiss")

    # Then both show the post with the moderator's real flags (API.md: every Post carries the caller's own)
    assert status == 200, dismissed
    for target in (opened, dismissed["target"]):
        assert (target["post_id"], target["like_count"]) == (post_id, 1)
        assert (target["liked_by_me"], target["saved_by_me"]) == (True, True)
