"""Download my data: one zip of JSON files and every original photo and video, streamed into an S3 multipart
upload. Nothing is held whole: tables are read a page at a time, objects a chunk at a time, and the zip is
written through `zipfile` to a writer that uploads a part each time it has `part_size` bytes — so memory is
bounded by one part plus one chunk, whatever the size of the account (tests/unit/test_export_memory.py)."""

import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from datetime import datetime
from itertools import islice
from typing import IO, Any, TypeVar
from zipfile import ZIP_DEFLATED, ZipFile

from pydantic import BaseModel

from pinhole.graph.dal import BLOCKS, FOLLOWS, MUTES, REQUESTED
from pinhole.moderation.models import TargetType
from pinhole.notifications.dal import NOTIFICATION, STATE
from pinhole.notifications.models import MODERATION_NOTICES
from pinhole.posts.models import MediaStatus
from pinhole.privacy import dal
from pinhole.privacy.export_files import (
    ExportedAvatar,
    ExportedAvatarUpload,
    ExportedComment,
    ExportedDevice,
    ExportedGroup,
    ExportedLike,
    ExportedMedia,
    ExportedMessage,
    ExportedMessageMedia,
    ExportedNotification,
    ExportedPost,
    ExportedProfile,
    ExportedRelationship,
    ExportedReport,
    ExportedSave,
    ExportedVisit,
    Person,
)
from pinhole.push.dal import DEVICE, SETTINGS
from pinhole.push.models import NotificationSettings
from pinhole.shared.clock import utc_now
from pinhole.shared.settings import get_settings
from pinhole.social.dal import SAVED, VISIT
from pinhole.users.dal import ProfileRepository
from pinhole.users.logic import avatar_upload_as_of
from pinhole.users.models import Profile, StoredAvatar

PART_SIZE = 8 * 1024 * 1024  # S3 wants ≥ 5 MiB for every part but the last
CHUNK = 1024 * 1024
JSON_BUFFER = 64 * 1024
PAGE = 100
POSTS = "posts/"
AVATARS = "avatars/"
MESSAGES = "messages/"  # pinhole.messaging.media: a photo message's original, messages/<conversation>/<message>/
GROUP_PREFIX = "g-"
READY = MediaStatus.READY.value  # a post's media item, a message's photo: uploaded (its original is in the zip)
USER_TARGET = TargetType.USER.value
RELATIONSHIP_FILES = (  # file, edge kind, whether the edges point at the user (else from them)
    ("following.json", FOLLOWS, False),
    ("followers.json", FOLLOWS, True),
    ("follow_requests_sent.json", REQUESTED, False),
    ("follow_requests_received.json", REQUESTED, True),
    ("blocks.json", BLOCKS, False),
    ("mutes.json", MUTES, False),
)


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
    """Where an export reads the user's data, as the tables keep it: page by page, object by object (a test
    replaces it with a synthetic account of any size). The key prefixes are the owning contexts' own constants:
    a copy of one here would go stale the day its context renamed it, and the file would silently be empty."""

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

    def _mine(self, table: str, key: str, prefix: str) -> Iterator[dict[str, Any]]:
        """One kind of item of the user's own partition of `table`."""
        return dal.query_all(table, key, _user_key(key, self.user_id), sort_key_prefix=("sk", prefix))

    def profile(self) -> dict[str, Any]:
        items = list(dal.query_all(self.settings.users_table_name, "user_id", self.user_id))
        return items[0] if items else {}

    def people(self, user_ids: Collection[str]) -> dict[str, Person]:
        """The people named, by id: those whose account still shows (a suspended one's name is still theirs; a
        deactivated or deleted one is absent, as everywhere else)."""
        found = ProfileRepository().get_many(list(user_ids), include_suspended=True) if user_ids else {}
        return {
            user_id: Person(user_id=user_id, username=profile.username, display_name=profile.display_name)
            for user_id, profile in found.items()
        }

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
        """A post in a collection, one item each (not the collections' counters nor the saved-somewhere markers)."""
        return self._mine(self.settings.interactions_table_name, "pk", SAVED)

    def profile_visits(self) -> Iterator[dict[str, Any]]:
        return self._mine(self.settings.interactions_table_name, "pk", VISIT)

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
        return self._mine(self.settings.notifications_table_name, "user_id", NOTIFICATION)

    def notifications_read_up_to(self) -> str:
        """The read watermark: every notification id up to it is read."""
        state = dal.get_item(self.settings.notifications_table_name, {"user_id": self.user_id, "sk": STATE})
        return str((state or {}).get("read_up_to") or "")

    def devices(self) -> Iterator[dict[str, Any]]:
        return self._mine(self.settings.notifications_table_name, "user_id", DEVICE)

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


