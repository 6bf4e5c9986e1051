"""Pictures made on the fly for the media tests: no binary fixtures are committed, every input is built here."""

import io
import struct
import zlib

from PIL import Image, ImageCms

from pinhole.media.imaging import register_heif

register_heif()  # the factories save HEIC and AVIF

RED = (255, 0, 0)
BLUE = (0, 0, 255)
GREEN = (0, 160, 0)
WHITE = (255, 255, 255)

TELLTALE_MAKE = "PinholeSecretCam"
TELLTALE_XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>PinholeSecretXmp</rdf:RDF></x:xmpmeta>'
GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F


def marked(size: tuple[int, int], background: tuple[int, int, int] = BLUE) -> Image.Image:
    """A picture whose top-left quarter is red, so where that corner lands shows how it was turned."""
    image = Image.new("RGB", size, background)
    image.paste(RED, (0, 0, size[0] // 2, size[1] // 2))
    return image


def encoded(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def camera_exif(orientation: int = 1) -> Image.Exif:
    """The EXIF a phone writes: maker, orientation and a GPS position (52.37 N, 4.89 E)."""
    exif = Image.Exif()
    exif[MAKE] = TELLTALE_MAKE
    exif[ORIENTATION] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (52.0, 22.0, 12.0), 3: "E", 4: (4.0, 53.0, 24.0)})
    return exif


# Stored pixels for each EXIF orientation: the upright picture turned the way a camera would have recorded it.
# EXIF 2.32: 6 means "0th row is the visual right side", i.e. the stored picture is the upright one turned
# 90° anticlockwise.
STORED_AS = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def as_camera_stored(upright: Image.Image, orientation: int) -> bytes:
    """The JPEG a camera writes for `upright` when it records the pixels turned and sets `orientation`."""
    method = STORED_AS[orientation]
    stored = upright if method is None else upright.transpose(method)
    return encoded(stored, "JPEG", quality=95, exif=camera_exif(orientation))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_by_hand(width: int, height: int, bit_depth: int, colour_type: int, rows: bytes | None) -> bytes:
    """A PNG assembled chunk by chunk, for what Pillow will not write (16-bit RGB) or must not (a lying header)."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    idat = zlib.compress(rows) if rows is not None else zlib.compress(b"\x00" * 16)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def png_16bit_rgb(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    """A 16-bit-per-channel RGB PNG filled with `colour` (0–65535 per channel)."""
    width, height = size
    row = b"\x00" + struct.pack(">HHH", *colour) * width
    return png_by_hand(width, height, 16, 2, row * height)


def swapped_primaries_profile() -> bytes:
    """An RGB ICC profile whose first channel is blue and third red: sRGB with its red and blue colorants swapped.

    Pixels stored as (255, 0, 0) under it are blue; a renderer that ignores the profile shows them red."""
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    (count,) = struct.unpack_from(">I", profile, 128)
    entries = {}
    for index in range(count):
        offset = 132 + 12 * index
        signature, data_offset, size = struct.unpack_from(">4sII", profile, offset)
        entries[signature] = (offset, data_offset, size)
    (red_entry, *red), (blue_entry, *blue) = entries[b"rXYZ"], entries[b"bXYZ"]
    struct.pack_into(">II", profile, red_entry + 4, *blue)
    struct.pack_into(">II", profile, blue_entry + 4, *red)
    profile[84:100] = bytes(16)  # the profile ID is an MD5 of the old content; zero means "not computed"
    return bytes(profile)


def channel_distance(pixel: object, expected: tuple[int, int, int]) -> int:
    """How far an RGB pixel (as `getpixel` returns it) is from `expected`, in the worst channel."""
    assert isinstance(pixel, tuple), pixel
    return max(abs(a - b) for a, b in zip(pixel, expected, strict=True))


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image
