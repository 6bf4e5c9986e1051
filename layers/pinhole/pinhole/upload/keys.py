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
