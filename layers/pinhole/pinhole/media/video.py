"""An uploaded clip → checked facts (container, duration, display size, codec) and a poster picture.

Uses the ffmpeg binary that imageio-ffmpeg ships (ffprobe is not part of it): one run reads the header, a second
decodes the poster frame. Each run is a subprocess with a timeout, reads only the local file (`file:` URL, the
QuickTime/MP4 demuxer forced, external references off by ffmpeg's default) and never a network resource.
"""

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from pinhole.media.imaging import render_frame
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
from pinhole.media.models import VideoInfo

POSTER_WIDTH = 1080
POSTER_AT_S = 1.0
PROBE_TIMEOUT_S = 20.0
FRAME_TIMEOUT_S = 40.0

QUICKTIME_BRANDS = frozenset({b"qt  "})
MP4_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"dash", b"MSNV"}
)
BRANDS_OF_CONTENT_TYPE = {"video/mp4": MP4_BRANDS, "video/quicktime": QUICKTIME_BRANDS}
CONTAINER_NAMES = {"video/mp4": "MP4", "video/quicktime": "QuickTime (MOV)"}

DURATION = re.compile(r"^\s*Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)", re.MULTILINE)
VIDEO_STREAM = re.compile(r"^\s*Stream #0:\d+\S*: Video: (\w+).*?, (\d{1,5})x(\d{1,5})\b", re.MULTILINE)
ROTATION = re.compile(r"display ?matrix: rotation of (-?\d+(?:\.\d+)?) degrees", re.IGNORECASE)


def ffmpeg_executable() -> str:
    """The ffmpeg binary bundled with imageio-ffmpeg (imported here, so only video work pays for it)."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass(frozen=True, slots=True)
class _Probe:
    width: int
    height: int
    duration_s: float
    codec: str


def inspect_video(path: str | os.PathLike[str], declared_content_type: str, ffmpeg: str | None = None) -> VideoInfo:
    """The facts and poster renditions of the clip at `path`, or `MediaRejected`."""
    content_type = normalise_content_type(declared_content_type)
    if media_type_of(content_type) != "video":
        raise MediaRejected(RejectionCode.UNSUPPORTED_TYPE, f"This upload ({declared_content_type}) is not a video.")
    path = Path(path)
    check_size("video", path.stat().st_size)
    _check_container(path, content_type)
    executable = ffmpeg or ffmpeg_executable()
    probe = _probe(executable, path)
    if probe.duration_s > MAX_VIDEO_DURATION_S + VIDEO_DURATION_TOLERANCE_S:
        raise MediaRejected(
            RejectionCode.TOO_LONG,
            f"The video is {probe.duration_s:.0f} seconds long; "
            f"at most {MAX_VIDEO_DURATION_S:.0f} seconds are accepted.",
        )
    poster = render_frame(_poster_frame(executable, path, probe))
    return VideoInfo(probe.width, probe.height, probe.duration_s, probe.codec, poster.blurhash, poster.renditions)


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
        looks_like = f"it is a {actual} file" if actual else "it is another kind of media file"
    raise MediaRejected(
        RejectionCode.TYPE_MISMATCH, f"The file is not the {claimed} video it claims to be: {looks_like}."
    )


def _run(command: list[str], timeout_s: float) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(command, capture_output=True, timeout=timeout_s, check=False, stdin=subprocess.DEVNULL)  # noqa: S603 - fixed argv, no shell
    except subprocess.TimeoutExpired as error:
        raise MediaRejected(RejectionCode.UNPROCESSABLE, "The video could not be processed in time.") from error


def _input_arguments(path: Path, seek_s: float | None = None) -> list[str]:
    seek = ["-ss", f"{seek_s:.3f}"] if seek_s else []
    return [*seek, "-f", "mov", "-i", f"file:{path}"]


def _probe(ffmpeg: str, path: Path) -> _Probe:
    # Without an output ffmpeg prints the input's description and exits 1; that description is what we read.
    result = _run([ffmpeg, "-hide_banner", "-nostdin", *_input_arguments(path)], PROBE_TIMEOUT_S)
    report = result.stderr.decode("utf-8", "replace")
    duration = DURATION.search(report)
    if not duration:
        raise MediaRejected(RejectionCode.CORRUPT, "The video is damaged or incomplete and cannot be played.")
    stream = VIDEO_STREAM.search(report)
    if not stream:
        raise MediaRejected(RejectionCode.NO_VIDEO_STREAM, "The file has no video in it.")
    hours, minutes, seconds = duration.groups()
    codec, width, height = stream.group(1), int(stream.group(2)), int(stream.group(3))
    rotation = ROTATION.search(report[stream.end() :])
    if rotation and round(float(rotation.group(1))) % 180:
        width, height = height, width
    if not width or not height:
        raise MediaRejected(RejectionCode.CORRUPT, "The video is damaged or incomplete and cannot be played.")
    if width * height > MAX_IMAGE_PIXELS:
        raise MediaRejected(RejectionCode.TOO_MANY_PIXELS, "The video's picture is larger than Pinhole accepts.")
    return _Probe(width, height, int(hours) * 3600 + int(minutes) * 60 + float(seconds), codec)


def _poster_frame(ffmpeg: str, path: Path, probe: _Probe) -> Image.Image:
    """One upright RGB frame about a second in (mid-clip for shorter clips), at most POSTER_WIDTH wide."""
    width = min(POSTER_WIDTH, probe.width)
    height = max(1, round(probe.height * width / probe.width))
    seek_s = min(POSTER_AT_S, probe.duration_s / 2)
    command = [
        ffmpeg, "-hide_banner", "-nostdin", "-v", "error", *_input_arguments(path, seek_s),
        "-map", "0:v:0", "-frames:v", "1", "-vf", f"scale={width}:{height}:flags=lanczos",
        "-pix_fmt", "rgb24", "-f", "rawvideo", "pipe:1",
    ]  # fmt: skip
    result = _run(command, FRAME_TIMEOUT_S)
    expected = width * height * 3
    if len(result.stdout) < expected:
        raise MediaRejected(RejectionCode.CORRUPT, "The video is damaged or incomplete and cannot be played.")
    return Image.frombytes("RGB", (width, height), result.stdout[:expected])
