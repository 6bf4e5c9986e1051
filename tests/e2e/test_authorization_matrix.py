"""The authorization matrix: for every route and WebSocket action, someone who is not the owner asks
for the owner's private objects — and is refused the way API.md says (404 where existence must not
leak), and afterwards the objects read back as their owner exactly as before. A refusal that still
changed something fails.

The world is built once per module through the local cloud: Alice, whose account is private; Bob, who
followed her while it was public; Carol, who asked to follow her since and waits; Dave, whom she
blocked; Mallory, a stranger. Every row names the route (as the synthesized template spells it), the
situation, what the attacker sends, what they must get, and which of Alice's objects must not move.

Three checks run on every row besides its own expectation:
- nothing of Alice's private world appears in the attacker's response (post and comment ids and texts,
  media ids, the story, the conversation, the collection, her email, her notification ids), unless
  the attacker's own request carried it;
- a refusal is the API.md error envelope, and not the "No such route." of a mistyped path;
- a read refused to the attacker is served to the one it belongs to (`control`), so the refusal is
  about who asks, not a broken route.
A completeness test makes every route of the template (but the public ones) and every WebSocket
route need a row here, and every protected route refuses a missing or tampered token."""

from __future__ import annotations

import base64
import io
import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from PIL import Image
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from pinhole.moderation.models import TargetType, case_id_of
from stacks.constants import PUBLIC_ROUTES, STATELESS_STACK_ID
from tests.e2e.conftest import CDK_OUT
from tests.support.api_client import Device, Member, eventually, upload

pytestmark = pytest.mark.e2e

ANONYMOUS = "anonymous"
WS = "ws "  # prefix of a WebSocket route in the matrix: "ws markRead"
SETTLE_TIMEOUT_S = 60


# The world: Alice's private objects, and the people around her


@dataclass
class World:
    http: httpx.Client
    websocket_url: str
    members: dict[str, Member]
    ids: dict[str, str] = field(default_factory=dict)
    secrets: set[str] = field(default_factory=set)
    devices: dict[str, Device] = field(default_factory=dict)
    at_start: dict[str, Any] = field(default_factory=dict)

    def client(self, name: str) -> httpx.Client:
        return self.http if name == ANONYMOUS else self.members[name].http

    def filled(self, value: Any) -> Any:
        """`value` with every `{name}` in its strings replaced by the world's id of that name."""
        if isinstance(value, str):
            return value.format_map(self.ids)
        if isinstance(value, dict):
            return {key: self.filled(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.filled(item) for item in value]
        return value


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 90, 160)).save(buffer, "JPEG")
    return buffer.getvalue()


def create_and_upload(member: Member, route: str, body: dict[str, Any], content: bytes) -> dict[str, Any]:
    created = member.http.post(route, json=body)
    assert created.status_code == 201, created.text
    answer = dict(created.json())
    targets = answer["uploads"] if "uploads" in answer else [answer["upload"]]
    for target in targets:
        assert upload(target, content).status_code == 204
    return answer


