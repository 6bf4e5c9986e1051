"""An uploaded picture → upright, sRGB, metadata-free JPEG and WebP renditions and a blurhash.

Loads Pillow (and, for uploaded pictures, pillow-heif): only resize and transcode import this module, never an API
function. transcode renders posters with `render_frame` and has no pillow-heif in its package.

Hostile input is the normal case here. The bytes must be the format the upload declared (sniffed from the
signature, then opened with that one Pillow plugin only); the pixel count is checked from the header before
anything is decoded; Pillow's decompression-bomb warning is an error and truncated files stay errors.

Cost: a JPEG is decoded once, DCT-scaled (`draft`) to the smallest size that still covers the largest
rendition; that frame is resized once to a `base` and dropped, and each rendition is then resized from the
smallest image already made that is still sharp enough. Orientation, flattening and colour conversion run on
the base, not on the decoded frame.
"""

import contextlib
import io
import math
import struct
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import BinaryIO

import blurhash
from PIL import Image, ImageCms, ImageFile

from pinhole.media.limits import (
    BLURHASH_RENDITION,
    JPEG,
    MAX_IMAGE_BYTES,
    MAX_IMAGE_PIXELS,
    MAX_SIDE_OF_FORMAT,
    POSTER_RENDITIONS,
    RENDITIONS,
    MediaKind,
    MediaRejected,
    RejectionCode,
    RenditionSpec,
    check_size,
    media_type_of,
    normalise_content_type,
)
from pinhole.media.models import ImageRenditions, Rendition

FORMAT_OF_CONTENT_TYPE = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/heic": "HEIF",
    "image/avif": "AVIF",
}
FORMAT_NAMES = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "HEIF": "HEIC", "AVIF": "AVIF"}

# Measured on a 12 MP photo (benchmarks/resize.py): optimised Huffman tables give bytes within ~1.5% of progressive
# at ~10 ms less per upload; WebP method 2 is ~5% larger than method 4 at half its encode time.
JPEG_OPTIONS = {"quality": 82, "optimize": True}
WEBP_OPTIONS = {"quality": 80, "method": 2}
RESAMPLE = Image.Resampling.LANCZOS
# Above this integer factor Pillow box-reduces first, then LANCZOS-resizes: indistinguishable and much cheaper.
REDUCING_GAP = 3.0
BLURHASH_SIZE = 32
BLURHASH_COMPONENTS = (4, 3)
WHITE = 255

# ftyp brands of HEIF still images; AVIF's own brands are checked first, since AVIF files also carry `mif1`.
HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"})
AVIF_BRANDS = frozenset({b"avif", b"avis"})
SNIFF_BYTES = 256

# Each scan of a progressive JPEG is one more pass over every block of the picture, and a scan can be a dozen
# bytes: ~1 MB of repeated scans costs libjpeg minutes on a 16 MP frame (hostile corpus, jpeg-progressive-scan-bomb).
# Encoders write few: libjpeg's progressive script has 10, mozjpeg's at most about 20; libjpeg-turbo's
# TJPARAM_SCANLIMIT exists for this attack. Pillow does not expose it, so the scans are counted before decoding.
MAX_JPEG_SCANS = 100

# EXIF orientation → the transpose that makes the stored pixels upright (EXIF 2.32, tag 0x0112).
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
SWAPS_AXES = frozenset({5, 6, 7, 8})
ORIENTATION_TAG = 0x0112

# What Pillow's plugins raise on damaged or hostile input, on open as well as on load.
DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, struct.error, RuntimeError)


def render_image(source: bytes | BinaryIO, declared_content_type: str, kind: MediaKind = "post") -> ImageRenditions:
    """Every rendition of `kind` (limits.RENDITIONS) of an uploaded picture, or `MediaRejected`."""
    if kind not in RENDITIONS:
        raise ValueError(f"unknown media kind {kind!r}")
    return render_renditions(source, declared_content_type, RENDITIONS[kind], BLURHASH_RENDITION[kind])


def render_renditions(
    source: bytes | BinaryIO,
    declared_content_type: str,
    specs: Sequence[RenditionSpec],
    blurhash_of: str | None = None,
) -> ImageRenditions:
    """`render_image` for any list of rendition specs, largest first (the benchmark renders JPEG ones alone). The
    blurhash is of the rendition named `blurhash_of` (an avatar's crop), or of the whole picture."""
    expected = _expected_format(declared_content_type)
    register_heif()
    fp = _seekable(source)
    _check_signature(fp, expected)
    if expected == "JPEG":
        _check_jpeg_scans(fp)
    base, upright_size = _decode_base(fp, expected, specs)
    return _render(base, upright_size, specs, blurhash_of)


