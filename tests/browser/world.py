"""A small world for the screens to show, made through the API (fast): Ada, who follows Grace; their
photos with tags, likes, a comment, a saved post, a story, a direct message, a group chat; Carol, private,
whom Ada muted."""

from __future__ import annotations

import io
import json
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from PIL import Image, ImageDraw

from tests.support.api_client import PASSWORD, eventually, from_own_address, upload

PALETTES = [((255, 179, 71), (180, 35, 90)), ((120, 200, 255), (20, 60, 140)), ((170, 230, 160), (30, 110, 80))]


def pretty_photo(index: int, size: tuple[int, int] = (1200, 900)) -> bytes:
    """A sunset-like JPEG: a two-colour gradient and a sun, different for each index."""
    top, bottom = PALETTES[index % len(PALETTES)]
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / height
        draw.line([(0, y), (width, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    radius = height // 6
    cx, cy = int(width * (0.3 + 0.4 * ((index * 0.37) % 1))), int(height * 0.55)
    draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=(255, 240, 200))
    for ray in range(12):
        angle = ray * math.pi / 6
        draw.line(
            [(cx, cy), (cx + 2 * radius * math.cos(angle), cy + 2 * radius * math.sin(angle))],
            fill=(255, 225, 170),
            width=3,
        )
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


@dataclass
class Account:
    username: str
    http: httpx.Client
    refresh_token: str


def logged_in(base_url: str, username: str) -> Account:
    """A device of an existing account (PASSWORD), logged in through the API."""
    answer = httpx.post(f"{base_url.rstrip('/')}/auth/login", json={"username": username, "password": PASSWORD})
    tokens = answer.json()
    http = httpx.Client(base_url=base_url, timeout=30, headers={"authorization": f"Bearer {tokens['access_token']}"})
    return Account(username, http, tokens["refresh_token"])


def account(base_url: str, prefix: str, display_name: str, bio: str = "") -> Account:
    username = f"{prefix}_{uuid.uuid4().hex[:4]}"
    body = {
        "username": username,
        "password": PASSWORD,
        "email": f"{username}@example.com",
        "display_name": display_name,
    }
    # each account signs up from an address of its own, as people do (sign-ups are limited per source address)
    signup = httpx.post(f"{base_url.rstrip('/')}/auth/signup", json=body, headers=from_own_address())
    assert signup.status_code == 201, signup.text
    created = logged_in(base_url, username)
    if bio:
        assert created.http.patch("/me", json={"bio": bio}).status_code == 200
    return created


def post(author: Account, caption: str, photos: list[bytes]) -> str:
    media = [{"content_type": "image/jpeg", "size_bytes": len(photo)} for photo in photos]
    created = author.http.post("/posts", json={"caption": caption, "media": media})
    assert created.status_code == 201, created.text
    for target, photo in zip(created.json()["uploads"], photos, strict=True):
        assert upload(target, photo).status_code == 204
    post_id = str(created.json()["post"]["post_id"])
    eventually(lambda: author.http.get(f"/posts/{post_id}").json()["status"], lambda status: status != "pending")
    return post_id


def story(author: Account, photo: bytes) -> None:
    created = author.http.post("/stories", json={"media": {"content_type": "image/jpeg", "size_bytes": len(photo)}})
    assert created.status_code == 201, created.text
    assert upload(created.json()["upload"], photo).status_code == 204


@dataclass
class World:
    ada: Account
    grace: Account
    carol: Account
    ada_post: str
    grace_post: str
    tag: str
    conversation_with: str
    group_id: str


def build_world(base_url: str) -> World:
    ada = account(base_url, "ada", "Ada Lovelace", "Poet of numbers. Sunsets and engines.")
    grace = account(base_url, "grace", "Grace Hopper", "Compilers, nanoseconds, the sea.")
    carol = account(base_url, "carol", "Carol Shaw")
    assert carol.http.patch("/me", json={"is_private": True}).status_code == 200
    tag = f"golden{uuid.uuid4().hex[:4]}"
    for who in (ada, grace):
        other = grace if who is ada else ada
        assert who.http.post(f"/users/{other.username}/follow").status_code == 200
    assert carol.http.post(f"/users/{ada.username}/follow").status_code == 200
    ada.http.post(f"/users/{carol.username}/follow")  # a request: Carol is private
    grace_post = post(grace, f"Harbour at dawn #{tag} #sea", [pretty_photo(1)])
    post(ada, f"Engines at rest #{tag}", [pretty_photo(2), pretty_photo(0)])
    ada_post = post(ada, f"First light over the hills #{tag} with @{grace.username}", [pretty_photo(0)])
    story(grace, pretty_photo(1, (720, 1280)))
    assert grace.http.post(f"/posts/{ada_post}/like").status_code == 200
    assert grace.http.post(f"/posts/{ada_post}/comments", json={"text": "What a sky!"}).status_code == 201
    assert ada.http.post(f"/posts/{grace_post}/save", json={"collection": "mornings"}).status_code == 204
    assert grace.http.post("/messages", json={"to": ada.username, "text": "Coffee tomorrow?"}).status_code == 201
    assert ada.http.post("/messages", json={"to": grace.username, "text": "Yes! 9 at the harbour."}).status_code == 201
    assert grace.http.post("/messages", json={"to": ada.username, "text": "See you there."}).status_code == 201
    eventually(lambda: ada.http.get("/feed").json()["items"], lambda items: len(items) >= 3)
    eventually(lambda: ada.http.get("/stories/feed").json()["items"], lambda items: len(items) >= 1)
    eventually(lambda: ada.http.get("/notifications").json()["items"], lambda items: len(items) >= 2)
    group = ada.http.post("/conversations", json={"members": [grace.username, carol.username], "title": "Harbour crew"})
    assert group.status_code == 201, group.text
    group_id = group.json()["conversation_id"]
    sent = grace.http.post("/messages", json={"conversation_id": group_id, "text": "Boat at noon?"})
    assert sent.status_code == 201, sent.text
    assert ada.http.post(f"/users/{carol.username}/mute").status_code == 204  # her muted list has someone
    return World(ada, grace, carol, ada_post, grace_post, tag, grace.username, group_id)


SCREENS: dict[str, Callable[[World], str]] = {
    "home": lambda world: "/",
    "post": lambda world: f"/p/{world.ada_post}",
    "new-post": lambda world: "/new",
    "profile": lambda world: f"/u/{world.ada.username}",
    "followers": lambda world: f"/u/{world.ada.username}/followers",
    "requests": lambda world: "/requests",
    "private-profile": lambda world: f"/u/{world.carol.username}",
    "search": lambda world: "/search",
    "tag": lambda world: f"/tags/{world.tag}",
    "saved": lambda world: "/saved/mornings",
    "messages": lambda world: "/messages",
    "thread": lambda world: f"/messages/{world.grace.username}",
    "group-thread": lambda world: f"/messages/c/{world.group_id}",
    "new-group": lambda world: "/messages/new-group",
    "notifications": lambda world: "/notifications",
    "settings": lambda world: "/settings",
    "security": lambda world: "/settings/security",
    "muted": lambda world: "/settings/muted",
    "notification-settings": lambda world: "/settings/notifications",
    "account-data": lambda world: "/settings/account",
    "my-reports": lambda world: "/settings/reports",
    "story": lambda world: f"/stories/{world.grace.username}",
}
"""Each main screen of the app, by name: its path as Ada sees it."""


def session_script(refresh_token: str) -> str:
    """Run before the app: a refresh token where the app keeps it, so it starts signed in."""
    return f"sessionStorage.setItem('pinhole.refresh_token', {json.dumps(refresh_token)});"


def sign_in_script(world: World) -> str:
    """Ada's session (session_script)."""
    return session_script(world.ada.refresh_token)
