"""Resize budget (ARCHITECTURE.md "Performance budgets"): a 12 MP JPEG to every rendition close to the cost of
decoding it, and peak memory within one decoded frame.

Subjects run interleaved (so drift in machine load falls on all alike), median of several runs, on generated
photographic content (blurred gradients, shapes, strokes and sensor-like noise; JPEG quality 90):
- `draft_decode_1_8`: Pillow decoding the JPEG DCT-scaled to 1/8, the floor of any JPEG pipeline;
- `ours_jpeg` / `ours_webp` / `ours_all`: `render_renditions` with the JPEG, the WebP or all post renditions;
- `naive_pillow_jpeg`: open → convert → LANCZOS resize of the full frame for each JPEG rendition;
- `pyvips_jpeg`: pyvips `thumbnail_buffer` (shrink-on-load) then `thumbnail_image` down the chain, when installed,
  with one worker thread (a 1769 MB Lambda has one vCPU; Pillow's pipeline is single-threaded too).
Peak memory is the peak RSS of a fresh interpreter during one render, above its baseline with the file read, compared
with one decoded frame of W×H×3 bytes (Pillow itself holds RGB at 4 bytes a pixel).

`run()` measures in a fresh interpreter with the domain layer on its path, as the Lambda runtime has it.
"""

import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageChops, ImageDraw, ImageFilter

if TYPE_CHECKING:
    from pinhole.media.limits import RenditionSpec

ROOT = Path(__file__).resolve().parent.parent
JPEG_SIZE = (4032, 3024)
PNG_SIZE = (4000, 3000)
RUNS = 7
PNG_RUNS = 3

TARGETS = {
    "ours_jpeg_vs_draft_decode_max": 3.5,
    "naive_vs_ours_jpeg_min": 3.0,
    "ours_jpeg_vs_pyvips_max": 1.25,
    "ours_webp_vs_ours_jpeg_max": 1.5,
    "peak_memory_vs_decoded_frame_max": 1.0,
}


