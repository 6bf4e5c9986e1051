"""Phone clips and broken videos, built from code with the bundled ffmpeg (no binaries are committed).

Each `PhoneClip` says how it is made, what a phone does that it imitates, and what transcode must make of it: the
upright displayed size (`shown`), the duration, the frame rate the ladder must have, whether the upload is copied
into the top rung, or the rejection code. Sizes and lengths are tiny so that `make test` stays cheap; the full-size
cases (a 90 s 1080p HEVC clip, 4K) are in `benchmarks/transcode.py`.

Pictures carry a marker where orientation shows: the top-left quarter of the upright picture is red on blue, so
the top-left pixel of a correctly turned rendition is red and its bottom-right is blue.
"""

from __future__ import annotations

import struct
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pinhole.media.ffmpeg import ffmpeg_executable
from pinhole.media.limits import RejectionCode

MP4, MOV = "video/mp4", "video/quicktime"
READY = "ready"
H264 = ("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
AAC = ("-c:a", "aac", "-b:a", "96k")
# Stored pixels for each display rotation (ffmpeg's -display_rotation turns anticlockwise for display): the upright
# picture turned clockwise by the rotation, as a phone's sensor records it.
STORED_FOR_ROTATION = {90: "transpose=clock", 180: "hflip,vflip", 270: "transpose=cclock"}
GREY_SDR = 180  # the grey level of the HDR clips' picture in SDR terms: tone-mapped back, it must stay about that


@dataclass(frozen=True, slots=True)
class PhoneClip:
    name: str
    content_type: str
    why: str
    build: Callable[[], bytes]
    expected: str = READY  # or a RejectionCode value
    shown: tuple[int, int] | None = None  # upright displayed size (width, height)
    duration_s: float | None = None
    frame_rate: float | None = None  # of every rendition
    copied: bool = False  # the top rung is the upload remuxed
    audio: bool = True
    marked: bool = False  # carries the red top-left marker
    hdr: bool = False


def ffmpeg(*arguments: str, suffix: str = ".mp4") -> bytes:
    """What the bundled ffmpeg writes with `arguments` (inputs, filters, codecs) into a file of this suffix."""
    with tempfile.TemporaryDirectory() as workdir:
        path = Path(workdir) / f"clip{suffix}"
        command = [ffmpeg_executable(), "-hide_banner", "-nostdin", "-v", "error", "-y", *arguments, str(path)]
        subprocess.run(command, check=True, timeout=120, stdin=subprocess.DEVNULL)
        return path.read_bytes()


def remuxed(data: bytes, *arguments: str, suffix: str = ".mp4", input_options: tuple[str, ...] = ()) -> bytes:
    """`data` remuxed (or filtered) by ffmpeg: input options apply to it (e.g. -display_rotation)."""
    with tempfile.TemporaryDirectory() as workdir:
        source = Path(workdir) / f"source{suffix}"
        source.write_bytes(data)
        return ffmpeg(*input_options, "-i", str(source), *arguments, suffix=suffix)


def marked_picture(size: tuple[int, int], rate: float, seconds: float) -> str:
    """A lavfi graph: blue with a red top-left quarter (the upright picture)."""
    width, height = size
    return (
        f"color=c=blue:s={width}x{height}:r={rate}:d={seconds}[b];"
        f"color=c=red:s={width // 2}x{height // 2}:r={rate}:d={seconds}[r];[b][r]overlay=0:0:shortest=1"
    )


def tone(seconds: float) -> tuple[str, ...]:
    return ("-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}")


def pattern(size: str, rate: float, seconds: float) -> tuple[str, ...]:
    return ("-f", "lavfi", "-i", f"testsrc=size={size}:rate={rate}:duration={seconds}")


def _phone(upright: tuple[int, int], rotation: int, suffix: str = ".mov") -> bytes:
    """A marked clip whose pixels are stored turned, with the display rotation that turns them upright again."""
    stored = ffmpeg(
        "-filter_complex", f"{marked_picture(upright, 10, 1)},{STORED_FOR_ROTATION[rotation]}",
        *tone(1), *H264, *AAC, "-shortest", suffix=suffix,
    )  # fmt: skip
    return remuxed(stored, "-c", "copy", suffix=suffix, input_options=("-display_rotation", str(rotation)))


def _hdr(transfer: str, suffix: str) -> bytes:
    """HEVC Main 10 in BT.2020 with PQ or HLG: a grey picture (GREY_SDR in SDR) converted as an HDR camera would
    store it (SDR white at BT.2408's 203 nits), tagged in the stream and the container."""
    colour = f"colorprim=bt2020:transfer={transfer}:colormatrix=bt2020nc"
    return ffmpeg(
        "-f", "lavfi", "-i", f"color=c=0x{GREY_SDR:02X}{GREY_SDR:02X}{GREY_SDR:02X}:s=160x120:r=10:d=1",
        "-vf", f"zscale=tin=bt709:t={transfer}:pin=bt709:p=bt2020:min=bt709:m=bt2020nc:npl=203,format=yuv420p10le",
        "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", f"log-level=error:{colour}",
        "-color_primaries", "bt2020", "-color_trc", transfer, "-colorspace", "bt2020nc", "-tag:v", "hvc1",
        suffix=suffix,
    )  # fmt: skip


def _variable_frame_rate() -> bytes:
    """30 fps with every fifth frame dropped and the timestamps kept: gaps of 1/30 and 2/30 s, 24 fps on average."""
    return ffmpeg(*pattern("160x120", 30, 2), "-vf", "select='not(eq(mod(n\\,5)\\,2))'", "-fps_mode", "vfr", *H264)


def _odd_size() -> bytes:
    """1081×1921: H.264 High 4:4:4, the only 8-bit H.264 profile with odd dimensions (two frames, so it is cheap)."""
    return ffmpeg(
        *pattern("1081x1921", 2, 1), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p",
        "-profile:v", "high444",
    )  # fmt: skip


def _black_then_picture() -> bytes:
    """A second of black, then two seconds of a test pattern: the first frame is no poster."""
    return ffmpeg(
        "-filter_complex",
        "color=c=black:s=160x120:r=10:d=1[a];testsrc=size=160x120:rate=10:duration=2[b];[a][b]concat",
        *H264,
    )


def header_claiming(data: bytes, seconds: int) -> bytes:
    """`data` with its movie, track and media headers (version 0) saying it lasts `seconds`."""
    for box, offset, timescale_at in ((b"mvhd", 20, 16), (b"tkhd", 24, None), (b"mdhd", 20, 16)):
        at = data.index(box)
        if timescale_at is not None:
            (timescale,) = struct.unpack_from(">I", data, at + timescale_at)
        data = data[: at + offset] + struct.pack(">I", timescale * seconds) + data[at + offset + 4 :]
    return data


def _noise(seconds: float) -> bytes:
    """640×480 temporal noise: no encoder can make it small, so the rung's bitrate cap must hold it."""
    return ffmpeg(
        "-f", "lavfi", "-i", f"color=c=gray:s=640x480:r=10:d={seconds},noise=alls=60:allf=t+u",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "10", "-pix_fmt", "yuv420p",
    )  # fmt: skip


def _jpeg() -> bytes:
    from PIL import Image

    from tests.support.hostile_media import encoded

    return encoded(Image.new("RGB", (64, 48), (200, 40, 40)), "JPEG")


def _landscape() -> bytes:
    """What a phone records held level: H.264 + AAC, 8-bit 4:2:0, upright, a keyframe a second: copied into the
    720p rung as it is, and the 480p rung encoded with its keyframes at the same instants."""
    return ffmpeg("-filter_complex", marked_picture((1280, 720), 10, 2), *tone(2), *H264, "-g", "10", *AAC, "-shortest")


def _cases() -> list[PhoneClip]:
    c = PhoneClip
    return [
        c("landscape-720p", MP4, "H.264 + AAC, upright, keyframes every second: copied into 720p, 480p encoded",
          _landscape, shown=(1280, 720), duration_s=2.0, frame_rate=10, copied=True, marked=True),
        c("portrait-rotation-90", MOV, "held upright: landscape pixels and a 90° display matrix",
          lambda: _phone((120, 160), 90), shown=(120, 160), duration_s=1.0, frame_rate=10, marked=True),
        c("landscape-rotation-180", MOV, "held upside down: a 180° display matrix",
          lambda: _phone((160, 120), 180), shown=(160, 120), duration_s=1.0, frame_rate=10, marked=True),
        c("portrait-rotation-270", MOV, "held upright the other way: a 270° display matrix",
          lambda: _phone((120, 160), 270), shown=(120, 160), duration_s=1.0, frame_rate=10, marked=True),
        c("hdr-pq", MP4, "HEVC Main 10, BT.2020, PQ (smpte2084): tone-mapped to SDR BT.709",
          lambda: _hdr("smpte2084", ".mp4"), shown=(160, 120), duration_s=1.0, frame_rate=10, audio=False, hdr=True),
        c("hdr-hlg", MOV, "HEVC Main 10, BT.2020, HLG (arib-std-b67), as an iPhone records: tone-mapped to SDR",
          lambda: _hdr("arib-std-b67", ".mov"), shown=(160, 120), duration_s=1.0, frame_rate=10, audio=False, hdr=True),
        c("60-fps", MP4, "60 fps is kept (not capped at 30)",
          lambda: ffmpeg(*pattern("64x48", 60, 1), *H264), shown=(64, 48), duration_s=1.0, frame_rate=60,
          audio=False, copied=True),
        c("48-fps", MP4, "48 fps is capped at 30",
          lambda: ffmpeg(*pattern("64x48", 48, 1), *H264), shown=(64, 48), duration_s=1.0, frame_rate=30,
          audio=False),
        c("variable-frame-rate", MP4, "irregular frame timestamps (24 fps on average): made constant",
          _variable_frame_rate, shown=(160, 120), duration_s=2.0, frame_rate=24, audio=False),
        c("odd-1081x1921", MP4, "odd dimensions, 4:4:4: made even (1080×1920 and below), 4:2:0",
          _odd_size, shown=(1081, 1921), duration_s=1.0, frame_rate=2, audio=False),
        c("silent", MP4, "no audio track: the renditions have none either",
          lambda: ffmpeg(*pattern("160x120", 10, 1), *H264), shown=(160, 120), duration_s=1.0, frame_rate=10,
          audio=False, copied=True),
        c("half-second", MP4, "0.5 s, the shortest clip a phone makes",
          lambda: ffmpeg(*pattern("64x48", 30, 0.5), *tone(0.5), *H264, *AAC, "-shortest"), shown=(64, 48),
          duration_s=0.5, frame_rate=30, copied=True),
        c("ninety-seconds", MP4, "exactly 90 s, the longest accepted (1 fps, tiny)",
          lambda: ffmpeg(*pattern("64x48", 1, 90), *H264), shown=(64, 48), duration_s=90.0, frame_rate=1,
          audio=False),
        c("black-first-second", MP4, "black for a second, then a picture: the poster is not black",
          _black_then_picture, shown=(160, 120), duration_s=3.0, frame_rate=10, audio=False),
        c("noise-480p", MP4, "incompressible 640×480 noise: the 480p rung's bitrate cap holds",
          lambda: _noise(4), shown=(640, 480), duration_s=4.0, frame_rate=10, audio=False),
        c("header-10s-holding-120s", MP4, "its headers say 10 s over 120 s of samples: the real length is refused",
          lambda: header_claiming(ffmpeg(*pattern("64x48", 1, 120), *H264), 10), RejectionCode.TOO_LONG),
        c("truncated-faststart", MP4, "its index first, then cut in the middle of its pictures",
          lambda: (data := ffmpeg(*pattern("320x240", 10, 2), *H264, "-movflags", "+faststart"))[: len(data) // 2],
          RejectionCode.CORRUPT),
        c("truncated", MOV, "cut in half: the index (written last) is missing",
          lambda: (data := ffmpeg(*pattern("160x120", 10, 2), *H264, suffix=".mov"))[: len(data) // 2],
          RejectionCode.CORRUPT),
        c("audio-only", MP4, "an AAC track and no picture",
          lambda: ffmpeg(*tone(1), "-c:a", "aac"), RejectionCode.NO_VIDEO_STREAM),
        c("audio-with-cover-art", MP4, "a song with its cover art (a one-frame attached picture), renamed .mp4",
          lambda: ffmpeg(*tone(1), "-f", "lavfi", "-i", "color=c=red:s=64x64:d=1", "-map", "0:a", "-map", "1:v",
                         "-frames:v", "1", "-c:a", "aac", "-c:v", "mjpeg", "-disposition:v:0", "attached_pic"),
          RejectionCode.NO_VIDEO_STREAM),
        c("still-image-renamed", MP4, "a JPEG photo renamed .mp4", _jpeg, RejectionCode.TYPE_MISMATCH),
    ]  # fmt: skip


CLIPS: dict[str, PhoneClip] = {clip.name: clip for clip in _cases()}


@cache
def build(name: str) -> bytes:
    """The bytes of a corpus clip, built once per process."""
    return CLIPS[name].build()
