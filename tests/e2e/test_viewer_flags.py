"""Every Post the API returns carries the viewer's own `liked_by_me` and `saved_by_me`, on every route.

The routes are not listed here: they are read from the OpenAPI document the running API serves (every
operation whose success response refers to the Post schema), so a route added later is walked
automatically — and fails this test until it shows the viewer's real flags, or until the test is taught how
to call it (a path parameter or a write it does not know is a failure naming the route, never a skip)."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.e2e.test_feed import post_photo
from tests.support.api_client import Member, eventually

pytestmark = pytest.mark.e2e

POST_SCHEMA = "#/components/schemas/Post"
OWN_SAVES = {("GET", "/me/saved")}
"""Routes listing the caller's own saved posts: the post is on them exactly while the caller has saved it."""
CREATES_A_POST = {("POST", "/posts")}
"""Routes answering with a post they have just created: nobody can have liked or saved it yet."""
AUTHOR_WRITES = {("PATCH", "/posts/{post_id}"): "caption"}
"""Writes only the author may make that answer with the post, and the body field each needs (given the post's
own caption again, so the tag page keeps listing it). The author likes and saves as the viewer does."""


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    operation: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def _returns_a_post(response_schema: Any, components: dict[str, Any]) -> bool:
    """Whether the schema is, extends (every Post property, as the feed's FeedPost), holds or pages Post,
    following $refs through the document's components."""
    post_properties = set(components.get(POST_SCHEMA.rsplit("/", 1)[1], {}).get("properties", {}))
    seen: set[str] = set()
    pending = list(_references(response_schema))
    while pending:
        reference = pending.pop()
        if reference == POST_SCHEMA:
            return True
        if reference in seen or not reference.startswith("#/components/schemas/"):
            continue
        seen.add(reference)
        schema = components.get(reference.rsplit("/", 1)[1], {})
        if post_properties and post_properties <= set(schema.get("properties", {})):
            return True
        pending.extend(_references(schema))
    return False


def routes_returning_posts(document: dict[str, Any]) -> list[Route]:
    components = document.get("components", {}).get("schemas", {})
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            successes = [body for status, body in operation.get("responses", {}).items() if status.startswith("2")]
            if any(_returns_a_post(body, components) for body in successes):
                found.append(Route(method.upper(), path, operation))
    return found


def posts_in(body: Any, post_id: str) -> list[dict[str, Any]]:
    """Every Post object with this id anywhere in a response body (a post, a page of them, a nested one)."""
    if isinstance(body, list):
        return [post for value in body for post in posts_in(value, post_id)]
    if not isinstance(body, dict):
        return []
    own = [body] if body.get("post_id") == post_id and "liked_by_me" in body else []
    return own + [post for value in body.values() for post in posts_in(value, post_id)]


@dataclass
class World:
    author: Member
    viewer: Member
    other: Member
    post_id: str
    tag: str

    @property
    def caption(self) -> str:
        return f"Viewer state #{self.tag}"

    def path_values(self) -> dict[str, str]:
        return {"post_id": self.post_id, "username": self.author.username, "tag": self.tag}

    def request(self, route: Route, member: Member, body: dict[str, Any] | None = None) -> httpx.Response:
        values = self.path_values()
        path = route.path
        for parameter in route.operation.get("parameters", []):
            name, where = parameter["name"], parameter["in"]
            if where == "path":
                assert name in values, f"{route}: teach this test a value for the path parameter {name!r}"
                path = path.replace(f"{{{name}}}", values[name])
            elif where == "query" and parameter.get("required"):
                raise AssertionError(f"{route}: teach this test a value for the required query parameter {name!r}")
        return member.http.request(route.method, path, json=body)

    def flags_on(self, route: Route, member: Member) -> list[tuple[bool, bool]]:
        field = AUTHOR_WRITES.get((route.method, route.path))
        response = self.request(route, member, {field: self.caption} if field else None)
        assert response.status_code == 200, f"{route} as {member.username}: {response.status_code} {response.text}"
        return [(post["liked_by_me"], post["saved_by_me"]) for post in posts_in(response.json(), self.post_id)]


@pytest.fixture(scope="module")
def world(local_cloud: Any) -> World:
    return new_world(local_cloud)


def new_world(local_cloud: Any) -> World:
    """Three new people, two of them following the author, and the author's published post with a tag."""
    author, viewer, other = (Member(local_cloud.http) for _ in range(3))
    for reader in (viewer, other):
        assert reader.http.post(f"/users/{author.username}/follow").json() == {"status": "following"}
    tag = f"flags{uuid.uuid4().hex[:10]}"
    post_id = post_photo(author, f"Viewer state #{tag}")  # World.caption
    eventually(lambda: author.http.get(f"/posts/{post_id}").json()["status"], lambda status: status == "published")
    return World(author, viewer, other, post_id, tag)


@pytest.fixture(scope="module")
def routes(local_cloud: Any) -> list[Route]:
    document = local_cloud.http.get("/openapi.json").json()
    return routes_returning_posts(document)