def photograph(size: tuple[int, int], seed: int = 7) -> Image.Image:
    """Photo-like content: blurred gradients and shapes upscaled, sharp strokes, then sensor-like noise."""
    width, height = size
    rnd = random.Random(seed)
    small = (width // 8, height // 8)
    bands = (
        Image.linear_gradient("L").resize(small),
        Image.radial_gradient("L").resize(small),
        Image.linear_gradient("L").rotate(90).resize(small),
    )
    image = Image.merge("RGB", bands)
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x, y, extent = rnd.randrange(small[0]), rnd.randrange(small[1]), rnd.randrange(5, small[0] // 4)
        colour = tuple(rnd.randrange(256) for _ in range(3))
        draw.ellipse((x, y, x + extent, y + extent * rnd.uniform(0.5, 1.5)), fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(3)).resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(200):
        x, y = rnd.randrange(width), rnd.randrange(height)
        end = (x + rnd.randrange(-300, 300), y + rnd.randrange(-300, 300))
        colour = tuple(rnd.randrange(256) for _ in range(3))
        draw.line((x, y, *end), fill=colour, width=rnd.randrange(1, 6))
    noise = Image.effect_noise(size, 10).convert("RGB")
    return ImageChops.add(image, noise, scale=1.0, offset=-128)


def _draft_decode(data: bytes) -> Callable[[], object]:
    def decode() -> object:
        with Image.open(io.BytesIO(data)) as image:
            image.draft(None, (image.width // 8, image.height // 8))
            image.load()
            return image.size

    return decode


def _full_decode(data: bytes) -> Callable[[], object]:
    def decode() -> object:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return image.size

    return decode


def _ours(data: bytes, content_type: str, specs: Sequence["RenditionSpec"]) -> Callable[[], object]:
    from pinhole.media.imaging import render_renditions

    return lambda: render_renditions(data, content_type, specs)


def _specs(content_type: str | None = None) -> tuple["RenditionSpec", ...]:
    from pinhole.media.limits import POST_RENDITIONS

    return tuple(spec for spec in POST_RENDITIONS if content_type in (None, spec.content_type))


def _naive(data: bytes) -> Callable[[], object]:
    from pinhole.media.imaging import JPEG_OPTIONS

    def render() -> object:
        image = Image.open(io.BytesIO(data)).convert("RGB")
        outputs = []
        for spec in _specs("image/jpeg"):
            if spec.height:
                side = min(image.size)
                left, top = (image.width - side) // 2, (image.height - side) // 2
                box = (left, top, left + side, top + side)
                resized = image.resize((spec.width, spec.height), Image.Resampling.LANCZOS, box=box)
            else:
                resized = image.resize(
                    (spec.width, round(image.height * spec.width / image.width)), Image.Resampling.LANCZOS
                )
            buffer = io.BytesIO()
            resized.save(buffer, "JPEG", **JPEG_OPTIONS)
            outputs.append(buffer.getvalue())
        return outputs

    return render


def _pyvips(data: bytes) -> Callable[[], object] | None:
    try:
        import pyvips
    except (ImportError, OSError):
        return None
    pyvips.cache_set_max(0)
    pyvips.concurrency_set(1)

    def render() -> object:
        # Shrink-on-load reads the file sequentially: hold the large in memory to resize the others from it.
        large = pyvips.Image.thumbnail_buffer(data, 1080).copy_memory()
        medium = large.thumbnail_image(640).copy_memory()
        thumb = medium.thumbnail_image(150, height=150, crop="centre")
        return [image.jpegsave_buffer(Q=82, interlace=True, keep="none") for image in (large, medium, thumb)]

    return render


def _medians(subjects: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    for subject in subjects.values():  # warm caches and lazy plugin loading
        subject()
    samples: dict[str, list[float]] = {name: [] for name in subjects}
    for _ in range(runs):
        for name, subject in subjects.items():
            started = time.perf_counter()
            subject()
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in samples.items()}


# VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork and exec, so a child would start at our own peak.
PEAK_PROBE = """
import re
from pathlib import Path
from benchmarks import resize

def peak_rss():
    return int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1)) * 1024

data = Path({path!r}).read_bytes()
run = resize.PEAK_SUBJECTS[{subject!r}](data, {content_type!r})
before = peak_rss()
run()
print(peak_rss() - before)
"""

PEAK_SUBJECTS: dict[str, Callable[[bytes, str], Callable[[], object]]] = {
    "ours_all": lambda data, content_type: _ours(data, content_type, _specs()),
    "naive_pillow_jpeg": lambda data, content_type: _naive(data),
    "full_decode": lambda data, content_type: _full_decode(data),
}


def _peak_bytes(path: Path, subject: str, content_type: str) -> int:
    # Imports (Pillow, pillow-heif, plugins) happen before the baseline, so only the render itself is measured.
    probe = PEAK_PROBE.format(path=str(path), subject=subject, content_type=content_type)
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT, env=_environment()
    )
    return int(result.stdout.strip())


def _mb(value: float) -> float:
    return round(value / 1024 / 1024, 1)


def _environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'pinhole'}:{ROOT}"}


def run() -> dict[str, object]:
    """Every figure, measured in a fresh interpreter that imports the layer as the resize function does."""
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.resize"], capture_output=True, text=True, check=True, cwd=ROOT,
        env=_environment(), timeout=300,
    )  # fmt: skip
    figures: dict[str, object] = json.loads(result.stdout)
    return figures


def measure() -> dict[str, object]:
    from pinhole.media.imaging import render_renditions
    from pinhole.media.limits import POST_RENDITIONS

    jpeg_specs, webp_specs = _specs("image/jpeg"), _specs("image/webp")
    started = time.perf_counter()
    jpeg = io.BytesIO()
    photograph(JPEG_SIZE).save(jpeg, "JPEG", quality=90)
    jpeg_data = jpeg.getvalue()
    png = io.BytesIO()
    photograph(PNG_SIZE, seed=11).save(png, "PNG", compress_level=1)
    png_data = png.getvalue()

    subjects = {
        "draft_decode_1_8": _draft_decode(jpeg_data),
        "full_decode": _full_decode(jpeg_data),
        "ours_jpeg": _ours(jpeg_data, "image/jpeg", jpeg_specs),
        "ours_webp": _ours(jpeg_data, "image/jpeg", webp_specs),
        "ours_all": _ours(jpeg_data, "image/jpeg", POST_RENDITIONS),
        "naive_pillow_jpeg": _naive(jpeg_data),
    }
    vips = _pyvips(jpeg_data)
    if vips:
        subjects["pyvips_jpeg"] = vips
    jpeg_ms = _medians(subjects, RUNS)
    png_ms = _medians(
        {
            "full_decode": _full_decode(png_data),
            "ours_jpeg": _ours(png_data, "image/png", jpeg_specs),
            "ours_all": _ours(png_data, "image/png", POST_RENDITIONS),
            "naive_pillow_jpeg": _naive(png_data),
        },
        PNG_RUNS,
    )

    with tempfile.TemporaryDirectory() as directory:
        jpeg_path, png_path = Path(directory) / "photo.jpg", Path(directory) / "photo.png"
        jpeg_path.write_bytes(jpeg_data)
        png_path.write_bytes(png_data)
        peak = {
            "jpeg_ours_all": _peak_bytes(jpeg_path, "ours_all", "image/jpeg"),
            "jpeg_naive_pillow_jpeg": _peak_bytes(jpeg_path, "naive_pillow_jpeg", "image/jpeg"),
            "jpeg_full_decode": _peak_bytes(jpeg_path, "full_decode", "image/jpeg"),
            "png_ours_all": _peak_bytes(png_path, "ours_all", "image/png"),
            "png_full_decode": _peak_bytes(png_path, "full_decode", "image/png"),
        }
    frame_bytes = JPEG_SIZE[0] * JPEG_SIZE[1] * 3

    ratios: dict[str, float] = {
        "ours_jpeg_vs_draft_decode": jpeg_ms["ours_jpeg"] / jpeg_ms["draft_decode_1_8"],
        "naive_vs_ours_jpeg": jpeg_ms["naive_pillow_jpeg"] / jpeg_ms["ours_jpeg"],
        "ours_webp_vs_ours_jpeg": jpeg_ms["ours_webp"] / jpeg_ms["ours_jpeg"],
        "peak_memory_vs_decoded_frame": peak["jpeg_ours_all"] / frame_bytes,
    }
    if vips:
        ratios["ours_jpeg_vs_pyvips"] = jpeg_ms["ours_jpeg"] / jpeg_ms["pyvips_jpeg"]
    met = {
        name: value >= TARGETS[f"{name}_min"] if f"{name}_min" in TARGETS else value <= TARGETS[f"{name}_max"]
        for name, value in ratios.items()
    }
    rendered = render_renditions(jpeg_data, "image/jpeg", POST_RENDITIONS)
    output_bytes = {name: len(rendition.data) for name, rendition in rendered.renditions.items()}
    return {
        "inputs": {
            "jpeg": {"size": list(JPEG_SIZE), "bytes": len(jpeg_data), "quality": 90},
            "png": {"size": list(PNG_SIZE), "bytes": len(png_data)},
        },
        "runs": {"jpeg": RUNS, "png": PNG_RUNS},
        "jpeg_median_ms": {name: round(value * 1000, 1) for name, value in jpeg_ms.items()},
        "png_median_ms": {name: round(value * 1000, 1) for name, value in png_ms.items()},
        "ratios": {name: round(value, 2) for name, value in ratios.items()},
        "targets": TARGETS,
        "targets_met": met,
        "peak_memory_mb_above_baseline": {name: _mb(value) for name, value in peak.items()},
        "decoded_frame_mb": {"jpeg_wxhx3": _mb(frame_bytes), "pillow_rgb_wxhx4": _mb(frame_bytes * 4 / 3)},
        "rendition_bytes": output_bytes,
        "pyvips": _pyvips_version() if vips else "not installed",
        "seconds": round(time.perf_counter() - started, 1),
    }


def _pyvips_version() -> str:
    import pyvips

    return f"pyvips {pyvips.__version__}, libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}"


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
