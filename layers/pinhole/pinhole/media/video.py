"""An uploaded clip → the checked facts the transcode plans from (container, real duration, displayed size, codecs,
colour, frame rate, keyframes, bitrate), or `MediaRejected`.

Uses the ffmpeg binary that imageio-ffmpeg ships (ffprobe is not part of it): one run reads the header's report, a
second lists every packet (`-c copy -f framecrc`: timestamps, sizes, key and corrupt flags, nothing decoded). The
packets, not the header, give the duration: a header may claim 10 s over 120 s of samples. Each run reads only the
local file (`file:` URL, the QuickTime/MP4 demuxer forced, external references off by ffmpeg's default) and never a
network resource.
"""

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from pinhole.media.ffmpeg import NO_DEADLINE, Deadline, ffmpeg_executable, output_lines, run
from pinhole.media.limits import (
    MAX_IMAGE_PIXELS,
    MAX_VIDEO_DURATION_S,
    VIDEO_DURATION_TOLERANCE_S,
    MediaRejected,
    RejectionCode,
    check_size,
    media_type_of,
    normalise_content_type,
)
from pinhole.media.models import VideoSource

PROBE_TIMEOUT_S = 20.0
SCAN_TIMEOUT_S = 60.0
# A 240 fps slow-motion clip of the longest length, and some: more packets than this is not a phone's video.
MAX_VIDEO_PACKETS = int((MAX_VIDEO_DURATION_S + VIDEO_DURATION_TOLERANCE_S) * 240) + 1000
CORRUPT_PACKET = 0x2  # AV_PKT_FLAG_CORRUPT
KEY_PACKET = 0x1

QUICKTIME_BRANDS = frozenset({b"qt  "})
MP4_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"dash", b"MSNV"}
)
BRANDS_OF_CONTENT_TYPE = {"video/mp4": MP4_BRANDS, "video/quicktime": QUICKTIME_BRANDS}
CONTAINER_NAMES = {"video/mp4": "MP4", "video/quicktime": "QuickTime (MOV)"}

DURATION = re.compile(r"^\s*Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)", re.MULTILINE)
# "Stream #0:0[0x1](und): Video: hevc (Main 10) (hvc1 / 0x31637668), yuv420p10le(tv, bt2020nc/bt2020/smpte2084,
#  progressive), 1920x1080 [SAR 1:1 DAR 16:9], ..." — the profile and the colour properties are optional.
VIDEO_STREAM = re.compile(
    r"^\s*Stream #0:\d+\S*: Video: (?P<codec>\w+)(?: \((?P<profile>[^()]*)\))?(?: \([^()]*\))*, "
    r"(?P<pixel_format>\w+)(?:\((?P<properties>[^()]*)\))?, (?P<width>\d{1,5})x(?P<height>\d{1,5})\b"
    r"(?: \[SAR (?P<sar_num>\d+):(?P<sar_den>\d+))?",
    re.MULTILINE,
)
AUDIO_STREAM = re.compile(
    r"^\s*Stream #0:\d+\S*: Audio: (?P<codec>\w+)(?: \((?P<profile>[^()]*)\))?(?: \([^()]*\))*, \d+ Hz, "
    r"(?P<layout>[^,]+),",
    re.MULTILINE,
)
ROTATION = re.compile(r"display ?matrix: rotation of (-?\d+(?:\.\d+)?) degrees", re.IGNORECASE)
NEXT_STREAM = re.compile(r"^\s*Stream #", re.MULTILINE)
CHANNELS_OF_LAYOUT = {"mono": 1, "stereo": 2}


@dataclass(frozen=True, slots=True)
class _Header:
    width: int
    height: int
    rotation: int
    sample_aspect: tuple[int, int]
    duration_s: float
    codec: str
    profile: str | None
    pixel_format: str
    color_transfer: str | None
    color_primaries: str | None
    audio_codec: str | None
    audio_profile: str | None
    audio_channels: int | None


@dataclass(slots=True)
class _StreamPackets:
    """What the packet list says of one stream: its extent, sizes, keyframes and frame timing."""

    time_base: float = 0.0
    first_pts: int | None = None
    end_pts: int = 0
    count: int = 0
    bytes: int = 0
    last_key_pts: int | None = None
    max_key_gap: int = 0
    durations: set[int] = field(default_factory=set)

    def add(self, pts: int, duration: int, size: int, flags: int) -> None:
        self.first_pts = pts if self.first_pts is None else min(self.first_pts, pts)
        self.end_pts = max(self.end_pts, pts + duration)
        self.count += 1
        self.bytes += size
        if len(self.durations) < 8:
            self.durations.add(duration)
        if flags & KEY_PACKET:
            if self.last_key_pts is not None:
                self.max_key_gap = max(self.max_key_gap, pts - self.last_key_pts)
            self.last_key_pts = pts if self.last_key_pts is None else max(self.last_key_pts, pts)

    @property
    def duration_s(self) -> float:
        return 0.0 if self.first_pts is None else (self.end_pts - self.first_pts) * self.time_base

    def close_keyframes(self) -> None:
        """The gap from the last keyframe to the end counts too: a segment cannot end before the next keyframe."""
        if self.last_key_pts is not None:
            self.max_key_gap = max(self.max_key_gap, self.end_pts - self.last_key_pts)


