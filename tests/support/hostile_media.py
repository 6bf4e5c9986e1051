"""A corpus of hostile uploads in every accepted format, built from code (no binaries are committed).

Each `HostileFile` names its family (malformed, oversized, polyglot, bomb, metadata), the content type it is
uploaded as, the outcome resize must reach (a `RejectionCode` value, or "ready" for a file that is a valid
picture under its disguise and must come out re-encoded with the disguise gone) and, for polyglots, the bytes
that must never reach a rendition. Builds are deterministic (seeded noise, fixed ffmpeg arguments) and cached
per process: `build(name)` is what tests and the soak upload.

`VALID` holds one ordinary file per accepted type: the neighbours that must still publish in a batch where
hostile files are rejected.
"""

from __future__ import annotations

import io
import random
import struct
import subprocess
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from PIL import Image

from pinhole.media.imaging import register_heif
from pinhole.media.limits import MAX_IMAGE_BYTES, RejectionCode

register_heif()  # the builders save HEIC and AVIF

Family = Literal["valid", "malformed", "oversized", "polyglot", "bomb", "metadata"]
READY = "ready"

JPEG, PNG, WEBP, HEIC, AVIF = "image/jpeg", "image/png", "image/webp", "image/heic", "image/avif"
MP4, MOV = "video/mp4", "video/quicktime"

# What a polyglot hides; a rendition carrying either would serve the attacker's content from our CDN.
SCRIPT_PAYLOAD = b"<script>alert('pinhole-hostile-payload')</script>"
ZIP_PAYLOAD_NAME = "pinhole-hostile-payload.html"
HTML = b"<!DOCTYPE html><html><body>" + SCRIPT_PAYLOAD + b"</body></html>"
SVG = b"<svg xmlns='http://www.w3.org/2000/svg' onload=\"alert('pinhole-hostile-payload')\"/>"
GIF_JS_POLYGLOT = b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=1;" + SCRIPT_PAYLOAD
# An HLS playlist behind an MP4 signature: ffmpeg probing it as HLS would fetch the metadata endpoint.
HLS_SSRF = b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nhttp://169.254.169.254/latest/meta-data/\n#EXT-X-ENDLIST\n"

# More scans than any encoder writes (libjpeg's progressive script has 10, mozjpeg's about 20): each scan of a
# progressive JPEG is a pass over every block of the picture, so a few bytes per scan cost a full pass each.
SCAN_BOMB_SCANS = 30_000


@dataclass(frozen=True, slots=True)
class HostileFile:
    name: str
    content_type: str
    family: Family
    expected: str  # a RejectionCode value, or READY
    why: str
    build: Callable[[], bytes]
    payload: bytes | None = None  # bytes no rendition may contain

    @property
    def is_video(self) -> bool:
        return self.content_type.startswith("video/")


# -- pictures --


def noise(size: tuple[int, int], seed: int = 7) -> Image.Image:
    """Incompressible, reproducible pixels: a truncated file of them really lacks picture data."""
    width, height = size
    return Image.frombytes("RGB", size, random.Random(seed).randbytes(width * height * 3))


