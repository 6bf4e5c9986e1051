"""The world the load runs in, built through the public API as any client would: accounts, a follow graph and posts
whose photos go up through the pre-signed POST and the resize pipeline, so feeds, profiles and posts have content."""

from __future__ import annotations

import io
import json
import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.support.api_client import from_own_address

PASSWORD = "Correct-Horse-9"  # noqa: S105 - accounts of a throwaway local cloud
SEED_WORKERS = 6
PUBLISH_TIMEOUT_S = 180
REQUEST_TIMEOUT_S = 60

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class World:
    base_url: str
    usernames: list[str]
    # username -> the usernames they follow at the start of the load
    follows: dict[str, list[str]]
    # post_id -> author's username (published before the load starts)
    posts: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)

    def posts_by(self, username: str) -> list[str]:
        return [post_id for post_id, author in self.posts.items() if author == username]

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)))

    @classmethod
    def read(cls, path: Path) -> World:
        return cls(**json.loads(path.read_text()))


def _in_parallel(work: Callable[[T], R], items: Iterable[T]) -> list[R]:
    with ThreadPoolExecutor(SEED_WORKERS) as pool:
        return list(pool.map(work, items))


def _expect(response: httpx.Response, status: int) -> dict[str, Any]:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text}"
        )
    return response.json() if response.content else {}


def log_in(base_url: str, username: str) -> str:
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as client:
        tokens = _expect(client.post("/auth/login", json={"username": username, "password": PASSWORD}), 200)
    return str(tokens["access_token"])


def authorised(base_url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S, headers={"authorization": f"Bearer {token}"})


def _sign_up(base_url: str, username: str) -> str:
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as client:
        body = {"username": username, "password": PASSWORD, "email": f"{username}@example.com"}
        _expect(client.post("/auth/signup", json=body, headers=from_own_address()), 201)
    return log_in(base_url, username)


def _photo(seed: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (seed * 37 % 256, seed * 91 % 256, 120)).save(buffer, "JPEG")
    return buffer.getvalue()


def _post_photo(base_url: str, token: str, caption: str, seed: int) -> str:
    content = _photo(seed)
    with authorised(base_url, token) as client:
        body = {"caption": caption, "media": [{"content_type": "image/jpeg", "size_bytes": len(content)}]}
        created = _expect(client.post("/posts", json=body), 201)
    target = created["uploads"][0]
    uploaded = httpx.post(
        target["url"], data=target["fields"], files={"file": ("photo.jpg", content, "image/jpeg")}, timeout=60
    )
    if uploaded.status_code not in (200, 201, 204):
        raise RuntimeError(f"upload refused: {uploaded.status_code} {uploaded.text}")
    return str(created["post"]["post_id"])


def _wait_published(base_url: str, token: str, post_id: str) -> None:
    deadline = time.monotonic() + PUBLISH_TIMEOUT_S
    with authorised(base_url, token) as client:
        while (status := _expect(client.get(f"/posts/{post_id}"), 200)["status"]) != "published":
            if status == "failed" or time.monotonic() > deadline:
                raise RuntimeError(f"post {post_id} is {status}, not published")
            time.sleep(0.5)


def seed(base_url: str, accounts: int, posts_each: int, follows_each: int, rng: random.Random) -> World:
    """Signs up `accounts` users, each following `follows_each` others and with `posts_each` published posts."""
    prefix = f"ld{rng.randrange(16**4):04x}"
    usernames = [f"{prefix}_{index:03d}" for index in range(accounts)]
    tokens = dict(zip(usernames, _in_parallel(lambda name: _sign_up(base_url, name), usernames), strict=True))
    follows = {name: rng.sample([other for other in usernames if other != name], follows_each) for name in usernames}

    def follow(pair: tuple[str, str]) -> None:
        with authorised(base_url, tokens[pair[0]]) as client:
            _expect(client.post(f"/users/{pair[1]}/follow"), 200)

    _in_parallel(follow, [(name, followee) for name, followees in follows.items() for followee in followees])
    authors = [name for name in usernames for _ in range(posts_each)]
    post_ids = _in_parallel(
        lambda job: _post_photo(base_url, tokens[job[1]], f"seeded #load by @{job[1]}", job[0]), enumerate(authors)
    )
    _in_parallel(lambda job: _wait_published(base_url, tokens[job[1]], job[0]), zip(post_ids, authors, strict=True))
    return World(
        base_url=base_url,
        usernames=usernames,
        follows=follows,
        posts=dict(zip(post_ids, authors, strict=True)),
        tokens=tokens,
    )