def probe_video(
    path: str | os.PathLike[str],
    declared_content_type: str,
    ffmpeg: str | None = None,
    deadline: Deadline = NO_DEADLINE,
) -> VideoSource:
    """The facts of the clip at `path`, or `MediaRejected`."""
    content_type = normalise_content_type(declared_content_type)
    if media_type_of(content_type) != "video":
        raise MediaRejected(RejectionCode.UNSUPPORTED_TYPE, f"This upload ({declared_content_type}) is not a video.")
    path = Path(path)
    check_size("video", path.stat().st_size)
    _check_container(path, content_type)
    executable = ffmpeg or ffmpeg_executable()
    header = _read_header(executable, path, deadline)
    video, audio = _scan_packets(executable, path, header.audio_codec is not None, deadline)
    duration_s = max(video.duration_s, audio.duration_s)
    if duration_s > MAX_VIDEO_DURATION_S + VIDEO_DURATION_TOLERANCE_S:
        raise too_long(duration_s)
    if not video.count or video.duration_s <= 0:
        raise corrupt()
    return VideoSource(
        width=header.width,
        height=header.height,
        coded_width=header.width if header.rotation % 180 == 0 else header.height,
        coded_height=header.height if header.rotation % 180 == 0 else header.width,
        rotation=header.rotation,
        sample_aspect=header.sample_aspect,
        duration_s=round(duration_s, 3),
        header_duration_s=header.duration_s,
        video_codec=header.codec,
        video_profile=header.profile,
        pixel_format=header.pixel_format,
        color_transfer=header.color_transfer,
        color_primaries=header.color_primaries,
        frame_rate=video.count / video.duration_s,
        constant_frame_rate=len(video.durations) == 1,
        max_keyframe_interval_s=video.max_key_gap * video.time_base,
        video_kbps=video.bytes * 8 / 1000 / video.duration_s,
        audio_codec=header.audio_codec if audio.count else None,
        audio_profile=header.audio_profile,
        audio_channels=header.audio_channels,
    )


def too_long(duration_s: float) -> MediaRejected:
    return MediaRejected(
        RejectionCode.TOO_LONG,
        f"The video is longer than {MAX_VIDEO_DURATION_S:.0f} seconds ({duration_s:.1f} s read so far); "
        f"at most {MAX_VIDEO_DURATION_S:.0f} seconds are accepted.",
    )


def corrupt() -> MediaRejected:
    return MediaRejected(RejectionCode.CORRUPT, "The video is damaged or incomplete and cannot be played.")


def container_brand(head: bytes) -> bytes | None:
    """The major brand of an ISO base media file (MP4, MOV, HEIC...), None if it does not start with `ftyp`."""
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    return head[8:12]


def _check_container(path: Path, content_type: str) -> None:
    with path.open("rb") as file:
        brand = container_brand(file.read(64))
    if brand in BRANDS_OF_CONTENT_TYPE[content_type]:
        return
    claimed = CONTAINER_NAMES[content_type]
    if brand is None:
        looks_like = "it is not an MP4 or MOV file"
    else:
        actual = next((name for kind, name in CONTAINER_NAMES.items() if brand in BRANDS_OF_CONTENT_TYPE[kind]), None)
        looks_like = f"its content is {actual}" if actual else "it is another kind of media file"
    raise MediaRejected(
        RejectionCode.TYPE_MISMATCH, f"The file is not the {claimed} video it claims to be: {looks_like}."
    )


def input_arguments(path: str | os.PathLike[str], seek_s: float | None = None) -> list[str]:
    """How every run opens an upload: the QuickTime/MP4 demuxer only, a local file only."""
    seek = ["-ss", f"{seek_s:.3f}"] if seek_s else []
    return [*seek, "-f", "mov", "-i", f"file:{path}"]


def _read_header(ffmpeg: str, path: Path, deadline: Deadline) -> _Header:
    # Without an output ffmpeg prints the input's description and exits 1; that description is what we read.
    result = run([ffmpeg, "-hide_banner", "-nostdin", *input_arguments(path)], PROBE_TIMEOUT_S, deadline)
    return parse_header(result.stderr.decode("utf-8", "replace"))