def _user_key(key: str, user_id: str) -> str:
    """The notifications table is keyed by the bare id; the others by `user#<id>`."""
    return user_id if key == "user_id" else f"user#{user_id}"


# From the items as stored to the files as a person reads them (pinhole.privacy.export_files).

Row = TypeVar("Row")


def _with_people(
    data: AccountData, rows: Iterable[Row], user_ids_of: Callable[[Row], Iterable[str]]
) -> Iterator[tuple[Row, Mapping[str, Person]]]:
    """Each row with the people it names, looked up a page of rows at a time: one BatchGetItem per 100 people,
    and never more than a page held."""
    pending = iter(rows)
    while batch := list(islice(pending, PAGE)):
        people = data.people({user_id for row in batch for user_id in user_ids_of(row)})
        for row in batch:
            yield row, people


def _person(people: Mapping[str, Person], user_id: str) -> Person:
    return people.get(user_id) or Person(user_id=user_id, username=None, display_name=None)


def _profile(item: dict[str, Any]) -> ExportedProfile:
    """The profile as the users context reads it (its defaults, its decoding of the avatar), plus the deletion
    under way, if any; never the credentials the item also holds (recovery code hashes, the last TOTP code)."""
    profile = Profile.model_validate({name: value for name, value in item.items() if value is not None})
    avatar: StoredAvatar | None = profile.avatar
    upload = avatar_upload_as_of(profile.avatar_upload, utc_now()) if profile.avatar_upload else None
    return ExportedProfile(
        user_id=profile.user_id,
        username=profile.username,
        email=profile.email,
        email_verified=profile.email_verified,
        mfa_enabled=profile.mfa_enabled,
        display_name=profile.display_name,
        bio=profile.bio,
        is_private=profile.is_private,
        follower_count=profile.follower_count,
        following_count=profile.following_count,
        post_count=profile.post_count,
        created_at=profile.created_at,
        avatar=ExportedAvatar(
            avatar_id=avatar.avatar_id,
            width=avatar.width,
            height=avatar.height,
            file=f"media/{AVATARS}{profile.user_id}/{avatar.avatar_id}",
        )
        if avatar
        else None,
        avatar_upload=ExportedAvatarUpload(avatar_id=upload.avatar_id, status=upload.status, reason=upload.reason)
        if upload
        else None,
        deactivated_at=item.get("deactivated_at"),
        purge_after=item.get("purge_after"),
    )


def _post(item: dict[str, Any]) -> ExportedPost:
    post_id, stored = item["post_id"], item.get("media") or {}

    def media(media_id: str) -> ExportedMedia:
        entry = stored.get(media_id, {})
        status = entry.get("status", "pending")
        return ExportedMedia(
            media_id=media_id,
            type=entry.get("type", "image"),
            status=status,
            file=f"media/{POSTS}{post_id}/{media_id}" if status == READY else None,
        )

    return ExportedPost(
        post_id=post_id,
        kind=item.get("kind", "post"),
        caption=item.get("caption", ""),
        tags=list(item.get("tags") or ()),
        mentions=list(item.get("mentions") or ()),
        status=item["status"],
        created_at=item["created_at"],
        published_at=item.get("published_at"),
        edited_at=item.get("edited_at"),
        media=[media(media_id) for media_id in item.get("media_order") or ()],
    )


def _relationships(data: AccountData, edges: Iterable[dict[str, Any]], other: str) -> Iterator[ExportedRelationship]:
    """`other`: the side of each edge that is not the user (target_id of their follows, source_id of followers)."""
    for edge, people in _with_people(data, edges, lambda edge: [edge[other]]):
        yield ExportedRelationship(user=_person(people, edge[other]), created_at=edge["created_at"])


