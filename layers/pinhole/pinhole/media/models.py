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


HDR_TRANSFERS = frozenset({"smpte2084", "arib-std-b67"})  # PQ, HLG


@dataclass(frozen=True, slots=True)
class VideoSource:
    """A checked clip, as ffmpeg reads it: the header's report and a scan of every packet (no decoding).

    `width` × `height` is the picture as shown (rotation and pixel aspect ratio applied); `duration_s` is measured
    from the packets, whatever the header says."""

    width: int
    height: int
    coded_width: int
    coded_height: int
    rotation: int  # degrees anticlockwise, 0/90/180/270, as the display matrix says
    sample_aspect: tuple[int, int]
    duration_s: float
    header_duration_s: float
    video_codec: str
    video_profile: str | None
    pixel_format: str
    color_transfer: str | None
    color_primaries: str | None
    frame_rate: float  # frames per second of video, averaged over the clip
    constant_frame_rate: bool
    max_keyframe_interval_s: float
    video_kbps: float
    audio_codec: str | None
    audio_profile: str | None
    audio_channels: int | None

    @property
    def is_hdr(self) -> bool:
        return self.color_transfer in HDR_TRANSFERS or self.color_primaries == "bt2020"

    @property
    def short_side(self) -> int:
        return min(self.width, self.height)

    @property
    def long_side(self) -> int:
        return max(self.width, self.height)


@dataclass(frozen=True, slots=True)
class VideoFile:
    """One encoded file on local disk (an MP4 rung, an HLS playlist or segment), to be stored under `name`."""

    name: str  # the rendition name, or the path under hls/ for HLS files
    path: str
    width: int
    height: int
    content_type: str


@dataclass(frozen=True, slots=True)
class TranscodedVideo:
    """Everything made of a clip: the MP4 rungs (best first), the HLS files (master playlist first), the poster
    and thumb pictures, and the facts of the result (its real duration, its displayed size)."""

    width: int
    height: int
    duration_s: float
    blurhash: str
    mp4: tuple[VideoFile, ...]
    hls: tuple[VideoFile, ...]
    pictures: dict[str, Rendition]
    copied: bool  # the best rung is the upload remuxed, not re-encoded


@dataclass(frozen=True, slots=True)
class ScreeningLabel:
    """What automatic screening (Rekognition DetectModerationLabels) saw in an image, and how sure it is (0-100)."""

    name: str
    parent: str
    confidence: float
