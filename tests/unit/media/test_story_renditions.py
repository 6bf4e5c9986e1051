"""A story's renditions: every one of a post's, and the 9:16 story rendition: whatever the shape of the photo,
exactly 1080×1920, filled (cover, never letterboxed), cut evenly on both sides of the long axis, and never squeezed."""

import pytest
from PIL import Image

from pinhole.media.imaging import render_image
from pinhole.media.limits import JPEG, STORY_RENDITIONS, WEBP
from tests.unit.media.factories import BLUE, GREEN, RED, channel_distance, encoded, marked, opened

TOLERANCE = 12
STORY = (1080, 1920)


def story_of(image: Image.Image) -> Image.Image:
    return opened(render_image(encoded(image, "PNG"), "image/png", "story").renditions["story"].data)


def banded(size: tuple[int, int], band: int, *, vertical: bool) -> Image.Image:
    """Green, with a red band of `band` pixels at the start of the long axis and a blue one at its end."""
    width, height = size
    image = Image.new("RGB", size, GREEN)
    if vertical:
        image.paste(RED, (0, 0, width, band))
        image.paste(BLUE, (0, height - band, width, height))
    else:
        image.paste(RED, (0, 0, band, height))
        image.paste(BLUE, (width - band, 0, width, height))
    return image


def test_a_story_carries_every_rendition_of_a_post_and_the_full_screen_crop() -> None:
    # Given a 2000×1500 landscape photo (marked: red top-left quarter)
    photo = encoded(marked((2000, 1500)), "JPEG", quality=90)

    # When it is rendered as a story, and as a post
    story, post = render_image(photo, "image/jpeg", "story"), render_image(photo, "image/jpeg", "post")

    # Then the story has API.md's Media renditions (large, medium, thumb, each also WebP) and the 1080×1920 crop
    sizes = {name: (r.width, r.height, r.content_type) for name, r in story.renditions.items()}
    assert sizes == {
        "story": (*STORY, JPEG),
        "story_webp": (*STORY, WEBP),
        "large": (1080, 810, JPEG),
        "large_webp": (1080, 810, WEBP),
        "medium": (640, 480, JPEG),
        "medium_webp": (640, 480, WEBP),
        "thumb": (150, 150, JPEG),
        "thumb_webp": (150, 150, WEBP),
    }
    assert [spec.name for spec in STORY_RENDITIONS] == list(sizes)
    assert (story.width, story.height) == (2000, 1500)
    # And each post rendition is the post's own: the same size, type and picture (the corner red, the rest blue)
    for name, rendition in post.renditions.items():
        made = story.renditions[name]
        assert (made.width, made.height) == (rendition.width, rendition.height), name
        assert made.content_type == rendition.content_type, name
        picture = opened(made.data)
        assert channel_distance(picture.getpixel((3, 3)), RED) <= TOLERANCE, name
        assert channel_distance(picture.getpixel((picture.width - 4, picture.height - 4)), BLUE) <= TOLERANCE, name
        assert channel_distance(picture.getpixel((3, 3)), opened(rendition.data).getpixel((3, 3))) <= 2, name


@pytest.mark.parametrize(
    ("size", "band", "kept"),
    [
        # taller than 9:16: 1080×2400 keeps its middle 1920 rows; 240-row bands at each end go
        ((1080, 2400), 240, False),
        # a bit taller: 1080×2000 keeps 1920 rows, 40 go at each end: a 39-row band goes, a 60-row one shows 20
        ((1080, 2000), 39, False),
        ((1080, 2000), 60, True),
        # extremely tall (a screenshot of a thread): 500×6000 keeps its middle 500×889
        ((500, 6000), 2500, False),
    ],
    ids=["tall", "slightly-tall-cut", "slightly-tall-kept", "very-tall"],
)
def test_a_photo_taller_than_9_16_loses_top_and_bottom_evenly(size: tuple[int, int], band: int, kept: bool) -> None:
    # Given a photo taller than 9:16, with a red band at the top and a blue one at the bottom
    story = story_of(banded(size, band, vertical=True))

    # Then the story is exactly 1080×1920, the full width, its middle green and the bands cut or shown alike
    assert story.size == STORY
    assert channel_distance(story.getpixel((540, 960)), GREEN) <= TOLERANCE
    assert (channel_distance(story.getpixel((540, 2)), RED) <= TOLERANCE) is kept
    assert (channel_distance(story.getpixel((540, 1917)), BLUE) <= TOLERANCE) is kept
    for x in (2, 1077):  # nothing cut from the sides
        assert channel_distance(story.getpixel((x, 960)), GREEN) <= TOLERANCE


@pytest.mark.parametrize(
    ("size", "band", "kept"),
    [
        # 3:4 (1200×1600): the 900 middle columns are kept, 150 go on each side: 140 go, 170 show 20
        ((1200, 1600), 140, False),
        ((1200, 1600), 170, True),
        # 16:9 landscape 1920×1080: only the middle 608 columns remain
        ((1920, 1080), 640, False),
        # a square 1000×1000: the middle 563 columns remain
        ((1000, 1000), 200, False),
    ],
    ids=["3-4-cut", "3-4-kept", "landscape", "square"],
)
def test_a_photo_wider_than_9_16_loses_both_sides_evenly(size: tuple[int, int], band: int, kept: bool) -> None:
    # Given a photo wider than 9:16, with a red band on the left and a blue one on the right
    story = story_of(banded(size, band, vertical=False))

    # Then the story is exactly 1080×1920, the full height, the bands cut or shown alike
    assert story.size == STORY
    assert channel_distance(story.getpixel((540, 960)), GREEN) <= TOLERANCE
    assert (channel_distance(story.getpixel((2, 960)), RED) <= TOLERANCE) is kept
    assert (channel_distance(story.getpixel((1077, 960)), BLUE) <= TOLERANCE) is kept
    for y in (2, 1917):  # nothing cut from the top or the bottom
        assert channel_distance(story.getpixel((540, y)), GREEN) <= TOLERANCE


@pytest.mark.parametrize("size", [(1080, 1920), (2160, 3840), (90, 160)], ids=["exact", "double", "tiny"])
def test_a_9_16_photo_is_only_scaled_even_when_tiny(size: tuple[int, int]) -> None:
    # Given a 9:16 photo, red top-left quarter, blue elsewhere (tiny ones are scaled up: a story fills the screen)
    width, height = size
    image = Image.new("RGB", size, BLUE)
    image.paste(RED, (0, 0, width // 2, height // 2))

    # When it becomes a story
    story = story_of(image)

    # Then nothing is cut: each corner keeps its colour and the red quarter ends at the middle
    assert story.size == STORY
    assert channel_distance(story.getpixel((3, 3)), RED) <= TOLERANCE
    assert channel_distance(story.getpixel((1076, 3)), BLUE) <= TOLERANCE
    assert channel_distance(story.getpixel((3, 1916)), BLUE) <= TOLERANCE
    assert channel_distance(story.getpixel((1076, 1916)), BLUE) <= TOLERANCE
    assert channel_distance(story.getpixel((520, 940)), RED) <= TOLERANCE
    assert channel_distance(story.getpixel((560, 980)), BLUE) <= TOLERANCE
