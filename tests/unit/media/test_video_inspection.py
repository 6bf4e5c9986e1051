"""Uploaded clips: checked against the declared container and the 90 s / 200 MB limits, and described as the
transcode plans from them (displayed size, codecs, colour, frame rate, keyframes, bitrate, real duration).

Every clip is generated here with the bundled ffmpeg (tiny sizes, low frame rates), never committed."""

import os
import stat
import subprocess
from pathlib import Path

import pytest

from pinhole.media import video
from pinhole.media.ffmpeg import ffmpeg_executable
from pinhole.media.limits import MAX_VIDEO_BYTES, MediaRejected, RejectionCode
from pinhole.media.video import parse_header, probe_video
from tests.support.video_checks import describe
from tests.support.video_corpus import header_claiming
from tests.unit.media.factories import encoded, marked

FFMPEG = ffmpeg_executable()


def make_clip(path: Path, *arguments: str) -> Path:
    command = [FFMPEG, "-hide_banner", "-nostdin", "-v", "error", "-y", *arguments, str(path)]
    subprocess.run(command, check=True, timeout=60)
    return path


def pattern(size: str = "320x240", rate: int = 10, seconds: float = 3) -> list[str]:
    """ffmpeg input arguments for its colour-bar test pattern."""
    return ["-f", "lavfi", "-i", f"testsrc=size={size}:rate={rate}", "-t", str(seconds)]


H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]


@pytest.fixture
def mp4(tmp_path: Path) -> Path:
    return make_clip(tmp_path / "clip.mp4", *pattern(), *H264)


def rejection(path: Path, content_type: str) -> MediaRejected:
    with pytest.raises(MediaRejected) as caught:
        probe_video(path, content_type)
    assert caught.value.reason[0].isupper() and caught.value.reason.endswith(".")
    return caught.value


def test_valid_mp4_is_described_from_its_header_and_packets(mp4: Path) -> None:
    # Given a 3-second 320×240 H.264 MP4 at 10 fps
    # When it is probed
    info = probe_video(mp4, "video/mp4")

    # Then its size, duration, codec, pixel format, frame rate and keyframes are read; it has no audio
    assert (info.width, info.height, info.video_codec, info.pixel_format) == (320, 240, "h264", "yuv420p")
    assert info.duration_s == pytest.approx(3.0, abs=0.1)
    assert info.frame_rate == pytest.approx(10, abs=0.01)
    assert info.constant_frame_rate
    assert 0 < info.max_keyframe_interval_s <= 3.0
    assert info.video_kbps > 0
    assert (info.audio_codec, info.rotation, info.sample_aspect, info.is_hdr) == (None, 0, (1, 1), False)


def test_rotated_phone_clip_reports_its_upright_size(tmp_path: Path) -> None:
    # Given a MOV recorded landscape with a 90° display rotation, as a phone held upright writes it
    landscape = make_clip(tmp_path / "raw.mov", *pattern(), *H264)
    clip = make_clip(tmp_path / "portrait.mov", "-display_rotation", "90", "-i", str(landscape), "-c", "copy")

    # When it is probed
    info = probe_video(clip, "video/quicktime")

    # Then width and height are as shown, and the rotation is known
    assert (info.width, info.height, info.coded_width, info.coded_height) == (240, 320, 320, 240)
    assert info.rotation == 90


def test_header_duration_that_lies_is_not_believed(tmp_path: Path) -> None:
    # Given a 95-second clip whose movie, track and media headers say it lasts 10 s
    clip = make_clip(tmp_path / "long.mp4", *pattern("32x32", rate=1, seconds=95), *H264)
    clip.write_bytes(header_claiming(clip.read_bytes(), 10))
    assert "Duration: 00:00:10.00" in describe(clip)

    # When it is probed / Then its packets give it away: it is refused for its length
    assert rejection(clip, "video/mp4").code == RejectionCode.TOO_LONG


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "Stream #0:0[0x1](und): Video: hevc (Main 10) (hvc1 / 0x31637668), yuv420p10le(tv, bt2020nc/bt2020/"
            "arib-std-b67, progressive), 3840x2160 [SAR 1:1 DAR 16:9], 9000 kb/s, 30 fps, 30 tbr, 600 tbn",
            ("hevc", "Main 10", "yuv420p10le", "arib-std-b67", "bt2020", 3840, 2160, True),
        ),
        (
            "Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(tv, bt709, progressive), "
            "1920x1080 [SAR 1:1 DAR 16:9], 5000 kb/s, 30 fps, 30 tbr, 15360 tbn (default)",
            ("h264", "High", "yuv420p", "bt709", "bt709", 1920, 1080, False),
        ),
        (
            "Stream #0:0: Video: h264 (Main), yuv420p(progressive), 720x576 [SAR 16:15 DAR 4:3], 25 fps",
            ("h264", "Main", "yuv420p", None, None, 768, 576, False),
        ),
    ],
    ids=["iphone-hlg", "sdr-bt709", "anamorphic-pal"],
)
def test_header_report_gives_codec_colour_and_displayed_size(line: str, expected: tuple[object, ...]) -> None:
    # Given ffmpeg's description of a stream (as the bundled build writes it)
    report = f"  Duration: 00:00:05.00, start: 0.000000, bitrate: 9000 kb/s\n  {line}\n"

    # When it is parsed
    header = parse_header(report)

    # Then codec, profile, pixel format, transfer, primaries and the displayed size (pixel aspect applied) are read
    facts = (header.codec, header.profile, header.pixel_format, header.color_transfer, header.color_primaries)
    hdr = header.color_transfer in ("smpte2084", "arib-std-b67")
    assert (*facts, header.width, header.height, hdr) == expected