def items(member: Member, path: str, **params: Any) -> list[dict[str, Any]]:
    response = member.http.get(path, params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def published(member: Member, post_id: str) -> bool:
    return bool(member.http.get(f"/posts/{post_id}").json().get("status") == "published")


def token_claiming(member: Member, **claims: str) -> str:
    """`member`'s real access token with its claims edited (say, to be Alice) and the signature kept."""
    header, payload, signature = member.access_token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    edited = base64.urlsafe_b64encode(json.dumps({**decoded, **claims}).encode()).decode().rstrip("=")
    return f"{header}.{edited}.{signature}"


def build_world(local_cloud: Any) -> World:
    http = local_cloud.http
    world = World(
        http=http,
        websocket_url=str(local_cloud.outputs["WebSocketUrl"]),
        members={name: Member(http) for name in ("alice", "bob", "carol", "dave", "erin", "mallory")},
    )
    alice, bob, carol, dave, mallory = (world.members[n] for n in ("alice", "bob", "carol", "dave", "mallory"))
    marker = uuid.uuid4().hex[:10]
    ids = world.ids
    ids.update({f"{name}_name": member.username for name, member in world.members.items()})
    ids.update({f"{name}_id": member.user_id for name, member in world.members.items()})
    ids["tag"] = f"hush{marker}"
    ids["collection"] = f"alice plans {marker}"
    for key in ("post_key", "story_key", "comment_key", "message_key", "ws_key"):
        ids[f"alice_{key}"] = f"alice-{key}-{marker}"

    # Bob followed Alice while her account was public; then she made it private, blocked Dave, and
    # Carol asked to follow her.
    assert bob.http.post(f"/users/{alice.username}/follow").json() == {"status": "following"}
    assert alice.http.post(f"/users/{dave.username}/block").status_code == 204
    # Erin, blocked too, keeps a connection open (Dave signs out everywhere in a row of the matrix)
    assert alice.http.post(f"/users/{world.members['erin'].username}/block").status_code == 204
    assert alice.http.patch("/me", json={"is_private": True, "bio": f"private bio {marker}"}).status_code == 200
    assert carol.http.post(f"/users/{alice.username}/follow").json() == {"status": "requested"}

    # Alice's private post (with a tag, mentioning Mallory) and story; Bob's public post, mentioning
    # Mallory too; all three go through upload and resize at once.
    content = jpeg()
    media = [{"content_type": "image/jpeg", "size_bytes": len(content)}]
    caption = f"captionsecret{marker} #{ids['tag']} @{mallory.username}"
    post = create_and_upload(alice, "/posts", {"caption": caption, "media": media}, content)["post"]
    story = create_and_upload(alice, "/stories", {"media": media[0]}, content)["story"]
    bobs = create_and_upload(bob, "/posts", {"caption": f"public, @{mallory.username}", "media": media}, content)
    ids.update(alice_post=post["post_id"], story=story["story_id"], bob_post=bobs["post"]["post_id"])
    world.secrets |= {caption.split()[0], post["post_id"], story["story_id"], story["media"]["media_id"]}
    world.secrets |= {item["media_id"] for item in post["media"]}
    eventually(lambda: published(alice, ids["alice_post"]) and published(bob, ids["bob_post"]), bool)

    # Bob likes and comments on Alice's post (mentioning Mallory); Alice comments on hers and on Bob's.
    assert bob.http.post(f"/posts/{ids['alice_post']}/like").status_code == 200
    bob_text, alice_text = f"bobsecret{marker} @{mallory.username}", f"alicesecret{marker}"
    ids["bob_comment"] = bob.http.post(f"/posts/{ids['alice_post']}/comments", json={"text": bob_text}).json()[
        "comment_id"
    ]
    ids["alice_comment"] = alice.http.post(f"/posts/{ids['alice_post']}/comments", json={"text": alice_text}).json()[
        "comment_id"
    ]
    on_bobs = alice.http.post(
        f"/posts/{ids['bob_post']}/comments",
        json={"text": "lovely, from alice"},
        headers={"idempotency-key": ids["alice_comment_key"]},
    )
    assert on_bobs.status_code == 201, on_bobs.text
    ids["alice_comment_on_bob_post"] = on_bobs.json()["comment_id"]
    world.secrets |= {bob_text.split()[0], alice_text, ids["bob_comment"], ids["alice_comment"]}

    # Bob reports Alice's post: its moderation case exists (only moderators may read or act on it).
    report = {"target_type": "post", "target_id": ids["alice_post"], "reason": "spam", "note": f"reportsecret{marker}"}
    assert bob.http.post("/reports", json=report).status_code == 202
    ids["alice_case"] = case_id_of(TargetType.POST, ids["alice_post"])
    world.secrets.add(f"reportsecret{marker}")

    # Alice saves Bob's post in a collection of hers.
    save = alice.http.post(f"/posts/{ids['bob_post']}/save", json={"collection": ids["collection"]})
    assert save.status_code == 204, save.text
    world.secrets.add(ids["collection"])

    # Alice writes to Bob over HTTP and over the WebSocket, each with her own retry key; she also starts
    # a post and a story with keys (never uploaded: they stay pending, hers alone).
    message = alice.http.post(
        "/messages",
        json={"to": bob.username, "text": f"dmsecret{marker}"},
        headers={"idempotency-key": ids["alice_message_key"]},
    ).json()
    ids.update(conversation=message["conversation_id"], alice_message=message["message_id"])
    world.devices = {
        name: Device(world.websocket_url, world.members[name]) for name in ("alice", "bob", "erin", "mallory")
    }
    world.devices["alice"].send(
        {"action": "sendMessage", "to": bob.username, "text": f"wssecret{marker}", "client_id": ids["alice_ws_key"]}
    )
    ids["alice_ws_message"] = world.devices["alice"].next("ack")["message"]["message_id"]
    world.secrets |= {f"dmsecret{marker}", f"wssecret{marker}", ids["conversation"], ids["alice_message"]}
    world.secrets.add(ids["alice_ws_message"])
    pending_post = alice.http.post(
        "/posts", json={"caption": "draft", "media": media}, headers={"idempotency-key": ids["alice_post_key"]}
    ).json()["post"]
    pending_story = alice.http.post(
        "/stories", json={"media": media[0]}, headers={"idempotency-key": ids["alice_story_key"]}
    ).json()["story"]
    ids.update(alice_pending_post=pending_post["post_id"], alice_pending_story=pending_story["story_id"])
    world.secrets |= {pending_post["post_id"], pending_story["story_id"]}

    # Mallory's own things: a conversation with Bob, a post still pending, and a conversation id she
    # forges to name herself and Alice (they never talked).
    ids["mallory_conversation"] = mallory.http.post("/messages", json={"to": bob.username, "text": "hi bob"}).json()[
        "conversation_id"
    ]
    ids["mallory_post"] = mallory.http.post("/posts", json={"media": media}).json()["post"]["post_id"]
    ids["forged_conversation"] = "_".join(sorted((mallory.user_id, alice.user_id)))

    # Alice's group with Bob and Carol, and a message of hers in it.
    group = alice.http.post("/conversations", json={"members": [bob.username, carol.username], "title": f"g{marker}"})
    assert group.status_code == 201, group.text
    ids["group"] = group.json()["conversation_id"]
    group_message = alice.http.post("/messages", json={"conversation_id": ids["group"], "text": f"groupsecret{marker}"})
    assert group_message.status_code == 201, group_message.text
    ids["alice_group_message"] = group_message.json()["message_id"]
    world.secrets |= {f"groupsecret{marker}", f"g{marker}", ids["alice_group_message"]}
    world.secrets.add(f"{alice.username}@example.com")

    # Everything asynchronous has landed: Bob's feed, stories and tag page show Alice's; Alice has her
    # notifications; and Mallory has the mention from Bob's public post, which came after those in
    # Alice's private post and in Bob's comment on it (so those would have arrived by now).
    eventually(lambda: [p["post_id"] for p in items(bob, "/feed")], lambda found: ids["alice_post"] in found)
    eventually(lambda: items(bob, "/stories/feed"), lambda found: len(found) == 1)
    eventually(
        lambda: [p["post_id"] for p in items(bob, f"/tags/{ids['tag']}/posts")],
        lambda found: found == [ids["alice_post"]],
    )
    wanted = {("follow", bob.username), ("follow_request", carol.username), ("like", bob.username)}
    wanted.add(("comment", bob.username))
    notes = eventually(
        lambda: items(alice, "/notifications"),
        lambda found: wanted <= {(n["type"], n["actor"]["username"]) for n in found},
        SETTLE_TIMEOUT_S,
    )
    world.secrets |= {note["notification_id"] for note in notes}
    ids["alice_notification"] = notes[0]["notification_id"]
    eventually(
        lambda: items(mallory, "/notifications"),
        lambda found: ("mention", ids["bob_post"]) in [(n["type"], n["post_id"]) for n in found],
        SETTLE_TIMEOUT_S,
    )
    return world


@pytest.fixture(scope="module")
def world(local_cloud: Any) -> Iterator[World]:
    built = build_world(local_cloud)
    built.at_start = snapshot(built, ALICES_WORLD)
    yield built
    for device in built.devices.values():
        device.close()


# Views: Alice's objects read back by their owners, before and after each attack


def _json(member: Member, path: str, **params: Any) -> Any:
    response = member.http.get(path, params=params)
    assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
    return response.json()


def _alice(world: World) -> Member:
    return world.members["alice"]


def _conversation_of(member: Member, conversation_id: str) -> list[dict[str, Any]]:
    return [c for c in items(member, "/conversations", limit=50) if c["conversation_id"] == conversation_id]


VIEWS: dict[str, Callable[[World], Any]] = {
    "alice_profile": lambda w: _json(_alice(w), "/me"),
    "alice_post": lambda w: _json(_alice(w), f"/posts/{w.ids['alice_post']}"),
    "alice_post_comments": lambda w: _json(_alice(w), f"/posts/{w.ids['alice_post']}/comments"),
    "alice_post_likes": lambda w: _json(_alice(w), f"/posts/{w.ids['alice_post']}/likes"),
    "alice_graph": lambda w: (
        [
            _json(_alice(w), path)
            for path in (f"/users/{w.ids['alice_name']}/followers", f"/users/{w.ids['alice_name']}/following")
        ]
        + [_json(_alice(w), "/me/follow-requests"), _json(w.members["carol"], f"/users/{w.ids['alice_name']}")]
    ),
    "alice_conversation": lambda w: [
        _conversation_of(_alice(w), w.ids["conversation"]),
        _conversation_of(w.members["bob"], w.ids["conversation"]),
        _json(_alice(w), f"/conversations/{w.ids['conversation']}/messages"),
    ],
    "alice_group": lambda w: [
        _conversation_of(_alice(w), w.ids["group"]),
        _conversation_of(w.members["bob"], w.ids["group"]),
        _json(_alice(w), f"/conversations/{w.ids['group']}/messages"),
    ],
    # which posts she saved where (the posts' own counters move with everyone's likes and comments)
    "alice_saved": lambda w: [
        _json(_alice(w), "/me/collections"),
        [p["post_id"] for p in items(_alice(w), "/me/saved", collection=w.ids["collection"])],
    ],
    "alice_notifications": lambda w: _json(_alice(w), "/notifications"),
    "alice_unread": lambda w: _json(_alice(w), "/notifications/unread-count"),
    "alice_push": lambda w: [_json(_alice(w), "/me/devices"), _json(_alice(w), "/me/notification-settings")],
    "alice_stories": lambda w: [_json(_alice(w), "/stories/feed"), _json(w.members["bob"], "/stories/feed")],
    "alice_comment_on_bob_post": lambda w: [
        c
        for c in items(_alice(w), f"/posts/{w.ids['bob_post']}/comments", limit=50)
        if c["comment_id"] == w.ids["alice_comment_on_bob_post"]
    ],
    "dave_blocked": lambda w: w.members["dave"].http.get(f"/users/{w.ids['alice_name']}").status_code,
    "bob_feed": lambda w: [p["post_id"] for p in items(w.members["bob"], "/feed")],
}
ALICES_WORLD = tuple(VIEWS)
"""No row may change any of these: all are read again once the whole matrix has run."""


def snapshot(world: World, views: tuple[str, ...]) -> dict[str, Any]:
    return {name: VIEWS[name](world) for name in views}


# The matrix


@dataclass(frozen=True)
class Refused:
    """The attacker gets this status and error code (over HTTP), or this error frame's code (WebSocket)."""

    status: int
    code: str


@dataclass(frozen=True)
class Served:
    """The attacker is served (their own things, or what anyone may see): `check` says what they must
    not get. Over the WebSocket, `status` is unused and the answer is a frame of type `frame`."""

    status: int = 200
    check: Callable[[World, Any], None] | None = None
    frame: str | None = None


Expectation = Refused | Served

DEFAULT_PARAMS = {
    "username": "alice_name",
    "post_id": "alice_post",
    "comment_id": "bob_comment",
    "conversation_id": "conversation",
    "tag": "tag",
    "case_id": "alice_case",
    "message_id": "alice_group_message",
    "device_id": "alice_id",  # no device of anyone's: push is off in the default assembly
    "story_id": "story",
}


@dataclass(frozen=True)
class Row:
    route: str
    situation: str
    attacker: str
    expect: Expectation
    params: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    unchanged: tuple[str, ...] = ()
    control: str | None = None

    @property
    def id(self) -> str:
        return f"{self.route} | {self.situation}"


def _no_email(world: World, body: Any) -> None:
    assert "email" not in body and body["username"] == world.ids["alice_name"]


def _own_profile(world: World, body: Any) -> None:
    assert body["user_id"] == world.ids["mallory_id"]


def _only_summaries(world: World, body: Any) -> None:
    assert [user["username"] for user in body["items"]] == [world.ids["alice_name"]]
    assert set(body["items"][0]) == {"user_id", "username", "display_name", "avatar_url", "avatar"}


def _own_secret(world: World, body: Any) -> None:
    assert set(body) == {"secret", "otpauth_uri"}
    assert world.ids["mallory_name"] in body["otpauth_uri"] and world.ids["alice_name"] not in body["otpauth_uri"]


def _own_avatar_key(world: World, body: Any) -> None:
    assert body["upload"]["fields"]["key"].startswith(f"avatars/{world.ids['mallory_id']}/")


def _alice_not_listed(world: World, body: Any) -> None:
    assert world.ids["alice_name"] not in [user["username"] for user in body["items"]]


def _no_items(world: World, body: Any) -> None:
    assert body["items"] == []


def _only_her_own_stories(world: World, body: Any) -> None:
    """Mallory's tray: nobody's stories but hers (the one she made with Alice's key, still pending, is there)."""
    assert {group["author"]["username"] for group in body["items"]} <= {world.ids["mallory_name"]}


def _carol_not_listed(world: World, body: Any) -> None:
    assert world.ids["carol_name"] not in [user["username"] for user in body["items"]]


def _mallorys_own_post(world: World, body: Any) -> None:
    assert body["post"]["author"]["user_id"] == world.ids["mallory_id"]
    assert body["post"]["post_id"] != world.ids["alice_pending_post"]


def _mallorys_own_story(world: World, body: Any) -> None:
    assert body["story"]["author"]["user_id"] == world.ids["mallory_id"]
    assert body["story"]["story_id"] != world.ids["alice_pending_story"]


def _mallorys_own_comment(world: World, body: Any) -> None:
    assert body["author"]["user_id"] == world.ids["mallory_id"]
    assert body["comment_id"] != world.ids["alice_comment_on_bob_post"]


def _mallorys_own_message(world: World, body: Any) -> None:
    assert body["sender"]["user_id"] == world.ids["mallory_id"]
    assert body["message_id"] != world.ids["alice_message"]
    assert body["conversation_id"] == world.ids["mallory_conversation"]


def _mallorys_own_ws_message(world: World, frame: Any) -> None:
    assert frame["message"]["sender"]["user_id"] == world.ids["mallory_id"]
    assert frame["message"]["message_id"] != world.ids["alice_ws_message"]


def _only_the_public_mention(world: World, body: Any) -> None:
    assert [(n["type"], n["post_id"]) for n in body["items"]] == [("mention", world.ids["bob_post"])]


def _own_badge(world: World, body: Any) -> None:
    assert set(body) == {"count"} and isinstance(body["count"], int)


def _default_settings(body: Any) -> None:
    assert body == {"likes": True, "comments": True, "follows": True, "mentions": True, "messages": True}


def _likes_off(body: Any) -> None:
    assert body["likes"] is False and body["comments"] is True


def _no_private_collection(world: World, body: Any) -> None:
    assert world.ids["collection"] not in [c["name"] for c in body["items"]]


def _tags_without_posts(world: World, body: Any) -> None:
    # Documented (docs/API_NOTES.md): a tag is offered with the count of every published post bearing it,
    # seen by the caller or not; never a post, its id or its caption.
    assert all(set(item) == {"tag", "post_count"} for item in body["items"])


def _export_pending(world: World, body: Any) -> None:
    assert body == {"status": "pending"}


def _own_export(world: World, body: Any) -> None:
    assert body["status"] in {"pending", "ready"}
    assert world.ids["alice_id"] not in json.dumps(body)
    if body["status"] == "ready":
        assert f"exports/{world.ids['mallory_id']}/" in body["url"]


def _pong(world: World, frame: Any) -> None:
    assert frame == {"type": "pong"}


MEDIA = [{"content_type": "image/jpeg", "size_bytes": 1000}]

HTTP_ROWS = [
    # Profile: GET /me is the caller's own; PATCH /me takes three fields and refuses every other one.
    Row("GET /me", "stranger gets her own profile", "mallory", Served(check=_own_profile)),
    Row(
        "PATCH /me",
        "owner sets her counters",
        "alice",
        Refused(422, "validation_error"),
        body={"follower_count": 10_000, "following_count": 0, "post_count": 99},
        unchanged=("alice_profile",),
    ),
    Row(
        "PATCH /me",
        "owner marks her e-mail verified",
        "alice",
        Refused(422, "validation_error"),
        body={"email_verified": True, "mfa_enabled": False},
        unchanged=("alice_profile",),
    ),
    Row(
        "PATCH /me",
        "owner sets her avatar object",
        "alice",
        Refused(422, "validation_error"),
        body={"avatar": {"url": "https://evil.example/a.jpg"}, "avatar_upload": None},
        unchanged=("alice_profile",),
    ),
    Row(
        "PATCH /me",
        "owner sets her user_id and username",
        "alice",
        Refused(422, "validation_error"),
        body={"user_id": "{mallory_id}", "username": "admin"},
        unchanged=("alice_profile",),
    ),
    Row(
        "PATCH /me",
        "owner sets a verified flag",
        "alice",
        Refused(422, "validation_error"),
        body={"verified": True, "is_verified": True},
        unchanged=("alice_profile",),
    ),
    Row(
        "PATCH /me",
        "owner sets created_at and avatar_url",
        "alice",
        Refused(422, "validation_error"),
        body={"created_at": "2000-01-01T00:00:00.000Z", "avatar_url": "https://evil.example/a.jpg"},
        unchanged=("alice_profile",),
    ),
    Row(
        "PATCH /me",
        "owner sends privacy as a string",
        "alice",
        Refused(422, "validation_error"),
        body={"is_private": "false"},
        unchanged=("alice_profile",),
    ),
    Row(
        "PATCH /me",
        "stranger names Alice's user_id beside an allowed field",
        "mallory",
        Refused(422, "validation_error"),
        body={"user_id": "{alice_id}", "bio": "pwned"},
        unchanged=("alice_profile",),
    ),
    # Profiles and the graph of a private account.
    Row("GET /users/{username}", "stranger reads a private profile: no email", "mallory", Served(check=_no_email)),
    Row(
        "GET /users/{username}/posts",
        "stranger lists a private grid",
        "mallory",
        Refused(403, "forbidden"),
        control="bob",
    ),
    Row(
        "GET /users/{username}/posts",
        "requester lists a private grid",
        "carol",
        Refused(403, "forbidden"),
        control="alice",
    ),
    Row("GET /users/{username}/posts", "blocked user lists the grid", "dave", Refused(404, "not_found"), control="bob"),
    Row(
        "GET /users/{username}/followers",
        "stranger lists a private account's followers",
        "mallory",
        Refused(403, "forbidden"),
        control="bob",
    ),
    Row(
        "GET /users/{username}/followers",
        "requester lists a private account's followers",
        "carol",
        Refused(403, "forbidden"),
        control="alice",
    ),
    Row(
        "GET /users/{username}/following",
        "stranger lists whom a private account follows",
        "mallory",
        Refused(403, "forbidden"),
        control="bob",
    ),
    Row(
        "POST /users/{username}/follow",
        "requester insists, claiming to follow already (the route takes no body: refused, not ignored)",
        "carol",
        Refused(422, "validation_error"),
        body={"status": "following", "approve": True},
        unchanged=("alice_graph",),
    ),
    Row(
        "DELETE /users/{username}/follow",
        "stranger unfollows: nobody else's follow ends",
        "mallory",
        Served(204),
        unchanged=("alice_graph",),
    ),
    Row(
        "GET /me/follow-requests",
        "stranger lists requests: only her own",
        "mallory",
        Served(check=_carol_not_listed),
        unchanged=("alice_graph",),
    ),
    Row(
        "POST /me/follow-requests/{username}",
        "stranger approves a request made to Alice",
        "mallory",
        Refused(404, "not_found"),
        params={"username": "carol_name"},
        body={"approve": True},
        unchanged=("alice_graph",),
    ),
    Row(
        "POST /me/follow-requests/{username}",
        "stranger denies a request made to Alice",
        "mallory",
        Refused(404, "not_found"),
        params={"username": "carol_name"},
        body={"approve": False},
        unchanged=("alice_graph",),
    ),
    Row(
        "POST /me/follow-requests/{username}",
        "follower approves a request made to Alice",
        "bob",
        Refused(404, "not_found"),
        params={"username": "carol_name"},
        body={"approve": True},
        unchanged=("alice_graph",),
    ),
    Row(
        "POST /me/follow-requests/{username}",
        "stranger names Alice as the one approving",
        "mallory",
        Refused(422, "validation_error"),
        params={"username": "carol_name"},
        body={"approve": True, "target": "{alice_name}"},
        unchanged=("alice_graph",),
    ),
    Row(
        "POST /users/{username}/block",
        "stranger blocks Alice's requester: Alice's request stays",
        "mallory",
        Served(204),
        params={"username": "carol_name"},
        unchanged=("alice_graph",),
    ),
    Row(
        "DELETE /users/{username}/block",
        "stranger lifts Alice's block of Dave",
        "mallory",
        Served(204),
        params={"username": "dave_name"},
        unchanged=("dave_blocked",),
    ),
    # Posts and stories.
    Row(
        "POST /posts",
        "stranger claims Alice as the author",
        "mallory",
        Refused(422, "validation_error"),
        body={"media": MEDIA, "author_id": "{alice_id}"},
        unchanged=("alice_profile",),
    ),
    Row(
        "POST /posts",
        "stranger sets status and counters",
        "mallory",
        Refused(422, "validation_error"),
        body={"media": MEDIA, "status": "published", "like_count": 1000},
        unchanged=("alice_profile",),
    ),
    Row(
        "POST /posts",
        "stranger replays Alice's Idempotency-Key",
        "mallory",
        Served(201, _mallorys_own_post),
        body={"media": MEDIA},
        headers={"idempotency-key": "{alice_post_key}"},
        unchanged=("alice_profile",),
    ),
    Row(
        "GET /posts/{post_id}",
        "stranger reads a private post and its media URLs",
        "mallory",
        Refused(404, "not_found"),
        control="bob",
    ),
    Row("GET /posts/{post_id}", "requester reads a private post", "carol", Refused(404, "not_found"), control="alice"),
    Row(
        "GET /posts/{post_id}",
        "stranger reads a private account's story by id",
        "mallory",
        Refused(404, "not_found"),
        params={"post_id": "story"},
    ),
    Row(
        "GET /posts/{post_id}",
        "stranger reads someone's pending post",
        "mallory",
        Refused(404, "not_found"),
        params={"post_id": "alice_pending_post"},
        control="alice",
    ),
    Row(
        "DELETE /posts/{post_id}",
        "stranger deletes a private post",
        "mallory",
        Refused(404, "not_found"),
        unchanged=("alice_post", "alice_profile", "bob_feed"),
    ),
    Row(
        "DELETE /posts/{post_id}",
        "follower deletes the post she sees",
        "bob",
        Refused(403, "forbidden"),
        unchanged=("alice_post", "alice_profile", "bob_feed"),
    ),
    Row(
        "POST /stories",
        "stranger claims Alice as the author",
        "mallory",
        Refused(422, "validation_error"),
        body={"media": MEDIA[0], "author_id": "{alice_id}"},
        unchanged=("alice_stories",),
    ),
    Row(
        "POST /stories",
        "stranger replays Alice's Idempotency-Key",
        "mallory",
        Served(201, _mallorys_own_story),
        body={"media": MEDIA[0]},
        headers={"idempotency-key": "{alice_story_key}"},
        unchanged=("alice_stories",),
    ),
    Row(
        "GET /stories/feed",
        "requester's tray: no private stories",
        "carol",
        Served(check=_no_items),
        unchanged=("alice_stories",),
    ),
    Row("GET /stories/feed", "stranger's tray", "mallory", Served(check=_only_her_own_stories)),
    Row(
        "DELETE /me/stories/{story_id}",
        "stranger deletes a private account's story",
        "mallory",
        Refused(404, "not_found"),
        unchanged=("alice_stories",),
    ),
    Row(
        "DELETE /me/stories/{story_id}",
        "follower deletes the story she sees",
        "bob",
        Refused(404, "not_found"),
        unchanged=("alice_stories",),
    ),
    Row(
        "DELETE /me/stories/{story_id}",
        "follower deletes Alice's pending story",
        "bob",
        Refused(404, "not_found"),
        params={"story_id": "alice_pending_story"},
    ),
    Row(
        "DELETE /me/stories/{story_id}",
        "follower deletes Alice's post as a story",
        "bob",
        Refused(404, "not_found"),
        params={"story_id": "alice_post"},
        unchanged=("alice_post", "alice_profile", "bob_feed"),
    ),
    # Likes, comments, saved.
    Row(
        "POST /posts/{post_id}/like",
        "stranger likes a private post",
        "mallory",
        Refused(404, "not_found"),
        unchanged=("alice_post", "alice_post_likes"),
    ),
    Row(
        "DELETE /posts/{post_id}/like",
        "stranger unlikes a private post",
        "mallory",
        Refused(404, "not_found"),
        unchanged=("alice_post", "alice_post_likes"),
    ),
    Row(
        "GET /posts/{post_id}/likes",
        "stranger lists a private post's likes",
        "mallory",
        Refused(404, "not_found"),
        control="bob",
    ),
    Row(
        "POST /posts/{post_id}/comments",
        "stranger comments on a private post",
        "mallory",
        Refused(404, "not_found"),
        body={"text": "let me in"},
        unchanged=("alice_post", "alice_post_comments"),
    ),
    Row(
        "POST /posts/{post_id}/comments",
        "stranger signs a comment as Alice",
        "mallory",
        Refused(422, "validation_error"),
        params={"post_id": "bob_post"},
        body={"text": "I agree", "author_id": "{alice_id}"},
        unchanged=("alice_comment_on_bob_post",),
    ),
    Row(
        "POST /posts/{post_id}/comments",
        "stranger replays Alice's Idempotency-Key on the same post",
        "mallory",
        Served(201, _mallorys_own_comment),
        params={"post_id": "bob_post"},
        body={"text": "mine"},
        headers={"idempotency-key": "{alice_comment_key}"},
        unchanged=("alice_comment_on_bob_post",),
    ),
    Row(
        "GET /posts/{post_id}/comments",
        "stranger lists a private post's comments",
        "mallory",
        Refused(404, "not_found"),
        control="bob",
    ),
    Row(
        "DELETE /posts/{post_id}/comments/{comment_id}",
        "stranger deletes a comment on a private post",
        "mallory",
        Refused(404, "not_found"),
        unchanged=("alice_post", "alice_post_comments"),
    ),
    Row(
        "DELETE /posts/{post_id}/comments/{comment_id}",
        "stranger deletes Alice's comment on a public post",
        "mallory",
        Refused(403, "forbidden"),
        params={"post_id": "bob_post", "comment_id": "alice_comment_on_bob_post"},
        unchanged=("alice_comment_on_bob_post",),
    ),
    Row(
        "DELETE /posts/{post_id}/comments/{comment_id}",
        "follower deletes the owner's comment",
        "bob",
        Refused(403, "forbidden"),
        params={"comment_id": "alice_comment"},
        unchanged=("alice_post", "alice_post_comments"),
    ),
    Row(
        "DELETE /posts/{post_id}/comments/{comment_id}",
        "stranger files Alice's comment under her own post",
        "mallory",
        Refused(404, "not_found"),
        params={"post_id": "mallory_post", "comment_id": "alice_comment_on_bob_post"},
        unchanged=("alice_comment_on_bob_post",),
    ),
    Row(
        "POST /posts/{post_id}/save",
        "stranger saves a private post",
        "mallory",
        Refused(404, "not_found"),
        body={"collection": "{collection}"},
        unchanged=("alice_post", "alice_saved"),
    ),
    Row(
        "DELETE /posts/{post_id}/save",
        "stranger empties a collection of Alice's name",
        "mallory",
        Served(204),
        params={"post_id": "bob_post"},
        body={"collection": "{collection}"},
        unchanged=("alice_saved",),
    ),
    Row(
        "GET /me/saved",
        "stranger reads a collection of Alice's name",
        "mallory",
        Served(check=_no_items),
        query={"collection": "{collection}"},
        unchanged=("alice_saved",),
    ),
    Row(
        "GET /me/collections",
        "stranger lists collections: only her own",
        "mallory",
        Served(check=_no_private_collection),
    ),
    # Feed, search, tags.
    Row("GET /feed", "stranger's feed: no private posts", "mallory", Served(check=_no_items)),
    Row(
        "GET /feed",
        "stranger's feed, chronological and explained: no private posts",
        "mallory",
        Served(check=_no_items),
        query={"order": "chronological", "explain": "true"},
    ),
    Row(
        "POST /feed/seen",
        "stranger marks a private post seen: 204, as for any id, and nothing of it told",
        "mallory",
        Served(status=204),
        body={"post_ids": ["{alice_post}", "{alice_pending_post}"]},
        unchanged=("bob_feed",),
    ),
    Row(
        "GET /search/users",
        "stranger finds a private account as a summary only",
        "mallory",
        Served(check=_only_summaries),
        query={"q": "{alice_name}"},
    ),
    Row(
        "GET /search/tags",
        "stranger searches a tag only a private post bears",
        "mallory",
        Served(check=_tags_without_posts),
        query={"q": "{tag}"},
    ),
    Row(
        "GET /tags/{tag}/posts",
        "stranger lists a tag only a private post bears",
        "mallory",
        Served(check=_no_items),
        control="bob",
    ),
    Row("GET /tags/{tag}/posts", "requester lists the tag", "carol", Served(check=_no_items)),
    # Notifications are per user, and say nothing of posts their reader may not see.
    Row(
        "GET /notifications",
        "stranger mentioned in a private post and in a comment on it",
        "mallory",
        Served(check=_only_the_public_mention),
    ),
    Row(
        "POST /notifications/read",
        "stranger marks Alice's newest notification read",
        "mallory",
        Served(204),
        body={"up_to": "{alice_notification}"},
        unchanged=("alice_notifications",),
    ),
    Row(
        "POST /notifications/read",
        "stranger names Alice as whose notifications",
        "mallory",
        Refused(422, "validation_error"),
        body={"user_id": "{alice_id}"},
        unchanged=("alice_notifications",),
    ),
    Row(
        "GET /notifications/unread-count",
        "stranger asks for the badge",
        "mallory",
        Served(check=lambda w, body: _own_badge(w, body)),
        unchanged=("alice_unread",),
    ),
    # Push: devices and settings are the caller's own; another's device id is as if it did not exist.
    Row(
        "POST /me/devices",
        "stranger registers a phone in Alice's name",
        "mallory",
        Refused(422, "validation_error"),
        body={"platform": "apns", "token": "ab" * 32, "user_id": "{alice_id}"},
        unchanged=("alice_push",),
    ),
    Row("GET /me/devices", "stranger lists devices", "mallory", Served(check=_no_items), unchanged=("alice_push",)),
    Row(
        "DELETE /me/devices/{device_id}",
        "stranger removes a device that is not theirs",
        "mallory",
        Refused(404, "not_found"),
        unchanged=("alice_push",),
    ),
    Row(
        "GET /me/notification-settings",
        "stranger reads settings",
        "mallory",
        Served(check=lambda w, body: _default_settings(body)),
        unchanged=("alice_push",),
    ),
    Row(
        "PATCH /me/notification-settings",
        "stranger turns off pushes for Alice",
        "mallory",
        Refused(422, "validation_error"),
        body={"likes": False, "user_id": "{alice_id}"},
        unchanged=("alice_push",),
    ),
    Row(
        "PATCH /me/notification-settings",
        "stranger changes their own settings",
        "mallory",
        Served(check=lambda w, body: _likes_off(body)),
        body={"likes": False},
        unchanged=("alice_push",),
    ),
    # Direct messages over HTTP.
    Row(
        "POST /messages",
        "stranger writes into Alice's conversation id",
        "mallory",
        Refused(422, "validation_error"),
        body={"to": "{bob_name}", "text": "x", "conversation_id": "{conversation}"},
        unchanged=("alice_conversation",),
    ),
    Row(
        "POST /messages",
        "stranger signs a message as Alice",
        "mallory",
        Refused(422, "validation_error"),
        body={"to": "{bob_name}", "text": "it's alice", "sender_id": "{alice_id}"},
        unchanged=("alice_conversation",),
    ),
    Row(
        "POST /messages",
        "stranger replays Alice's Idempotency-Key",
        "mallory",
        Served(201, _mallorys_own_message),
        body={"to": "{bob_name}", "text": "mine"},
        headers={"idempotency-key": "{alice_message_key}"},
        unchanged=("alice_conversation",),
    ),
    Row("GET /conversations", "stranger lists conversations: only her own", "mallory", Served()),
    Row(
        "GET /conversations/{conversation_id}/messages",
        "stranger reads Alice's conversation",
        "mallory",
        Refused(404, "not_found"),
        control="alice",
    ),
    Row(
        "GET /conversations/{conversation_id}/messages",
        "stranger forges an id naming her and Alice",
        "mallory",
        Refused(404, "not_found"),
        params={"conversation_id": "forged_conversation"},
    ),
    Row(
        "POST /conversations/{conversation_id}/read",
        "stranger marks Alice's conversation read",
        "mallory",
        Refused(404, "not_found"),
        body={"up_to": "{alice_message}"},
        unchanged=("alice_conversation",),
    ),
    Row(
        "POST /conversations/{conversation_id}/read",
        "participant names a message of Alice's conversation",
        "mallory",
        Refused(404, "not_found"),
        params={"conversation_id": "mallory_conversation"},
        body={"up_to": "{alice_message}"},
        unchanged=("alice_conversation",),
    ),
    # Accounts (issue 14): each route acts on the caller's own account; another's is out of reach.
    Row(
        "POST /auth/verify-email",
        "stranger verifies Alice's address with a guessed code",
        "mallory",
        Refused(403, "forbidden"),
        body={"username": "{alice_name}", "code": "123456"},
        unchanged=("alice_profile",),
    ),
    Row("POST /me/email/verification", "stranger asks a code for her own address", "mallory", Served(status=204)),
    Row(
        "POST /me/password",
        "stranger guesses a current password (her own account)",
        "mallory",
        Refused(401, "invalid_credentials"),
        body={"current_password": "Not-Her-Password-1", "new_password": "Brand-New-Secret-7"},
        unchanged=("alice_profile",),
    ),
    Row("POST /me/mfa/totp", "stranger starts two-factor on her own account", "mallory", Served(check=_own_secret)),
    Row(
        "POST /me/mfa/totp/verify",
        "stranger turns two-factor on with a guessed code",
        "carol",
        Refused(401, "invalid_code"),
        body={"code": "123456", "password": "Correct-Horse-9"},
        unchanged=("alice_profile",),
    ),
    Row(
        "DELETE /me/mfa",
        "stranger turns two-factor off where it is not on",
        "mallory",
        Refused(409, "conflict"),
        body={"code": "123456"},
        unchanged=("alice_profile",),
    ),
    Row(
        "POST /me/mfa/recovery-codes",
        "stranger mints recovery codes without two-factor",
        "mallory",
        Refused(409, "conflict"),
        body={"password": "Correct-Horse-9"},
        unchanged=("alice_profile",),
    ),
    Row(
        "POST /me/sign-out-everywhere",
        "blocked user signs out his own devices",
        "dave",
        Served(status=204),
        unchanged=("alice_profile",),
    ),
    Row(
        "DELETE /me",
        "stranger deletes her own account with a guessed password",
        "mallory",
        Refused(401, "invalid_credentials"),
        body={"password": "Not-Her-Password-1"},
        unchanged=("alice_profile",),
    ),
    Row("POST /me/reactivate", "stranger reactivates her own active account", "mallory", Served(check=_own_profile)),
    Row("GET /me/export", "blocked user asks for an export he never requested", "dave", Refused(404, "not_found")),
    Row(
        "POST /me/export",
        "stranger exports her own data",
        "mallory",
        Served(status=202, check=_export_pending),
        unchanged=("alice_profile",),
    ),
    Row("GET /me/export", "stranger reads her own export's status", "mallory", Served(check=_own_export)),
    Row("GET /me/blocked", "stranger's own blocked list", "mallory", Served(check=_alice_not_listed)),
    Row("GET /me/blocked", "blocked user's list does not name who blocked him", "dave", Served(check=_no_items)),
    Row("GET /me/muted", "stranger's own muted list", "mallory", Served(check=_no_items)),
    Row("POST /users/{username}/mute", "blocked user mutes Alice", "dave", Refused(404, "not_found")),
    Row(
        "POST /users/{username}/mute",
        "stranger mutes Alice: Alice is not told",
        "mallory",
        Served(status=204),
        unchanged=("alice_profile",),
    ),
    Row("DELETE /users/{username}/mute", "stranger unmutes Alice", "mallory", Served(status=204)),
    Row(
        "PATCH /posts/{post_id}",
        "stranger edits a private post's caption",
        "mallory",
        Refused(404, "not_found"),
        body={"caption": "pwned"},
        unchanged=("alice_post", "alice_profile", "bob_feed"),
    ),
    Row(
        "PATCH /posts/{post_id}",
        "follower edits the caption of the post she sees",
        "bob",
        Refused(403, "forbidden"),
        body={"caption": "pwned #owned"},
        unchanged=("alice_post", "alice_profile", "bob_feed"),
    ),
    Row(
        "POST /me/avatar",
        "stranger asks for an avatar upload: her own key",
        "mallory",
        Served(status=201, check=_own_avatar_key),
        body={"content_type": "image/jpeg", "size_bytes": 1000},
        unchanged=("alice_profile",),
    ),
    Row(
        "DELETE /me/avatar",
        "stranger removes her own avatar",
        "mallory",
        Served(status=204),
        unchanged=("alice_profile",),
    ),
]

GROUP = {"conversation_id": "group"}
HTTP_ROWS += [
    # Group conversations: strangers find nothing; a blocked user joins nothing; members do only their part.
    Row(
        "POST /conversations",
        "blocked user starts a group with Alice",
        "dave",
        Refused(403, "forbidden"),
        body={"members": ["{alice_name}", "{bob_name}"]},
        unchanged=("alice_group",),
    ),
    Row(
        "POST /messages",
        "stranger writes into Alice's group",
        "mallory",
        Refused(404, "not_found"),
        body={"conversation_id": "{group}", "text": "let me in"},
        unchanged=("alice_group",),
    ),
    Row(
        "POST /messages",
        "blocked user writes to Alice",
        "dave",
        Refused(403, "forbidden"),
        body={"to": "{alice_name}", "text": "hi"},
        unchanged=("alice_conversation", "alice_group"),
    ),
    Row(
        "GET /conversations/{conversation_id}/messages",
        "stranger reads Alice's group",
        "mallory",
        Refused(404, "not_found"),
        params=GROUP,
        control="bob",
    ),
    Row(
        "PATCH /conversations/{conversation_id}",
        "stranger renames Alice's group",
        "mallory",
        Refused(404, "not_found"),
        params=GROUP,
        body={"title": "mine now"},
        unchanged=("alice_group",),
    ),
    Row(
        "PATCH /conversations/{conversation_id}",
        "stranger renames Alice's direct conversation",
        "mallory",
        Refused(404, "not_found"),
        body={"title": "mine now"},
        unchanged=("alice_conversation",),
    ),
    Row(
        "POST /conversations/{conversation_id}/members",
        "stranger adds herself to Alice's group",
        "mallory",
        Refused(404, "not_found"),
        params=GROUP,
        body={"usernames": ["{mallory_name}"]},
        unchanged=("alice_group",),
    ),
    Row(
        "POST /conversations/{conversation_id}/members",
        "member adds someone Alice blocked",
        "bob",
        Refused(403, "forbidden"),
        params=GROUP,
        body={"usernames": ["{dave_name}"]},
        unchanged=("alice_group",),
    ),
    Row(
        "DELETE /conversations/{conversation_id}/members/{username}",
        "stranger removes Alice from her group",
        "mallory",
        Refused(404, "not_found"),
        params=GROUP,
        unchanged=("alice_group",),
    ),
    Row(
        "DELETE /conversations/{conversation_id}/members/{username}",
        "member who is not the admin removes Alice",
        "bob",
        Refused(403, "forbidden"),
        params=GROUP,
        unchanged=("alice_group",),
    ),
    Row(
        "DELETE /conversations/{conversation_id}/messages/{message_id}",
        "stranger unsends Alice's group message",
        "mallory",
        Refused(404, "not_found"),
        params=GROUP,
        unchanged=("alice_group",),
    ),
    Row(
        "DELETE /conversations/{conversation_id}/messages/{message_id}",
        "member unsends Alice's message",
        "bob",
        Refused(403, "forbidden"),
        params=GROUP,
        unchanged=("alice_group",),
    ),
    Row(
        "POST /conversations/{conversation_id}/mute",
        "stranger mutes Alice's group",
        "mallory",
        Refused(404, "not_found"),
        params=GROUP,
        unchanged=("alice_group",),
    ),
    Row(
        "DELETE /conversations/{conversation_id}/mute",
        "stranger unmutes Alice's direct conversation",
        "mallory",
        Refused(404, "not_found"),
        unchanged=("alice_conversation",),
    ),
]

WS_ROWS = [
    Row(f"{WS}$connect", "anonymous opens a connection", ANONYMOUS, Refused(401, "unauthorized")),
    Row(f"{WS}$connect", "stranger's token edited to say Alice", "mallory", Refused(401, "unauthorized")),
    Row(
        f"{WS}$disconnect",
        "stranger hangs up: Alice's connection stays",
        "mallory",
        Served(),
        unchanged=("alice_conversation",),
    ),
    Row(
        f"{WS}sendMessage",
        "stranger signs a message as Alice",
        "mallory",
        Refused(0, "validation_error"),
        body={
            "action": "sendMessage",
            "to": "{bob_name}",
            "text": "it's alice",
            "client_id": "m-1",
            "sender": {"user_id": "{alice_id}", "username": "{alice_name}"},
        },
        unchanged=("alice_conversation",),
    ),
    Row(
        f"{WS}sendMessage",
        "stranger writes into Alice's conversation id",
        "mallory",
        Refused(0, "validation_error"),
        body={
            "action": "sendMessage",
            "to": "{bob_name}",
            "text": "x",
            "client_id": "m-2",
            "conversation_id": "{conversation}",
        },
        unchanged=("alice_conversation",),
    ),
    Row(
        f"{WS}sendMessage",
        "stranger replays Alice's client_id",
        "mallory",
        Served(frame="ack", check=_mallorys_own_ws_message),
        body={"action": "sendMessage", "to": "{bob_name}", "text": "mine", "client_id": "{alice_ws_key}"},
        unchanged=("alice_conversation",),
    ),
    Row(
        f"{WS}markRead",
        "stranger marks Alice's conversation read",
        "mallory",
        Refused(0, "not_found"),
        body={"action": "markRead", "conversation_id": "{conversation}", "up_to": "{alice_ws_message}"},
        unchanged=("alice_conversation",),
    ),
    Row(
        f"{WS}markRead",
        "participant names a message of Alice's conversation",
        "mallory",
        Refused(0, "not_found"),
        body={"action": "markRead", "conversation_id": "{mallory_conversation}", "up_to": "{alice_ws_message}"},
        unchanged=("alice_conversation",),
    ),
    Row(
        f"{WS}ping",
        "stranger pings: only she hears back",
        "mallory",
        Served(frame="pong", check=_pong),
        body={"action": "ping"},
    ),
    Row(
        f"{WS}sendMessage",
        "stranger writes into Alice's group",
        "mallory",
        Refused(0, "not_found"),
        body={"action": "sendMessage", "conversation_id": "{group}", "text": "x", "client_id": "m-g"},
        unchanged=("alice_group",),
    ),
    Row(
        f"{WS}sendMessage",
        "blocked user writes to Alice",
        "erin",
        Refused(0, "forbidden"),
        body={"action": "sendMessage", "to": "{alice_name}", "text": "x", "client_id": "e-1"},
        unchanged=("alice_conversation",),
    ),
    Row(
        f"{WS}typing",
        "stranger types into Alice's group",
        "mallory",
        Refused(0, "not_found"),
        body={"action": "typing", "conversation_id": "{group}"},
    ),
    Row(
        f"{WS}typing",
        "stranger types into Alice's direct conversation",
        "mallory",
        Refused(0, "not_found"),
        body={"action": "typing", "conversation_id": "{conversation}"},
    ),
    Row(
        f"{WS}$default",
        "stranger sends an unknown action naming Alice",
        "mallory",
        Refused(0, "unknown_action"),
        body={"action": "readAll", "user_id": "{alice_id}"},
        unchanged=("alice_conversation",),
    ),
]

MODERATION_ROWS = [
    Row(
        "POST /reports",
        "stranger reports a private post she cannot see",
        "mallory",
        Refused(404, "not_found"),
        body={"target_type": "post", "target_id": "{alice_post}", "reason": "spam"},
        unchanged=("alice_post",),
    ),
    Row(
        "POST /reports",
        "stranger reports a message of a conversation she is not in",
        "mallory",
        Refused(404, "not_found"),
        body={"target_type": "message", "target_id": "{conversation}/{alice_message}", "reason": "harassment"},
        unchanged=("alice_conversation",),
    ),
    Row(
        "POST /reports",
        "blocked user reports the private account",
        "dave",
        Refused(404, "not_found"),
        body={"target_type": "user", "target_id": "{alice_id}", "reason": "spam"},
        unchanged=("alice_profile",),
    ),
    Row("GET /me/reports", "stranger lists reports: only her own (none)", "mallory", Served(check=_no_items)),
    Row("GET /moderation/queue", "member reads the moderation queue", "mallory", Refused(403, "forbidden")),
    Row("GET /moderation/queue", "reporter reads the queue", "bob", Refused(403, "forbidden")),
    Row(
        "GET /moderation/cases/{case_id}",
        "member reads the case of Alice's post",
        "mallory",
        Refused(403, "forbidden"),
    ),
    Row(
        "POST /moderation/cases/{case_id}/actions",
        "reporter removes Alice's post",
        "bob",
        Refused(403, "forbidden"),
        body={"action": "remove", "note": "I reported it"},
        unchanged=("alice_post", "bob_feed"),
    ),
    Row(
        "POST /moderation/cases/{case_id}/actions",
        "stranger suspends Alice",
        "mallory",
        Refused(403, "forbidden"),
        body={"action": "suspend_user", "note": "because"},
        unchanged=("alice_profile", "dave_blocked"),
    ),
    Row(
        "POST /moderation/cases/{case_id}/actions",
        "owner dismisses the case about her post",
        "alice",
        Refused(403, "forbidden"),
        body={"action": "dismiss", "note": "nothing to see"},
    ),
    Row("GET /moderation/log", "member reads the audit log", "mallory", Refused(403, "forbidden")),
]

ROWS = HTTP_ROWS + MODERATION_ROWS + WS_ROWS


# Running a row


def _request_text(world: World, row: Row) -> str:
    return json.dumps(
        [
            row.params,
            world.filled(row.body),
            world.filled(dict(row.headers)),
            world.filled(dict(row.query)),
            [world.ids.get(v, v) for v in row.params.values()],
        ]
    )


def assert_nothing_private(world: World, row: Row, answer: str) -> None:
    asked = _request_text(world, row) + row.route
    leaked = sorted(secret for secret in world.secrets if secret in answer and secret not in asked)
    assert not leaked, f"{row.id}: the answer shows {leaked}: {answer[:500]}"


def http_request(world: World, row: Row, as_member: str | None = None) -> httpx.Response:
    method, template = row.route.split(" ", 1)
    path = template.format_map(
        {name: world.ids[row.params.get(name, DEFAULT_PARAMS.get(name, name))] for name in DEFAULT_PARAMS}
    )
    return world.client(as_member or row.attacker).request(
        method,
        path,
        json=world.filled(row.body) if row.body is not None else None,
        headers=world.filled(dict(row.headers)),
        params=world.filled(dict(row.query)) or None,
    )


def run_http_row(world: World, row: Row) -> None:
    response = http_request(world, row)
    assert_nothing_private(world, row, response.text)
    if isinstance(row.expect, Refused):
        assert response.status_code == row.expect.status, f"{row.id}: {response.status_code} {response.text}"
        error = response.json()["error"]
        assert error["code"] == row.expect.code, f"{row.id}: {response.text}"
        assert error["message"] and error["message"] != "No such route.", f"{row.id}: {response.text}"
    else:
        assert response.status_code == row.expect.status, f"{row.id}: {response.status_code} {response.text}"
        if row.expect.check is not None:
            row.expect.check(world, response.json())
    if row.control is not None:
        allowed = http_request(world, row, as_member=row.control)
        assert allowed.status_code == 200, f"{row.id}: {row.control} is refused too: {allowed.text}"
    if row.route == "POST /me/sign-out-everywhere" and response.status_code == 204:
        world.members[row.attacker].log_in_again()  # their own token is signed out too: later rows need one


def _conversation_frames(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Of what reached a listening device, what is about conversations (notifications of earlier rows, pushed by
    the pipelines in their own time, may trickle in: not counted)."""
    return [
        frame
        for frame in frames
        if frame.get("type") in ("message", "read", "typing", "message_deleted", "conversation")
    ]


def run_ws_row(world: World, row: Row) -> None:
    action = row.route.removeprefix(WS)
    listeners = [world.devices["alice"], world.devices["bob"]]
    for device in listeners:
        device.heard_until_pong()  # what earlier rows legitimately sent them
    if action == "$connect":
        token = (
            ""
            if row.attacker == ANONYMOUS
            else token_claiming(
                world.members[row.attacker], sub=world.ids["alice_id"], username=world.ids["alice_name"]
            )
        )
        with pytest.raises(InvalidStatus) as refused:
            connect(f"{world.websocket_url}?token={token}", open_timeout=10).close()
        assert refused.value.response.status_code == row.expect.status
        return
    if action == "$disconnect":
        Device(world.websocket_url, world.members[row.attacker]).close()
        world.devices["alice"].send({"action": "ping"})
        assert world.devices["alice"].next("pong") == {"type": "pong"}
        return
    attacker = world.devices[row.attacker]
    attacker.send(world.filled(row.body))
    if isinstance(row.expect, Refused):
        answer = attacker.next("error")
        assert answer["code"] == row.expect.code, f"{row.id}: {answer}"
    else:
        assert row.expect.frame is not None
        answer = attacker.next(row.expect.frame)
        if row.expect.check is not None:
            row.expect.check(world, answer)
    assert_nothing_private(world, row, json.dumps(answer))
    if isinstance(row.expect, Refused) or action == "ping":
        # The attacker's frames are handled in order: its pong means its action's invocation has ended, and
        # anything it pushed to the listeners was sent before they ping in turn and read their pong.
        heard_by_attacker = attacker.heard_until_pong()
        for device in listeners:
            heard = heard_by_attacker if device is attacker else device.heard_until_pong()
            assert _conversation_frames(heard) == [], f"{row.id}: {device.member.username} heard something"


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_nobody_reaches_alices_private_objects(world: World, row: Row) -> None:
    # Given Alice's objects as their owners see them
    before = snapshot(world, row.unchanged)

    # When someone else asks for them (refusal or not is checked inside)
    (run_ws_row if row.route.startswith(WS) else run_http_row)(world, row)

    # Then they read back exactly as before
    assert snapshot(world, row.unchanged) == before, row.id


# Beside the matrix


def _template_routes() -> dict[str, set[str]]:
    """Route keys of the synthesized HTTP and WebSocket APIs, by protocol."""
    manifest = json.loads((CDK_OUT / "manifest.json").read_text())
    template_file = manifest["artifacts"][STATELESS_STACK_ID]["properties"]["templateFile"]
    resources = json.loads((CDK_OUT / template_file).read_text())["Resources"]
    protocols = {
        logical_id: resource["Properties"]["ProtocolType"]
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::ApiGatewayV2::Api"
    }
    routes: dict[str, set[str]] = {protocol: set() for protocol in protocols.values()}
    for resource in resources.values():
        if resource["Type"] == "AWS::ApiGatewayV2::Route":
            api = resource["Properties"]["ApiId"]["Ref"]
            routes[protocols[api]].add(resource["Properties"]["RouteKey"])
    return routes


def _protected_http_routes() -> list[str]:
    if not (CDK_OUT / "manifest.json").is_file():
        return []  # the completeness test fails on it; local_cloud skips the rest
    return sorted(_template_routes()["HTTP"] - PUBLIC_ROUTES)


def test_every_route_and_websocket_action_has_a_row() -> None:
    # Given the routes the synthesized template declares
    routes = _template_routes()

    # When they are compared with the matrix
    http_in_matrix = {row.route for row in HTTP_ROWS + MODERATION_ROWS}
    ws_in_matrix = {row.route.removeprefix(WS) for row in WS_ROWS}

    # Then every protected HTTP route and every WebSocket route has at least one row, and no row is stale
    assert http_in_matrix == routes["HTTP"] - PUBLIC_ROUTES
    assert ws_in_matrix == routes["WEBSOCKET"]


@pytest.mark.parametrize("route", _protected_http_routes())
@pytest.mark.parametrize("token", ["none", "edited to say Alice"])
def test_every_protected_route_refuses_a_missing_or_edited_token(world: World, route: str, token: str) -> None:
    # Given a request to a protected route, without a token or with Mallory's edited to claim Alice
    row = Row(route, f"{token} token", ANONYMOUS, Refused(401, "unauthorized"))
    headers = (
        {}
        if token == "none"
        else {
            "authorization": "Bearer "
            + token_claiming(world.members["mallory"], sub=world.ids["alice_id"], username=world.ids["alice_name"])
        }
    )
    method, template = route.split(" ", 1)
    path = template.format_map({name: world.ids[key] for name, key in DEFAULT_PARAMS.items()})

    # When it is sent
    response = world.http.request(method, path, headers=headers, json={} if method != "GET" else None)

    # Then the gateway refuses it in the envelope, before any function ran
    assert response.status_code == 401, f"{row.id}: {response.text}"
    assert response.json()["error"]["code"] == "unauthorized"
    assert_nothing_private(world, row, response.text)


def test_an_upload_policy_cannot_be_pointed_at_another_post(world: World) -> None:
    # Given Mallory's own signed upload, and the key of Alice's (pending) post's upload
    mallory = world.members["mallory"]
    content = jpeg()
    mine = mallory.http.post("/posts", json={"media": [{"content_type": "image/jpeg", "size_bytes": len(content)}]})
    target = dict(mine.json()["uploads"][0])
    alices_key = target["fields"]["key"].replace(mine.json()["post"]["post_id"], world.ids["alice_pending_post"])
    before = snapshot(world, ("alice_profile",))
    alices_pending = world.members["alice"].http.get(f"/posts/{world.ids['alice_pending_post']}").json()

    # When she uploads under Alice's key with her own policy and signature
    answer = upload({"url": target["url"], "fields": {**target["fields"], "key": alices_key}}, content)

    # Then S3 refuses it, and Alice's post is as it was
    assert answer.status_code == 403, answer.text
    assert "AccessDenied" in answer.text
    assert world.members["alice"].http.get(f"/posts/{world.ids['alice_pending_post']}").json() == alices_pending
    assert snapshot(world, ("alice_profile",)) == before


def test_post_authors_may_delete_any_comment_on_their_post_and_commenters_their_own(world: World) -> None:
    # Given (API.md: 403 "unless comment or post author") a comment by Mallory and one by Alice on Bob's post
    bob, mallory, alice = (world.members[name] for name in ("bob", "mallory", "alice"))
    post_id = world.ids["bob_post"]
    by_mallory = mallory.http.post(f"/posts/{post_id}/comments", json={"text": "spam"}).json()["comment_id"]
    by_alice = alice.http.post(f"/posts/{post_id}/comments", json={"text": "keep me"}).json()["comment_id"]
    count = bob.http.get(f"/posts/{post_id}").json()["comment_count"]

    # When Bob, the post's author, deletes Mallory's, and Alice deletes her own
    assert bob.http.delete(f"/posts/{post_id}/comments/{by_mallory}").status_code == 204
    assert alice.http.delete(f"/posts/{post_id}/comments/{by_alice}").status_code == 204

    # Then both are gone and counted out; deleting again is 404
    remaining = [c["comment_id"] for c in items(bob, f"/posts/{post_id}/comments", limit=50)]
    assert by_mallory not in remaining and by_alice not in remaining
    assert bob.http.get(f"/posts/{post_id}").json()["comment_count"] == count - 2
    assert bob.http.delete(f"/posts/{post_id}/comments/{by_mallory}").status_code == 404


def test_after_every_attack_alices_world_is_as_she_left_it(world: World) -> None:
    # Given Alice's world as it stood when the module built it (this runs after the matrix)
    # Then every view of it reads back the same once every row has been tried
    assert snapshot(world, ALICES_WORLD) == world.at_start
