"""What processing an upload yields: encoded renditions and the facts the Media object reports (API.md "Media")."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rendition:
    """One encoded file, ready to be stored under the media CDN; `url` is added by whoever stores it."""

    data: bytes
    width: int
    height: int
    content_type: str


@dataclass(frozen=True, slots=True)
class ImageRenditions:
    """A processed picture: the size of the upright image, its blurhash and every rendition by name."""

    width: int
    height: int
    blurhash: str
    renditions: dict[str, Rendition]


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """A checked clip: display size (rotation applied), duration, codec and its poster renditions."""

    width: int
    height: int
    duration_s: float
    video_codec: str
    blurhash: str
    poster: dict[str, Rendition]


@dataclass(frozen=True, slots=True)
class ScreeningLabel:
    """What automatic screening (Rekognition DetectModerationLabels) saw in an image, and how sure it is (0-100)."""

    name: str
    parent: str
    confidence: float
