"""What Pinhole accepts as media and which renditions it makes of it (API.md "Upload" and "Media").

Pure data and checks, no imaging imports: API functions use it to sign upload policies and must stay light.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

MediaType = Literal["image", "video"]
MediaKind = Literal["post", "story", "avatar"]

MB = 1024 * 1024

IMAGE_CONTENT_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic", "image/avif"})
VIDEO_CONTENT_TYPES = frozenset({"video/mp4", "video/quicktime"})
ACCEPTED_CONTENT_TYPES = IMAGE_CONTENT_TYPES | VIDEO_CONTENT_TYPES
CONTENT_TYPE_MAX = 100  # characters of a declared type, its parameters included

MAX_IMAGE_BYTES = 30 * MB
MAX_AVATAR_BYTES = 10 * MB
AVATAR_CONTENT_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic"})
MAX_IMAGE_PIXELS = 50_000_000
MAX_VIDEO_BYTES = 200 * MB
MAX_VIDEO_DURATION_S = 90.0
# Containers round durations to their timescale, and phones trim "90 s" clips a frame or two long.
VIDEO_DURATION_TOLERANCE_S = 0.1

JPEG = "image/jpeg"
WEBP = "image/webp"
# The longest side each output format can store: libjpeg's JPEG_MAX_DIMENSION (65500, not the 65535 of the
# header's 16 bits) and the WebP bitstream's 14 bits. A tall screenshot (1080×17000) is a valid upload whose
# kept-size renditions would be past WebP's: each rendition is scaled down into its format's limit instead.
MAX_SIDE_OF_FORMAT = {JPEG: 65_500, WEBP: 16_383}


class RejectionCode(StrEnum):
    """Machine codes of a rejection; a Media item's `reason` carries one of these."""

    UNSUPPORTED_TYPE = "unsupported_type"
    TYPE_MISMATCH = "type_mismatch"
    EMPTY = "empty_file"
    TOO_LARGE = "too_large"
    TOO_MANY_PIXELS = "too_many_pixels"
    TOO_LONG = "too_long"
    CORRUPT = "corrupt"
    NO_VIDEO_STREAM = "no_video_stream"
    UNPROCESSABLE = "unprocessable"


