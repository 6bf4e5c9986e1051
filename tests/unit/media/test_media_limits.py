"""What API functions check before signing an upload, without loading any imaging code."""

import subprocess
import sys

import pytest

from pinhole.media.limits import (
    MAX_IMAGE_BYTES,
    MAX_VIDEO_BYTES,
    POST_RENDITIONS,
    STORY_RENDITIONS,
    MediaRejected,
    RejectionCode,
    check_upload,
    max_upload_bytes,
)


@pytest.mark.parametrize(
    ("content_type", "media_type"),
    [
        ("image/jpeg", "image"),
        ("image/png", "image"),
        ("image/webp", "image"),
        ("image/heic", "image"),
        ("image/avif", "image"),
        ("Image/JPEG; charset=binary", "image"),
        ("video/mp4", "video"),
        ("video/quicktime", "video"),
    ],
)
def test_accepted_types_within_limits_pass(content_type: str, media_type: str) -> None:
    # Given an accepted type of a reasonable size / When it is checked / Then it is accepted as its media type
    assert check_upload(content_type, 1_000_000) == media_type


@pytest.mark.parametrize("content_type", ["image/gif", "image/tiff", "image/svg+xml", "text/html", "video/webm", ""])
def test_other_types_are_unsupported(content_type: str) -> None:
    # Given a type outside the list / When it is checked / Then it is refused as unsupported
    with pytest.raises(MediaRejected) as caught:
        check_upload(content_type, 1_000)
    assert caught.value.code == RejectionCode.UNSUPPORTED_TYPE


@pytest.mark.parametrize(
    ("content_type", "size_bytes", "code"),
    [
        ("image/jpeg", MAX_IMAGE_BYTES + 1, RejectionCode.TOO_LARGE),
        ("video/mp4", MAX_VIDEO_BYTES + 1, RejectionCode.TOO_LARGE),
        ("image/png", 0, RejectionCode.EMPTY),
    ],
)
def test_sizes_outside_the_limits_are_refused(content_type: str, size_bytes: int, code: RejectionCode) -> None:
    # Given a declared size over the limit (or none) / When it is checked / Then it is refused with its code
    with pytest.raises(MediaRejected) as caught:
        check_upload(content_type, size_bytes)
    assert caught.value.code == code


def test_limits_at_the_boundary_pass() -> None:
    # Given uploads of exactly 30 MB and 200 MB / When checked / Then both pass, and the policy limits say so
    assert check_upload("image/jpeg", MAX_IMAGE_BYTES) == "image"
    assert check_upload("video/quicktime", MAX_VIDEO_BYTES) == "video"
    assert (max_upload_bytes("image/avif"), max_upload_bytes("video/mp4")) == (30 * 2**20, 200 * 2**20)


def test_rendition_names_are_those_api_md_promises() -> None:
    # Given the rendition specs / Then posts get large, medium, thumb and stories story, thumb, each also as WebP
    assert [spec.name for spec in POST_RENDITIONS] == [
        "large", "large_webp", "medium", "medium_webp", "thumb", "thumb_webp",
    ]  # fmt: skip
    assert [spec.name for spec in STORY_RENDITIONS] == ["story", "story_webp", "thumb", "thumb_webp"]


def test_limits_load_no_imaging_code() -> None:
    # Given a fresh interpreter, as an API function's cold start
    heavy = ("PIL", "pillow_heif", "imageio_ffmpeg")
    probe = f"import sys, pinhole.media.limits; print(sorted(m for m in {heavy!r} if m in sys.modules))"

    # When it imports the limits
    command = [sys.executable, "-c", probe]
    result = subprocess.run(command, capture_output=True, text=True, check=True, env={"PYTHONPATH": ":".join(sys.path)})

    # Then no imaging module came with them
    assert result.stdout.strip() == "[]"