def _visits(data: AccountData) -> Iterator[ExportedVisit]:
    for visit, people in _with_people(data, data.profile_visits(), lambda visit: [visit["sk"].removeprefix(VISIT)]):
        visited = _person(people, visit["sk"].removeprefix(VISIT))
        yield ExportedVisit(user=visited, visited_at=visit["visited_at"])


def _readable(conversation: dict[str, Any], message: dict[str, Any], user_id: str) -> bool:
    """What the user could read in the conversation: a group's messages from joining to leaving, a photo
    message of another's once it was delivered, and none of another's that a moderator removed (hidden from
    every participant); the group item and others' pending photos are not theirs."""
    message_id = message.get("message_id")
    if message_id is None:
        return False
    since, until = conversation.get("visible_from"), conversation.get("visible_until")
    in_window = (since is None or message_id >= since) and (until is None or message_id <= until)
    if message.get("sender_id") == user_id:
        return in_window
    return in_window and message.get("media_status") in (None, READY) and not message.get("removed")


def _readable_messages(data: AccountData) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for conversation in data.conversations():
        for message in data.messages(conversation["conversation_id"]):
            if _readable(conversation, message, data.user_id):
                yield conversation, message


def _message_media(conversation_id: str, message: dict[str, Any], sent_by_me: bool) -> ExportedMessageMedia | None:
    if not message.get("media"):
        return None
    media = json.loads(message["media"])
    uploaded = sent_by_me and message.get("media_status") in (None, READY)
    original = f"media/{MESSAGES}{conversation_id}/{message['message_id']}/{media['media_id']}"
    return ExportedMessageMedia(media_id=media["media_id"], type=media["type"], file=original if uploaded else None)


def _messages(data: AccountData) -> Iterator[ExportedMessage]:
    def named(pair: tuple[dict[str, Any], dict[str, Any]]) -> list[str]:
        conversation, message = pair
        return [user_id for user_id in (conversation.get("with_id"), message.get("sender_id")) if user_id]

    for (conversation, message), people in _with_people(data, _readable_messages(data), named):
        conversation_id, with_id = conversation["conversation_id"], conversation.get("with_id")
        sent_by_me = message.get("sender_id") == data.user_id
        yield ExportedMessage(
            conversation_id=conversation_id,
            with_user=_person(people, with_id) if with_id else None,
            message_id=message["message_id"],
            sender=_person(people, message["sender_id"]),
            sent_by_me=sent_by_me,
            kind=message.get("kind", "text"),
            text=message.get("text"),
            media=_message_media(conversation_id, message, sent_by_me),
            event=json.loads(message["event"]) if message.get("event") else None,
            removed=bool(message.get("removed")),
            created_at=message["created_at"],
        )


def _groups(data: AccountData) -> Iterator[ExportedGroup]:
    """The groups they are or were in: title, who is in it now, when they joined and (if they did) left."""

    def their_groups() -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        for conversation in data.conversations():
            conversation_id = conversation["conversation_id"]
            group = data.group(conversation_id) if conversation_id.startswith(GROUP_PREFIX) else None
            if group is not None:
                yield conversation, group

    pairs = _with_people(data, their_groups(), lambda pair: pair[1].get("member_ids") or ())
    for (conversation, group), people in pairs:
        yield ExportedGroup(
            conversation_id=conversation["conversation_id"],
            title=group.get("title"),
            created_at=group["created_at"],
            created_by_me=group.get("creator_id") == data.user_id,
            members=[_person(people, member) for member in sorted(group.get("member_ids") or ())],
            joined_at_message=conversation.get("visible_from"),
            left_at_message=conversation.get("visible_until"),
        )


def _actor_ids(item: dict[str, Any]) -> list[str]:
    """Newest first: a group's latest few, or the one actor; none for a moderation notice (the moderators)."""
    if item.get("type") in MODERATION_NOTICES:
        return []
    return list(item.get("actor_ids") or [item["actor_id"]])


