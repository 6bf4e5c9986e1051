"""Uploaded clips: checked against the declared container and the 90 s / 200 MB limits, with a poster picture.

Every clip is generated here with the bundled ffmpeg (tiny sizes, low frame rates), never committed."""

import os
import stat
import subprocess
from pathlib import Path

import pytest

from pinhole.media import video
from pinhole.media.limits import JPEG, MAX_VIDEO_BYTES, WEBP, MediaRejected, RejectionCode
from pinhole.media.video import ffmpeg_executable, inspect_video
from tests.unit.media.factories import BLUE, RED, channel_distance, encoded, marked, opened

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
        inspect_video(path, content_type)
    assert caught.value.reason[0].isupper() and caught.value.reason.endswith(".")
    return caught.value


def test_valid_mp4_gives_size_duration_codec_and_poster(mp4: Path) -> None:
    # Given a 3-second 320×240 H.264 MP4
    # When it is inspected
    info = inspect_video(mp4, "video/mp4")

    # Then its size, duration and codec are read, and the poster comes as JPEG and WebP at its own size
    assert (info.width, info.height, info.video_codec) == (320, 240, "h264")
    assert info.duration_s == pytest.approx(3.0, abs=0.1)
    assert {name: (r.width, r.height, r.content_type) for name, r in info.poster.items()} == {
        "poster": (320, 240, JPEG),
        "poster_webp": (320, 240, WEBP),
    }
    assert opened(info.poster["poster"].data).size == (320, 240)
    assert info.blurhash[0] == "L"


def test_hd_poster_is_scaled_to_1080_wide(tmp_path: Path) -> None:
    # Given a short 1920×1080 clip
    clip = make_clip(tmp_path / "hd.mp4", *pattern("1920x1080", rate=5, seconds=1), *H264)

    # When it is inspected
    info = inspect_video(clip, "video/mp4")

    # Then the poster is 1080 wide, keeping 16:9
    assert (info.width, info.height) == (1920, 1080)
    assert (info.poster["poster"].width, info.poster["poster"].height) == (1080, 608)


def test_poster_is_taken_about_one_second_in(tmp_path: Path) -> None:
    # Given a clip that is red for its first second and blue after it
    clip = make_clip(
        tmp_path / "cut.mp4",
        "-filter_complex", "color=c=red:s=160x120:r=10:d=1[a];color=c=blue:s=160x120:r=10:d=2[b];[a][b]concat",
        *H264,
    )  # fmt: skip

    # When it is inspected
    poster = opened(inspect_video(clip, "video/mp4").poster["poster"].data)

    # Then the poster shows the second part, not the first frame
    assert channel_distance(poster.getpixel((80, 60)), BLUE) <= 40


def test_rotated_phone_clip_reports_its_upright_size(tmp_path: Path) -> None:
    # Given a MOV recorded landscape with a 90° display rotation, as a phone held upright writes it
    landscape = make_clip(tmp_path / "raw.mov", *pattern(), *H264)
    clip = make_clip(tmp_path / "portrait.mov", "-display_rotation", "90", "-i", str(landscape), "-c", "copy")

    # When it is inspected
    info = inspect_video(clip, "video/quicktime")

    # Then width and height are as shown, and so is the poster
    assert (info.width, info.height) == (240, 320)
    assert (info.poster["poster"].width, info.poster["poster"].height) == (240, 320)


def test_clip_of_exactly_90_seconds_is_accepted(tmp_path: Path) -> None:
    # Given a 90-second clip (32×32 at 1 fps, so it is cheap to make)
    clip = make_clip(tmp_path / "ninety.mp4", *pattern("32x32", rate=1, seconds=90), *H264)

    # When it is inspected / Then it passes
    assert inspect_video(clip, "video/mp4").duration_s == pytest.approx(90, abs=0.1)


def test_clip_longer_than_90_seconds_is_rejected(tmp_path: Path) -> None:
    # Given a 95-second clip
    clip = make_clip(tmp_path / "long.mp4", *pattern("32x32", rate=1, seconds=95), *H264)

    # When it is inspected / Then it is refused for its length
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

    # When it is inspected / Then it is refused
    assert rejection(clip, declared).code == code


def test_picture_uploaded_as_a_video_is_rejected(tmp_path: Path) -> None:
    # Given a HEIC photo (an ISO media file too) declared as an MP4
    path = tmp_path / "photo.mp4"
    path.write_bytes(encoded(marked((64, 48)), "HEIF"))

    # When it is inspected / Then it is refused as not what it claims
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

    # When it is inspected / Then it is refused
    assert rejection(path, "video/mp4").code == code


def test_truncated_clip_is_rejected(tmp_path: Path, mp4: Path) -> None:
    # Given an upload that stopped half way (ffmpeg writes the index last, so it is missing)
    data = mp4.read_bytes()
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(data[: len(data) // 2])

    # When it is inspected / Then it is refused as damaged
    assert rejection(truncated, "video/mp4").code == RejectionCode.CORRUPT


def test_audio_only_file_is_rejected(tmp_path: Path) -> None:
    # Given an MP4 with sound and no picture
    clip = make_clip(tmp_path / "sound.mp4", "-f", "lavfi", "-i", "sine=frequency=440", "-t", "1", "-c:a", "aac")

    # When it is inspected / Then it is refused for having no video
    assert rejection(clip, "video/mp4").code == RejectionCode.NO_VIDEO_STREAM


def test_file_over_200_mb_is_rejected_before_reading(tmp_path: Path, mp4: Path) -> None:
    # Given a (sparse) file one byte over 200 MB
    big = tmp_path / "big.mp4"
    big.write_bytes(mp4.read_bytes())
    os.truncate(big, MAX_VIDEO_BYTES + 1)

    # When it is inspected / Then it is refused for its size
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

    # When the clip is inspected with it
    with pytest.raises(MediaRejected) as caught:
        inspect_video(mp4, "video/mp4", ffmpeg=str(hanging))

    # Then the run is cut short and the clip rejected as unprocessable
    assert caught.value.code == RejectionCode.UNPROCESSABLE


def test_poster_of_a_red_clip_is_red(tmp_path: Path) -> None:
    # Given an all-red clip
    clip = make_clip(tmp_path / "red.mov", "-f", "lavfi", "-i", "color=c=red:s=160x120:r=10:d=2", *H264)

    # When it is inspected
    info = inspect_video(clip, "video/quicktime")

    # Then the poster (through the picture pipeline: sRGB, no metadata) is red
    poster = opened(info.poster["poster_webp"].data)
    assert channel_distance(poster.getpixel((80, 60)), RED) <= 40
    assert not poster.getexif()
