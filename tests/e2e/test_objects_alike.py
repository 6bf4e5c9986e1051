"""Every object the API returns is one object, field for field, whichever route or WebSocket frame returns it:
Comment, User and Me, UserSummary, Message, Conversation, Notification and Story (a Post has its own walk,
`test_viewer_flags.py::test_every_route_returning_a_post_shows_every_field_of_it_alike`).

A client caches what one route answered and shows it beside what another answered: an object built apart on two
routes drifts (a field missing on one, an order kept on one, a name read before a change on the other). So each
object is read everywhere it shows at one moment and compared whole. The fields that may differ are named below
with the reason; every other field must be equal. The routes that show people are read from the OpenAPI document
the running API serves, as the Post walk reads them, so a route added later fails here until it is taught."""

import io
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from PIL import Image

from tests.e2e.test_accounts import settled_avatar, start_avatar
from tests.e2e.test_feed import post_photo
from tests.e2e.test_viewer_flags import Route, _references
from tests.support.api_client import PASSWORD, Device, Member, eventually, from_own_address, upload

pytestmark = pytest.mark.e2e

MISSING = "<absent>"
"""What `differences` shows for a field one view has and the other has not."""

VIEWER_FLAGS = {"followed_by_me", "follow_requested_by_me"}
"""User fields that are the reader's own: whether *they* follow (or asked to follow) the person shown."""
PER_READER = {"unread_count", "muted"}
"""Conversation fields that are each member's own: what they have not read yet, whether they muted it."""
ROUTE_ONLY = {"upload"}
"""What `POST /messages` (and the WebSocket `ack`, in its `message`) adds to the Message it answers: the sender's
pre-signed POST for the picture (null for a text), an instruction to the sender, not part of the message others
read."""
CASE_ONLY = {"suspended", "removed"}
"""What a moderation case adds to the object it is about (API_NOTES.md, `Case`): a User target's `suspended`, a
Comment or Message target's `removed` (a Post's `status` says it already)."""
STORY_SETTLED_ON_PUBLICATION = {"media"}
"""A story as `POST /stories` answers it is pending: its media has no renditions yet. Everything else is the
published story's, `expires_at` included (created_at + 24 h, fixed at creation)."""

COMPARED_HERE = {
    "Comment": {("POST", "/posts/{post_id}/comments"), ("GET", "/posts/{post_id}/comments")},
    "Message": {
        ("GET", "/conversations/{conversation_id}/messages"),
        ("GET", "/conversations"),
        ("POST", "/conversations"),
        ("PATCH", "/conversations/{conversation_id}"),
        ("POST", "/conversations/{conversation_id}/members"),
    },
    "Conversation": {
        ("GET", "/conversations"),
        ("POST", "/conversations"),
        ("PATCH", "/conversations/{conversation_id}"),
        ("POST", "/conversations/{conversation_id}/members"),
    },
    "Notification": {("GET", "/notifications")},
    "Story": {("POST", "/stories"), ("GET", "/stories/feed")},
    "User": {("GET", "/users/{username}")},
    "Me": {("POST", "/auth/signup"), ("GET", "/me"), ("PATCH", "/me"), ("POST", "/me/reactivate")},
}
"""Per object, the routes whose answer holds it (by its schema in the OpenAPI document) that this module compares:
a route added later that returns one of them fails `test_every_route_returning_these_objects_is_compared_here`
until a test here reads it. `POST /messages` answers its own schema (`SentMessage`: the Message plus `upload`)."""


# Comparing


Differences = dict[str, dict[str, tuple[Any, Any]]]
"""`{"<view> vs <first view>": {field: (the first's value, its value)}}`"""


def differences(views: dict[str, Any]) -> Differences:
    """How each view differs from the first one, field by field: `{"<view> vs <first view>": {field: (the first's
    value, its value)}}`, a field one of them lacks shown as MISSING. Empty when every view is the same object."""
    (first_label, first), *others = views.items()
    found: Differences = {}
    for label, view in others:
        changed = {
            name: (first.get(name, MISSING), view.get(name, MISSING))
            for name in sorted(set(first) | set(view))
            if first.get(name, MISSING) != view.get(name, MISSING)
        }
        if changed:
            found[f"{label} vs {first_label}"] = changed
    return found


