"""Download my data: one zip of JSON files and every original photo and video, streamed into an S3 multipart
upload. Nothing is held whole: tables are read a page at a time, objects a chunk at a time, and the zip is
written through `zipfile` to a writer that uploads a part each time it has `part_size` bytes — so memory is
bounded by one part plus one chunk, whatever the size of the account (tests/unit/test_export_memory.py)."""

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, Any
from zipfile import ZIP_DEFLATED, ZipFile

from pinhole.notifications.dal import NOTIFICATION
from pinhole.privacy import dal
from pinhole.push.dal import DEVICE, SETTINGS
from pinhole.push.models import NotificationSettings
from pinhole.shared.settings import get_settings
from pinhole.social.dal import VISIT

PART_SIZE = 8 * 1024 * 1024  # S3 wants ≥ 5 MiB for every part but the last
CHUNK = 1024 * 1024
JSON_BUFFER = 64 * 1024
PAGE = 100
POSTS = "posts/"
AVATARS = "avatars/"
MESSAGES = "messages/"  # pinhole.messaging.media: a photo message's original, messages/<conversation>/<message>/
GROUP_PREFIX = "g-"


class MultipartUploadWriter:
    """A write-only, unseekable file whose bytes become an S3 object through a multipart upload. `zipfile`
    writes to it as to a pipe (data descriptors, no seeking back). Writes gather in one buffer until it holds
    a part, which is then uploaded: at most about two parts are held at any moment (the buffer and the copy
    sent), never the object. (A list of the writes joined at the end would cost more: JSON arrives in
    hundreds of thousands of small pieces, and joining them allocates a buffer descriptor for each.)"""

    def __init__(self, s3: Any, bucket: str, key: str, part_size: int = PART_SIZE) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._key = key
        self._part_size = part_size
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []
        self._upload_id: str = s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType="application/zip")[
            "UploadId"
        ]
        self.bytes_written = 0

    def write(self, data: bytes) -> int:
        self._buffer += data
        self.bytes_written += len(data)
        if len(self._buffer) >= self._part_size:
            self._upload_buffer()
        return len(data)

    def flush(self) -> None:
        """Parts go out when full; S3 refuses small ones, so there is nothing to flush before the end."""

    def _upload_buffer(self) -> None:
        body = bytes(self._buffer)
        self._buffer = bytearray()
        number = len(self._parts) + 1
        response = self._s3.upload_part(
            Bucket=self._bucket, Key=self._key, UploadId=self._upload_id, PartNumber=number, Body=body
        )
        self._parts.append({"PartNumber": number, "ETag": response["ETag"]})

    def complete(self) -> None:
        if self._buffer or not self._parts:
            self._upload_buffer()  # the last part may be small (or the only one, empty)
        self._s3.complete_multipart_upload(
            Bucket=self._bucket, Key=self._key, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}
        )

    def abort(self) -> None:
        self._s3.abort_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id)