def _notifications(data: AccountData) -> Iterator[ExportedNotification]:
    read_up_to = data.notifications_read_up_to()
    for item, people in _with_people(data, data.notifications(), _actor_ids):
        actor_ids = _actor_ids(item)
        yield ExportedNotification(
            notification_id=item["notification_id"],
            type=item["type"],
            actors=[_person(people, actor_id) for actor_id in actor_ids],
            actor_count=max(int(item.get("actor_count") or 1), len(actor_ids)) if actor_ids else 0,
            post_id=item.get("post_id"),
            comment_id=item.get("comment_id"),
            reason=item.get("reason"),
            created_at=item["created_at"],
            read=item["notification_id"] <= read_up_to,
        )


def _device(item: dict[str, Any]) -> ExportedDevice:
    """A phone as the user knows it: never its push token or SNS endpoint (secrets that reach the phone)."""
    return ExportedDevice(
        device_id=item["sk"].removeprefix(DEVICE), platform=item["platform"], created_at=item["created_at"]
    )


def _reports(data: AccountData) -> Iterator[ExportedReport]:
    def reported_user(report: dict[str, Any]) -> list[str]:
        return [report["target_id"]] if report["target_type"] == USER_TARGET else []

    for report, people in _with_people(data, data.reports(), reported_user):
        yield ExportedReport(
            report_id=report["report_id"],
            target_type=report["target_type"],
            target_id=report["target_id"],
            target_user=_person(people, report["target_id"]) if reported_user(report) else None,
            reason=report["reason"],
            note=report.get("note"),
            status=report.get("status", "open"),  # absent: open, ReportRecord's default
            created_at=report["created_at"],
        )


def _notification_settings(stored: dict[str, Any]) -> NotificationSettings:
    return NotificationSettings(
        **{name: stored[name] for name in NotificationSettings.model_fields if stored.get(name) is not None}
    )


def _write_json_array(archive: ZipFile, name: str, rows: Iterable[BaseModel]) -> None:
    """Rows gather in a small buffer before they reach the zip: one deflate call per row (a few dozen bytes)
    made the compressor's per-call cost most of an export's time."""
    with archive.open(name, "w", force_zip64=True) as file:
        buffer = bytearray(b"[")
        for index, row in enumerate(rows):
            buffer += (b",\n" if index else b"\n") + row.model_dump_json().encode()
            if len(buffer) >= JSON_BUFFER:
                file.write(buffer)
                buffer = bytearray()
        file.write(buffer + b"\n]\n")


def write_export(data: AccountData, sink: IO[bytes]) -> int:
    """Writes the whole export to `sink` as a zip; how many original files it holds."""
    originals = 0
    # The fastest deflate: JSON still shrinks several times, photos and videos (compressed already) cost
    # little CPU. (Stored entries would need their sizes ahead of the data, which a stream does not have.)
    with ZipFile(sink, "w", compression=ZIP_DEFLATED, compresslevel=1) as archive:
        profile = data.profile()
        archive.writestr("profile.json", _profile(profile).model_dump_json(indent=2) if profile else "{}")
        _write_json_array(archive, "posts.json", map(_post, data.posts()))
        _write_json_array(
            archive,
            "comments.json",
            (
                ExportedComment(
                    comment_id=c["comment_id"],
                    post_id=c["post_id"],
                    text=c["text"],
                    removed=bool(c.get("removed")),
                    created_at=c["created_at"],
                )
                for c in data.comments()
            ),
        )
        _write_json_array(
            archive,
            "likes.json",
            (ExportedLike(post_id=like["post_id"], created_at=like["created_at"]) for like in data.likes()),
        )
        _write_json_array(
            archive,
            "saved.json",
            (
                ExportedSave(post_id=save["post_id"], collection=save["collection"], created_at=save["created_at"])
                for save in data.saved()
            ),
        )
        _write_json_array(archive, "profile_visits.json", _visits(data))
        for name, kind, towards_me in RELATIONSHIP_FILES:
            other = "source_id" if towards_me else "target_id"
            _write_json_array(archive, name, _relationships(data, data.edges(kind, towards_me), other))
        _write_json_array(archive, "messages.json", _messages(data))
        _write_json_array(archive, "groups.json", _groups(data))
        _write_json_array(archive, "notifications.json", _notifications(data))
        _write_json_array(archive, "devices.json", map(_device, data.devices()))
        settings = _notification_settings(data.notification_settings())
        archive.writestr("notification_settings.json", settings.model_dump_json(indent=2))
        _write_json_array(archive, "reports.json", _reports(data))
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