@lru_cache(maxsize=1)
def register_heif() -> None:
    """HEIC and AVIF open through pillow-heif, which only resize carries (the heif layer)."""
    import pillow_heif

    pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


def render_frame(frame: Image.Image, specs: Sequence[RenditionSpec] = POSTER_RENDITIONS) -> ImageRenditions:
    """Renditions of an already decoded, upright frame (a video poster) through the same path as uploads."""
    base = _to_srgb(_resizable(frame), None)
    return _render(base, base.size, specs)


def _expected_format(declared_content_type: str) -> str:
    content_type = normalise_content_type(declared_content_type)
    if media_type_of(content_type) != "image":
        raise MediaRejected(RejectionCode.UNSUPPORTED_TYPE, f"This upload ({declared_content_type}) is not a picture.")
    return FORMAT_OF_CONTENT_TYPE[content_type]


def _seekable(source: bytes | BinaryIO) -> BinaryIO:
    if isinstance(source, bytes | bytearray | memoryview):
        fp: BinaryIO = io.BytesIO(source)
    elif source.seekable():
        fp = source
    else:
        fp = io.BytesIO(source.read(MAX_IMAGE_BYTES + 1))
    size = fp.seek(0, io.SEEK_END)
    fp.seek(0)
    check_size("image", size)
    return fp


def sniff_format(head: bytes) -> str | None:
    """The Pillow format name the file's signature announces, among the accepted ones; None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    brands = _ftyp_brands(head)
    if brands & AVIF_BRANDS:
        return "AVIF"
    if brands & HEIF_BRANDS:
        return "HEIF"
    return None


def _ftyp_brands(head: bytes) -> set[bytes]:
    if len(head) < 16 or head[4:8] != b"ftyp":
        return set()
    box_end = min(int.from_bytes(head[:4], "big"), len(head))
    compatible = (head[offset : offset + 4] for offset in range(16, box_end - 3, 4))
    return {head[8:12], *compatible}


def _check_signature(fp: BinaryIO, expected: str) -> None:
    head = fp.read(SNIFF_BYTES)
    fp.seek(0)
    actual = sniff_format(head)
    if actual == expected:
        return
    claimed = FORMAT_NAMES[expected]
    looks_like = f"its content is {FORMAT_NAMES[actual]}" if actual else "it is not a supported picture format"
    raise MediaRejected(
        RejectionCode.TYPE_MISMATCH, f"The file is not the {claimed} image it claims to be: {looks_like}."
    )


def _check_jpeg_scans(fp: BinaryIO) -> None:
    data = fp.getvalue() if isinstance(fp, io.BytesIO) else fp.read()  # BytesIO shares its bytes: no copy
    fp.seek(0)
    if count_jpeg_scans(data, stop_after=MAX_JPEG_SCANS) > MAX_JPEG_SCANS:
        raise MediaRejected(
            RejectionCode.UNPROCESSABLE,
            f"The picture is stored in more than {MAX_JPEG_SCANS} progressive passes, too many to process. "
            "Save it again as a standard JPEG.",
        )


def count_jpeg_scans(data: bytes, stop_after: int) -> int:
    """The start-of-scan segments of a JPEG up to its end marker, counting no further than one past `stop_after`.

    Walks the marker segments (skipping each by its length) and each scan's entropy-coded data to the next real
    marker (0xFF followed by neither a stuffed 0x00 nor a restart marker), so bytes inside APPn segments, an
    embedded thumbnail or data after the end marker (a phone's motion-photo trailer) never count. A damaged
    structure ends the count early: the decoder then rejects the file itself."""
    scans, position, end = 0, 2, len(data)
    while position + 4 <= end and data[position] == 0xFF:
        marker = data[position + 1]
        if marker == 0xFF:  # a fill byte before a marker
            position += 1
            continue
        if marker == 0xD9:  # end of image
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            position += 2
            continue
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
        if marker != 0xDA:
            continue
        scans += 1
        if scans > stop_after:
            break
        position = _end_of_entropy_coded_data(data, position)
    return scans


def _end_of_entropy_coded_data(data: bytes, position: int) -> int:
    while (position := data.find(b"\xff", position)) >= 0 and position + 1 < len(data):
        following = data[position + 1]
        if following == 0 or 0xD0 <= following <= 0xD7:
            position += 2
        elif following == 0xFF:
            position += 1
        else:
            return position
    return len(data)


@contextmanager
def _decoder_guards() -> Iterator[None]:
    """Pillow's pixel limit at ours, its bomb warning an error, truncation an error — for this call only."""
    saved = Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES
    Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = MAX_IMAGE_PIXELS, False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    finally:
        Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = saved


def _too_many_pixels() -> MediaRejected:
    return MediaRejected(
        RejectionCode.TOO_MANY_PIXELS,
        f"The picture has too many pixels: at most {MAX_IMAGE_PIXELS // 1_000_000} megapixels are accepted.",
    )


def _corrupt() -> MediaRejected:
    return MediaRejected(RejectionCode.CORRUPT, "The picture is damaged or incomplete and cannot be read.")


def _decode_base(fp: BinaryIO, expected: str, specs: Sequence[RenditionSpec]) -> tuple[Image.Image, tuple[int, int]]:
    """The upright sRGB image every rendition is cut from, and the upright size of the upload.

    The decoded frame lives only inside this function, so it is freed before any rendition is encoded."""
    with _decoder_guards():
        try:
            with Image.open(fp, formats=[expected]) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise _too_many_pixels()
                orientation = _orientation(image)
                upright_size = (height, width) if orientation in SWAPS_AXES else (width, height)
                needed = _needed_size(upright_size, specs)
                stored_needed = needed[::-1] if orientation in SWAPS_AXES else needed
                drafted = image.draft(None, stored_needed)
                image.load()
                icc_profile = image.info.get("icc_profile")
                frame = _resizable(image)
                box = drafted[1] if drafted else None
                scaled = _resize(frame, stored_needed, box=box)
                if scaled is image:  # closing the file below would close the pixels too
                    scaled = image.copy()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise _too_many_pixels() from error
        except DECODE_ERRORS as error:
            raise _corrupt() from error
    if orientation in UPRIGHT:
        scaled = scaled.transpose(UPRIGHT[orientation])
    return _to_srgb(scaled, icc_profile), upright_size


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(ORIENTATION_TAG, 1)
    except DECODE_ERRORS:  # an unreadable EXIF block must not lose the picture
        return 1
    return value if isinstance(value, int) and value in UPRIGHT else 1


def _needed_size(upright_size: tuple[int, int], specs: Sequence[RenditionSpec]) -> tuple[int, int]:
    """The smallest scaling of the upload every rendition can be cut from without upscaling (never above 1:1)."""
    width, height = upright_size
    scale = 0.0
    for spec in specs:
        scale = max(scale, spec.width / width, (spec.height or 0) / height)
    scale = min(scale, 1.0)
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))