class AccountData:
    """Where an export reads the user's data: page by page, object by object (a test replaces it with a
    synthetic account of any size). The key prefixes are the owning contexts' own constants: a copy of one
    here goes stale the day its context changes it, and the file is silently empty."""

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self.settings = get_settings()

    def _scan(self, table: str, expression: str, values: dict[str, str]) -> Iterator[dict[str, Any]]:
        cursor: str | None = None
        while True:
            page = dal.scan_page(table, expression, values, cursor, PAGE)
            yield from page.items
            if page.cursor is None:
                return
            cursor = page.cursor

    def profile(self) -> dict[str, Any]:
        items = list(dal.query_all(self.settings.users_table_name, "user_id", self.user_id))
        return items[0] if items else {}

    def posts(self) -> Iterator[dict[str, Any]]:
        return self._scan(self.settings.posts_table_name, "author_id = :u", {":u": self.user_id})

    def comments(self) -> Iterator[dict[str, Any]]:
        return self._scan(
            self.settings.interactions_table_name,
            "author_id = :u AND begins_with(sk, :comment)",
            {":u": self.user_id, ":comment": "comment#"},
        )

    def likes(self) -> Iterator[dict[str, Any]]:
        return self._scan(self.settings.interactions_table_name, "sk = :like", {":like": f"like#{self.user_id}"})

    def saved(self) -> Iterator[dict[str, Any]]:
        mine = dal.query_all(self.settings.interactions_table_name, "pk", f"user#{self.user_id}")
        return (item for item in mine if not item["sk"].startswith(VISIT))

    def profile_visits(self) -> Iterator[dict[str, Any]]:
        """The profiles they visited, when last (a signal of the ranked feed)."""
        mine = dal.query_all(self.settings.interactions_table_name, "pk", f"user#{self.user_id}")
        return (
            {"user_id": item["sk"].removeprefix(VISIT), "visited_at": item["visited_at"]}
            for item in mine
            if item["sk"].startswith(VISIT)
        )

    def edges(self, kind: str, towards_me: bool) -> Iterator[dict[str, Any]]:
        side = "target_id" if towards_me else "source_id"
        return self._scan(
            self.settings.graph_table_name,
            f"{side} = :u AND begins_with(sk, :kind)",
            {":u": self.user_id, ":kind": kind},
        )

    def conversations(self) -> Iterator[dict[str, Any]]:
        return dal.query_all(self.settings.messages_table_name, "pk", f"user#{self.user_id}")

    def messages(self, conversation_id: str) -> Iterator[dict[str, Any]]:
        return dal.query_all(self.settings.messages_table_name, "pk", f"conv#{conversation_id}")

    def group(self, conversation_id: str) -> dict[str, Any] | None:
        return dal.get_item(self.settings.messages_table_name, {"pk": f"conv#{conversation_id}", "sk": "group"})

    def notifications(self) -> Iterator[dict[str, Any]]:
        return (
            item
            for item in dal.query_all(self.settings.notifications_table_name, "user_id", self.user_id)
            if item["sk"].startswith(NOTIFICATION)
        )

    def devices(self) -> Iterator[dict[str, Any]]:
        return (
            item
            for item in dal.query_all(self.settings.notifications_table_name, "user_id", self.user_id)
            if item["sk"].startswith(DEVICE)
        )

    def notification_settings(self) -> dict[str, Any]:
        key = {"user_id": self.user_id, "sk": SETTINGS}
        return dal.get_item(self.settings.notifications_table_name, key) or {}

    def reports(self) -> Iterator[dict[str, Any]]:
        return dal.query_all(self.settings.moderation_table_name, "reporter_id", self.user_id, "by-reporter-index")

    def original_keys(self) -> Iterator[str]:
        bucket = self.settings.uploads_bucket_name
        for post in self.posts():
            yield from dal.object_keys(bucket, f"{POSTS}{post['post_id']}/")
        yield from dal.object_keys(bucket, f"{AVATARS}{self.user_id}/")
        for conversation in self.conversations():
            for message in self.messages(conversation["conversation_id"]):
                if message.get("sender_id") == self.user_id and message.get("media"):
                    prefix = f"{MESSAGES}{conversation['conversation_id']}/{message['message_id']}/"
                    yield from dal.object_keys(bucket, prefix)

    def open_original(self, key: str) -> IO[bytes] | None:
        return dal.open_object(self.settings.uploads_bucket_name, key)


_PUBLIC_POST_FIELDS = (
    "post_id",
    "kind",
    "caption",
    "tags",
    "mentions",
    "created_at",
    "edited_at",
    "published_at",
    "status",
)
# Credentials and session bookkeeping, not data
_HIDDEN_PROFILE_FIELDS = ("recovery_codes", "totp_last_code", "totp_last_used_at", "revoked_sessions")


def _json_default(value: Any) -> Any:
    if isinstance(value, set):
        return sorted(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)  # Decimal


def _write_json_array(archive: ZipFile, name: str, items: Iterable[dict[str, Any]]) -> None:
    """Rows gather in a small buffer before they reach the zip: one deflate call per row (a few dozen bytes)
    made the compressor's per-call cost most of an export's time."""
    encoder = json.JSONEncoder(default=_json_default)
    with archive.open(name, "w", force_zip64=True) as file:
        rows = bytearray(b"[")
        for index, item in enumerate(items):
            rows += (b",\n" if index else b"\n") + encoder.encode(item).encode()
            if len(rows) >= JSON_BUFFER:
                file.write(rows)
                rows = bytearray()
        file.write(rows + b"\n]\n")


def _edge_view(item: dict[str, Any]) -> dict[str, Any]:
    return {"source_id": item["source_id"], "target_id": item["target_id"], "created_at": item.get("created_at")}


def _readable(conversation: dict[str, Any], message: dict[str, Any], user_id: str) -> bool:
    """What the user could read in the conversation: a group's messages from joining to leaving, a photo
    message of another's once it was delivered (the group item and others' pending photos are not theirs)."""
    message_id = message.get("message_id")
    if message_id is None:
        return False
    since, until = conversation.get("visible_from"), conversation.get("visible_until")
    in_window = (since is None or message_id >= since) and (until is None or message_id <= until)
    delivered = message.get("media_status") in (None, "ready") or message.get("sender_id") == user_id
    return in_window and delivered


def _messages(data: AccountData) -> Iterator[dict[str, Any]]:
    for conversation in data.conversations():
        for message in data.messages(conversation["conversation_id"]):
            if not _readable(conversation, message, data.user_id):
                continue
            media = json.loads(message["media"]) if message.get("media") else None
            yield {
                "conversation_id": conversation["conversation_id"],
                "with_id": conversation.get("with_id"),
                "message_id": message.get("message_id"),
                "sender_id": message.get("sender_id"),
                "sent_by_me": message.get("sender_id") == data.user_id,
                "kind": message.get("kind", "text"),
                "text": message.get("text"),
                "media": {"media_id": media["media_id"], "type": media["type"]} if media else None,
                "event": json.loads(message["event"]) if message.get("event") else None,
                "created_at": message.get("created_at"),
            }


