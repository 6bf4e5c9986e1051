"""Where objects live. Upload keys are chosen by the server and name what they belong to, so the
resize function knows from an S3 event alone which post and media item an object is; rendition keys
are unique per media item and never rewritten, so the CDN may cache them forever."""

from dataclasses import dataclass

from pinhole.shared.errors import NotFound

_POSTS = "posts"


@dataclass(frozen=True)
class UploadKey:
    post_id: str
    media_id: str

    def __str__(self) -> str:
        return f"{_POSTS}/{self.post_id}/{self.media_id}"

    @classmethod
    def parse(cls, key: str) -> "UploadKey":
        parts = key.split("/")
        if len(parts) != 3 or parts[0] != _POSTS or not all(parts[1:]):
            raise NotFound(f"{key!r} is not an upload key.")
        return cls(post_id=parts[1], media_id=parts[2])


def rendition_key(post_id: str, media_id: str, name: str, extension: str) -> str:
    return f"{_POSTS}/{post_id}/{media_id}/{name}.{extension}"


def rendition_prefix(post_id: str) -> str:
    return f"{_POSTS}/{post_id}/"


_AVATARS = "avatars"
AVATAR_KEY_PREFIX = f"{_AVATARS}/"


@dataclass(frozen=True)
class AvatarKey:
    """`avatars/<user_id>/<avatar_id>`: an avatar original in the uploads bucket, its renditions under the
    same path (plus `/<name>.<ext>`) in the media bucket. Every object names its user (purge finds it)."""

    user_id: str
    avatar_id: str

    def __str__(self) -> str:
        return f"{_AVATARS}/{self.user_id}/{self.avatar_id}"

    @classmethod
    def parse(cls, key: str) -> "AvatarKey":
        parts = key.split("/")
        if len(parts) != 3 or parts[0] != _AVATARS or not all(parts[1:]):
            raise NotFound(f"{key!r} is not an avatar upload key.")
        return cls(user_id=parts[1], avatar_id=parts[2])

    def rendition_key(self, name: str, extension: str) -> str:
        return f"{self}/{name}.{extension}"

    @property
    def rendition_prefix(self) -> str:
        return f"{self}/"


def is_avatar_key(key: str) -> bool:
    return key.startswith(AVATAR_KEY_PREFIX)
