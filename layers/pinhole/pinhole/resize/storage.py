"""The two buckets as resize sees them: originals in, renditions out (and deleted again). The S3 client stays in
this module."""

import functools
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pinhole.shared.settings import get_settings

# Renditions live under keys that are never rewritten, so any cache may keep them for good.
IMMUTABLE = "public, max-age=31536000, immutable"
CHUNK_BYTES = 1024 * 1024

DELETE_BATCH = 1000  # DeleteObjects' limit


@functools.cache
def _default_s3() -> Any:
    """Made on first use: the upload API imports this module for avatars, and most of its invocations never
    read or write a picture (a client is ~30 ms of a cold start, importing boto3 ~15 ms more)."""
    import boto3  # boto3's client, not botocore's: renditions go up with its `upload_file`

    return boto3.client("s3", region_name=get_settings().region)


class MediaStorage:
    def __init__(self, client: Any = None) -> None:
        self._given_s3 = client

    @property
    def _s3(self) -> Any:
        return self._given_s3 or _default_s3()

    # Both readers stop one byte past `limit`: enough for the size check to reject an object the upload
    # policy should have refused, without ever holding (or writing to /tmp) more than that.
    def read_original(self, bucket: str, key: str, version_id: str | None, limit: int) -> bytes:
        response = self._s3.get_object(Bucket=bucket, Key=key, **({"VersionId": version_id} if version_id else {}))
        with response["Body"] as body:
            return bytes(body.read(limit + 1))

    def download_original(self, bucket: str, key: str, version_id: str | None, target: Path, limit: int) -> None:
        response = self._s3.get_object(Bucket=bucket, Key=key, **({"VersionId": version_id} if version_id else {}))
        with response["Body"] as body, target.open("wb") as file:
            remaining = limit + 1
            while remaining and (chunk := body.read(min(CHUNK_BYTES, remaining))):
                file.write(chunk)
                remaining -= len(chunk)

    def write_rendition(self, key: str, data: bytes, content_type: str) -> None:
        self._s3.put_object(
            Bucket=get_settings().media_bucket_name,
            Key=key,
            Body=data,
            ContentType=content_type,
            CacheControl=IMMUTABLE,
        )

    def write_rendition_file(self, key: str, path: Path, content_type: str) -> None:
        """A rendition made on disk (a video file), streamed to the bucket (in parts when it is large)."""
        self._s3.upload_file(
            str(path),
            get_settings().media_bucket_name,
            key,
            ExtraArgs={"ContentType": content_type, "CacheControl": IMMUTABLE},
        )

    def rendition_pages(self, prefix: str) -> Iterator[list[str]]:
        """The keys under the prefix, a page (up to 1,000) at a time."""
        bucket = get_settings().media_bucket_name
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys = [item["Key"] for item in page.get("Contents", [])]
            if keys:
                yield keys

    def delete(self, keys: Sequence[str]) -> dict[str, str]:
        """Deletes the objects; those S3 did not delete, with its error code (DeleteObjects answers 200 and
        lists per-key errors: with Quiet, only those)."""
        bucket = get_settings().media_bucket_name
        refused: dict[str, str] = {}
        for start in range(0, len(keys), DELETE_BATCH):
            objects = [{"Key": key} for key in keys[start : start + DELETE_BATCH]]
            response = self._s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
            refused |= {error["Key"]: error.get("Code", "?") for error in response.get("Errors", [])}
        return refused
