"""A mobile client's view of Pinhole, for e2e tests: a real HTTP client against the local cloud."""

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

PASSWORD = "Correct-Horse-9"


class Member:
    """A signed-up, logged-in user with their own authorised client."""

    def __init__(self, base: httpx.Client, username: str | None = None) -> None:
        self.username = username or f"u{uuid.uuid4().hex[:12]}"
        created = base.post(
            "/auth/signup",
            json={"username": self.username, "password": PASSWORD, "email": f"{self.username}@example.com"},
        )
        assert created.status_code == 201, created.text
        tokens = base.post("/auth/login", json={"username": self.username, "password": PASSWORD}).json()
        self.user_id = created.json()["user"]["user_id"]
        self.http = httpx.Client(
            base_url=str(base.base_url), timeout=30, headers={"authorization": f"Bearer {tokens['access_token']}"}
        )


def upload(
    target: dict[str, Any], content: bytes, filename: str = "photo.jpg", content_type: str = "image/jpeg"
) -> httpx.Response:
    """The pre-signed POST exactly as API.md tells a client: every field, then the file as `file`."""
    return httpx.post(
        target["url"], data=target["fields"], files={"file": (filename, content, content_type)}, timeout=60
    )


def eventually(probe: Callable[[], Any], done: Callable[[Any], bool], timeout_s: float = 30) -> Any:
    """Polls until `done(probe())`, for asynchronous outcomes (the resize pipeline); fails at the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not done within {timeout_s} s; last value: {value!r}")
        time.sleep(0.1)
