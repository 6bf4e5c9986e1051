"""A mobile client's view of Pinhole, for e2e tests: a real HTTP client against the local cloud."""

import ipaddress
import json
import secrets
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import httpx
from websockets.sync.client import connect

PASSWORD = "Correct-Horse-9"


def own_address() -> str:
    """An IPv6 address in a /64 of its own (in the documentation range 2001:db8::/32): sign-ups are limited per
    source address, so each test user signs up from their own."""
    return str(ipaddress.IPv6Address((0x2001_0DB8 << 96) | (secrets.randbits(32) << 64) | 1))


def from_own_address() -> dict[str, str]:
    """Headers that make a request come from `own_address()`: the local cloud takes the source address from
    X-Forwarded-For when the peer is this machine (docs/LOCAL_CLOUD.md); AWS ignores the header."""
    return {"X-Forwarded-For": own_address()}


class Member:
    """A signed-up, logged-in user with their own authorised client."""

    def __init__(self, base: httpx.Client, username: str | None = None) -> None:
        self.username = username or f"u{uuid.uuid4().hex[:12]}"
        created = base.post(
            "/auth/signup",
            json={"username": self.username, "password": PASSWORD, "email": f"{self.username}@example.com"},
            headers=from_own_address(),
        )
        assert created.status_code == 201, created.text
        self.user_id = created.json()["user"]["user_id"]
        self.http = httpx.Client(base_url=str(base.base_url), timeout=30)
        self.log_in_again()

    def log_in_again(self) -> None:
        """A fresh access token for this client (after signing out everywhere, the old one authenticates nothing)."""
        tokens = self.http.post("/auth/login", json={"username": self.username, "password": PASSWORD})
        assert tokens.status_code == 200, tokens.text
        self.access_token = str(tokens.json()["access_token"])
        self.http.headers["authorization"] = f"Bearer {self.access_token}"


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


class Device:
    """One open WebSocket connection of a member (a phone, a laptop), with frames read by type."""

    def __init__(self, websocket_url: str, member: Member) -> None:
        self.member = member
        self._opened = ExitStack()
        self.connection = self._opened.enter_context(
            connect(f"{websocket_url}?token={member.access_token}", open_timeout=10)
        )
        self.unread: list[dict[str, Any]] = []

    def send(self, frame: dict[str, Any] | str) -> None:
        self.connection.send(frame if isinstance(frame, str) else json.dumps(frame))

    def next(self, frame_type: str, timeout_s: float = 10) -> dict[str, Any]:
        """The next frame of `frame_type` (frames of other types are kept for later calls)."""
        for index, frame in enumerate(self.unread):
            if frame.get("type") == frame_type:
                return self.unread.pop(index)
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {frame_type!r} frame within {timeout_s} s; got {self.unread!r}")
            frame = json.loads(self.connection.recv(timeout=remaining))
            if frame.get("type") == frame_type:
                return dict(frame)
            self.unread.append(frame)

    def heard_until_pong(self, timeout_s: float = 10) -> list[dict[str, Any]]:
        """Every frame sent to this device before now, and nothing else: a ping is sent and frames are read up
        to its pong. Frames to one connection arrive in the order they were sent, so whatever was pushed to it
        before the ping is read before the pong — no waiting on a clock, however slow the machine."""
        frames = [frame for frame in self.unread if frame.get("type") != "pong"]  # a stale pong answers nothing now
        self.unread.clear()
        self.send({"action": "ping"})
        deadline = time.monotonic() + timeout_s
        while (remaining := deadline - time.monotonic()) > 0:
            frame = json.loads(self.connection.recv(timeout=remaining))
            if frame.get("type") == "pong":
                return frames
            frames.append(frame)
        raise AssertionError(f"no pong within {timeout_s} s; heard {frames!r}")

    def close(self) -> None:
        self._opened.close()
