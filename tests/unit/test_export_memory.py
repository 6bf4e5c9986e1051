"""A data export's memory is bounded by one multipart part and one chunk, whatever the account's size: a
synthetic account of 20,000 posts, comments and likes and 96 MiB of originals (generated as it is read, so the
test holds none of it) is streamed through the real zip writer into a fake S3 that keeps only each part's size
and a digest. tracemalloc counts every Python allocation of the export; the bound is asserted, no timing."""

import hashlib
import io
import tracemalloc
import zipfile
from collections.abc import Collection, Iterator
from typing import Any

from pinhole.privacy.export import CHUNK, AccountData, MultipartUploadWriter, write_export
from pinhole.privacy.export_files import Person

PART_SIZE = 5 * 1024 * 1024  # S3's smallest part
ORIGINALS = 24
ORIGINAL_BYTES = 4 * 1024 * 1024
ROWS = 20_000


class GeneratedBody(io.RawIOBase):
    """An object body produced on demand: incompressible bytes, never whole in memory. SHAKE-256 output in
    blocks of 64 KiB (one C call each: a digest per 64 bytes made the body, not the export, most of the test's
    time, and tracemalloc traced every one of its allocations)."""

    BLOCK = 64 * 1024

    def __init__(self, size: int, seed: int) -> None:
        self._left = size
        self._seed = seed
        self._counter = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = self._left if size < 0 else min(size, self._left)
        out = bytearray()
        while len(out) < size:
            self._counter += 1
            out += hashlib.shake_256(f"{self._seed}:{self._counter}".encode()).digest(self.BLOCK)
        self._left -= size
        return bytes(out[:size])


AT = "2026-12-01T10:00:00.000Z"
STORED_AT = "2026-12-01T10:00:00.000000+0000"  # PynamoDB's UTCDateTimeAttribute (posts, profiles)


