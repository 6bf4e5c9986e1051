"""What a client gets from an accepted picture: upright, sRGB, metadata-free renditions of the promised sizes."""

import io
import warnings

import blurhash
import pytest
from PIL import Image, ImageFile, PngImagePlugin

from pinhole.media.imaging import render_image
from pinhole.media.limits import JPEG, POST_RENDITIONS, STORY_RENDITIONS, WEBP
from tests.unit.media.factories import (
    BLUE,
    GPS_IFD,
    GREEN,
    RED,
    TELLTALE_MAKE,
    TELLTALE_XMP,
    WHITE,
    as_camera_stored,
    camera_exif,
    channel_distance,
    encoded,
    marked,
    opened,
    png_16bit_rgb,
    swapped_primaries_profile,
)

TOLERANCE = 12  # JPEG and WebP at ~80 quality move flat colours by a few steps


def centre(image: Image.Image) -> object:
    return image.getpixel((image.width // 2, image.height // 2))


def every_rendition(data: bytes, content_type: str, kind: str = "post") -> dict[str, Image.Image]:
    result = render_image(data, content_type, kind)  # type: ignore[arg-type]
    return {name: opened(rendition.data) for name, rendition in result.renditions.items()}


# --- sizes -----------------------------------------------------------------------------------------------


def test_post_renditions_have_the_promised_sizes_and_types() -> None:
    # Given a 12 MP landscape photo
    data = encoded(marked((4032, 3024)), "JPEG", quality=90)

    # When it is rendered for a post
    result = render_image(data, "image/jpeg")

    # Then large is 1080 wide, medium 640 wide, both keeping 4:3, and thumb is exactly 150×150, each as JPEG and WebP
    sizes = {name: (r.width, r.height, r.content_type) for name, r in result.renditions.items()}
    assert sizes == {
        "large": (1080, 810, JPEG),
        "large_webp": (1080, 810, WEBP),
        "medium": (640, 480, JPEG),
        "medium_webp": (640, 480, WEBP),
        "thumb": (150, 150, JPEG),
        "thumb_webp": (150, 150, WEBP),
    }
    assert (result.width, result.height) == (4032, 3024)


def test_encoded_files_match_their_declared_size_and_format() -> None:
    # Given a portrait photo
    data = encoded(marked((1500, 2000)), "JPEG")

    # When it is rendered
    result = render_image(data, "image/jpeg")

    # Then each file really is what its rendition says
    for rendition in result.renditions.values():
        image = opened(rendition.data)
        assert image.size == (rendition.width, rendition.height)
        assert Image.MIME[image.format or ""] == rendition.content_type
    assert result.renditions["large"].height == 1440


def test_small_pictures_are_not_upscaled_but_thumb_is_exact() -> None:
    # Given a picture smaller than every width-limited rendition
    data = encoded(marked((120, 90)), "PNG")

    # When it is rendered
    result = render_image(data, "image/png")

    # Then large and medium keep its own size, and thumb is still exactly 150×150
    renditions = result.renditions
    assert (renditions["large"].width, renditions["large"].height) == (120, 90)
    assert (renditions["medium"].width, renditions["medium"].height) == (120, 90)
    assert (renditions["thumb"].width, renditions["thumb"].height) == (150, 150)


def test_thumb_is_a_centre_crop() -> None:
    # Given a wide picture: red left third, green middle third, blue right third
    image = Image.new("RGB", (900, 300), GREEN)
    image.paste(RED, (0, 0, 300, 300))
    image.paste(BLUE, (600, 0, 900, 300))

    # When it is rendered
    thumb = every_rendition(encoded(image, "PNG"), "image/png")["thumb"]

    # Then the thumb shows the green middle only, not squeezed
    assert thumb.size == (150, 150)
    for x in (5, 75, 144):
        assert channel_distance(thumb.getpixel((x, 75)), GREEN) <= TOLERANCE


def test_panorama_thumb_stays_sharp_enough_to_cover() -> None:
    # Given a very wide panorama, whose medium is shorter than a thumb
    data = encoded(marked((6000, 500)), "JPEG")

    # When it is rendered
    result = render_image(data, "image/jpeg")

    # Then medium keeps the aspect ratio and thumb is still 150×150
    assert (result.renditions["medium"].width, result.renditions["medium"].height) == (640, 53)
    assert (result.renditions["thumb"].width, result.renditions["thumb"].height) == (150, 150)


def test_story_is_a_cover_crop_of_1080_by_1920() -> None:
    # Given a landscape photo: blue, with a red centre column
    image = Image.new("RGB", (4000, 3000), BLUE)
    image.paste(RED, (1800, 0, 2200, 3000))

    # When it is rendered as a story
    renditions = every_rendition(encoded(image, "JPEG", quality=95), "image/jpeg", "story")

    # Then the story fills 1080×1920 with the middle of the photo, and a thumb comes with it
    assert set(renditions) == {spec.name for spec in STORY_RENDITIONS}
    story = renditions["story"]
    assert story.size == (1080, 1920)
    assert channel_distance(centre(story), RED) <= TOLERANCE
    assert channel_distance(story.getpixel((20, 960)), BLUE) <= TOLERANCE
    assert renditions["thumb"].size == (150, 150)


def test_blurhash_has_4_by_3_components_of_the_picture() -> None:
    # Given a red photo
    data = encoded(Image.new("RGB", (800, 600), RED), "JPEG")

    # When it is rendered
    result = render_image(data, "image/jpeg")

    # Then its blurhash has 4×3 components ("L" = base83 of (4-1) + (3-1)*9) and a red average colour
    assert result.blurhash[0] == "L" and len(result.blurhash) == 28
    painted = blurhash.decode(result.blurhash, 4, 3)
    assert channel_distance(painted.getpixel((1, 1)), RED) <= TOLERANCE


def test_file_objects_are_accepted_like_bytes() -> None:
    # Given an upload handed over as a non-seekable stream, as S3 returns it
    data = encoded(marked((300, 200)), "WEBP")

    class Stream(io.RawIOBase):
        def __init__(self) -> None:
            self.inner = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
            chunk = self.inner.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    # When it is rendered
    result = render_image(Stream(), "image/webp")  # type: ignore[arg-type]

    # Then it renders as the bytes would
    assert result.renditions["large"].width == 300


# --- orientation -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("upright_size", [(400, 300), (300, 400)], ids=["landscape", "portrait"])
def test_exif_orientation_comes_out_upright(orientation: int, upright_size: tuple[int, int]) -> None:
    # Given a camera JPEG stored turned, with the EXIF orientation that says how to show it
    data = as_camera_stored(marked(upright_size), orientation)

    # When it is rendered
    result = render_image(data, "image/jpeg")

    # Then every rendition is upright: the shape is kept and the red corner is at the top left
    assert (result.width, result.height) == upright_size
    for name, rendition in result.renditions.items():
        image = opened(rendition.data)
        assert (image.width >= image.height) == (upright_size[0] >= upright_size[1]) or name.startswith("thumb")
        assert channel_distance(image.getpixel((2, 2)), RED) <= TOLERANCE, name
        assert channel_distance(image.getpixel((image.width - 3, image.height - 3)), BLUE) <= TOLERANCE, name


# --- metadata --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("image_format", ["JPEG", "WEBP", "PNG", "AVIF"])
def test_exif_gps_xmp_and_icc_are_gone_from_every_rendition(image_format: str) -> None:
    # Given a photo carrying EXIF with a GPS position, XMP and an ICC profile
    metadata: dict[str, object] = {"exif": camera_exif(), "icc_profile": swapped_primaries_profile()}
    if image_format == "PNG":  # PNG keeps XMP in an iTXt chunk
        metadata["pnginfo"] = PngImagePlugin.PngInfo()
        metadata["pnginfo"].add_itxt("XML:com.adobe.xmp", TELLTALE_XMP.decode())  # type: ignore[attr-defined]
    else:
        metadata["xmp"] = TELLTALE_XMP
    data = encoded(marked((640, 480)), image_format, **metadata)
    assert TELLTALE_MAKE.encode() in data and b"PinholeSecretXmp" in data

    # When it is rendered
    result = render_image(data, Image.MIME[image_format])

    # Then no rendition carries any of it
    for name, rendition in result.renditions.items():
        image = opened(rendition.data)
        assert not image.getexif(), name
        assert not image.getexif().get_ifd(GPS_IFD), name
        assert not {"exif", "xmp", "icc_profile", "XML:com.adobe.xmp"} & set(image.info), name
        assert TELLTALE_MAKE.encode() not in rendition.data
        assert b"PinholeSecretXmp" not in rendition.data
        assert b"Exif\x00\x00" not in rendition.data


# --- colour ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "image", "expected"),
    [
        ("grayscale", Image.new("L", (200, 100), 128), (128, 128, 128)),
        ("1-bit", Image.new("1", (200, 100), 1), WHITE),
        ("cmyk", Image.new("CMYK", (200, 100), (0, 255, 255, 0)), RED),
        ("16-bit grey", Image.new("I;16", (200, 100), 32896), (128, 128, 128)),
        ("palette", Image.new("RGB", (200, 100), GREEN).convert("P"), GREEN),
    ],
)
def test_unusual_colour_modes_render_as_plain_rgb(
    label: str, image: Image.Image, expected: tuple[int, int, int]
) -> None:
    # Given a picture in a colour mode phones rarely write
    image_format = "JPEG" if image.mode == "CMYK" else "PNG"
    data = encoded(image, image_format)

    # When it is rendered
    renditions = every_rendition(data, Image.MIME[image_format])

    # Then every rendition is RGB and shows the same colour
    for name, rendition in renditions.items():
        assert rendition.mode == "RGB", name
        assert channel_distance(centre(rendition), expected) <= TOLERANCE, (label, name, centre(rendition))


def test_16_bit_rgb_keeps_its_colour() -> None:
    # Given a 16-bit-per-channel PNG of a mid orange
    data = png_16bit_rgb((64, 48), (65535, 32896, 0))

    # When it is rendered
    large = every_rendition(data, "image/png")["large"]

    # Then it is the same orange at 8 bits
    assert large.mode == "RGB"
    assert channel_distance(centre(large), (255, 128, 0)) <= TOLERANCE


@pytest.mark.parametrize("mode", ["P", "RGBA", "LA"])
def test_transparency_is_flattened_on_white(mode: str) -> None:
    # Given a picture whose left half is transparent and whose right half is opaque red (grey for LA)
    rgba = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    rgba.paste((255, 0, 0, 255), (100, 0, 200, 100))
    image = rgba.convert("LA") if mode == "LA" else rgba
    if mode == "P":
        image = rgba.convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
        image.info["transparency"] = image.getpixel((0, 0))
    opaque = (76, 76, 76) if mode == "LA" else RED

    # When it is rendered (as PNG, which keeps the transparency, and WebP)
    for image_format in ("PNG", "WEBP") if mode != "P" else ("PNG",):
        data = (
            encoded(image, image_format, transparency=image.info["transparency"])
            if mode == "P"
            else encoded(image, image_format)
        )
        for name, rendition in every_rendition(data, Image.MIME[image_format]).items():
            if name.startswith("thumb"):
                continue
            # Then the transparent half is white and the opaque half keeps its colour
            assert rendition.mode == "RGB"
            assert channel_distance(rendition.getpixel((5, rendition.height // 2)), WHITE) <= TOLERANCE, name
            right = rendition.getpixel((rendition.width - 5, rendition.height // 2))
            assert channel_distance(right, opaque) <= TOLERANCE, (name, right)


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "WEBP"])
def test_icc_profile_is_converted_to_srgb(image_format: str) -> None:
    # Given pixels stored as (255, 0, 0) under a profile that says the first channel is blue
    data = encoded(Image.new("RGB", (300, 200), RED), image_format, icc_profile=swapped_primaries_profile())

    # When it is rendered
    renditions = every_rendition(data, Image.MIME[image_format])

    # Then the renditions show blue, as a colour-managed viewer shows the original, with no profile attached
    for name, rendition in renditions.items():
        assert channel_distance(centre(rendition), BLUE) <= TOLERANCE, (name, centre(rendition))
        assert "icc_profile" not in rendition.info


def test_unusable_icc_profile_is_ignored_not_rejected() -> None:
    # Given a photo with an ICC profile that is garbage
    data = encoded(Image.new("RGB", (300, 200), GREEN), "JPEG", icc_profile=b"not a profile" * 20)

    # When it is rendered
    large = every_rendition(data, "image/jpeg")["large"]

    # Then the pixels are taken as sRGB
    assert channel_distance(centre(large), GREEN) <= TOLERANCE


# --- animation and modern formats ------------------------------------------------------------------------


@pytest.mark.parametrize("image_format", ["PNG", "WEBP", "AVIF"])
def test_animated_pictures_keep_their_first_frame(image_format: str) -> None:
    # Given an animation whose first frame is red and second blue
    first, second = Image.new("RGB", (320, 240), RED), Image.new("RGB", (320, 240), BLUE)
    data = encoded(first, image_format, save_all=True, append_images=[second], duration=100, loop=0)
    assert getattr(Image.open(io.BytesIO(data)), "n_frames", 1) == 2

    # When it is rendered
    renditions = every_rendition(data, Image.MIME[image_format])

    # Then each rendition is a still of the first frame
    for name, rendition in renditions.items():
        assert getattr(rendition, "n_frames", 1) == 1, name
        assert channel_distance(centre(rendition), RED) <= TOLERANCE + 10, (name, centre(rendition))


@pytest.mark.parametrize(("image_format", "content_type"), [("HEIF", "image/heic"), ("AVIF", "image/avif")])
def test_heic_and_avif_round_trip(image_format: str, content_type: str) -> None:
    # Given an iPhone-style HEIC or an AVIF photo
    data = encoded(marked((1600, 1200)), image_format, quality=90)

    # When it is rendered
    result = render_image(data, content_type)

    # Then it gives the usual JPEG and WebP renditions, upright
    large = opened(result.renditions["large"].data)
    assert (result.width, result.height) == (1600, 1200)
    assert large.format == "JPEG" and large.size == (1080, 810)
    assert channel_distance(large.getpixel((5, 5)), RED) <= TOLERANCE
    assert channel_distance(large.getpixel((1070, 800)), BLUE) <= TOLERANCE


# --- no side effects -------------------------------------------------------------------------------------


def test_pillow_global_settings_are_left_as_found() -> None:
    # Given the process-wide Pillow settings and warning filters before a render
    limit, truncated = Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES
    filters = list(warnings.filters)

    # When a picture is rendered
    render_image(encoded(marked((300, 200)), "PNG"), "image/png")

    # Then they are unchanged
    assert (limit, truncated) == (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES)
    assert list(warnings.filters) == filters


def test_every_post_rendition_is_made() -> None:
    # Given any accepted picture
    data = encoded(marked((200, 200)), "PNG")

    # When it is rendered
    result = render_image(data, "image/png")

    # Then the rendition names are exactly the ones API.md lists
    assert list(result.renditions) == [spec.name for spec in POST_RENDITIONS]


# --- format limits ------------------------------------------------------------------------------------------


def striped_tall(size: tuple[int, int]) -> Image.Image:
    """A long screenshot: red top, flat grey middle, blue bottom (flat, so it encodes small and fast)."""
    width, height = size
    image = Image.new("RGB", size, (200, 200, 200))
    image.paste(RED, (0, 0, width, height // 10))
    image.paste(BLUE, (0, height - height // 10, width, height))
    return image


@pytest.mark.parametrize(
    ("size", "image_format", "content_type", "expected"),
    [
        (
            (1080, 17000),
            "JPEG",
            "image/jpeg",
            {"large": (1080, 17000), "large_webp": (1041, 16383), "medium": (640, 10074), "medium_webp": (640, 10074)},
        ),
        (
            (100, 20000),
            "JPEG",
            "image/jpeg",
            {"large": (100, 20000), "large_webp": (82, 16383), "medium": (100, 20000), "medium_webp": (82, 16383)},
        ),
        (
            (600, 16384),
            "PNG",
            "image/png",
            {"large": (600, 16384), "large_webp": (600, 16383), "medium": (600, 16384), "medium_webp": (600, 16383)},
        ),
        (
            (1080, 16384),
            "PNG",
            "image/png",
            {"large": (1080, 16384), "large_webp": (1080, 16383), "medium": (640, 9709), "medium_webp": (640, 9709)},
        ),
    ],
    ids=["screenshot-1080x17000", "strip-100x20000", "png-600x16384", "png-1080x16384"],
)
def test_a_picture_taller_than_webp_allows_gets_its_webp_renditions_scaled_into_the_limit(
    size: tuple[int, int], image_format: str, content_type: str, expected: dict[str, tuple[int, int]]
) -> None:
    # Given a valid tall picture (under 50 MP) whose kept-size renditions are past WebP's 16383 pixels a side
    data = encoded(striped_tall(size), image_format)

    # When it is rendered for a post
    result = render_image(data, content_type)

    # Then every rendition is made: the JPEG ones at their usual size, the WebP ones scaled down (aspect kept) to fit
    assert (result.width, result.height) == size
    sizes = {name: (rendition.width, rendition.height) for name, rendition in result.renditions.items()}
    assert sizes == {**expected, "thumb": (150, 150), "thumb_webp": (150, 150)}
    for name, rendition in result.renditions.items():
        image = opened(rendition.data)
        # And each file is the size its rendition reports, of the format it says, and the whole picture: red top,
        # blue bottom (scaled, not cut)
        assert image.size == (rendition.width, rendition.height)
        assert Image.MIME[image.format or ""] == rendition.content_type
        if not name.startswith("thumb"):
            assert channel_distance(image.getpixel((image.width // 2, 2)), RED) <= TOLERANCE
            assert channel_distance(image.getpixel((image.width // 2, image.height - 3)), BLUE) <= TOLERANCE


def test_a_picture_taller_than_jpeg_allows_gets_its_jpeg_renditions_scaled_into_the_limit() -> None:
    # Given a 2×70000 PNG strip: 140,000 pixels, past libjpeg's 65500 pixels a side
    data = encoded(striped_tall((2, 70000)), "PNG")

    # When it is rendered for a post
    result = render_image(data, "image/png")

    # Then its JPEG renditions are 65500 tall and its WebP ones 16383 (2 × 65500/70000 rounds to 2, and to 1 for WebP)
    sizes = {name: (rendition.width, rendition.height) for name, rendition in result.renditions.items()}
    assert sizes == {
        "large": (2, 65500),
        "large_webp": (1, 16383),
        "medium": (2, 65500),
        "medium_webp": (1, 16383),
        "thumb": (150, 150),
        "thumb_webp": (150, 150),
    }
    for rendition in result.renditions.values():
        assert opened(rendition.data).size == (rendition.width, rendition.height)


def test_an_avatar_blurhash_paints_its_square_crop_and_a_post_blurhash_the_whole_picture() -> None:
    # Given a 400×1600 portrait: red top, green middle, blue bottom
    image = Image.new("RGB", (400, 1600), GREEN)
    image.paste(RED, (0, 0, 400, 600))
    image.paste(BLUE, (0, 1000, 400, 1600))
    data = encoded(image, "JPEG", quality=95)

    # When it is rendered as an avatar and as a post
    avatar = render_image(data, "image/jpeg", "avatar")
    post = render_image(data, "image/jpeg", "post")

    # Then the avatar's blurhash is of the green centre square its renditions show, top to bottom
    painted = blurhash.decode(avatar.blurhash, 15, 15)
    for y in (0, 7, 14):
        assert channel_distance(painted.getpixel((7, y)), GREEN) <= TOLERANCE
    # And the post's is of the whole portrait (its Media is 400×1600): reddest at the top, bluest at the bottom
    painted = blurhash.decode(post.blurhash, 15, 60)
    (top_red, _, top_blue), (bottom_red, _, bottom_blue) = painted.getpixel((7, 2)), painted.getpixel((7, 57))
    assert top_red > top_blue + 100 and bottom_blue > bottom_red + 100
