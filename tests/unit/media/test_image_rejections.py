"""What the resize function refuses, and what it tells the uploader: each refusal has a code and a plain reason."""

import struct

import pytest
from PIL import Image

from pinhole.media.imaging import MAX_JPEG_SCANS, count_jpeg_scans, render_image
from pinhole.media.limits import MAX_IMAGE_BYTES, MediaRejected, RejectionCode
from tests.support.hostile_media import jpeg_segments
from tests.unit.media.factories import encoded, marked, png_by_hand

CONTENT_TYPE = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "AVIF": "image/avif",
    "HEIF": "image/heic",
}
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def noise(size: tuple[int, int] = (640, 480)) -> Image.Image:
    """Incompressible content, so a truncated file really lacks picture data."""
    return Image.effect_noise(size, 64).convert("RGB")


def rejection(data: bytes, content_type: str) -> MediaRejected:
    with pytest.raises(MediaRejected) as caught:
        render_image(data, content_type)
    reason = caught.value.reason
    assert reason and reason[0].isupper() and reason.endswith(".")
    assert not {"PIL", "Pillow", "Traceback", "Error"} & set(reason.replace(".", " ").split())
    return caught.value


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) claims another size: a bomb in 700 bytes."""
    data = bytearray(encoded(Image.new("RGB", (16, 16)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def test_empty_upload_is_rejected() -> None:
    # Given an upload of zero bytes / When it is rendered / Then it is refused as empty
    assert rejection(b"", "image/jpeg").code == RejectionCode.EMPTY


def test_upload_over_30_mb_is_rejected_before_decoding() -> None:
    # Given 30 MB and a byte of something that starts like a JPEG
    data = b"\xff\xd8\xff" + bytes(MAX_IMAGE_BYTES - 2)

    # When it is rendered / Then it is refused for its size
    refused = rejection(data, "image/jpeg")
    assert refused.code == RejectionCode.TOO_LARGE
    assert "30 MB" in refused.reason


@pytest.mark.parametrize("content_type", ["image/gif", "image/tiff", "image/svg+xml", "text/html", "", "video/mp4"])
def test_content_types_outside_the_accepted_list_are_rejected(content_type: str) -> None:
    # Given a valid picture declared with a type Pinhole does not accept as a picture
    data = encoded(marked((64, 48)), "PNG")

    # When it is rendered / Then it is refused as unsupported
    assert rejection(data, content_type).code == RejectionCode.UNSUPPORTED_TYPE


@pytest.mark.parametrize(
    "content",
    [
        HTML,
        b"GIF89a/*" + HTML,  # a GIF/JavaScript polyglot
        b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n",
        b"8BPS\x00\x01" + bytes(64),  # Photoshop
        b"\x00\x00\x00\x18ftypqt  \x00\x00\x02\x00qt  " + bytes(64),  # a QuickTime movie
    ],
    ids=["html", "gif-js-polyglot", "svg", "eps", "psd", "quicktime"],
)
def test_files_that_are_not_pictures_are_rejected_as_not_what_they_claim(content: bytes) -> None:
    # Given a file that is not a picture, uploaded as a JPEG
    # When it is rendered
    refused = rejection(content, "image/jpeg")

    # Then it is refused: it is not what it claims to be
    assert refused.code == RejectionCode.TYPE_MISMATCH
    assert "JPEG" in refused.reason


@pytest.mark.parametrize("image_format", ["GIF", "BMP", "TIFF", "ICO", "JPEG2000", "PPM"])
def test_pillow_formats_outside_the_accepted_list_are_rejected(image_format: str) -> None:
    # Given a picture in a format Pillow reads but Pinhole does not accept, uploaded as a PNG
    data = encoded(marked((64, 48)), image_format)

    # When it is rendered / Then it is refused as not what it claims
    assert rejection(data, "image/png").code == RejectionCode.TYPE_MISMATCH


def test_a_picture_of_another_accepted_format_is_named_in_the_reason() -> None:
    # Given a PNG uploaded as a JPEG / Then the reason names both, in a sentence without a guessed article
    refused = rejection(encoded(marked((64, 48)), "PNG"), "image/jpeg")
    assert refused.reason == "The file is not the JPEG image it claims to be: its content is PNG."


@pytest.mark.parametrize(
    ("image_format", "declared", "named"),
    [
        ("PNG", "image/jpeg", "PNG"),
        ("JPEG", "image/png", "JPEG"),
        ("WEBP", "image/jpeg", "WebP"),
        ("AVIF", "image/heic", "AVIF"),
        ("HEIF", "image/avif", "HEIC"),
    ],
)
def test_accepted_format_under_another_type_is_rejected(image_format: str, declared: str, named: str) -> None:
    # Given a picture in one accepted format declared as another
    data = encoded(marked((64, 48)), image_format)

    # When it is rendered
    refused = rejection(data, declared)

    # Then it is refused, and the reason says what the file really is
    assert refused.code == RejectionCode.TYPE_MISMATCH
    assert named in refused.reason


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP", "AVIF", "HEIF"])
def test_truncated_pictures_are_rejected(image_format: str) -> None:
    # Given a picture cut off part way through its data
    data = encoded(noise(), image_format)
    truncated = data[: len(data) * 2 // 3]

    # When it is rendered / Then it is refused as damaged
    assert rejection(truncated, CONTENT_TYPE[image_format]).code == RejectionCode.CORRUPT


def test_garbage_behind_a_jpeg_signature_is_rejected() -> None:
    # Given bytes that start like a JPEG and then are not one
    data = b"\xff\xd8\xff\xe0" + HTML * 10

    # When it is rendered / Then it is refused as damaged
    assert rejection(data, "image/jpeg").code == RejectionCode.CORRUPT


@pytest.mark.parametrize("size", [(10_000, 6_000), (20_000, 10_000)], ids=["60MP", "200MP"])
def test_png_header_claiming_too_many_pixels_is_rejected_without_decoding(size: tuple[int, int]) -> None:
    # Given a tiny PNG whose header claims 60 or 200 megapixels (Pillow warns at one and errors at the other)
    data = png_by_hand(*size, bit_depth=8, colour_type=2, rows=None)
    assert len(data) < 200

    # When it is rendered / Then it is refused for its pixel count
    refused = rejection(data, "image/png")
    assert refused.code == RejectionCode.TOO_MANY_PIXELS
    assert "50 megapixels" in refused.reason


def test_jpeg_header_claiming_too_many_pixels_is_rejected() -> None:
    # Given a small JPEG whose frame header claims 10000×6000 pixels
    # When it is rendered / Then it is refused for its pixel count
    assert rejection(jpeg_claiming(10_000, 6_000), "image/jpeg").code == RejectionCode.TOO_MANY_PIXELS


def test_exactly_50_megapixels_passes_the_pixel_check() -> None:
    # Given a PNG header claiming exactly 50 MP, with no picture data behind it
    data = png_by_hand(10_000, 5_000, bit_depth=8, colour_type=2, rows=None)

    # When it is rendered / Then it gets past the pixel limit and is refused only for its missing data
    assert rejection(data, "image/png").code == RejectionCode.CORRUPT


def progressive_jpeg_with_scans(scans: int) -> bytes:
    """A 64×48 progressive JPEG whose first AC scan is repeated until it has `scans` scans in all."""
    data = encoded(noise((64, 48)), "JPEG", progressive=True)
    segments = jpeg_segments(data)
    ac_start, ac_end = [(start, end) for marker, start, end in segments if marker == 0xDA][1]
    present = sum(1 for marker, _, _ in segments if marker == 0xDA)
    eoi = segments[-1][1]
    return data[:eoi] + data[ac_start:ac_end] * (scans - present) + b"\xff\xd9"


def test_progressive_jpeg_of_too_many_scans_is_rejected_before_decoding() -> None:
    # Given a progressive JPEG of 101 scans (each one more pass of the decoder over every block)
    data = progressive_jpeg_with_scans(MAX_JPEG_SCANS + 1)

    # When it is rendered / Then it is refused as too costly, and told how to fix it
    refused = rejection(data, "image/jpeg")
    assert refused.code == RejectionCode.UNPROCESSABLE
    assert "standard JPEG" in refused.reason


def test_progressive_jpeg_of_exactly_the_scan_limit_is_rendered() -> None:
    # Given a progressive JPEG of exactly 100 scans
    data = progressive_jpeg_with_scans(MAX_JPEG_SCANS)

    # When it is rendered / Then it makes every rendition
    assert render_image(data, "image/jpeg").renditions["large"].width == 64


def test_scans_are_counted_only_in_the_picture_not_in_metadata_or_trailers() -> None:
    # Given an ordinary progressive JPEG (10 scans) with SOS-like bytes in a comment and in a motion-photo-like
    # trailer after its end marker
    sos_lookalikes = b"\xff\xda\x00\x08" * 500
    data = encoded(noise((64, 48)), "JPEG", progressive=True)
    with_comment = data[:2] + b"\xff\xfe" + (len(sos_lookalikes) + 2).to_bytes(2, "big") + sos_lookalikes + data[2:]

    # When its scans are counted / Then only its 10 real scans count
    assert count_jpeg_scans(with_comment + sos_lookalikes, stop_after=MAX_JPEG_SCANS) == 10
    assert count_jpeg_scans(encoded(noise((64, 48)), "JPEG"), stop_after=MAX_JPEG_SCANS) == 1