def test_the_walk_finds_the_routes_api_md_names(routes: list[Route]) -> None:
    """The discovery itself can fail: these routes return posts today, so it must find each of them."""
    found = {(route.method, route.path) for route in routes}

    assert {
        ("GET", "/posts/{post_id}"),
        ("GET", "/users/{username}/posts"),
        ("GET", "/feed"),
        ("GET", "/tags/{tag}/posts"),
        ("GET", "/me/saved"),
        ("POST", "/posts"),
    } <= found
    assert ("GET", "/users/{username}") not in found  # a profile is not a post


def test_a_post_just_created_is_neither_liked_nor_saved(local_cloud: Any, routes: list[Route]) -> None:
    assert {(route.method, route.path) for route in routes} >= CREATES_A_POST
    member = Member(local_cloud.http)

    created = member.http.post("/posts", json={"media": [{"content_type": "image/jpeg", "size_bytes": 1000}]})

    assert created.status_code == 201, created.text
    assert (created.json()["post"]["liked_by_me"], created.json()["post"]["saved_by_me"]) == (False, False)


@pytest.mark.parametrize(
    ("like", "save"),
    [(True, True), (False, True), (True, False), (False, False)],
    ids=["liked-and-saved", "unliked-still-saved", "liked-unsaved", "unliked-and-unsaved"],
)
def test_every_route_returning_a_post_shows_the_viewers_own_flags(
    world: World, routes: list[Route], like: bool, save: bool
) -> None:
    # Given the viewer's (and the author's) like and save set as this case says, from whatever the last case left
    readable = [route for route in routes if route.method == "GET"]
    writes = [route for route in routes if (route.method, route.path) in AUTHOR_WRITES]
    unexplained = {(r.method, r.path) for r in routes if r.method != "GET"} - CREATES_A_POST - set(AUTHOR_WRITES)
    assert not unexplained, f"routes returning a Post that this test cannot call yet: {sorted(unexplained)}"
    for member in (world.viewer, world.author):
        liked = member.http.request("POST" if like else "DELETE", f"/posts/{world.post_id}/like")
        saved = member.http.request("POST" if save else "DELETE", f"/posts/{world.post_id}/save")
        assert (liked.status_code, saved.status_code) == (200, 204), liked.text + saved.text

    # The feed and the tag page are written from streams: wait until every route lists the post at all.
    for route in readable:
        if (route.method, route.path) not in OWN_SAVES:
            eventually(lambda route=route: world.flags_on(route, world.viewer), bool, timeout_s=60)

    # When the viewer and someone else who did neither read every route
    seen = {str(route): world.flags_on(route, world.viewer) for route in readable}
    seen_by_other = {str(route): world.flags_on(route, world.other) for route in readable}

    # Then the viewer sees their own flags wherever the post is, and the other reader sees neither
    expected = {
        str(route): [] if (route.method, route.path) in OWN_SAVES and not save else [(like, save)] for route in readable
    }
    assert seen == expected
    assert {str(route): world.flags_on(route, world.author) for route in writes} == {
        str(route): [(like, save)] for route in writes
    }
    assert seen_by_other == {
        str(route): [] if (route.method, route.path) in OWN_SAVES else [(False, False)] for route in readable
    }


ROUTE_ONLY_FIELDS = {"ranking"}
"""Fields one route adds to a Post for its own reason (the feed's `?explain=true` score): not the post's."""


def test_every_route_returning_a_post_shows_every_field_of_it_alike(local_cloud: Any, routes: list[Route]) -> None:
    """Not only the flags: the author (and their avatar), counts, tags, media and renditions, edit time and
    status are one post's, whichever list or read shows it (a field computed apart on one route drifts)."""
    # Given a post of its own (the module's is liked and saved by its author or not, as the last flags case left
    # it), liked, commented on and saved by the viewer
    world = new_world(local_cloud)
    viewer = world.viewer
    assert viewer.http.post(f"/posts/{world.post_id}/like").status_code == 200
    assert viewer.http.post(f"/posts/{world.post_id}/save").status_code == 204
    assert viewer.http.post(f"/posts/{world.post_id}/comments", json={"text": "same everywhere"}).status_code == 201
    readable = [route for route in routes if route.method == "GET"]

    def shown(route: Route) -> list[dict[str, Any]]:
        response = world.request(route, viewer)
        assert response.status_code == 200, f"{route}: {response.status_code} {response.text}"
        return [
            {name: value for name, value in post.items() if name not in ROUTE_ONLY_FIELDS}
            for post in posts_in(response.json(), world.post_id)
        ]

    # When every route lists it (the feed and the tag page are written from streams; what a listed post shows is
    # read when it is served) and the comment is counted, on every route read (the count lands after the comment's
    # answer: a route read before it would show the count before)
    single = "GET /posts/{post_id}"
    views = eventually(
        lambda: {str(route): shown(route) for route in readable},
        lambda views: all(len(posts) == 1 and posts[0]["comment_count"] == 1 for posts in views.values()),
        timeout_s=60,
    )

    # Then each route shows it exactly as the post's own read does, every field
    [post] = views[single]
    assert (post["like_count"], post["comment_count"], post["liked_by_me"], post["saved_by_me"]) == (1, 1, True, True)
    for route, posts in views.items():
        assert posts == [post], route