class MediaRejected(Exception):
    """An upload Pinhole refuses: `code` for machines, `reason` a sentence the uploader understands."""

    def __init__(self, code: RejectionCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason

    def __repr__(self) -> str:
        return f"MediaRejected({self.code.value!r}, {self.reason!r})"


@dataclass(frozen=True, slots=True)
class RenditionSpec:
    """One rendition: `width` wide keeping the aspect ratio, or, with `height`, a centred cover crop of exactly
    width × height. Aspect-keeping renditions are never upscaled; cover crops always come out at their exact size."""

    name: str
    content_type: str
    width: int
    height: int | None = None

    def __post_init__(self) -> None:
        if max(self.width, self.height or 0) > MAX_SIDE_OF_FORMAT[self.content_type]:
            raise ValueError(f"{self.name} is larger than {self.content_type} can store")

    @property
    def is_crop(self) -> bool:
        return self.height is not None


def _jpeg_and_webp(name: str, width: int, height: int | None = None) -> tuple[RenditionSpec, RenditionSpec]:
    return RenditionSpec(name, JPEG, width, height), RenditionSpec(f"{name}_webp", WEBP, width, height)


# Ordered largest first: each rendition is resized from the one before it when that is sharp enough.
POST_RENDITIONS: tuple[RenditionSpec, ...] = (
    *_jpeg_and_webp("large", 1080),
    *_jpeg_and_webp("medium", 640),
    *_jpeg_and_webp("thumb", 150, 150),
)
# A story's Media is API.md's Media: a client reads `large`, `medium` and `thumb` of it as of a post's picture; the
# full-screen `story` crop is added, first (the largest), so the post renditions are cut from the base after it.
STORY_RENDITIONS: tuple[RenditionSpec, ...] = (*_jpeg_and_webp("story", 1080, 1920), *POST_RENDITIONS)
POSTER_RENDITIONS: tuple[RenditionSpec, ...] = _jpeg_and_webp("poster", 1080)
AVATAR_RENDITIONS: tuple[RenditionSpec, ...] = (
    *_jpeg_and_webp("large", 320, 320),
    *_jpeg_and_webp("medium", 150, 150),
    *_jpeg_and_webp("small", 48, 48),
)
AVATAR_URL_RENDITION = "medium"  # API.md: avatar_url is the 150 px one
VIDEO_PICTURE_RENDITIONS: tuple[RenditionSpec, ...] = (*POSTER_RENDITIONS, *_jpeg_and_webp("thumb", 150, 150))

RENDITIONS: dict[MediaKind, tuple[RenditionSpec, ...]] = {
    "post": POST_RENDITIONS,
    "story": STORY_RENDITIONS,
    "avatar": AVATAR_RENDITIONS,
}
# The blurhash a client paints before a picture loads: of the whole upload for a post or story (its Media's width
# and height are the upload's), of the square crop at `avatar.url` for an avatar (its width and height are the crop's).
BLURHASH_RENDITION: dict[MediaKind, str | None] = {"post": None, "story": None, "avatar": AVATAR_URL_RENDITION}


def normalise_content_type(content_type: str) -> str:
    """`Image/JPEG; charset=binary` → `image/jpeg`: HTTP's blanks (space, tab) around the type, its parameters and
    the case of its ASCII letters do not matter (a type with any other character is left as it is: none is
    accepted, and `str.lower` would make the Kelvin sign a `k`)."""
    media_type = content_type.split(";", 1)[0].strip(" \t")
    return media_type.lower() if media_type.isascii() else media_type


def content_type_pattern(content_types: Iterable[str]) -> str:
    """The strings `normalise_content_type` makes one of `content_types`, as a pattern for the API document: a JSON
    Schema pattern has no case-insensitive flag, so each letter is a class of its two cases."""

    def any_case(content_type: str) -> str:
        return "".join(f"[{char}{char.upper()}]" if char.isalpha() else char for char in content_type)

    alternatives = "|".join(any_case(content_type) for content_type in sorted(content_types))
    return f"^[ \\t]*(?:{alternatives})[ \\t]*(?:;[\\s\\S]*)?$"


def declaration_schema(limits: Iterable[tuple[Iterable[str], int]]) -> dict[str, Any]:
    """What the API document adds to a declared upload (`content_type`, `size_bytes`): one of the accepted types,
    of at most the size accepted for it, as `anyOf` one branch per (types, maximum size)."""
    return {
        "anyOf": [
            {
                "properties": {
                    "content_type": {"pattern": content_type_pattern(content_types)},
                    "size_bytes": {"maximum": max_bytes},
                }
            }
            for content_types, max_bytes in limits
        ]
    }


def media_type_of(content_type: str) -> MediaType:
    """`image` or `video` for an accepted content type; anything else is rejected."""
    normalised = normalise_content_type(content_type)
    if normalised in IMAGE_CONTENT_TYPES:
        return "image"
    if normalised in VIDEO_CONTENT_TYPES:
        return "video"
    raise MediaRejected(
        RejectionCode.UNSUPPORTED_TYPE,
        f"This file type ({content_type or 'none given'}) is not supported. Upload a JPEG, PNG, WebP, HEIC or "
        "AVIF photo, or an MP4 or MOV video.",
    )


def max_upload_bytes(content_type: str) -> int:
    """The largest upload the signed policy admits for this content type."""
    return MAX_IMAGE_BYTES if media_type_of(content_type) == "image" else MAX_VIDEO_BYTES


def check_upload(content_type: str, size_bytes: int) -> MediaType:
    """What `POST /posts` and `POST /stories` check before signing an upload: the type and the declared size."""
    media_type = media_type_of(content_type)
    check_size(media_type, size_bytes)
    return media_type


def check_size(media_type: MediaType, size_bytes: int) -> None:
    limit = MAX_IMAGE_BYTES if media_type == "image" else MAX_VIDEO_BYTES
    if size_bytes <= 0:
        raise MediaRejected(RejectionCode.EMPTY, "The file is empty.")
    if size_bytes > limit:
        raise MediaRejected(RejectionCode.TOO_LARGE, f"{media_type.capitalize()}s can be at most {limit // MB} MB.")


def check_avatar_upload(content_type: str, size_bytes: int) -> None:
    """What `POST /me/avatar` checks before signing: a photo type (no AVIF, no video) of at most 10 MB."""
    if normalise_content_type(content_type) not in AVATAR_CONTENT_TYPES:
        raise MediaRejected(
            RejectionCode.UNSUPPORTED_TYPE,
            f"This file type ({content_type or 'none given'}) cannot be an avatar. "
            "Upload a JPEG, PNG, WebP or HEIC photo.",
        )
    if size_bytes <= 0:
        raise MediaRejected(RejectionCode.EMPTY, "The file is empty.")
    if size_bytes > MAX_AVATAR_BYTES:
        raise MediaRejected(RejectionCode.TOO_LARGE, f"Avatars can be at most {MAX_AVATAR_BYTES // MB} MB.")


# -- the video ladder (docs/MEDIA.md "Video ladder": why each setting) --


@dataclass(frozen=True, slots=True)
class VideoRung:
    """One rendition of the ladder: an H.264/AAC MP4 (`mp4_<label>`) and the HLS variant of the same encode.

    `short_side` is the height of a landscape picture (the width of a portrait one); `max_kbps` caps the video
    bitrate (VBV maxrate, with a buffer of VIDEO_BUFFER_S seconds of it)."""

    label: str
    short_side: int
    max_kbps: int

    @property
    def name(self) -> str:
        return f"mp4_{self.label}"


# Largest first. A rung is made of a source at least as large (never upscaled); the smallest is always made, at the
# source's own size when that is smaller.
VIDEO_LADDER: tuple[VideoRung, ...] = (
    VideoRung("1080p", 1080, 5000),
    VideoRung("720p", 720, 2500),
    VideoRung("480p", 480, 1000),
)
VIDEO_BUFFER_S = 2  # VBV buffer: the bitrate may exceed max_kbps over shorter stretches, never over two seconds
VIDEO_CRF = 23  # x264's default quality; the cap binds on hard content only
VIDEO_PRESET = "veryfast"  # docs/MEDIA.md: 1.4× less CPU than `faster` for the same capped sizes
VIDEO_FPS_CAP = 30.0
VIDEO_HIGH_FPS_CAP = 60.0
VIDEO_HIGH_FPS_FROM = 50.0  # a 50/59.94/60 fps source keeps its rate (up to 60); anything else is capped at 30
KEYFRAME_INTERVAL_S = 2.0
HLS_SEGMENT_S = 4  # with a keyframe every 2 s: segments of exactly 4 s (the last may be shorter)
AUDIO_CODEC = "aac"
AUDIO_KBPS = 128
AUDIO_CHANNELS = 2
AUDIO_SAMPLE_RATE = 48_000
HLS_MASTER = "master.m3u8"
HLS_CONTENT_TYPE = "application/vnd.apple.mpegurl"
MP4 = "video/mp4"


def video_rungs(short_side: int) -> tuple[tuple[VideoRung, int], ...]:
    """The rungs made of a source whose displayed short side is `short_side`, each with the short side it is made
    at, largest first."""
    made = [(rung, rung.short_side) for rung in VIDEO_LADDER if short_side >= rung.short_side]
    if not made:
        made.append((VIDEO_LADDER[-1], short_side))
    return tuple(made)
