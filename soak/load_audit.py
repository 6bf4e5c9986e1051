"""After the load: does what the server shows agree with itself and with what the clients know they did?

`observe` reads everything back through the public API (so the audit would run against a deployed stack too):
every post's counters, likers and comments; every user's counters, followers, following, grid, whole home feed,
saved posts and conversations. `compare` is pure: it holds each counter to the list it counts, and each list to the
world's seed plus the ledger (a write whose outcome no client saw may have happened or not; nothing else may differ).
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from soak.load_ledger import Ledger
from soak.load_world import World, authorised

MAX_PAGES = 200
AUDIT_WORKERS = 4


@dataclass(frozen=True)
class Mismatch:
    kind: str
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} of {self.subject}: {self.detail}"


@dataclass
class PostView:
    like_count: int
    comment_count: int
    likers: list[str]
    comment_ids: list[str]


@dataclass
class UserView:
    follower_count: int
    following_count: int
    post_count: int
    followers: list[str]
    following: list[str]
    grid: list[str]
    feed: list[str]
    saved: list[str]
    # the other participant's username -> the texts of the conversation, as this user reads it
    conversations: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Observed:
    posts: dict[str, PostView]
    users: dict[str, UserView]


# --- reading it back ---------------------------------------------------------------------------------------------


def _ok(response: httpx.Response) -> dict[str, Any]:
    if response.status_code != 200:
        raise RuntimeError(f"audit read {response.request.url.path}: {response.status_code} {response.text[:300]}")
    return dict(response.json())


def _every_item(client: httpx.Client, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params: dict[str, str | int] = {"limit": 50}
    for _ in range(MAX_PAGES):
        page = _ok(client.get(path, params=params))
        items += page["items"]
        if not page.get("next_cursor"):
            return items
        params["cursor"] = page["next_cursor"]
    raise RuntimeError(f"{path}: still a next_cursor after {MAX_PAGES} pages")


def _observe_post(client: httpx.Client, post_id: str) -> PostView:
    post = _ok(client.get(f"/posts/{post_id}"))
    return PostView(
        like_count=post["like_count"],
        comment_count=post["comment_count"],
        likers=[user["username"] for user in _every_item(client, f"/posts/{post_id}/likes")],
        comment_ids=[comment["comment_id"] for comment in _every_item(client, f"/posts/{post_id}/comments")],
    )


def _observe_user(client: httpx.Client, username: str) -> UserView:
    profile = _ok(client.get(f"/users/{username}"))
    view = UserView(
        follower_count=profile["follower_count"],
        following_count=profile["following_count"],
        post_count=profile["post_count"],
        followers=[user["username"] for user in _every_item(client, f"/users/{username}/followers")],
        following=[user["username"] for user in _every_item(client, f"/users/{username}/following")],
        grid=[post["post_id"] for post in _every_item(client, f"/users/{username}/posts")],
        feed=[post["post_id"] for post in _every_item(client, "/feed")],
        saved=[post["post_id"] for post in _every_item(client, "/me/saved")],
    )
    for conversation in _every_item(client, "/conversations"):
        messages = _every_item(client, f"/conversations/{conversation['conversation_id']}/messages")
        view.conversations[conversation["with"]["username"]] = [message["text"] for message in messages]
    return view


def observe(world: World, tokens: dict[str, str]) -> Observed:
    """Everything the audit compares, each object read by its owner (posts by their author)."""

    def user(username: str) -> UserView:
        with authorised(world.base_url, tokens[username]) as client:
            return _observe_user(client, username)

    def post(post_id: str) -> PostView:
        with authorised(world.base_url, tokens[world.posts[post_id]]) as client:
            return _observe_post(client, post_id)

    with ThreadPoolExecutor(AUDIT_WORKERS) as pool:
        users = dict(zip(world.usernames, pool.map(user, world.usernames), strict=True))
        posts = dict(zip(world.posts, pool.map(post, world.posts), strict=True))
    return Observed(posts=posts, users=users)


# --- what it should be -------------------------------------------------------------------------------------------


@dataclass
class Expected:
    """A set the server must show exactly, give or take the members whose write no client saw answered."""

    sure: set[str]
    maybe: set[str] = field(default_factory=set)
    unanswered: int = 0  # members that may exist although no client knows their id (comments)

    def mismatch(self, observed: list[str]) -> str | None:
        seen = set(observed)
        problems = []
        if len(seen) != len(observed):
            problems.append(f"{len(observed) - len(seen)} listed twice")
        if missing := self.sure - seen:
            problems.append(f"missing {sorted(missing)[:5]} ({len(missing)})")
        if len(unexpected := seen - self.sure - self.maybe) > self.unanswered:
            problems.append(f"unexpected {sorted(unexpected)[:5]} ({len(unexpected)})")
        return "; ".join(problems) or None


def _split(states: Iterable[tuple[str, bool | None]]) -> Expected:
    expected = Expected(sure=set())
    for member, state in states:
        if state is True:
            expected.sure.add(member)
        elif state is None:
            expected.maybe.add(member)
    return expected


def _follow_state(world: World, ledger: Ledger, follower: str, followee: str) -> bool | None:
    return ledger.toggles["follow"].get(follower, {}).get(followee, followee in world.follows[follower])


def expected_following(world: World, ledger: Ledger, username: str) -> Expected:
    return _split((other, _follow_state(world, ledger, username, other)) for other in world.usernames)


def expected_followers(world: World, ledger: Ledger, username: str) -> Expected:
    return _split((other, _follow_state(world, ledger, other, username)) for other in world.usernames)


def expected_likers(ledger: Ledger, post_id: str) -> Expected:
    return _split((actor, targets.get(post_id, False)) for actor, targets in ledger.toggles["like"].items())


def expected_saved(ledger: Ledger, username: str) -> Expected:
    return _split(ledger.toggles["save"].get(username, {}).items())


def expected_feed(world: World, ledger: Ledger, username: str) -> Expected:
    """Published posts of the people the user follows, and their own (all posts are public)."""
    following = expected_following(world, ledger, username)
    return Expected(
        sure={post for author in following.sure | {username} for post in world.posts_by(author)},
        maybe={post for author in following.maybe for post in world.posts_by(author)},
    )


def expected_comments(ledger: Ledger, post_id: str) -> Expected:
    mine = {comment_id: comment for comment_id, comment in ledger.comments.items() if comment["post_id"] == post_id}
    return Expected(
        sure={comment_id for comment_id, comment in mine.items() if comment["state"] == "present"},
        maybe={comment_id for comment_id, comment in mine.items() if comment["state"] == "unknown"},
        unanswered=ledger.unanswered_comments.get(post_id, 0),
    )


def expected_conversation(ledger: Ledger, one: str, other: str) -> Expected:
    between = {
        text: message for text, message in ledger.messages.items() if {message["from"], message["to"]} == {one, other}
    }
    return Expected(
        sure={text for text, message in between.items() if message["state"] == "sent"},
        maybe={text for text, message in between.items() if message["state"] == "unknown"},
    )


# --- comparing ---------------------------------------------------------------------------------------------------


def compare(world: World, ledger: Ledger, observed: Observed) -> list[Mismatch]:
    found: list[Mismatch] = []

    def counter(kind: str, subject: str, value: int, listed: list[str]) -> None:
        if value != len(listed):
            found.append(Mismatch(kind, subject, f"the counter says {value}, the list holds {len(listed)}"))

    def listing(kind: str, subject: str, expected: Expected, listed: list[str]) -> None:
        if (problem := expected.mismatch(listed)) is not None:
            found.append(Mismatch(kind, subject, problem))

    for post_id, post in observed.posts.items():
        counter("like_count", post_id, post.like_count, post.likers)
        listing("likers", post_id, expected_likers(ledger, post_id), post.likers)
        counter("comment_count", post_id, post.comment_count, post.comment_ids)
        listing("comments", post_id, expected_comments(ledger, post_id), post.comment_ids)
    for username, user in observed.users.items():
        counter("follower_count", username, user.follower_count, user.followers)
        listing("followers", username, expected_followers(world, ledger, username), user.followers)
        counter("following_count", username, user.following_count, user.following)
        listing("following", username, expected_following(world, ledger, username), user.following)
        counter("post_count", username, user.post_count, user.grid)
        listing("grid", username, Expected(sure=set(world.posts_by(username))), user.grid)
        listing("feed", username, expected_feed(world, ledger, username), user.feed)
        listing("saved", username, expected_saved(ledger, username), user.saved)
        for other in world.usernames:
            expected = expected_conversation(ledger, username, other)
            listed = user.conversations.get(other, [])
            listing("messages", f"{username} with {other}", expected, listed)
    return found