def _resizable(image: Image.Image) -> Image.Image:
    """The image in a mode Pillow resizes faithfully: 8 bits per channel, alpha kept for flattening later."""
    mode = image.mode
    if mode in ("RGB", "RGBA", "L", "LA", "CMYK"):
        return image
    if mode == "P" or mode == "PA":
        return image.convert("RGBA" if "transparency" in image.info or mode == "PA" else "RGB")
    if mode == "1":
        return image.convert("L")
    if mode.startswith("I") or mode == "F":  # 16-bit grey (PNG); scale to 8 bits instead of clipping
        return image.convert("I").point(lambda value: value * (1 / 257)).convert("L")
    return image.convert("RGB")


def _resize(
    image: Image.Image, size: tuple[int, int], box: tuple[float, float, float, float] | None = None
) -> Image.Image:
    if box is None and image.size == size:
        return image
    return image.resize(size, RESAMPLE, box=box, reducing_gap=REDUCING_GAP)


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """RGB in sRGB, transparency flattened on white, and no metadata left to leak into an encoded file."""
    if "A" in image.getbands():
        colour_mode = "L" if image.mode == "LA" else "RGB"
        flat = Image.new(colour_mode, image.size, WHITE if colour_mode == "L" else (WHITE, WHITE, WHITE))
        flat.paste(image.convert(colour_mode), mask=image.getchannel("A"))
        image = flat
    if icc_profile:
        # A profile lcms cannot use is ignored: the pixels are taken as sRGB, as browsers would take them.
        with contextlib.suppress(ImageCms.PyCMSError, OSError, ValueError, TypeError):
            image = _transform_to_srgb(icc_profile, image.mode).apply(image)
    if image.mode != "RGB":
        image = image.convert("RGB")
    image.info = {}
    return image