def test_clip_of_exactly_90_seconds_is_accepted(tmp_path: Path) -> None:
    # Given a 90-second clip (32×32 at 1 fps, so it is cheap to make)
    clip = make_clip(tmp_path / "ninety.mp4", *pattern("32x32", rate=1, seconds=90), *H264)

    # When it is probed / Then it passes
    assert probe_video(clip, "video/mp4").duration_s == pytest.approx(90, abs=0.1)


def test_clip_longer_than_90_seconds_is_rejected(tmp_path: Path) -> None:
    # Given a 95-second clip
    clip = make_clip(tmp_path / "long.mp4", *pattern("32x32", rate=1, seconds=95), *H264)

    # When it is probed / Then it is refused for its length
    refused = rejection(clip, "video/mp4")
    assert refused.code == RejectionCode.TOO_LONG
    assert "90 seconds" in refused.reason


@pytest.mark.parametrize(
    ("suffix", "declared", "code"),
    [
        (".mp4", "video/quicktime", RejectionCode.TYPE_MISMATCH),
        (".mov", "video/mp4", RejectionCode.TYPE_MISMATCH),
        (".mkv", "video/mp4", RejectionCode.TYPE_MISMATCH),
        (".webm", "video/mp4", RejectionCode.TYPE_MISMATCH),
        (".mp4", "video/x-matroska", RejectionCode.UNSUPPORTED_TYPE),
    ],
)
def test_container_other_than_declared_is_rejected(tmp_path: Path, suffix: str, declared: str, code: str) -> None:
    # Given a clip in one container declared as another (or as a type that is not accepted)
    codec = ["-c:v", "libvpx-vp9"] if suffix == ".webm" else H264
    clip = make_clip(tmp_path / f"clip{suffix}", *pattern("64x48", seconds=1), *codec)

    # When it is probed / Then it is refused
    assert rejection(clip, declared).code == code


def test_picture_uploaded_as_a_video_is_rejected(tmp_path: Path) -> None:
    # Given a HEIC photo (an ISO media file too) declared as an MP4
    path = tmp_path / "photo.mp4"
    path.write_bytes(encoded(marked((64, 48)), "HEIF"))

    # When it is probed / Then it is refused as not what it claims
    assert rejection(path, "video/mp4").code == RejectionCode.TYPE_MISMATCH


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", RejectionCode.EMPTY),
        (os.urandom(4096), RejectionCode.TYPE_MISMATCH),
        (b"<html><body>not a video</body></html>", RejectionCode.TYPE_MISMATCH),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + os.urandom(4096), RejectionCode.CORRUPT),
    ],
    ids=["empty", "random", "html", "mp4-header-then-garbage"],
)
def test_garbage_is_rejected(tmp_path: Path, content: bytes, code: RejectionCode) -> None:
    # Given a file that is not a playable video
    path = tmp_path / "upload.mp4"
    path.write_bytes(content)

    # When it is probed / Then it is refused
    assert rejection(path, "video/mp4").code == code


def test_truncated_clip_is_rejected(tmp_path: Path, mp4: Path) -> None:
    # Given an upload that stopped half way (ffmpeg writes the index last, so it is missing)
    data = mp4.read_bytes()
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(data[: len(data) // 2])

    # When it is probed / Then it is refused as damaged
    assert rejection(truncated, "video/mp4").code == RejectionCode.CORRUPT


def test_audio_only_file_is_rejected(tmp_path: Path) -> None:
    # Given an MP4 with sound and no picture
    clip = make_clip(tmp_path / "sound.mp4", "-f", "lavfi", "-i", "sine=frequency=440", "-t", "1", "-c:a", "aac")

    # When it is probed / Then it is refused for having no video
    assert rejection(clip, "video/mp4").code == RejectionCode.NO_VIDEO_STREAM


def test_file_over_200_mb_is_rejected_before_reading(tmp_path: Path, mp4: Path) -> None:
    # Given a (sparse) file one byte over 200 MB
    big = tmp_path / "big.mp4"
    big.write_bytes(mp4.read_bytes())
    os.truncate(big, MAX_VIDEO_BYTES + 1)

    # When it is probed / Then it is refused for its size
    refused = rejection(big, "video/mp4")
    assert refused.code == RejectionCode.TOO_LARGE
    assert "200 MB" in refused.reason


def test_ffmpeg_that_hangs_is_stopped_and_the_clip_rejected(
    tmp_path: Path, mp4: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an ffmpeg that never finishes and a short time limit
    hanging = tmp_path / "ffmpeg"
    hanging.write_text("#!/bin/sh\nexec sleep 30\n")
    hanging.chmod(hanging.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(video, "PROBE_TIMEOUT_S", 0.5)

    # When the clip is probed with it
    with pytest.raises(MediaRejected) as caught:
        probe_video(mp4, "video/mp4", ffmpeg=str(hanging))

    # Then the run is cut short and the clip rejected as unprocessable
    assert caught.value.code == RejectionCode.UNPROCESSABLE
