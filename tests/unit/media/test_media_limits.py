"""What API functions check before signing an upload, without loading any imaging code."""

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from pinhole.media.limits import (
    ACCEPTED_CONTENT_TYPES,
    MAX_AVATAR_BYTES,
    MAX_IMAGE_BYTES,
    MAX_VIDEO_BYTES,
    POST_RENDITIONS,
    STORY_RENDITIONS,
    WEBP,
    MediaRejected,
    RejectionCode,
    RenditionSpec,
    check_avatar_upload,
    check_upload,
    max_upload_bytes,
)
from pinhole.posts.models import MediaDeclaration
from pinhole.users.models import AvatarUploadRequest


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
    # Given the rendition specs / Then posts get large, medium, thumb and stories the full-screen story first and
    # then every one of a post's (a story's Media is API.md's Media), each also as WebP
    assert [spec.name for spec in POST_RENDITIONS] == [
        "large", "large_webp", "medium", "medium_webp", "thumb", "thumb_webp",
    ]  # fmt: skip
    assert [spec.name for spec in STORY_RENDITIONS[:2]] == ["story", "story_webp"]
    assert STORY_RENDITIONS[2:] == POST_RENDITIONS


def test_limits_load_no_imaging_code() -> None:
    # Given a fresh interpreter, as an API function's cold start
    heavy = ("PIL", "pillow_heif", "imageio_ffmpeg")
    probe = f"import sys, pinhole.media.limits; print(sorted(m for m in {heavy!r} if m in sys.modules))"

    # When it imports the limits
    command = [sys.executable, "-c", probe]
    result = subprocess.run(command, capture_output=True, text=True, check=True, env={"PYTHONPATH": ":".join(sys.path)})

    # Then no imaging module came with them
    assert result.stdout.strip() == "[]"


def _server_takes(declared: dict[str, Any], model: type[BaseModel], check: Callable[[str, int], object]) -> bool:
    try:
        model.model_validate(declared)
        check(declared["content_type"], declared["size_bytes"])
    except (ValidationError, MediaRejected):
        return False
    return True


DECLARATIONS = {
    "a post's or a story's file": (MediaDeclaration, check_upload, sorted(ACCEPTED_CONTENT_TYPES)),
    "an avatar": (AvatarUploadRequest, check_avatar_upload, sorted(ACCEPTED_CONTENT_TYPES)),
}


@st.composite
def declared_types(draw: st.DrawFn, known: list[str]) -> str:
    """Known types in any case, with blanks and parameters around them, beside any text at all."""
    spelled = "".join(draw(st.sampled_from([char.lower(), char.upper()])) for char in draw(st.sampled_from(known)))
    blank = st.sampled_from(["", " ", "\t", "\n", "\u00a0", "\x1f"])
    near = draw(blank) + spelled + draw(blank) + draw(st.sampled_from(["", ";", "; charset=binary", "x", ";\n"]))
    return draw(st.one_of(st.just(near), st.text(max_size=20), st.just(spelled.replace("k", "\u212a"))))


@pytest.mark.parametrize("declaration", DECLARATIONS)
@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_the_document_states_exactly_the_types_and_sizes_the_server_takes(
    declaration: str, data: st.DataObject
) -> None:
    # Given what the API document says of a declared file, read by a JSON Schema validator (ECMAScript patterns)
    model, check, known = DECLARATIONS[declaration]
    document = jsonschema_rs.validator_for(model.model_json_schema())
    sizes = st.sampled_from([1, MAX_AVATAR_BYTES, MAX_AVATAR_BYTES + 1, MAX_IMAGE_BYTES, MAX_IMAGE_BYTES + 1])
    declared = {
        "content_type": data.draw(declared_types(known)),
        "size_bytes": data.draw(st.one_of(sizes, st.just(MAX_VIDEO_BYTES), st.just(MAX_VIDEO_BYTES + 1))),
    }

    # Then the document calls it valid exactly when the server signs an upload for it
    assert document.is_valid(declared) == _server_takes(declared, model, check), declared


def test_a_fixed_size_rendition_larger_than_its_format_can_store_cannot_be_declared() -> None:
    # Given a crop no WebP file can hold (WebP stops at 16383 pixels a side; aspect-kept renditions are scaled into
    # it as they are made, but a crop has its exact size by promise)
    # When it is declared, Then it is refused at import time rather than failing every upload
    with pytest.raises(ValueError, match="larger than image/webp can store"):
        RenditionSpec("banner", WEBP, 20_000, 100)
