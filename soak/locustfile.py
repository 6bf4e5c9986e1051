"""Pinhole members under load: 80 % reads, 20 % writes, each request named by its route template.

Run by `soak/load.py` in a process of its own (locust patches the standard library with gevent on import; never
import this module elsewhere). Environment: SOAK_LOAD_WORLD (the world file written by the seeding),
SOAK_LOAD_LEDGERS (a directory: one `claims/` file per account taken, one ledger file per process),
SOAK_LOAD_WAIT_S ("min,max" think time between tasks, seconds; "0,0" by default: closed-loop).

Each virtual user owns one account of the world (claimed with an exclusive create, so this holds across several
locust processes), logs in once and then only acts as that account, so what it records about its own likes,
follows, saves, comments and messages is the whole truth about them.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from pathlib import Path
from typing import Any

from locust import FastHttpUser, between, events, task
from locust.exception import StopUser

from soak.load_ledger import Ledger
from soak.load_world import PASSWORD, World

WORLD = World.read(Path(os.environ["SOAK_LOAD_WORLD"]))
LEDGERS = Path(os.environ["SOAK_LOAD_LEDGERS"])
CLAIMS = LEDGERS / "claims"
WAIT_MIN_S, WAIT_MAX_S = (float(part) for part in os.environ.get("SOAK_LOAD_WAIT_S", "0,0").split(","))
UNDO_SHARE = 0.4  # of toggle writes that undo a like, follow or save this user holds
RELOGIN_AFTER_S = 50 * 60  # Cognito access tokens live an hour
LEDGER = Ledger()
PICK = random.Random()  # noqa: S311 - picks what to read and write, not secrets


@events.request.add_listener
def _record(name: str, response_time: float, response: Any, start_time: float, exception: Any = None, **_: Any) -> None:
    status = int(getattr(response, "status_code", 0) or 0)
    LEDGER.record(name, start_time, response_time, status)


@events.user_error.add_listener
def _task_failed(user_instance: Any, exception: Exception, tb: Any, **_: Any) -> None:
    LEDGER.task_errors.append(f"{type(exception).__name__}: {exception}")


@events.quitting.add_listener
def _write_ledger(environment: Any, **_: Any) -> None:
    if LEDGER.routes or LEDGER.task_errors:
        LEDGER.write(LEDGERS / f"ledger-{os.getpid()}.json")


def _claim_an_account() -> str:
    CLAIMS.mkdir(parents=True, exist_ok=True)
    for username in WORLD.usernames:
        try:
            os.close(os.open(CLAIMS / username, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            continue
        return username
    raise StopUser("every account of the world is taken: seed more accounts than users")


class Member(FastHttpUser):
    wait_time = between(WAIT_MIN_S, WAIT_MAX_S)
    network_timeout = 120.0
    connection_timeout = 30.0

    def on_start(self) -> None:
        self.username = _claim_an_account()
        self.others = [name for name in WORLD.usernames if name != self.username]
        self.post_ids = list(WORLD.posts)
        LEDGER.toggles["follow"][self.username] = {followee: True for followee in WORLD.follows[self.username]}
        self.my_comments: list[tuple[str, str]] = []
        self._log_in()

    def _log_in(self) -> None:
        body = {"username": self.username, "password": PASSWORD}
        with self.client.post("/auth/login", json=body, name="POST /auth/login", catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"login {answer.status_code}")
                raise StopUser(f"{self.username} could not log in: {answer.status_code}")
            token = answer.json()["access_token"]
        self.logged_in_at = time.monotonic()
        self.headers = {"authorization": f"Bearer {token}"}

    def _call(self, method: str, path: str, route: str, **kwargs: Any) -> Any:
        if time.monotonic() - self.logged_in_at > RELOGIN_AFTER_S:
            self._log_in()
        with self.client.request(method, path, name=route, headers=self.headers, catch_response=True, **kwargs) as a:
            if a.status_code == 429 or 200 <= a.status_code < 300:
                a.success()  # a rate limit is the API working as specified
            return a

    def _a_post(self) -> str:
        return PICK.choice(self.post_ids)

    def _someone(self) -> str:
        return PICK.choice(self.others)

    # --- reads: 80 ---------------------------------------------------------------------------------------------

    @task(20)
    def read_feed(self) -> None:
        self._call("GET", "/feed?limit=20", "GET /feed")

    @task(8)
    def read_profile(self) -> None:
        self._call("GET", f"/users/{self._someone()}", "GET /users/{username}")

    @task(8)
    def read_profile_posts(self) -> None:
        self._call("GET", f"/users/{self._someone()}/posts", "GET /users/{username}/posts")

    @task(12)
    def read_post(self) -> None:
        self._call("GET", f"/posts/{self._a_post()}", "GET /posts/{post_id}")

    @task(8)
    def read_comments(self) -> None:
        self._call("GET", f"/posts/{self._a_post()}/comments", "GET /posts/{post_id}/comments")

    @task(4)
    def read_likes(self) -> None:
        self._call("GET", f"/posts/{self._a_post()}/likes", "GET /posts/{post_id}/likes")

    @task(6)
    def read_notifications(self) -> None:
        self._call("GET", "/notifications", "GET /notifications")

    @task(4)
    def read_conversations(self) -> None:
        self._call("GET", "/conversations", "GET /conversations")

    @task(4)
    def search_users(self) -> None:
        self._call("GET", f"/search/users?q={self._someone()[:6]}", "GET /search/users")

    @task(4)
    def read_stories(self) -> None:
        self._call("GET", "/stories/feed", "GET /stories/feed")

    @task(2)
    def read_followers(self) -> None:
        self._call("GET", f"/users/{self._someone()}/followers", "GET /users/{username}/followers")

    # --- writes: 20 --------------------------------------------------------------------------------------------

    def _toggle(self, kind: str, candidates: list[str], path: str, route: str) -> None:
        """Often undoes one of the relations this user holds; otherwise sets one on a random target, which may
        already hold it (an idempotent repeat)."""
        held = [target for target, on in LEDGER.toggles[kind].get(self.username, {}).items() if on]
        turn_on = not held or PICK.random() >= UNDO_SHARE
        target = PICK.choice(candidates if turn_on else held)
        before = LEDGER.begin_toggle(kind, self.username, target)
        method = "POST" if turn_on else "DELETE"
        answer = self._call(method, path.format(target), f"{method} {route}")
        LEDGER.settle_toggle(kind, self.username, target, answer.status_code, turn_on, before)

    @task(6)
    def like_or_unlike(self) -> None:
        self._toggle("like", self.post_ids, "/posts/{}/like", "/posts/{post_id}/like")

    @task(3)
    def follow_or_unfollow(self) -> None:
        self._toggle("follow", self.others, "/users/{}/follow", "/users/{username}/follow")

    @task(3)
    def save_or_unsave(self) -> None:
        self._toggle("save", self.post_ids, "/posts/{}/save", "/posts/{post_id}/save")

    @task(4)
    def comment(self) -> None:
        post_id = self._a_post()
        text = f"load comment {uuid.uuid4().hex[:8]}"
        LEDGER.begin_comment(post_id)
        answer = self._call("POST", f"/posts/{post_id}/comments", "POST /posts/{post_id}/comments", json={"text": text})
        comment_id = answer.json().get("comment_id") if answer.status_code == 201 else None
        LEDGER.comment_posted(post_id, self.username, answer.status_code, comment_id)
        if comment_id:
            self.my_comments.append((post_id, comment_id))

    @task(1)
    def delete_a_comment(self) -> None:
        if not self.my_comments:
            return self.comment()
        post_id, comment_id = self.my_comments.pop(PICK.randrange(len(self.my_comments)))
        LEDGER.begin_comment_deletion(comment_id)
        answer = self._call(
            "DELETE", f"/posts/{post_id}/comments/{comment_id}", "DELETE /posts/{post_id}/comments/{comment_id}"
        )
        LEDGER.comment_deleted(comment_id, answer.status_code)
        return None

    @task(3)
    def send_message(self) -> None:
        someone, text = self._someone(), f"load message {uuid.uuid4().hex}"
        LEDGER.begin_message(text, self.username, someone)
        answer = self._call("POST", "/messages", "POST /messages", json={"to": someone, "text": text})
        LEDGER.message_sent(text, answer.status_code)
