"""Tall pictures through the real resize handler: a long phone screenshot is a valid upload (under 30 MB and
50 MP), whose kept-size renditions are past what WebP (16383 px a side) can store. Each rendition is scaled into its
format's limit, so the item is ready, its post published, and every rendition says the size of its file."""

import io

import pytest
from PIL import Image

from pinhole.posts.models import MediaStatus, PostKind, PostStatus
from pinhole.upload.keys import UploadKey
from tests.support.resize_pipeline import ResizePipeline, create_resize_tables, resize_wiring

WIRING = resize_wiring()


@pytest.fixture
def pipeline(aws: dict[str, str]) -> ResizePipeline:
    create_resize_tables()
    return ResizePipeline(WIRING)


def screenshot(size: tuple[int, int], image_format: str) -> bytes:
    """A long screenshot: flat grey with a red top band (flat pictures encode small: 1080×17000 is ~290 KB)."""
    image = Image.new("RGB", size, (200, 200, 200))
    image.paste((255, 0, 0), (0, 0, size[0], size[1] // 10))
    buffer = io.BytesIO()
    image.save(buffer, image_format)
    return buffer.getvalue()


def stored_sizes(pipeline: ResizePipeline, key: UploadKey) -> dict[str, tuple[int, int, str]]:
    """Each rendition as the item names it, with the size and type of the file really stored under its key."""
    objects = pipeline.rendition_objects(key)
    sizes = {}
    for name, rendition in pipeline.media(key).rendition_keys.items():
        with Image.open(io.BytesIO(objects[rendition.key])) as image:
            assert image.size == (rendition.width, rendition.height), name
            assert Image.MIME[image.format or ""] == rendition.content_type, name
        sizes[name] = (rendition.width, rendition.height, rendition.content_type)
    return sizes


@pytest.mark.parametrize("kind", [PostKind.POST, PostKind.STORY])
def test_a_1080_by_17000_screenshot_is_published_with_its_webp_renditions_scaled_to_fit(
    pipeline: ResizePipeline, kind: PostKind
) -> None:
    # Given a 1080×17000 JPEG screenshot (18.4 MP) uploaded to a post or a story
    key = pipeline.upload("image/jpeg", screenshot((1080, 17000), "JPEG"), kind)

    # When resize runs until the queue is empty
    pipeline.deliver()

    # Then the item is ready at the picture's size, with no reason, and its post published; nothing was given up
    media = pipeline.media(key)
    assert (media.status, media.width, media.height) == (MediaStatus.READY, 1080, 17000)
    assert (media.reason, media.reason_code, media.claim) == (None, None, None)
    assert media.blurhash is not None and len(media.blurhash) == 28
    assert pipeline.status(key) == PostStatus.PUBLISHED
    assert pipeline.dead_letters() == []
    # And every rendition is stored at the size it reports: JPEG large kept, WebP large scaled under 16384 tall
    expected = {
        "large": (1080, 17000, "image/jpeg"),
        "large_webp": (1041, 16383, "image/webp"),
        "medium": (640, 10074, "image/jpeg"),
        "medium_webp": (640, 10074, "image/webp"),
        "thumb": (150, 150, "image/jpeg"),
        "thumb_webp": (150, 150, "image/webp"),
    }
    if kind == PostKind.STORY:
        expected |= {"story": (1080, 1920, "image/jpeg"), "story_webp": (1080, 1920, "image/webp")}
    assert stored_sizes(pipeline, key) == expected


@pytest.mark.parametrize(
    ("size", "image_format", "content_type", "large_webp"),
    [
        ((100, 20000), "JPEG", "image/jpeg", (82, 16383)),
        ((600, 16384), "PNG", "image/png", (600, 16383)),
        ((1080, 16384), "PNG", "image/png", (1080, 16383)),
    ],
    ids=["jpeg-100x20000", "png-600x16384", "png-1080x16384"],
)
def test_tall_jpegs_and_pngs_are_published_with_webp_renditions_within_16383_pixels(
    pipeline: ResizePipeline,
    size: tuple[int, int],
    image_format: str,
    content_type: str,
    large_webp: tuple[int, int],
) -> None:
    # Given a tall picture of the reported sizes
    key = pipeline.upload(content_type, screenshot(size, image_format))

    # When resize runs
    pipeline.deliver()

    # Then it is ready and published, its JPEG large at its own size and its WebP large scaled to fit
    media = pipeline.media(key)
    assert (media.status, media.width, media.height, media.reason_code) == (MediaStatus.READY, *size, None)
    assert pipeline.status(key) == PostStatus.PUBLISHED
    sizes = stored_sizes(pipeline, key)
    assert sizes["large"] == (*size, "image/jpeg")
    assert sizes["large_webp"] == (*large_webp, "image/webp")
    assert all(max(width, height) <= 16383 for width, height, kind in sizes.values() if kind == "image/webp")