def parse_header(report: str) -> _Header:
    """The first video stream (and first audio stream) of ffmpeg's description of an input."""
    duration = DURATION.search(report)
    if not duration:
        raise corrupt()
    stream = VIDEO_STREAM.search(report)
    # A song's cover art is a one-frame "video" stream flagged as an attached picture: that is no video.
    if not stream or report[stream.start() : report.find("\n", stream.start())].endswith("(attached pic)"):
        raise MediaRejected(RejectionCode.NO_VIDEO_STREAM, "The file has no video in it.")
    hours, minutes, seconds = duration.groups()
    width, height = int(stream["width"]), int(stream["height"])
    if not width or not height:
        raise corrupt()
    if width * height > MAX_IMAGE_PIXELS:
        raise MediaRejected(RejectionCode.TOO_MANY_PIXELS, "The video's picture is larger than Pinhole accepts.")
    sample_aspect = (int(stream["sar_num"] or 1), int(stream["sar_den"] or 1))
    if not all(sample_aspect):  # "SAR 0:1" is ffmpeg's "unknown"
        sample_aspect = (1, 1)
    if sample_aspect != (1, 1):
        width = round(width * sample_aspect[0] / sample_aspect[1])
    following = NEXT_STREAM.search(report, stream.end())
    side_data = report[stream.end() : following.start() if following else len(report)]
    rotation = ROTATION.search(side_data)
    degrees = round(float(rotation.group(1))) % 360 if rotation else 0
    if degrees % 180:
        width, height = height, width
    transfer, primaries = _colour(stream["properties"] or "")
    audio = AUDIO_STREAM.search(report)
    layout = audio["layout"].strip() if audio else None
    return _Header(
        width=width,
        height=height,
        rotation=degrees,
        sample_aspect=sample_aspect,
        duration_s=int(hours) * 3600 + int(minutes) * 60 + float(seconds),
        codec=stream["codec"],
        profile=stream["profile"],
        pixel_format=stream["pixel_format"],
        color_transfer=transfer,
        color_primaries=primaries,
        audio_codec=audio["codec"] if audio else None,
        audio_profile=audio["profile"] if audio else None,
        audio_channels=CHANNELS_OF_LAYOUT.get(layout, 6) if layout else None,
    )


def _colour(properties: str) -> tuple[str | None, str | None]:
    """(transfer, primaries) from "tv, bt2020nc/bt2020/smpte2084, progressive" (matrix/primaries/transfer) or
    "tv, bt709, progressive" (all three the same)."""
    for item in (part.strip() for part in properties.split(",")):
        if "/" in item:
            _, primaries, transfer = [*item.split("/"), "", ""][:3]
            return transfer or None, primaries or None
        if item.startswith(("bt", "smpte", "arib")):
            return item, item
    return None, None


def _scan_packets(
    ffmpeg: str, path: Path, with_audio: bool, deadline: Deadline
) -> tuple[_StreamPackets, _StreamPackets]:
    """Every packet of the first video (and audio) stream: `#tb` lines give time bases, then one line a packet:
    "stream, dts, pts, duration, size, checksum[, F=0xflags]" (flags written only when they are not just "key")."""
    maps = ["-map", "0:v:0", *(["-map", "0:a:0"] if with_audio else [])]
    command = [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", *input_arguments(path), *maps]
    command += ["-c", "copy", "-f", "framecrc", "pipe:1"]
    streams = (_StreamPackets(), _StreamPackets())
    with output_lines(command, SCAN_TIMEOUT_S, deadline) as lines:
        for line in lines:
            if line.startswith("#tb "):
                index, _, base = line[4:].partition(":")
                numerator, _, denominator = base.strip().partition("/")
                streams[int(index)].time_base = int(numerator) / int(denominator)
                continue
            if line.startswith("#") or not line.strip():
                continue
            fields = [part.strip() for part in line.split(",")]
            flags = next((int(part[2:], 16) for part in fields[6:] if part.startswith("F=")), KEY_PACKET)
            if flags & CORRUPT_PACKET:
                raise corrupt()
            stream = streams[int(fields[0])]
            stream.add(pts=int(fields[2]), duration=int(fields[3]), size=int(fields[4]), flags=flags)
            if stream.duration_s > MAX_VIDEO_DURATION_S + VIDEO_DURATION_TOLERANCE_S:
                raise too_long(stream.duration_s)
            if streams[0].count > MAX_VIDEO_PACKETS:
                raise MediaRejected(RejectionCode.UNPROCESSABLE, "The video has more frames than Pinhole can process.")
    streams[0].close_keyframes()
    return streams