def _groups(data: AccountData) -> Iterator[dict[str, Any]]:
    """The groups they are or were in: title, who is in it now, when they joined and (if they did) left."""
    for conversation in data.conversations():
        conversation_id = conversation["conversation_id"]
        group = data.group(conversation_id) if conversation_id.startswith(GROUP_PREFIX) else None
        if group is None:
            continue
        yield {
            "conversation_id": conversation_id,
            "title": group.get("title"),
            "created_at": group.get("created_at"),
            "created_by_me": group.get("creator_id") == data.user_id,
            "member_ids": sorted(group.get("member_ids") or ()),
            "joined_at_message": conversation.get("visible_from"),
            "left_at_message": conversation.get("visible_until"),
        }


def _device_view(item: dict[str, Any]) -> dict[str, Any]:
    """A phone as the user knows it: never its push token or SNS endpoint (secrets that reach the phone)."""
    return {
        "device_id": item["sk"].removeprefix(DEVICE),
        "platform": item.get("platform"),
        "created_at": item.get("created_at"),
    }


_REPORT_FIELDS = ("report_id", "target_type", "target_id", "reason", "note", "status", "created_at")


def write_export(data: AccountData, sink: IO[bytes]) -> int:
    """Writes the whole export to `sink` as a zip; how many original files it holds."""
    originals = 0
    # The fastest deflate: JSON still shrinks several times, photos and videos (compressed already) cost
    # little CPU. (Stored entries would need their sizes ahead of the data, which a stream does not have.)
    with ZipFile(sink, "w", compression=ZIP_DEFLATED, compresslevel=1) as archive:
        profile = {k: v for k, v in data.profile().items() if k not in _HIDDEN_PROFILE_FIELDS}
        archive.writestr("profile.json", json.dumps(profile, default=_json_default, indent=2))
        _write_json_array(
            archive,
            "posts.json",
            (
                {name: post.get(name) for name in _PUBLIC_POST_FIELDS} | {"media": post.get("media_order", [])}
                for post in data.posts()
            ),
        )
        _write_json_array(
            archive,
            "comments.json",
            (
                {
                    "post_id": c.get("post_id"),
                    "comment_id": c.get("comment_id"),
                    "text": c.get("text"),
                    "created_at": c.get("created_at"),
                }
                for c in data.comments()
            ),
        )
        _write_json_array(
            archive,
            "likes.json",
            ({"post_id": like.get("post_id"), "created_at": like.get("created_at")} for like in data.likes()),
        )
        _write_json_array(archive, "saved.json", data.saved())
        _write_json_array(archive, "profile_visits.json", data.profile_visits())
        _write_json_array(archive, "following.json", map(_edge_view, data.edges("follows#", towards_me=False)))
        _write_json_array(archive, "followers.json", map(_edge_view, data.edges("follows#", towards_me=True)))
        _write_json_array(archive, "blocks.json", map(_edge_view, data.edges("blocks#", towards_me=False)))
        _write_json_array(archive, "mutes.json", map(_edge_view, data.edges("mutes#", towards_me=False)))
        _write_json_array(archive, "messages.json", _messages(data))
        _write_json_array(archive, "groups.json", _groups(data))
        _write_json_array(archive, "notifications.json", data.notifications())
        _write_json_array(archive, "devices.json", map(_device_view, data.devices()))
        stored = data.notification_settings()
        settings = NotificationSettings(
            **{name: stored[name] for name in NotificationSettings.model_fields if stored.get(name) is not None}
        )
        archive.writestr("notification_settings.json", settings.model_dump_json(indent=2))
        _write_json_array(
            archive, "reports.json", ({name: r.get(name) for name in _REPORT_FIELDS} for r in data.reports())
        )
        for key in data.original_keys():
            body = data.open_original(key)
            if body is None:
                continue
            # Streamed a chunk at a time: a 200 MB video never sits in memory.
            with body, archive.open(f"media/{key}", "w", force_zip64=True) as target:
                while chunk := body.read(CHUNK):
                    target.write(chunk)
            originals += 1
    return originals


def export_key(user_id: str, requested_at: datetime) -> str:
    return f"exports/{user_id}/{requested_at.strftime('%Y%m%dT%H%M%S%fZ')}.zip"


def upload_export(data: AccountData, s3: Any, bucket: str, key: str, part_size: int = PART_SIZE) -> int:
    """Streams the export into `bucket`/`key`; an export that fails leaves no parts behind (they cost)."""
    writer = MultipartUploadWriter(s3, bucket, key, part_size)
    try:
        originals = write_export(data, writer)  # type: ignore[arg-type]
        writer.complete()
    except BaseException:
        writer.abort()
        raise
    return originals