def encoded(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def photo(image_format: str, size: tuple[int, int] = (320, 240), **options: object) -> bytes:
    """A small ordinary picture: a gradient with a red corner (resizes quickly, compresses like a photo)."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    image.paste((220, 30, 30), (0, 0, size[0] // 3, size[1] // 3))
    return encoded(image, image_format, **options)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IEND = _png_chunk(b"IEND", b"")


def _png(width: int, height: int, idat: bytes, bit_depth: int = 8, colour_type: int = 2, extra: bytes = b"") -> bytes:
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return PNG_SIGNATURE + _png_chunk(b"IHDR", header) + extra + _png_chunk(b"IDAT", idat) + IEND


def _zeros_compressed(size: int, chunk: int = 8 * 1024 * 1024) -> bytes:
    """zlib of `size` zero bytes, compressed piecewise so the generator never holds the whole run."""
    compressor = zlib.compressobj(9)
    block = bytes(chunk)
    out = [compressor.compress(block) for _ in range(size // chunk)]
    out.append(compressor.compress(bytes(size % chunk)))
    out.append(compressor.flush())
    return b"".join(out)


def _png_of_zeros(width: int, height: int, bytes_per_pixel: int, bit_depth: int, colour_type: int) -> bytes:
    """A real PNG of a black picture: every row is a filter byte and zeros, so megapixels fit in kilobytes."""
    return _png(width, height, _zeros_compressed(height * (1 + width * bytes_per_pixel)), bit_depth, colour_type)


def _insert_png_chunk(png: bytes, chunk: bytes) -> bytes:
    """`chunk` right after IHDR (where ancillary chunks before the pixels go)."""
    ihdr_end = len(PNG_SIGNATURE) + 8 + 13 + 4
    return png[:ihdr_end] + chunk + png[ihdr_end:]


def jpeg_segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of each JPEG segment; an SOS segment runs to the end of its entropy-coded data."""
    segments, position = [], 2
    while position < len(data) - 1:
        marker = data[position + 1]
        if marker == 0xD9:
            segments.append((marker, position, position + 2))
            break
        end = position + 2 + int.from_bytes(data[position + 2 : position + 4], "big")
        if marker == 0xDA:
            end = data.find(b"\xff", end)
            while data[end + 1] == 0 or 0xD0 <= data[end + 1] <= 0xD7:
                end = data.find(b"\xff", end + 2)
        segments.append((marker, position, end))
        position = end
    return segments


def _jpeg_with_segments(jpeg: bytes, *segments: bytes) -> bytes:
    """`segments` (whole marker segments) inserted right after SOI."""
    return jpeg[:2] + b"".join(segments) + jpeg[2:]


def _marker_segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) claims another size."""
    data = bytearray(photo("JPEG", (16, 16)))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def _jpeg_scan_bomb() -> bytes:
    """A 16 MP progressive JPEG whose one-band AC scan is repeated SCAN_BOMB_SCANS times: ~1 MB that costs
    libjpeg a pass over 250,000 blocks per scan (minutes in all) if nothing counts the scans first."""
    image = Image.new("RGB", (4000, 4000), (120, 80, 40))
    data = encoded(image, "JPEG", progressive=True, quality=90)
    segments = jpeg_segments(data)
    scans = [(start, end) for marker, start, end in segments if marker == 0xDA]
    start, end = scans[1]  # the first AC scan: a header and a few bytes of end-of-band runs
    eoi = segments[-1][1]
    return data[:eoi] + data[start:end] * SCAN_BOMB_SCANS + b"\xff\xd9"


def _jpeg_with_broken_sof() -> bytes:
    data = bytearray(photo("JPEG"))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">H", data, sof + 2, 3)  # a frame header too short to hold its own fields
    return bytes(data)


def _zip_of(name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


def _exif_garbage() -> bytes:
    """An EXIF block whose IFD claims 65,535 entries that point at each other and past the end."""
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 0xFFFF)
    entry = struct.pack(">HHII", 0x8769, 4, 1, 8)  # an EXIF sub-IFD pointer back at the first IFD: a loop
    entries = entry * 2000 + random.Random(3).randbytes(40_000)
    return b"Exif\x00\x00" + tiff + entries


def _icc_garbage_chunks(total: int) -> list[bytes]:
    """APP2 ICC_PROFILE segments carrying `total` bytes: a header claiming a 4 GB profile of 1,000,000 tags."""
    header = bytearray(132)
    struct.pack_into(">I", header, 0, 0xFFFFFFFF)
    header[36:40] = b"acsp"
    struct.pack_into(">I", header, 128, 1_000_000)
    body = bytes(header) + random.Random(5).randbytes(total - len(header))
    step = 65_519
    parts = [body[offset : offset + step] for offset in range(0, len(body), step)]
    count = len(parts)
    return [
        _marker_segment(0xE2, b"ICC_PROFILE\x00" + bytes((index + 1, count)) + part) for index, part in enumerate(parts)
    ]


def _patched_iso_box(data: bytes, box: bytes, offset: int, value: bytes) -> bytes:
    """`value` written `offset` bytes after the type of the first `box` box (ISO BMFF: HEIC, AVIF, MP4, MOV)."""
    at = data.index(box) + offset
    return data[:at] + value + data[at + len(value) :]


def _ispe_claiming(image_format: str, width: int, height: int) -> bytes:
    # ispe: size, 'ispe', version+flags, width, height
    return _patched_iso_box(photo(image_format, (64, 48)), b"ispe", 8, struct.pack(">II", width, height))


def _animated(image_format: str, frames: int, size: tuple[int, int] = (128, 128)) -> bytes:
    images = [noise(size, seed) for seed in range(frames)]
    return encoded(images[0], image_format, save_all=True, append_images=images[1:], duration=10, loop=0)


def _apng_claiming_frames(frames: int) -> bytes:
    """A one-frame APNG whose animation control chunk claims `frames` frames."""
    data = _animated("PNG", 2)
    at = data.index(b"acTL")
    patched = struct.pack(">II", frames, 0)
    crc = struct.pack(">I", zlib.crc32(b"acTL" + patched))
    return data[: at + 4] + patched + crc + data[at + 16 :]


def _riff_size_lie() -> bytes:
    data = bytearray(photo("WEBP"))
    struct.pack_into("<I", data, 4, 0xFFFFFFF0)
    return bytes(data)


def _webp_canvas_claiming(width: int, height: int) -> bytes:
    """A WebP with a VP8X header whose canvas claims `width`×`height` around a 64×48 picture."""
    data = encoded(noise((64, 48)), "WEBP", exif=b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x00")
    at = data.index(b"VP8X") + 8 + 4  # chunk type, size, flags+reserved
    return data[:at] + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little") + data[at + 6 :]


def _webp_with_garbage_metadata() -> bytes:
    rng = random.Random(11)
    return encoded(
        noise((200, 150)), "WEBP", exif=b"Exif\x00\x00" + rng.randbytes(500_000), icc_profile=rng.randbytes(300_000)
    )


def _truncated(data: bytes, keep: float = 2 / 3) -> bytes:
    return data[: int(len(data) * keep)]


# -- clips --


@cache
def _ffmpeg() -> str:
    from pinhole.media.video import ffmpeg_executable

    return ffmpeg_executable()


def clip(suffix: str, *arguments: str) -> bytes:
    """A clip made by the bundled ffmpeg (`arguments` are its input and codec options)."""
    with tempfile.TemporaryDirectory() as workdir:
        path = Path(workdir) / f"clip{suffix}"
        command = [_ffmpeg(), "-hide_banner", "-nostdin", "-v", "error", "-y", *arguments, str(path)]
        subprocess.run(command, check=True, timeout=120, stdin=subprocess.DEVNULL)
        return path.read_bytes()


H264 = ("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")


def _pattern(size: str = "160x120", rate: int = 5, seconds: float = 2) -> tuple[str, ...]:
    return ("-f", "lavfi", "-i", f"testsrc=size={size}:rate={rate}", "-t", str(seconds))


@cache
def _video(suffix: str) -> bytes:
    return clip(suffix, *_pattern(), *H264)


def _video_of_size(suffix: str, size: str) -> bytes:
    """One frame of a flat colour at `size`: kilobytes, whatever the dimensions."""
    return clip(suffix, "-f", "lavfi", "-i", f"color=c=gray:size={size}:rate=1", "-frames:v", "1", *H264)


def _video_with_header_claiming(suffix: str, hours: int) -> bytes:
    """A 2 s clip whose movie, track and media headers (version 0) say it lasts `hours` hours."""
    data = _video(suffix)
    (timescale,) = struct.unpack_from(">I", data, data.index(b"mvhd") + 16)
    duration = struct.pack(">I", min(timescale * hours * 3600, 0xFFFFFFFF))
    for box, offset in ((b"mvhd", 20), (b"tkhd", 24), (b"mdhd", 20)):
        data = _patched_iso_box(data, box, offset, duration)
    return data


def _video_lasting(suffix: str, hours: int) -> bytes:
    """Two frames `hours` hours apart: a real sample table of that length in about 1.5 KB."""
    return clip(
        suffix, "-f", "lavfi", "-i", "color=c=gray:size=64x48:rate=1", "-frames:v", "2",
        "-vf", f"setpts=N*{hours * 3600}/TB", "-fps_mode", "passthrough", *H264,
    )  # fmt: skip


def _audio_only(suffix: str) -> bytes:
    return clip(suffix, "-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac")


def _over_90_seconds(suffix: str) -> bytes:
    return clip(suffix, *_pattern("64x48", rate=1, seconds=100), *H264)


def _iso_header_then(brand: bytes, content: bytes) -> bytes:
    return b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x02\x00" + brand + b"mp41" + content


# -- the corpus --


def _image_cases() -> list[HostileFile]:
    h = HostileFile
    return [
        # JPEG
        h("jpeg-empty", JPEG, "malformed", RejectionCode.EMPTY, "zero bytes", lambda: b""),
        h("jpeg-truncated-header", JPEG, "malformed", RejectionCode.CORRUPT, "cut inside its headers",
          lambda: photo("JPEG")[:40]),
        h("jpeg-truncated-scan", JPEG, "malformed", RejectionCode.CORRUPT, "cut two thirds into its pixels",
          lambda: _truncated(encoded(noise((640, 480)), "JPEG"))),
        h("jpeg-broken-frame-header", JPEG, "malformed", RejectionCode.CORRUPT, "SOF0 length too short for its fields",
          _jpeg_with_broken_sof),
        h("jpeg-signature-then-html", JPEG, "malformed", RejectionCode.CORRUPT, "a JPEG signature, then HTML",
          lambda: b"\xff\xd8\xff\xe0" + HTML * 10),
        h("jpeg-is-png", JPEG, "malformed", RejectionCode.TYPE_MISMATCH, "a PNG declared as JPEG",
          lambda: photo("PNG")),
        h("jpeg-is-html", JPEG, "polyglot", RejectionCode.TYPE_MISMATCH, "an HTML page declared as JPEG",
          lambda: HTML),
        h("jpeg-is-svg", JPEG, "polyglot", RejectionCode.TYPE_MISMATCH, "an SVG with a script declared as JPEG",
          lambda: SVG),
        h("jpeg-dimension-bomb", JPEG, "bomb", RejectionCode.TOO_MANY_PIXELS,
          "700 bytes whose frame header claims 65,500×65,500", lambda: _jpeg_claiming(65_500, 65_500)),
        h("jpeg-just-over-50mp", JPEG, "oversized", RejectionCode.TOO_MANY_PIXELS,
          "frame header claims 10,000×5,001 (50.01 MP)", lambda: _jpeg_claiming(10_000, 5_001)),
        h("jpeg-progressive-scan-bomb", JPEG, "bomb", RejectionCode.UNPROCESSABLE,
          f"a 16 MP progressive JPEG with {SCAN_BOMB_SCANS:,} scans in ~1 MB", _jpeg_scan_bomb),
        h("jpeg-over-30mb", JPEG, "oversized", RejectionCode.TOO_LARGE,
          "a valid JPEG padded past 30 MB (only reachable around the upload policy)",
          lambda: photo("JPEG") + bytes(MAX_IMAGE_BYTES)),
        h("jpeg-zip-polyglot", JPEG, "polyglot", READY, "a valid JPEG with a ZIP (holding HTML) appended",
          lambda: photo("JPEG") + _zip_of(ZIP_PAYLOAD_NAME, HTML), payload=ZIP_PAYLOAD_NAME.encode()),
        h("jpeg-html-comment-polyglot", JPEG, "polyglot", READY, "a valid JPEG whose COM segment is a script",
          lambda: _jpeg_with_segments(photo("JPEG"), _marker_segment(0xFE, HTML)), payload=SCRIPT_PAYLOAD),
        h("jpeg-exif-garbage", JPEG, "metadata", READY, "an EXIF IFD of 65,535 looping, out-of-range entries",
          lambda: _jpeg_with_segments(photo("JPEG"), _marker_segment(0xE1, _exif_garbage()))),
        h("jpeg-icc-bomb", JPEG, "metadata", READY,
          "a 16 MB ICC profile in 255 APP2 chunks claiming 4 GB and a million tags",
          lambda: _jpeg_with_segments(photo("JPEG"), *_icc_garbage_chunks(255 * 65_519))),
        # PNG
        h("png-empty", PNG, "malformed", RejectionCode.EMPTY, "zero bytes", lambda: b""),
        h("png-truncated", PNG, "malformed", RejectionCode.CORRUPT, "cut two thirds into its pixels",
          lambda: _truncated(encoded(noise((640, 480)), "PNG"))),
        h("png-bad-header-crc", PNG, "malformed", RejectionCode.CORRUPT, "IHDR with a wrong CRC",
          lambda: photo("PNG")[:29] + b"\x00\x00\x00\x00" + photo("PNG")[33:]),
        h("png-no-pixels", PNG, "malformed", RejectionCode.CORRUPT, "IHDR and IEND, no IDAT",
          lambda: PNG_SIGNATURE + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 48, 8, 2, 0, 0, 0)) + IEND),
        h("png-is-jpeg", PNG, "malformed", RejectionCode.TYPE_MISMATCH, "a JPEG declared as PNG",
          lambda: photo("JPEG")),
        h("png-is-gif-js-polyglot", PNG, "polyglot", RejectionCode.TYPE_MISMATCH, "a GIF that is also JavaScript",
          lambda: GIF_JS_POLYGLOT),
        h("png-is-svg", PNG, "polyglot", RejectionCode.TYPE_MISMATCH, "an SVG with a script declared as PNG",
          lambda: SVG),
        h("png-dimension-bomb", PNG, "bomb", RejectionCode.TOO_MANY_PIXELS,
          "a 70-byte header claiming 100,000×100,000", lambda: _png(100_000, 100_000, zlib.compress(b"\x00" * 16))),
        h("png-zlib-bomb-over-limit", PNG, "bomb", RejectionCode.TOO_MANY_PIXELS,
          "a real 8,000×8,000 black picture: 192 MB of pixels in ~190 KB", lambda: _png_of_zeros(8000, 8000, 3, 8, 2)),
        h("png-zlib-bomb-under-limit", PNG, "bomb", READY,
          "a real 7,000×7,000 black picture (49 MP, under the limit) in ~145 KB",
          lambda: _png_of_zeros(7000, 7000, 3, 8, 2)),
        h("png-16bit-grey-under-limit", PNG, "bomb", READY,
          "a 49 MP 16-bit grey picture: the costliest conversion path", lambda: _png_of_zeros(7000, 7000, 2, 16, 0)),
        h("png-ztxt-bomb", PNG, "bomb", RejectionCode.CORRUPT, "a zTXt chunk inflating to 256 MB",
          lambda: _insert_png_chunk(photo("PNG"), _png_chunk(b"zTXt", b"c\x00\x00" + _zeros_compressed(256 << 20)))),
        h("png-iccp-bomb", PNG, "metadata", RejectionCode.CORRUPT, "an iCCP chunk inflating to 256 MB",
          lambda: _insert_png_chunk(photo("PNG"), _png_chunk(b"iCCP", b"p\x00\x00" + _zeros_compressed(256 << 20)))),
        h("png-html-text-polyglot", PNG, "polyglot", READY, "a valid PNG carrying an HTML page in a tEXt chunk",
          lambda: _insert_png_chunk(photo("PNG"), _png_chunk(b"tEXt", b"Comment\x00" + HTML)), payload=SCRIPT_PAYLOAD),
        h("png-exif-garbage", PNG, "metadata", READY, "a 2 MB eXIf chunk of looping garbage",
          lambda: _insert_png_chunk(photo("PNG"), _png_chunk(b"eXIf", _exif_garbage()[6:] * 40))),
        h("png-animation-frame-bomb", PNG, "bomb", READY, "an APNG whose control chunk claims 2^31-1 frames",
          lambda: _apng_claiming_frames(0x7FFFFFFF)),
        h("png-animation-300-frames", PNG, "bomb", READY, "an APNG of 300 128×128 noise frames",
          lambda: _animated("PNG", 300)),
        # WebP
        h("webp-empty", WEBP, "malformed", RejectionCode.EMPTY, "zero bytes", lambda: b""),
        h("webp-truncated", WEBP, "malformed", RejectionCode.CORRUPT, "cut two thirds into its pixels",
          lambda: _truncated(encoded(noise((640, 480)), "WEBP"))),
        h("webp-riff-size-lie", WEBP, "malformed", RejectionCode.CORRUPT, "RIFF header claiming 4 GB",
          _riff_size_lie),
        h("webp-header-then-html", WEBP, "polyglot", RejectionCode.CORRUPT, "a RIFF/WEBP header over an HTML page",
          lambda: b"RIFF" + struct.pack("<I", len(HTML) + 4) + b"WEBP" + HTML),
        h("webp-is-jpeg", WEBP, "malformed", RejectionCode.TYPE_MISMATCH, "a JPEG declared as WebP",
          lambda: photo("JPEG")),
        h("webp-canvas-bomb", WEBP, "bomb", RejectionCode.TOO_MANY_PIXELS,
          "a VP8X canvas of 16,000×16,000 around a 64×48 picture", lambda: _webp_canvas_claiming(16_000, 16_000)),
        h("webp-animation-300-frames", WEBP, "bomb", READY, "an animated WebP of 300 128×128 noise frames",
          lambda: _animated("WEBP", 300)),
        h("webp-garbage-metadata", WEBP, "metadata", READY, "500 KB of garbage EXIF and a 300 KB garbage ICC profile",
          _webp_with_garbage_metadata),
        # HEIC
        h("heic-empty", HEIC, "malformed", RejectionCode.EMPTY, "zero bytes", lambda: b""),
        h("heic-truncated", HEIC, "malformed", RejectionCode.CORRUPT, "cut two thirds into its pixels",
          lambda: _truncated(encoded(noise((640, 480)), "HEIF"))),
        h("heic-header-then-html", HEIC, "polyglot", RejectionCode.CORRUPT, "an ftyp heic box over an HTML page",
          lambda: _iso_header_then(b"heic", HTML)),
        h("heic-is-avif", HEIC, "malformed", RejectionCode.TYPE_MISMATCH, "an AVIF declared as HEIC",
          lambda: photo("AVIF")),
        h("heic-dimension-bomb", HEIC, "bomb", RejectionCode.CORRUPT,
          "its ispe box claims 60,000×60,000; libheif takes the size from the HEVC stream (64×48), then the "
          "mismatch fails the decode", lambda: _ispe_claiming("HEIF", 60_000, 60_000)),
        h("heic-exif-garbage", HEIC, "metadata", READY, "an EXIF IFD of 65,535 looping entries",
          lambda: photo("HEIF", exif=_exif_garbage())),
        # AVIF
        h("avif-empty", AVIF, "malformed", RejectionCode.EMPTY, "zero bytes", lambda: b""),
        h("avif-truncated", AVIF, "malformed", RejectionCode.CORRUPT, "cut two thirds into its pixels",
          lambda: _truncated(encoded(noise((640, 480)), "AVIF"))),
        h("avif-is-heic", AVIF, "malformed", RejectionCode.TYPE_MISMATCH, "a HEIC declared as AVIF",
          lambda: photo("HEIF")),
        h("avif-over-50mp", AVIF, "oversized", RejectionCode.TOO_MANY_PIXELS,
          "a real 8,000×7,000 (56 MP) flat AVIF in ~1.3 KB",
          lambda: encoded(Image.new("RGB", (8000, 7000), (90, 90, 90)), "AVIF", quality=10, speed=10)),
        h("avif-dimension-bomb", AVIF, "bomb", RejectionCode.CORRUPT,
          "its ispe box claims 60,000×60,000; libavif finds it disagrees with the AV1 stream (64×48) on open",
          lambda: _ispe_claiming("AVIF", 60_000, 60_000)),
    ]  # fmt: skip


def _video_cases() -> list[HostileFile]:
    h = HostileFile
    return [
        h("mp4-empty", MP4, "malformed", RejectionCode.EMPTY, "zero bytes", lambda: b""),
        h("mp4-truncated", MP4, "malformed", RejectionCode.CORRUPT, "cut in half (its index is written last)",
          lambda: _video(".mp4")[: len(_video(".mp4")) // 2]),
        h("mp4-header-then-garbage", MP4, "malformed", RejectionCode.CORRUPT, "an ftyp box, then random bytes",
          lambda: _iso_header_then(b"isom", random.Random(13).randbytes(4096))),
        h("mp4-is-mov", MP4, "malformed", RejectionCode.TYPE_MISMATCH, "a QuickTime movie declared as MP4",
          lambda: _video(".mov")),
        h("mp4-is-html", MP4, "polyglot", RejectionCode.TYPE_MISMATCH, "an HTML page declared as MP4", lambda: HTML),
        h("mp4-hls-ssrf-polyglot", MP4, "polyglot", RejectionCode.CORRUPT,
          "an MP4 signature over an HLS playlist pointing at the instance metadata endpoint",
          lambda: _iso_header_then(b"isom", HLS_SSRF)),
        h("mp4-audio-only", MP4, "malformed", RejectionCode.NO_VIDEO_STREAM, "an AAC track and no picture",
          lambda: _audio_only(".mp4")),
        h("mp4-over-90s", MP4, "oversized", RejectionCode.TOO_LONG, "a real 100 s clip (1 fps, 64×48)",
          lambda: _over_90_seconds(".mp4")),
        h("mp4-duration-bomb", MP4, "bomb", RejectionCode.TOO_LONG,
          "1.5 KB whose sample table spans 10 hours", lambda: _video_lasting(".mp4", 10)),
        h("mp4-header-duration-lie", MP4, "malformed", READY,
          "a 2 s clip whose mvhd/tkhd/mdhd claim 10 hours: the duration is measured from the samples (2 s)",
          lambda: _video_with_header_claiming(".mp4", 10)),
        h("mp4-dimension-bomb", MP4, "bomb", RejectionCode.TOO_MANY_PIXELS,
          "one 8,192×8,192 (67 MP) H.264 frame", lambda: _video_of_size(".mp4", "8192x8192")),
        h("mov-empty", MOV, "malformed", RejectionCode.EMPTY, "zero bytes", lambda: b""),
        h("mov-truncated", MOV, "malformed", RejectionCode.CORRUPT, "cut in half",
          lambda: _video(".mov")[: len(_video(".mov")) // 2]),
        h("mov-is-mp4", MOV, "malformed", RejectionCode.TYPE_MISMATCH, "an MP4 declared as QuickTime",
          lambda: _video(".mp4")),
        h("mov-duration-bomb", MOV, "bomb", RejectionCode.TOO_LONG,
          "1.5 KB whose sample table spans 10 hours", lambda: _video_lasting(".mov", 10)),
        h("mov-dimension-bomb", MOV, "bomb", RejectionCode.TOO_MANY_PIXELS,
          "one 8,192×8,192 H.264 frame", lambda: _video_of_size(".mov", "8192x8192")),
    ]  # fmt: skip


VALID: dict[str, HostileFile] = {
    content_type: HostileFile(f"valid-{suffix}", content_type, "valid", READY, "an ordinary upload", builder)
    for content_type, suffix, builder in (
        (JPEG, "jpeg", lambda: photo("JPEG")),
        (PNG, "png", lambda: photo("PNG")),
        (WEBP, "webp", lambda: photo("WEBP")),
        (HEIC, "heic", lambda: photo("HEIF")),
        (AVIF, "avif", lambda: photo("AVIF")),
        (MP4, "mp4", lambda: _video(".mp4")),
        (MOV, "mov", lambda: _video(".mov")),
    )
}

CORPUS: dict[str, HostileFile] = {case.name: case for case in [*_image_cases(), *_video_cases()]}
EVERY_FILE: dict[str, HostileFile] = {**CORPUS, **{case.name: case for case in VALID.values()}}


@cache
def build(name: str) -> bytes:
    """The bytes of a corpus (or VALID) file, built once per process."""
    return EVERY_FILE[name].build()
