"""The pictures of photo messages, which are private to the conversation: originals land in the uploads
bucket under `messages/<conversation>/<message>/<media>`, renditions go to the message media bucket
(never the public media bucket behind MediaBaseUrl) under `conversations/<conversation>/<message>/`, and
members read them through pre-signed S3 GETs that expire in minutes (docs/MEDIA.md says why these rather
than CloudFront signed URLs). boto3 stays in this module."""

import functools
from dataclasses import dataclass
from typing import Any

from botocore.config import Config

from pinhole.shared.settings import get_settings

UPLOADS_PREFIX = "messages"
RENDITIONS_PREFIX = "conversations"
SIGNED_URL_TTL_S = 10 * 60
"""How long a member's rendition URL works: long enough to load a conversation, short enough that a
forwarded link dies soon (and a member who left stops reading within minutes at most)."""
# Renditions never change under a key, but they are private: no shared cache may keep them.
PRIVATE_CACHE = "private, max-age=600"


@functools.cache
def _default_s3() -> Any:
    """Made on first use: most invocations of the messaging API (a text sent, the inbox read) sign no URL and
    touch no picture, and a client is ~30 ms of a cold start. SigV4 explicitly: pre-signed URLs must carry the
    signature S3 checks in every region."""
    import boto3  # boto3's client, not botocore's: a video's renditions go up with its `upload_file`

    return boto3.client("s3", region_name=get_settings().region, config=Config(signature_version="s3v4"))


@dataclass(frozen=True)
class MessageUploadKey:
    conversation_id: str
    message_id: str
    media_id: str

    def __str__(self) -> str:
        return f"{UPLOADS_PREFIX}/{self.conversation_id}/{self.message_id}/{self.media_id}"

    @classmethod
    def parse(cls, key: str) -> "MessageUploadKey | None":
        """The message an upload key names, or None if it is no message upload's key."""
        parts = key.split("/")
        if len(parts) != 4 or parts[0] != UPLOADS_PREFIX or not all(parts[1:]):
            return None
        return cls(conversation_id=parts[1], message_id=parts[2], media_id=parts[3])


def rendition_key(conversation_id: str, message_id: str, name: str, extension: str) -> str:
    return f"{RENDITIONS_PREFIX}/{conversation_id}/{message_id}/{name}.{extension}"


def message_prefix(conversation_id: str, message_id: str) -> str:
    return f"{RENDITIONS_PREFIX}/{conversation_id}/{message_id}/"


def conversation_prefix(conversation_id: str) -> str:
    return f"{RENDITIONS_PREFIX}/{conversation_id}/"


class MessageMediaStorage:
    def __init__(self, client: Any = None) -> None:
        self._given_s3 = client

    @property
    def _s3(self) -> Any:
        return self._given_s3 or _default_s3()

    def signed_url(self, key: str) -> str:
        """A GET of one rendition, for SIGNED_URL_TTL_S (signed locally: no call to S3)."""
        return str(
            self._s3.generate_presigned_url(
                "get_object",
                Params={"Bucket": get_settings().message_media_bucket_name, "Key": key},
                ExpiresIn=SIGNED_URL_TTL_S,
            )
        )

    def read_original(self, bucket: str, key: str, version_id: str | None, limit: int) -> bytes:
        """The uploaded file, stopping one byte past `limit` (enough for the size check to refuse it)."""
        response = self._s3.get_object(Bucket=bucket, Key=key, **({"VersionId": version_id} if version_id else {}))
        with response["Body"] as body:
            return bytes(body.read(limit + 1))

    def write_rendition(self, key: str, data: bytes, content_type: str) -> None:
        self._s3.put_object(
            Bucket=get_settings().message_media_bucket_name,
            Key=key,
            Body=data,
            ContentType=content_type,
            CacheControl=PRIVATE_CACHE,
        )

    def write_rendition_file(self, key: str, path: str, content_type: str) -> None:
        """A rendition made on disk (a video's MP4), streamed to the bucket (in parts when it is large)."""
        self._s3.upload_file(
            path,
            get_settings().message_media_bucket_name,
            key,
            ExtraArgs={"ContentType": content_type, "CacheControl": PRIVATE_CACHE},
        )

    def delete_original(self, key: MessageUploadKey) -> None:
        """The uploaded file of a message that is gone (unsent, dropped): in the versioned uploads bucket this
        leaves a delete marker, and the bucket's lifecycle expires the file itself with other noncurrent versions."""
        self._s3.delete_object(Bucket=get_settings().uploads_bucket_name, Key=str(key))

    def delete_prefix(self, prefix: str) -> int:
        """Deletes every rendition under the prefix; how many there were."""
        return self._delete_under(get_settings().message_media_bucket_name, prefix)

    def delete_conversation_originals(self, conversation_id: str) -> int:
        """Deletes every uploaded file of the conversation's messages (its last member left); how many there were."""
        return self._delete_under(get_settings().uploads_bucket_name, f"{UPLOADS_PREFIX}/{conversation_id}/")

    def _delete_under(self, bucket: str, prefix: str) -> int:
        deleted = 0
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                self._s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
                deleted += len(keys)
        return deleted