class SyntheticAccount(AccountData):
    """A large account, generated row by row as the export reads it, in the shapes the tables keep."""

    def __init__(self) -> None:
        self.user_id = "u-large"

    def profile(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "username": "large", "email": "large@example.com", "created_at": STORED_AT}

    def people(self, user_ids: Collection[str]) -> dict[str, Person]:
        return {user_id: Person(user_id=user_id, username=f"@{user_id}", display_name="") for user_id in user_ids}

    def posts(self) -> Iterator[dict[str, Any]]:
        return (
            {
                "post_id": f"p{n:06d}",
                "caption": "#tag " * 40,
                "status": "published",
                "created_at": STORED_AT,
                "media": {f"m{n}": {"type": "image", "status": "ready"}},
                "media_order": [f"m{n}"],
            }
            for n in range(ROWS)
        )

    def comments(self) -> Iterator[dict[str, Any]]:
        return (
            {"post_id": f"x{n}", "comment_id": f"c{n}", "text": "nice " * 30, "created_at": AT} for n in range(ROWS)
        )

    def likes(self) -> Iterator[dict[str, Any]]:
        return ({"post_id": f"x{n}", "created_at": AT} for n in range(ROWS))

    def saved(self) -> Iterator[dict[str, Any]]:
        return iter(())

    def profile_visits(self) -> Iterator[dict[str, Any]]:
        return iter(())

    def edges(self, kind: str, towards_me: bool) -> Iterator[dict[str, Any]]:
        return ({"source_id": f"s{n}", "target_id": f"t{n}", "created_at": AT} for n in range(ROWS // 4))

    def conversations(self) -> Iterator[dict[str, Any]]:
        return ({"conversation_id": f"conv{n}", "with_id": f"w{n}"} for n in range(100))

    def messages(self, conversation_id: str) -> Iterator[dict[str, Any]]:
        return (
            {"message_id": f"{conversation_id}-{n}", "sender_id": "w", "text": "hey " * 20, "created_at": AT}
            for n in range(200)
        )

    def notifications(self) -> Iterator[dict[str, Any]]:
        return (
            {"notification_id": f"{n:026d}", "type": "like", "actor_id": f"a{n}", "created_at": AT} for n in range(ROWS)
        )

    def notifications_read_up_to(self) -> str:
        return ""

    def devices(self) -> Iterator[dict[str, Any]]:
        return ({"sk": f"device#d{n}", "platform": "fcm", "token": "secret", "created_at": AT} for n in range(25))

    def notification_settings(self) -> dict[str, Any]:
        return {"likes": False}

    def reports(self) -> Iterator[dict[str, Any]]:
        return (
            {
                "report_id": f"r{n}",
                "target_type": "post",
                "target_id": f"p{n}",
                "reason": "spam",
                "status": "open",
                "created_at": AT,
            }
            for n in range(100)
        )

    def original_keys(self) -> Iterator[str]:
        return (f"posts/p{n:06d}/m{n}" for n in range(ORIGINALS))

    def open_original(self, key: str) -> Any:
        return GeneratedBody(ORIGINAL_BYTES, hash(key))


class PartCountingS3:
    """S3's multipart calls, keeping only sizes and a running digest of what was uploaded."""

    def __init__(self) -> None:
        self.part_sizes: list[int] = []
        self.digest = hashlib.sha256()
        self.completed = False

    def create_multipart_upload(self, **_: Any) -> dict[str, str]:
        return {"UploadId": "upload-1"}

    def upload_part(self, *, Body: bytes, PartNumber: int, **_: Any) -> dict[str, str]:
        self.part_sizes.append(len(Body))
        self.digest.update(Body)
        return {"ETag": f'"{PartNumber}"'}

    def complete_multipart_upload(self, **_: Any) -> None:
        self.completed = True

    def abort_multipart_upload(self, **_: Any) -> None:
        raise AssertionError("the export did not fail")


def test_a_large_export_streams_in_memory_bounded_by_one_part() -> None:
    # Given an account far larger than the bound (96 MiB of originals + ~10 MB of JSON)
    s3 = PartCountingS3()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        # When it is exported through the multipart writer
        writer = MultipartUploadWriter(s3, "bucket", "exports/u-large/x.zip", part_size=PART_SIZE)
        originals = write_export(SyntheticAccount(), writer)  # type: ignore[arg-type]
        writer.complete()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    total = sum(s3.part_sizes)
    # Then it was all written, in parts S3 accepts, while memory stayed within a few parts
    assert s3.completed and originals == ORIGINALS
    assert total > ORIGINALS * ORIGINAL_BYTES
    assert all(size >= PART_SIZE for size in s3.part_sizes[:-1])
    bound = 3 * PART_SIZE + 2 * CHUNK
    assert peak < bound, f"peak {peak:,} B for an export of {total:,} B (bound {bound:,} B)"
    assert total > 5 * bound  # the bound is not the export's size in disguise


def test_the_streamed_zip_is_a_valid_archive_with_the_same_bytes() -> None:
    # A small account through the same writer into memory: the zip reads back, entries intact
    parts: list[bytes] = []

    class KeepingS3(PartCountingS3):
        def upload_part(self, *, Body: bytes, PartNumber: int, **kwargs: Any) -> dict[str, str]:
            parts.append(Body)
            return super().upload_part(Body=Body, PartNumber=PartNumber, **kwargs)

    class Small(SyntheticAccount):
        def original_keys(self) -> Iterator[str]:
            return iter(["posts/p1/m1"])

        def open_original(self, key: str) -> Any:
            return GeneratedBody(3 * CHUNK + 17, 7)

    writer = MultipartUploadWriter(KeepingS3(), "bucket", "k", part_size=PART_SIZE)
    write_export(Small(), writer)  # type: ignore[arg-type]
    writer.complete()
    archive = zipfile.ZipFile(io.BytesIO(b"".join(parts)))
    assert archive.testzip() is None
    assert archive.read("media/posts/p1/m1") == GeneratedBody(3 * CHUNK + 17, 7).read()
    assert archive.read("profile.json").startswith(b"{")