def without(view: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    return {name: value for name, value in view.items() if name not in set(names)}


def unsigned(node: Any) -> Any:
    """The object with every `url` cut before its query string: a photo message's renditions are pre-signed S3 GETs
    (API_NOTES.md "photo and video messages"), signed anew whenever a message is read — a new date, and another
    function's credentials, on each route — so two reads of one message never carry the same signature. The
    address (bucket, conversation, message, rendition) is the message's and is compared."""
    if isinstance(node, dict):
        return {
            name: urlunsplit(urlsplit(value)._replace(query="")) if name == "url" else unsigned(value)
            for name, value in node.items()
        }
    if isinstance(node, list):
        return [unsigned(value) for value in node]
    return node


def urls_in(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [url for name, value in node.items() for url in ([value] if name == "url" else urls_in(value))]
    if isinstance(node, list):
        return [url for value in node for url in urls_in(value)]
    return []


def people_in(body: Any, user_id: str) -> list[dict[str, Any]]:
    """Every object standing for this person anywhere in a body or frame (an author, a sender, a member, an actor,
    a list item...)."""
    if isinstance(body, list):
        return [person for value in body for person in people_in(value, user_id)]
    if not isinstance(body, dict):
        return []
    own = [body] if body.get("user_id") == user_id else []
    return own + [person for value in body.values() for person in people_in(value, user_id)]


def routes_returning(document: dict[str, Any], schema: str) -> list[Route]:
    """Every operation whose success response is, holds or pages the schema, following $refs through the
    document's components (a schema that merely has the same fields, as User has UserSummary's, is not it)."""
    components = document.get("components", {}).get("schemas", {})
    wanted = f"#/components/schemas/{schema}"
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            successes = [body for status, body in operation.get("responses", {}).items() if status.startswith("2")]
            seen: set[str] = set()
            pending = [reference for body in successes for reference in _references(body)]
            while pending:
                reference = pending.pop()
                if reference in seen or not reference.startswith("#/components/schemas/"):
                    continue
                seen.add(reference)
                pending.extend(_references(components.get(reference.rsplit("/", 1)[1], {})))
            if wanted in seen:
                found.append(Route(method.upper(), path, operation))
    return found


def properties(document: dict[str, Any], schema: str) -> set[str]:
    return set(document["components"]["schemas"][schema]["properties"])


# Reading


def photo(size: tuple[int, int] = (800, 600)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 90, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json() if response.content else None


def in_inbox(member: Member, conversation_id: str) -> dict[str, Any]:
    """The conversation as `GET /conversations` lists it for this member."""
    items = ok(member.http.get("/conversations", params={"limit": 50}))["items"]
    [conversation] = [item for item in items if item["conversation_id"] == conversation_id]
    return dict(conversation)


def in_history(member: Member, conversation_id: str, message_id: str) -> dict[str, Any]:
    """The message as `GET /conversations/{id}/messages` lists it for this member."""
    items = ok(member.http.get(f"/conversations/{conversation_id}/messages", params={"limit": 50}))["items"]
    [message] = [item for item in items if item["message_id"] == message_id]
    return dict(message)


def stored_views(readers: dict[str, Member], conversation_id: str, message_id: str) -> dict[str, Any]:
    """The message wherever it is stored for each reader: in the history, and as the inbox's `last_message`."""
    views = {}
    for name, member in readers.items():
        views[f"GET /conversations/{{id}}/messages ({name})"] = in_history(member, conversation_id, message_id)
        last = in_inbox(member, conversation_id)["last_message"]
        assert last is not None and last["message_id"] == message_id, f"{name}'s inbox: {last}"
        views[f"GET /conversations last_message ({name})"] = last
    return views


def named_against_id_order(*members: Member) -> list[str]:
    """Usernames in descending order of user id: a list kept in the order people were named and one kept in id
    order then never agree by chance, whatever ids the sign-ups drew."""
    return [member.username for member in sorted(members, key=lambda member: member.user_id, reverse=True)]


@pytest.fixture
def websocket_url(local_cloud: Any) -> str:
    return str(local_cloud.outputs["WebSocketUrl"])


@pytest.fixture(scope="module")
def document(local_cloud: Any) -> dict[str, Any]:
    return dict(local_cloud.http.get("/openapi.json").json())


def test_every_route_returning_these_objects_is_compared_here(document: dict[str, Any]) -> None:
    found = {
        schema: {(route.method, route.path) for route in routes_returning(document, schema)} for schema in COMPARED_HERE
    }

    assert found == COMPARED_HERE


# Comment


def test_a_comment_is_the_same_in_its_answer_in_its_retry_and_in_everyones_list(local_cloud: Any) -> None:
    # Given a published post and someone commenting on it (over a retry, as a phone on a bad network does)
    author, commenter, stranger = (Member(local_cloud.http) for _ in range(3))
    post_id = post_photo(author, "comment on this")
    eventually(lambda: author.http.get(f"/posts/{post_id}").json()["status"], lambda status: status == "published")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    text = f"Same words everywhere ✨ @{author.username} #alike"

    # When the comment is answered, answered again to the retry, and listed for its writer, the post's author and
    # someone else
    answer = ok(commenter.http.post(f"/posts/{post_id}/comments", json={"text": text}, headers=key), 201)
    retried = ok(commenter.http.post(f"/posts/{post_id}/comments", json={"text": text}, headers=key), 201)
    listed = {
        name: list(ok(member.http.get(f"/posts/{post_id}/comments"))["items"])
        for name, member in (("commenter", commenter), ("author", author), ("stranger", stranger))
    }

    # Then it is one comment, every field of it (a Comment has nothing of its reader's)
    assert [len(comments) for comments in listed.values()] == [1, 1, 1]
    views = {
        "POST /posts/{id}/comments": answer,
        "POST /posts/{id}/comments, retried": retried,
        **{f"GET /posts/{{id}}/comments ({name})": comments[0] for name, comments in listed.items()},
    }
    assert differences(views) == {}
    assert (answer["text"], answer["post_id"], answer["author"]["user_id"]) == (text, post_id, commenter.user_id)


# User and Me


def test_me_is_the_same_from_sign_up_on_and_the_same_user_to_everyone_but_for_their_own_flags(
    local_cloud: Any, document: dict[str, Any]
) -> None:
    # Given someone who signs up (the answer is a Me) and logs in
    username = f"u{uuid.uuid4().hex[:12]}"
    signed_up = local_cloud.http.post(
        "/auth/signup",
        json={"username": username, "password": PASSWORD, "email": f"{username}@example.com"},
        headers=from_own_address(),
    )
    me = Member.__new__(Member)  # signed up here, not by Member(), which does not keep the sign-up's answer
    me.username, me.user_id = username, ok(signed_up, 201)["user"]["user_id"]
    me.http = httpx.Client(base_url=str(local_cloud.http.base_url), timeout=30)
    me.log_in_again()
    first_read = ok(me.http.get("/me"))

    # Then the sign-up answered the Me they then read
    assert differences({"GET /me": first_read, "POST /auth/signup user": signed_up.json()["user"]}) == {}

    # Given a face (a display name, a bio, an avatar), a follower, someone they follow, a post
    follower, followed, stranger = (Member(local_cloud.http) for _ in range(3))
    assert ok(me.http.patch("/me", json={"display_name": "Mia Alike", "bio": "one of me"}))["bio"] == "one of me"
    avatar = start_avatar(me, photo((400, 400)), "image/jpeg")
    assert settled_avatar(me, avatar["media_id"])["avatar_upload"]["status"] == "ready"
    assert ok(follower.http.post(f"/users/{username}/follow")) == {"status": "following"}
    assert ok(me.http.post(f"/users/{followed.username}/follow")) == {"status": "following"}
    post_id = post_photo(me, "counted")
    counts = ("follower_count", "following_count", "post_count")
    eventually(lambda: [me.http.get("/me").json()[name] for name in counts], lambda found: found == [1, 1, 1])
    eventually(lambda: me.http.get(f"/posts/{post_id}").json()["status"], lambda status: status == "published")

    # When every route answering their Me or their User is read, at one moment (a PATCH that sets what is there
    # already changes nothing; reactivating an active account neither)
    me_views = {
        "GET /me": ok(me.http.get("/me")),
        "PATCH /me": ok(me.http.patch("/me", json={"display_name": "Mia Alike", "bio": "one of me"})),
        "POST /me/reactivate": ok(me.http.post("/me/reactivate")),
    }
    user_views = {
        name: ok(reader.http.get(f"/users/{username}"))
        for name, reader in (("themselves", me), ("follower", follower), ("followed", followed), ("stranger", stranger))
    }

    # Then their Me is one object on every route
    assert differences(me_views) == {}
    # ... and the User everyone reads is that Me without what only they see, but for the reader's own flags
    only_me = properties(document, "Me") - properties(document, "User")
    assert only_me >= {"email", "email_verified", "mfa_enabled"}
    assert set(user_views["stranger"]) == properties(document, "User")
    views = {"GET /me, less what only they see": without(me_views["GET /me"], only_me | VIEWER_FLAGS)}
    views |= {f"GET /users/{{username}} ({name})": without(user, VIEWER_FLAGS) for name, user in user_views.items()}
    assert differences(views) == {}
    assert {name: [user[flag] for flag in sorted(VIEWER_FLAGS)] for name, user in user_views.items()} == {
        "themselves": [False, False],
        "follower": [False, True],  # [follow_requested_by_me, followed_by_me]
        "followed": [False, False],
        "stranger": [False, False],
    }
    assert me_views["GET /me"]["avatar"] is not None and me_views["GET /me"]["post_count"] == 1


# UserSummary


@dataclass(frozen=True)
class Read:
    """How a route that lists people is read so that Ann is on it: who reads it, the path's values, the query."""

    reader: str
    path: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)


@dataclass
class Stage:
    """Ann, with a display name and an avatar, shown by every route that shows people; and the answers of every
    write of hers that shows her, made after her face was set."""

    members: dict[str, Member]
    post_id: str
    tag: str
    group_id: str
    case_id: str
    answers: dict[tuple[str, str], Any]
    device: Device

    @property
    def ann(self) -> Member:
        return self.members["ann"]

    def reads(self) -> dict[tuple[str, str], Read]:
        ann, ben = self.ann.username, self.members["ben"].username
        post = {"post_id": self.post_id}
        return {
            ("GET", "/feed"): Read("ben"),
            ("GET", "/stories/feed"): Read("ben"),
            ("GET", "/tags/{tag}/posts"): Read("ben", {"tag": self.tag}),
            ("GET", "/search/users"): Read("ben", query={"q": ann}),
            ("GET", "/posts/{post_id}"): Read("ben", post),
            ("GET", "/posts/{post_id}/likes"): Read("ben", post),
            ("GET", "/posts/{post_id}/comments"): Read("ben", post),
            ("GET", "/me/saved"): Read("ben"),
            ("GET", "/users/{username}/posts"): Read("ben", {"username": ann}),
            # Ann follows Ben and Ben follows Ann: she is on both of his lists
            ("GET", "/users/{username}/followers"): Read("ben", {"username": ben}),
            ("GET", "/users/{username}/following"): Read("ben", {"username": ben}),
            ("GET", "/notifications"): Read("ben"),
            ("GET", "/conversations"): Read("ben"),
            ("GET", "/conversations/{conversation_id}/messages"): Read("ben", {"conversation_id": self.group_id}),
            ("GET", "/me/follow-requests"): Read("pia"),
            ("GET", "/me/muted"): Read("pia"),
            ("GET", "/me/blocked"): Read("dan"),
            # Ann is a moderator: the author of a case, and the moderator in the log
            ("GET", "/moderation/queue"): Read("ann", query={"limit": "50"}),
            ("GET", "/moderation/cases/{case_id}"): Read("ann", {"case_id": self.case_id}),
            ("GET", "/moderation/log"): Read("ann", query={"limit": "50"}),
        }

    def read(self, route: Route) -> Any:
        read = self.reads()[(route.method, route.path)]
        path = route.path
        for name, value in read.path.items():
            path = path.replace(f"{{{name}}}", value)
        assert "{" not in path, f"{route}: teach this test a value for {path}"
        return ok(self.members[read.reader].http.get(path, params=read.query))


def find_case(moderator: Member, target_id: str) -> str:
    cursor = None
    while True:
        page = ok(
            moderator.http.get("/moderation/queue", params={"limit": 50, **({"cursor": cursor} if cursor else {})})
        )
        for case in page["items"]:
            if case["target_id"] == target_id:
                return str(case["case_id"])
        cursor = page["next_cursor"]
        assert cursor, f"no case of {target_id} in the queue"


@pytest.fixture(scope="module")
def stage(local_cloud: Any) -> Stage:
    members = {name: Member(local_cloud.http) for name in ("ann", "ben", "cat", "pia", "dan")}
    ann, ben, cat, pia, dan = members.values()
    ben_phone = Device(local_cloud.outputs["WebSocketUrl"], ben)  # frames that show Ann are compared too
    # Ann's face: a display name and an avatar (every summary carries the avatar's renditions)
    ok(ann.http.patch("/me", json={"display_name": "Ann Alike", "bio": "shown alike"}))
    avatar = start_avatar(ann, photo((500, 500)), "image/jpeg")
    assert settled_avatar(ann, avatar["media_id"])["avatar_upload"]["status"] == "ready"
    # Ben and Ann follow each other; Ann asked to follow Pia (private), who muted her; Dan blocked her
    ok(pia.http.patch("/me", json={"is_private": True}))
    assert ok(ben.http.post(f"/users/{ann.username}/follow")) == {"status": "following"}
    assert ok(ann.http.post(f"/users/{ben.username}/follow")) == {"status": "following"}
    assert ok(ann.http.post(f"/users/{pia.username}/follow")) == {"status": "requested"}
    ok(pia.http.post(f"/users/{ann.username}/mute"), 204)
    ok(dan.http.post(f"/users/{ann.username}/block"), 204)

    answers: dict[tuple[str, str], Any] = {}
    # Her post, with a tag, edited, liked and commented on by her, saved by Ben
    tag = f"alike{uuid.uuid4().hex[:10]}"
    content = photo()
    created = ok(
        ann.http.post(
            "/posts", json={"caption": f"#{tag}", "media": [{"content_type": "image/jpeg", "size_bytes": len(content)}]}
        ),
        201,
    )
    answers[("POST", "/posts")] = created
    post_id = created["post"]["post_id"]
    assert upload(created["uploads"][0], content).status_code == 204
    eventually(lambda: ann.http.get(f"/posts/{post_id}").json()["status"], lambda status: status == "published")
    answers[("PATCH", "/posts/{post_id}")] = ok(ann.http.patch(f"/posts/{post_id}", json={"caption": f"#{tag} !"}))
    ok(ann.http.post(f"/posts/{post_id}/like"))
    answers[("POST", "/posts/{post_id}/comments")] = ok(
        ann.http.post(f"/posts/{post_id}/comments", json={"text": "mine"}), 201
    )
    ok(ben.http.post(f"/posts/{post_id}/save"), 204)
    # Her story
    content = photo((1080, 1920))
    story = ok(
        ann.http.post("/stories", json={"media": {"content_type": "image/jpeg", "size_bytes": len(content)}}), 201
    )
    answers[("POST", "/stories")] = story
    assert upload(story["upload"], content).status_code == 204
    # Her group with Ben and Cat, renamed, Pia added, and a message to it
    group = ok(ann.http.post("/conversations", json={"members": [ben.username, cat.username]}), 201)
    answers[("POST", "/conversations")] = group
    group_id = group["conversation_id"]
    answers[("PATCH", "/conversations/{conversation_id}")] = ok(
        ann.http.patch(f"/conversations/{group_id}", json={"title": "alike"})
    )
    answers[("POST", "/conversations/{conversation_id}/members")] = ok(
        ann.http.post(f"/conversations/{group_id}/members", json={"usernames": [pia.username]})
    )
    answers[("POST", "/messages")] = ok(
        ann.http.post("/messages", json={"conversation_id": group_id, "text": "hi"}), 201
    )
    # Ann the moderator: Ben reports her post (a case whose author she is); she reports Cat and dismisses that case
    assert local_cloud.http.post("/_local/moderators", json={"username": ann.username}).status_code == 204
    ann.log_in_again()  # the group rides in the access token
    report = {"target_type": "post", "target_id": post_id, "reason": "violence"}
    ok(ben.http.post("/reports", json=report), 202)
    ok(ann.http.post("/reports", json={"target_type": "user", "target_id": cat.user_id, "reason": "spam"}), 202)
    answers[("POST", "/moderation/cases/{case_id}/actions")] = ok(
        ann.http.post(
            f"/moderation/cases/{find_case(ann, cat.user_id)}/actions", json={"action": "dismiss", "note": "fine"}
        )
    )
    return Stage(members, post_id, tag, group_id, find_case(ann, post_id), answers, ben_phone)


def test_a_person_is_the_same_summary_on_every_route_and_frame_that_shows_them(
    stage: Stage, document: dict[str, Any]
) -> None:
    """Every UserSummary of Ann — an author, a liker, a follower, a search hit, a sender, a member, an admin, an
    actor, a reporter, a moderator, a muted or blocked person — is her profile's summary, avatar included."""
    routes = routes_returning(document, "UserSummary")
    readable = [route for route in routes if route.method == "GET"]
    untaught = {(route.method, route.path) for route in readable} - set(stage.reads())
    unmade = {(route.method, route.path) for route in routes if route.method != "GET"} - set(stage.answers)
    assert not untaught, f"routes showing people that this test does not read yet: {sorted(untaught)}"
    assert not unmade, f"writes answering with people that this test does not make yet: {sorted(unmade)}"
    ann = stage.ann
    summary_fields = sorted(properties(document, "UserSummary"))

    def summaries(body: Any) -> list[dict[str, Any]]:
        return [{name: person.get(name, MISSING) for name in summary_fields} for person in people_in(body, ann.user_id)]

    # Given her profile as Ben reads it
    profile = ok(stage.members["ben"].http.get(f"/users/{ann.username}"))
    expected = {name: profile[name] for name in summary_fields}
    assert expected["display_name"] == "Ann Alike" and expected["avatar"] is not None

    # When every route that shows people is read (the feed, tag page, search and notifications are written from
    # streams: until every one shows her at all), besides the answers of her writes and the frames Ben heard
    shown = eventually(
        lambda: {str(route): summaries(stage.read(route)) for route in readable},
        lambda shown: all(shown.values()),
        timeout_s=60,
    )
    shown |= {f"{method} {path}": summaries(answer) for (method, path), answer in stage.answers.items()}
    shown["WebSocket frames to Ben"] = summaries(stage.device.heard_until_pong())

    # Then she is shown, and shown alike, everywhere
    assert all(shown.values()), {route: found for route, found in shown.items() if not found}
    assert {route: found for route, found in shown.items() if any(person != expected for person in found)} == {}


# Message


def test_a_text_message_is_the_same_in_its_answer_its_frames_the_history_and_the_inbox(
    local_cloud: Any, websocket_url: str
) -> None:
    ann, ben = Member(local_cloud.http), Member(local_cloud.http)
    ann_phone, ann_laptop, ben_phone = (
        Device(websocket_url, ann),
        Device(websocket_url, ann),
        Device(websocket_url, ben),
    )
    readers = {"ann": ann, "ben": ben}

    # When Ann sends a text over HTTP (every connection of hers hears it: none made the request)
    sent = ok(ann.http.post("/messages", json={"to": ben.username, "text": "Same text everywhere ✨"}), 201)
    assert sent["upload"] is None
    over_http = {
        "POST /messages": without(sent, ROUTE_ONLY),
        "message frame to Ben": ben_phone.next("message")["message"],
        "message frame to Ann's phone": ann_phone.next("message")["message"],
        "message frame to Ann's laptop": ann_laptop.next("message")["message"],
        **stored_views(readers, sent["conversation_id"], sent["message_id"]),
    }
    # ... and Ben answers over the WebSocket
    ben_phone.send({"action": "sendMessage", "to": ann.username, "text": "Same here 👋", "client_id": "alike-1"})
    ack = ben_phone.next("ack")
    assert (ack["client_id"], ack["message"]["upload"]) == ("alike-1", None)
    over_websocket = {
        "WebSocket ack": without(ack["message"], ROUTE_ONLY),
        "message frame to Ann's phone": ann_phone.next("message")["message"],
        "message frame to Ann's laptop": ann_laptop.next("message")["message"],
        **stored_views(readers, ack["message"]["conversation_id"], ack["message"]["message_id"]),
    }

    # Then each is one message wherever it shows, to both of them
    assert differences(over_http) == {}
    assert differences(over_websocket) == {}
    for device in (ann_phone, ann_laptop, ben_phone):
        device.close()


def test_a_group_system_message_is_the_same_in_the_answer_its_frames_the_history_and_the_inbox(
    local_cloud: Any, websocket_url: str
) -> None:
    ann, ben, cat = (Member(local_cloud.http) for _ in range(3))
    ann_phone, ben_phone = Device(websocket_url, ann), Device(websocket_url, ben)

    # When Ann starts a group: its creation is a system message
    group = ok(ann.http.post("/conversations", json={"members": [ben.username, cat.username], "title": "t"}), 201)
    system = group["last_message"]
    assert (system["kind"], system["event"]["type"]) == ("system", "created")
    views = {
        "POST /conversations last_message": system,
        "message frame to Ben": ben_phone.next("message")["message"],
        "message frame to Ann": ann_phone.next("message")["message"],
        "conversation frame to Ben, last_message": ben_phone.next("conversation")["conversation"]["last_message"],
        "conversation frame to Ann, last_message": ann_phone.next("conversation")["conversation"]["last_message"],
        **stored_views({"ann": ann, "ben": ben, "cat": cat}, group["conversation_id"], system["message_id"]),
    }

    # Then it is one message wherever it shows
    assert differences(views) == {}
    for device in (ann_phone, ben_phone):
        device.close()


def test_a_photo_message_is_the_same_in_its_frames_the_history_and_the_inbox_but_for_its_signatures(
    local_cloud: Any, websocket_url: str
) -> None:
    ann, ben = Member(local_cloud.http), Member(local_cloud.http)
    ann_phone, ben_phone = Device(websocket_url, ann), Device(websocket_url, ben)

    # When Ann sends a photo, and its picture is ready (then it is delivered, to her devices too)
    picture = photo()
    sent = ok(
        ann.http.post(
            "/messages",
            json={
                "to": ben.username,
                "text": "look",
                "media": {"content_type": "image/jpeg", "size_bytes": len(picture)},
            },
        ),
        201,
    )
    assert upload(sent["upload"], picture).status_code == 204
    delivered = {
        "message frame to Ben": ben_phone.next("message", timeout_s=60)["message"],
        "message frame to Ann": ann_phone.next("message", timeout_s=60)["message"],
    }
    views = delivered | stored_views({"ann": ann, "ben": ben}, sent["conversation_id"], sent["message_id"])

    # Then it is one message wherever it shows, its renditions' addresses included; their signatures are each
    # read's own
    urls = {label: urls_in(view["media"]) for label, view in views.items()}
    assert all(found and all("X-Amz-Signature=" in url for url in found) for found in urls.values()), urls
    assert differences({label: unsigned(view) for label, view in views.items()}) == {}
    assert views["message frame to Ben"]["media"]["status"] == "ready"
    # ... and the answer, from before the picture was ready, was that message but for its (pending) media
    answered = {"POST /messages": without(sent, {*ROUTE_ONLY, "media"})}
    answered["message frame to Ben"] = without(delivered["message frame to Ben"], {"media"})
    assert differences(answered) == {}
    assert sent["media"]["media_id"] == delivered["message frame to Ben"]["media"]["media_id"]
    for device in (ann_phone, ben_phone):
        device.close()


# Conversation


def conversation_views(
    conversation_id: str, answer: dict[str, Any] | None, frames: dict[str, Device], readers: dict[str, Member]
) -> dict[str, Any]:
    """Every reader's `conversation` frame and inbox item after one change, and the change's answer if it has one
    (the answer is its caller's view: the first reader's)."""
    views = {}
    if answer is not None:
        views[f"answer ({next(iter(readers))})"] = answer
    for name, member in readers.items():
        if name in frames:
            views[f"conversation frame ({name})"] = frames[name].next("conversation")["conversation"]
        views[f"GET /conversations ({name})"] = in_inbox(member, conversation_id)
    assert all(view["conversation_id"] == conversation_id for view in views.values())
    return views


def compare_conversations(views: dict[str, Any], readers: Iterable[str]) -> Differences:
    """The differences between views of one conversation at one moment: the same reader's views whole, and
    different readers' views but for the fields that are each member's own."""
    found: Differences = {}
    for reader in readers:
        found |= differences({label: view for label, view in views.items() if label.endswith(f"({reader})")})
    found |= differences({label: without(view, PER_READER) for label, view in views.items()})
    return found


def drain(*devices: Device) -> None:
    for device in devices:
        device.heard_until_pong()


def test_a_new_group_is_one_conversation_in_its_answer_its_frames_and_the_inbox(
    local_cloud: Any, websocket_url: str
) -> None:
    ann, ben, cat = (Member(local_cloud.http) for _ in range(3))
    devices = {"ann": Device(websocket_url, ann), "ben": Device(websocket_url, ben)}
    readers = {"ann": ann, "ben": ben, "cat": cat}

    # When Ann starts a group (naming the others against the order of their ids)
    created = ok(
        ann.http.post("/conversations", json={"members": named_against_id_order(ben, cat), "title": "alike"}), 201
    )
    views = conversation_views(created["conversation_id"], created, devices, readers)

    # Then everyone reads one conversation, each with their own unread count
    assert compare_conversations(views, readers) == {}
    assert (views["answer (ann)"]["unread_count"], views["GET /conversations (ben)"]["unread_count"]) == (0, 1)
    for device in devices.values():
        device.close()


def test_a_group_with_new_members_is_one_conversation_in_the_answer_the_frames_and_the_inbox(
    local_cloud: Any, websocket_url: str
) -> None:
    ann, ben, cat, dan, eve = (Member(local_cloud.http) for _ in range(5))
    devices = {"ann": Device(websocket_url, ann), "ben": Device(websocket_url, ben), "dan": Device(websocket_url, dan)}
    group = ok(ann.http.post("/conversations", json={"members": [ben.username, cat.username]}), 201)
    drain(*devices.values())

    # When Ann adds two people (named against the order of their ids)
    answer = ok(
        ann.http.post(
            f"/conversations/{group['conversation_id']}/members", json={"usernames": named_against_id_order(dan, eve)}
        )
    )
    views = conversation_views(group["conversation_id"], answer, devices, {"ann": ann, "ben": ben, "dan": dan})

    # Then everyone, the newcomers too, reads one conversation
    assert compare_conversations(views, ("ann", "ben", "dan")) == {}
    assert len(answer["members"]) == 5
    for device in devices.values():
        device.close()


def test_a_renamed_group_and_one_a_member_left_are_one_conversation_in_answers_frames_and_inboxes(
    local_cloud: Any, websocket_url: str
) -> None:
    ann, ben, cat = (Member(local_cloud.http) for _ in range(3))
    devices = {"ann": Device(websocket_url, ann), "ben": Device(websocket_url, ben), "cat": Device(websocket_url, cat)}
    readers = {"ann": ann, "ben": ben, "cat": cat}
    group = ok(ann.http.post("/conversations", json={"members": [ben.username, cat.username]}), 201)
    group_id = group["conversation_id"]
    drain(*devices.values())

    # When Ann renames it
    renamed = ok(ann.http.patch(f"/conversations/{group_id}", json={"title": "renamed alike"}))
    after_rename = conversation_views(group_id, renamed, devices, readers)
    # ... and Cat leaves (she keeps it in her list, and hears of her leaving)
    ok(cat.http.delete(f"/conversations/{group_id}/members/{cat.username}"), 204)
    after_leaving = conversation_views(group_id, None, devices, readers)

    # Then each time everyone reads one conversation (Cat's, the same as it was when she left)
    assert compare_conversations(after_rename, readers) == {}
    assert compare_conversations(after_leaving, readers) == {}
    assert after_leaving["GET /conversations (cat)"]["last_message"]["event"]["type"] == "left"
    for device in devices.values():
        device.close()


# Notification


def test_a_notification_is_the_same_in_its_frame_and_in_the_list_but_for_being_read(
    local_cloud: Any, websocket_url: str
) -> None:
    # Given someone with a published post and their phone open
    nia, ben, cat = (Member(local_cloud.http) for _ in range(3))
    phone = Device(websocket_url, nia)
    post_id = post_photo(nia, "notice me")
    eventually(lambda: nia.http.get(f"/posts/{post_id}").json()["status"], lambda status: status == "published")

    # When they are followed, liked twice (one notification: the second replaces the first), commented on and
    # mentioned — each heard before the next is done, so none is grouped by chance
    frames = []
    for act in (
        lambda: ben.http.post(f"/users/{nia.username}/follow"),
        lambda: ben.http.post(f"/posts/{post_id}/like"),
        lambda: cat.http.post(f"/posts/{post_id}/like"),
        lambda: ben.http.post(f"/posts/{post_id}/comments", json={"text": "same everywhere"}),
        lambda: post_photo(cat, f"with @{nia.username}"),
    ):
        act()
        frames.append(phone.next("notification", timeout_s=30))
    heard = {frame["notification"]["notification_id"]: frame["notification"] for frame in frames}
    replaced = {frame["replaces"] for frame in frames if frame["replaces"]}
    listed = ok(nia.http.get("/notifications"))["items"]

    # Then the list holds what was heard, less what was replaced, and each is the notification its frame carried
    assert [item["type"] for item in listed] == ["mention", "comment", "like", "follow"]
    assert {item["notification_id"] for item in listed} == set(heard) - replaced and len(replaced) == 1
    assert all(not item["read"] for item in listed)
    unread: Differences = {}
    for item in listed:
        unread |= differences({"WebSocket frame": heard[item["notification_id"]], "GET /notifications": item})
    assert unread == {}

    # When they have read them: the same notifications, but for `read`, which the frame told before
    ok(nia.http.post("/notifications/read", json={}), 204)
    read = ok(nia.http.get("/notifications"))["items"]
    assert [item["notification_id"] for item in read] == [item["notification_id"] for item in listed]
    assert all(item["read"] for item in read)
    after: Differences = {}
    for item in read:
        frame = heard[item["notification_id"]]
        after |= differences(
            {"WebSocket frame": without(frame, {"read"}), "GET /notifications": without(item, {"read"})}
        )
    assert after == {}
    phone.close()


# A moderation case's target


def test_a_case_shows_its_target_as_the_targets_own_routes_do(local_cloud: Any) -> None:
    """`GET /moderation/cases/{id}` shows the reported object (its schema says only "object", so no walk of the
    document finds it): it is the Post, Comment, User or Message its own route returns, plus what only a moderator
    reads of it (CASE_ONLY)."""
    mod, ann, ben = (Member(local_cloud.http) for _ in range(3))
    assert local_cloud.http.post("/_local/moderators", json={"username": mod.username}).status_code == 204
    mod.log_in_again()  # the group rides in the access token
    ok(ann.http.patch("/me", json={"display_name": "Ann Reported", "bio": "seen by a moderator"}))
    post_id = post_photo(ann, "reported #alike")
    eventually(lambda: ann.http.get(f"/posts/{post_id}").json()["status"], lambda status: status == "published")
    comment = ok(ann.http.post(f"/posts/{post_id}/comments", json={"text": "reported too"}), 201)
    message = ok(ann.http.post("/messages", json={"to": ben.username, "text": "reported as well"}), 201)

    # When Ben reports each of them, and the moderator opens each case
    targets = {
        "user": ann.user_id,
        "post": post_id,
        "comment": f"{post_id}/{comment['comment_id']}",
        "message": f"{message['conversation_id']}/{message['message_id']}",
    }
    for target_type, target_id in targets.items():
        report = {"target_type": target_type, "target_id": target_id, "reason": "spam"}
        ok(ben.http.post("/reports", json=report), 202)
    shown = {
        target_type: ok(mod.http.get(f"/moderation/cases/{find_case(mod, target_id)}"))["target"]
        for target_type, target_id in targets.items()
    }

    # Then each is its object as its own route shows it (to the moderator, where the moderator may read it)
    own = {
        "user": ok(mod.http.get(f"/users/{ann.username}")),
        "post": ok(mod.http.get(f"/posts/{post_id}")),
        "comment": ok(mod.http.get(f"/posts/{post_id}/comments"))["items"][0],
        "message": in_history(ben, message["conversation_id"], message["message_id"]),
    }
    found: Differences = {}
    for target_type, target in shown.items():
        found |= differences(
            {f"{target_type}'s own route": own[target_type], f"case of the {target_type}": without(target, CASE_ONLY)}
        )
    assert found == {}
    assert {
        target_type: {name: target[name] for name in CASE_ONLY if name in target}
        for target_type, target in shown.items()
    } == {
        "user": {"suspended": False},
        "post": {},
        "comment": {"removed": False},
        "message": {"removed": False},
    }


# Story


def test_a_story_is_the_same_in_its_authors_tray_and_a_followers(local_cloud: Any) -> None:
    # Given an author (with an avatar: the story's author is a summary too) and a follower
    author, follower = Member(local_cloud.http), Member(local_cloud.http)
    avatar = start_avatar(author, photo((300, 300)), "image/jpeg")
    assert settled_avatar(author, avatar["media_id"])["avatar_upload"]["status"] == "ready"
    assert ok(follower.http.post(f"/users/{author.username}/follow")) == {"status": "following"}

    # When the author posts a story and it is published
    content = photo((1200, 1600))
    created = ok(
        author.http.post("/stories", json={"media": {"content_type": "image/jpeg", "size_bytes": len(content)}}), 201
    )
    assert upload(created["upload"], content).status_code == 204
    story_id = created["story"]["story_id"]

    def tray(member: Member) -> list[dict[str, Any]]:
        """The author's row of this member's tray, once it shows the story published (the author's shows it pending
        from the start)."""

        def row() -> list[dict[str, Any]]:
            items = ok(member.http.get("/stories/feed"))["items"]
            return [item for item in items if item["author"]["user_id"] == author.user_id]

        def published(found: list[dict[str, Any]]) -> bool:
            return bool(found and found[0]["stories"] and found[0]["stories"][-1]["media"]["status"] == "ready")

        return list(eventually(row, published))

    trays = {name: tray(member) for name, member in (("author", author), ("follower", follower))}

    # Then both trays show one story, and one author beside it
    stories = {f"GET /stories/feed ({name})": found[0]["stories"] for name, found in trays.items()}
    assert {label: [story["story_id"] for story in found] for label, found in stories.items()} == {
        label: [story_id] for label in stories
    }
    views = {label: found[0] for label, found in stories.items()}
    assert differences(views) == {}
    assert views["GET /stories/feed (follower)"]["media"]["status"] == "ready"
    authors = {f"GET /stories/feed author ({name})": found[0]["author"] for name, found in trays.items()}
    authors["story author"] = views["GET /stories/feed (follower)"]["author"]
    assert differences(authors) == {}
    # ... and the answer, from before publication, was that story but for what publication settles
    answered = {
        "POST /stories": without(created["story"], STORY_SETTLED_ON_PUBLICATION),
        "GET /stories/feed (follower)": without(views["GET /stories/feed (follower)"], STORY_SETTLED_ON_PUBLICATION),
    }
    assert differences(answered) == {}
    assert created["story"]["media"]["media_id"] == views["GET /stories/feed (follower)"]["media"]["media_id"]
