"""The contracts of the posts context: API.md's Post, Media and Rendition, and the create request."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from pinhole.media.limits import (
    CONTENT_TYPE_MAX,
    IMAGE_CONTENT_TYPES,
    MAX_IMAGE_BYTES,
    MAX_VIDEO_BYTES,
    VIDEO_CONTENT_TYPES,
    declaration_schema,
)
from pinhole.shared.json_numbers import INTEGRAL
from pinhole.shared.text import MULTI_LINE
from pinhole.upload.models import Upload as Upload  # re-exported: posts and stories sign uploads
from pinhole.users.models import UserSummary

CAPTION_MAX = 2200
MEDIA_PER_POST_MAX = 10


class PostKind(StrEnum):
    """What a record of the posts table is: a post, or a story (24 hours, then gone). Absent means post."""

    POST = "post"
    STORY = "story"


class PostStatus(StrEnum):
    """pending → published | failed | in_review (held by automatic screening); a moderator moves published or
    in_review → removed, and removed or in_review → published. in_review and removed are seen by the author only."""

    PENDING = "pending"
    PUBLISHED = "published"
    FAILED = "failed"
    IN_REVIEW = "in_review"
    REMOVED = "removed"


class MediaStatus(StrEnum):
    PENDING = "pending"
    READY = "ready"
    REJECTED = "rejected"


class Rendition(BaseModel):
    url: str
    width: int
    height: int
    content_type: str


class Processing(BaseModel):
    """How far a pending video has come: `done` of `total` steps (received and checked, encoded, packaged into HLS
    with its poster, stored); the video becomes ready after the last."""

    done: int
    total: int


class ProcessingClaim(BaseModel):
    """Which attempt is transcoding a video (an SQS message id) and until when the claim holds: a duplicate event
    arriving meanwhile is dropped instead of transcoding the same upload twice."""

    by: str
    until: str


class Media(BaseModel):
    media_id: str
    type: Literal["image", "video"]
    status: MediaStatus
    reason: str | None = Field(default=None, description="Why the item was rejected, in words for the uploader")
    reason_code: str | None = Field(
        default=None,
        description="The same, for machines: type_mismatch, "
        "too_many_pixels, too_large, too_long, corrupt, upload_missing, ...",
    )
    width: int | None = None
    height: int | None = None
    blurhash: str | None = None
    duration_s: float | None = None
    processing: Processing | None = Field(
        default=None, description="A pending video's progress, in steps; absent once it is ready or rejected"
    )
    renditions: dict[str, Rendition] = Field(default_factory=dict)


class Post(BaseModel):
    post_id: str
    author: UserSummary
    caption: str
    tags: list[str]
    mentions: list[str]
    created_at: str
    status: PostStatus
    media: list[Media]
    like_count: int
    comment_count: int
    liked_by_me: bool
    saved_by_me: bool
    edited_at: str | None = Field(description="When the author last changed the caption; null if never")


class EditPostRequest(BaseModel):
    """PATCH /posts/{post_id}: the caption is the only thing that changes after posting."""

    model_config = ConfigDict(extra="forbid")

    caption: Annotated[str, Field(max_length=CAPTION_MAX, pattern=MULTI_LINE)]


class MediaDeclaration(BaseModel):
    """A file about to be uploaded. The document states which types are taken and the largest size of each
    (`declaration_schema`); the server checks both itself (a sentence, and 413 for a file too large)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=declaration_schema(
            [(IMAGE_CONTENT_TYPES, MAX_IMAGE_BYTES), (VIDEO_CONTENT_TYPES, MAX_VIDEO_BYTES)]
        ),
    )

    content_type: str = Field(
        max_length=CONTENT_TYPE_MAX,
        description="image/jpeg, image/png, image/webp, image/heic, image/avif (at most 30 MB); video/mp4, "
        "video/quicktime (at most 200 MB). Any case; parameters after `;` are ignored.",
    )
    # strict, and INTEGRAL: 100 and 100.0 are 100 (JSON Schema's integer); "100", 100.5 and true are refused
    size_bytes: Annotated[int, Field(gt=0, strict=True, description="The exact size of the file to upload"), INTEGRAL]


class CreatePostRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    caption: Annotated[str, Field(max_length=CAPTION_MAX, pattern=MULTI_LINE)] = ""
    media: Annotated[list[MediaDeclaration], Field(min_length=1, max_length=MEDIA_PER_POST_MAX)]


class CreatePostResponse(BaseModel):
    post: Post
    uploads: list[Upload]


class StoredMedia(BaseModel):
    """A media item as the posts table keeps it (rendition keys, not URLs: the CDN base can change)."""

    media_id: str
    type: Literal["image", "video"]
    content_type: str
    size_bytes: int
    status: MediaStatus = MediaStatus.PENDING
    reason: str | None = None
    reason_code: str | None = None
    width: int | None = None
    height: int | None = None
    blurhash: str | None = None
    duration_s: float | None = None
    processing: Processing | None = None
    claim: ProcessingClaim | None = None
    rendition_keys: dict[str, "StoredRendition"] = Field(default_factory=dict)
    flagged: list["StoredLabel"] = Field(
        default_factory=list, description="Labels automatic screening found above the threshold: the post is held"
    )

    def rejected(self, code: str, reason: str) -> "StoredMedia":
        """This item refused: `code` for machines (a RejectionCode, or upload_missing), `reason` for its uploader."""
        return self.model_copy(update={"status": MediaStatus.REJECTED, "reason": reason, "reason_code": str(code)})


class StoredLabel(BaseModel):
    """A label automatic screening found in a media item (pinhole.media.models.ScreeningLabel, as stored)."""

    name: str
    parent: str = ""
    confidence: float


class StoredRendition(BaseModel):
    key: str
    width: int
    height: int
    content_type: str


class PostRecord(BaseModel):
    post_id: str
    author_id: str
    caption: str
    tags: list[str]
    mentions: list[str]
    created_at: datetime
    status: PostStatus
    media: dict[str, StoredMedia]
    media_order: list[str]
    like_count: int = 0
    comment_count: int = 0
    reason: str | None = None
    upload_expires_at: datetime
    kind: PostKind = PostKind.POST
    expires_at: datetime | None = Field(default=None, description="Stories only: when it disappears (TTL)")
    edited_at: datetime | None = None