@lru_cache(maxsize=16)
def _transform_to_srgb(icc_profile: bytes, mode: str) -> ImageCms.ImageCmsTransform:
    source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
    return ImageCms.buildTransform(source, ImageCms.createProfile("sRGB"), mode, "RGB")


def _render(
    base: Image.Image,
    upright_size: tuple[int, int],
    specs: Sequence[RenditionSpec],
    blurhash_of: str | None = None,
) -> ImageRenditions:
    width, height = upright_size
    frames = [base]  # uncropped scalings of the upload, largest first
    pixels: dict[tuple[int, int, bool], Image.Image] = {}
    renditions: dict[str, Rendition] = {}
    painted = None  # what the blurhash stands for, when not the whole picture
    for spec in specs:
        if spec.is_crop:
            key = (spec.width, spec.height or 0, True)
            if key not in pixels:
                pixels[key] = _crop(frames, upright_size, spec)
        else:
            target = _fit_size(upright_size, spec)
            key = (*target, False)
            if key not in pixels:
                pixels[key] = _fit(frames, upright_size, target)
        image = pixels[key]
        renditions[spec.name] = Rendition(
            _encode(image, spec.content_type), image.width, image.height, spec.content_type
        )
        if spec.name == blurhash_of:
            painted = image
    if blurhash_of is not None and painted is None:
        raise ValueError(f"no rendition {blurhash_of!r} to take the blurhash of")
    whole = min(frames, key=lambda frame: frame.width)
    return ImageRenditions(width, height, _blurhash(whole if painted is None else painted), renditions)


def _fit_size(upright_size: tuple[int, int], spec: RenditionSpec) -> tuple[int, int]:
    """`spec.width` wide (never upscaled), the aspect kept, and no side longer than the rendition's format can
    store: a 1080×17000 screenshot's `large` is 1080×17000, its `large_webp` 1041×16383."""
    width, height = upright_size
    target_width = min(spec.width, width)
    target_height = max(1, round(height * target_width / width))
    longest, limit = max(target_width, target_height), MAX_SIDE_OF_FORMAT[spec.content_type]
    if longest <= limit:
        return target_width, target_height
    return max(1, round(target_width * limit / longest)), max(1, round(target_height * limit / longest))


def _fit(frames: list[Image.Image], upright_size: tuple[int, int], target: tuple[int, int]) -> Image.Image:
    width = upright_size[0]
    source = _smallest_covering(frames, width, target[0] / width)
    image = _resize(source, target)
    if image is not source:
        frames.append(image)
    return image


def _crop(frames: list[Image.Image], upright_size: tuple[int, int], spec: RenditionSpec) -> Image.Image:
    assert spec.height is not None
    width, height = upright_size
    scale = max(spec.width / width, spec.height / height)
    source = _smallest_covering(frames, width, scale)
    ratio = source.width / width  # the source's pixels per pixel of the upload
    # min(): the source's height was rounded to a whole pixel and may fall a fraction short of the crop's
    crop_width = min(spec.width / scale * ratio, source.width)
    crop_height = min(spec.height / scale * ratio, source.height)
    left, top = (source.width - crop_width) / 2, (source.height - crop_height) / 2
    box = (left, top, left + crop_width, top + crop_height)
    return source.resize((spec.width, spec.height), RESAMPLE, box=box, reducing_gap=REDUCING_GAP)


def _smallest_covering(frames: list[Image.Image], upload_width: int, scale: float) -> Image.Image:
    """The smallest frame at least `scale` of the upload's width; the base (frames[0]) when none is."""
    needed = upload_width * scale - 0.5  # frames were rounded to whole pixels
    return min((frame for frame in frames if frame.width >= needed), key=lambda frame: frame.width, default=frames[0])


def _encode(image: Image.Image, content_type: str) -> bytes:
    buffer = io.BytesIO()
    if content_type == JPEG:
        image.save(buffer, "JPEG", **JPEG_OPTIONS)
    else:
        image.save(buffer, "WEBP", **WEBP_OPTIONS)
    return buffer.getvalue()


def _blurhash(image: Image.Image) -> str:
    """4×3 components of a 32-pixel version: a blurhash of more pixels looks no different and costs more."""
    scale = BLURHASH_SIZE / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    tiny = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    x_components, y_components = BLURHASH_COMPONENTS
    return str(blurhash.encode(tiny, x_components=x_components, y_components=y_components))
