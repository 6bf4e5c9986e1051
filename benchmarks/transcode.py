"""Transcode budget (ARCHITECTURE.md "Performance budgets": ≤ 1.1× the same ffmpeg command run bare) and the
figures that size the transcode function and price it (docs/MEDIA.md "Sizing" and "Cost").

Sources are generated here (testsrc2 with temporal noise, camera-like; with stereo sound):
- `1080p30_h264`: 1920×1080 30 fps H.264 High at ~12 Mb/s, a keyframe every 250 frames (as phones record: too
  dense and too sparse in keyframes to be copied, so all three rungs are encoded);
- `2160p30_hevc_hlg`: 3840×2160 30 fps HEVC Main 10, BT.2020 HLG (an iPhone's HDR video): decoded, tone-mapped,
  encoded into three rungs.
Their length is BENCH_TRANSCODE_SECONDS (default 10) and BENCH_TRANSCODE_4K_SECONDS (default 5): the cost per
second of video is what carries over; a 90 s clip costs 90 times it (the encoders' state does not grow with length).

For each source, side by side in one run:
- `bare_ladder`: ffmpeg with exactly the argv `encode_command` builds, run alone (no Python, no probe, no HLS);
- `ours`: `transcode()` as the function runs it (probe, packet scan, the same encode, HLS packaging, poster/thumb);
- `bare_rung_<label>`: the same command with one output, per rung (each includes the decode and the filters).
CPU seconds are those of the children (ffmpeg) from getrusage plus our own process's; peak memory is the largest
VmHWM of an ffmpeg child, polled. The ratio is `ours` / `bare_ladder` CPU seconds.

Then `upload_to_published_s`: a 15 s 720p30 H.264 clip with sound, posted through the local cloud (`python -m local`):
from the end of the pre-signed upload to `GET /posts/{id}` answering `published`.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SECONDS = float(os.environ.get("BENCH_TRANSCODE_SECONDS", "10"))
SECONDS_4K = float(os.environ.get("BENCH_TRANSCODE_4K_SECONDS", "5"))
PUBLISH_CLIP_SECONDS = 15
TARGETS = {"ours_vs_bare_ladder_cpu_max": 1.1}
NOISE = "noise=alls=6:allf=t"


def _environment() -> dict[str, str]:
    layer = str(ROOT / "layers" / "pinhole")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([layer, str(ROOT)])}


def run() -> dict[str, object]:
    """Every figure, measured in a fresh interpreter that imports the layer as the transcode function does."""
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.transcode"], capture_output=True, text=True, check=True, cwd=ROOT,
        env=_environment(), timeout=6 * 3600,
    )  # fmt: skip
    figures: dict[str, object] = json.loads(result.stdout)
    return figures


class _ChildrenPeak(threading.Thread):
    """The largest VmHWM of any child process (ffmpeg) while it runs, polled every few milliseconds."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_mb = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._done.wait(0.01):
            for child in me.children(recursive=True):
                try:
                    for line in Path(f"/proc/{child.pid}/status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            self.peak_mb = max(self.peak_mb, int(line.split()[1]) / 1024)
                except OSError:
                    continue

    def stop(self) -> float:
        self._done.set()
        self.join()
        return round(self.peak_mb, 1)


def _measured(work: Callable[[], object]) -> dict[str, float]:
    """Wall seconds, CPU seconds (children + self) and the children's peak memory of `work`."""
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    before_self = resource.getrusage(resource.RUSAGE_SELF)
    peak = _ChildrenPeak()
    peak.start()
    started = time.perf_counter()
    work()
    wall = time.perf_counter() - started
    peak_mb = peak.stop()
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    after_self = resource.getrusage(resource.RUSAGE_SELF)
    children = (after_children.ru_utime - before_children.ru_utime) + (
        after_children.ru_stime - before_children.ru_stime
    )
    own = (after_self.ru_utime - before_self.ru_utime) + (after_self.ru_stime - before_self.ru_stime)
    return {"wall_s": round(wall, 2), "cpu_s": round(children + own, 2), "peak_rss_mb": peak_mb}


def _source(directory: Path, name: str) -> tuple[Path, float]:
    from pinhole.media.ffmpeg import ffmpeg_executable

    path = directory / f"{name}.mp4"
    if name == "1080p30_h264":
        seconds = SECONDS
        video = ["-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30,{NOISE}"]
        codec = ["-c:v", "libx264", "-preset", "ultrafast", "-b:v", "12M", "-pix_fmt", "yuv420p", "-g", "250"]
    else:
        seconds = SECONDS_4K
        video = ["-f", "lavfi", "-i", f"testsrc2=size=3840x2160:rate=30,{NOISE},format=yuv420p10le"]
        colour = "colorprim=bt2020:transfer=arib-std-b67:colormatrix=bt2020nc"
        codec = ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", f"log-level=error:{colour}",
                 "-color_primaries", "bt2020", "-color_trc", "arib-std-b67", "-colorspace", "bt2020nc",
                 "-tag:v", "hvc1"]  # fmt: skip
    sound = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-ac", "2"]
    command = [ffmpeg_executable(), "-hide_banner", "-nostdin", "-v", "error", "-y", *video, *sound, "-t", str(seconds)]
    subprocess.run([*command, *codec, "-c:a", "aac", "-shortest", str(path)], check=True, timeout=3 * 3600)
    return path, seconds


def _bare(command: list[str]) -> Callable[[], object]:
    return lambda: subprocess.run(command, check=True, capture_output=True, timeout=3 * 3600)


def _source_figures(directory: Path, name: str) -> dict[str, Any]:
    from pinhole.media.ffmpeg import ffmpeg_executable
    from pinhole.media.transcode import encode_command, plan_ladder, transcode
    from pinhole.media.video import probe_video

    source, seconds = _source(directory, name)
    probed = probe_video(source, "video/mp4")
    plan = plan_ladder(probed)
    assert not plan.copies, "the benchmark measures encoding"
    ffmpeg = ffmpeg_executable()
    bare_dir = directory / f"{name}-bare"
    bare_dir.mkdir()
    outputs = [bare_dir / f"{rung.rung.name}.mp4" for rung in plan.rungs]
    made: dict[str, Any] = {}

    def ours() -> None:
        ours_dir = directory / f"{name}-ours"
        ours_dir.mkdir()
        made["result"] = transcode(source, probe_video(source, "video/mp4"), ours_dir, ffmpeg=ffmpeg)

    subjects: dict[str, dict[str, float]] = {}
    subjects["bare_ladder"] = _measured(_bare(encode_command(ffmpeg, str(source), plan, outputs)))
    subjects["ours"] = _measured(ours)
    for index, rung in enumerate(plan.rungs):
        single = type(plan)((rung,), plan.frame_rate, plan.tone_map, plan.audio)
        command = encode_command(ffmpeg, str(source), single, [bare_dir / f"single-{index}.mp4"])
        subjects[f"bare_rung_{rung.rung.label}"] = _measured(_bare(command))
    result = made["result"]
    per_second = {subject: round(figures["cpu_s"] / seconds, 3) for subject, figures in subjects.items()}
    return {
        "source": {
            "size": [probed.width, probed.height],
            "codec": probed.video_codec,
            "pixel_format": probed.pixel_format,
            "transfer": probed.color_transfer,
            "seconds": seconds,
            "bytes": source.stat().st_size,
        },
        "rungs": [f"{rung.rung.label} {rung.width}x{rung.height}" for rung in plan.rungs],
        "subjects": subjects,
        "cpu_s_per_video_s": per_second,
        "ours_vs_bare_ladder_cpu": round(subjects["ours"]["cpu_s"] / subjects["bare_ladder"]["cpu_s"], 3),
        "ours_vs_bare_ladder_wall": round(subjects["ours"]["wall_s"] / subjects["bare_ladder"]["wall_s"], 3),
        "output_mb_per_minute": {
            file.name: round(Path(file.path).stat().st_size / result.duration_s * 60 / 1e6, 2) for file in result.mp4
        },
        "hls_mb_per_minute": round(
            sum(Path(file.path).stat().st_size for file in result.hls) / result.duration_s * 60 / 1e6, 2
        ),
        "poster_and_thumb_bytes": {name: len(rendition.data) for name, rendition in result.pictures.items()},
    }


def _upload_to_published(directory: Path) -> dict[str, Any]:
    import httpx

    from pinhole.media.ffmpeg import ffmpeg_executable
    from soak.local_cloud import local_cloud
    from tests.support.api_client import Member, upload

    clip = directory / "clip15.mp4"
    subprocess.run(
        [ffmpeg_executable(), "-hide_banner", "-v", "error", "-y", "-f", "lavfi", "-i",
         f"testsrc2=size=1280x720:rate=30,{NOISE}", "-f", "lavfi", "-i", "sine=sample_rate=48000",
         "-t", str(PUBLISH_CLIP_SECONDS), "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "8M", "-pix_fmt",
         "yuv420p", "-c:a", "aac", "-shortest", str(clip)],
        check=True, timeout=3600,
    )  # fmt: skip
    content = clip.read_bytes()
    with local_cloud(directory) as (outputs, _log):
        base = httpx.Client(base_url=outputs["HttpApiUrl"], timeout=60)
        member = Member(base)
        created = member.http.post(
            "/posts", json={"media": [{"content_type": "video/mp4", "size_bytes": len(content)}]}
        ).json()
        upload(created["uploads"][0], content, "clip.mp4", "video/mp4").raise_for_status()
        uploaded = time.perf_counter()
        post_id = created["post"]["post_id"]
        progress = []
        while True:
            post = member.http.get(f"/posts/{post_id}").json()
            processing = post["media"][0].get("processing")
            if processing and (not progress or progress[-1][1] != processing["done"]):
                progress.append((round(time.perf_counter() - uploaded, 1), processing["done"]))
            if post["status"] != "pending":
                break
            if time.perf_counter() - uploaded > 1800:
                raise RuntimeError("the clip was not published within 30 minutes")
            time.sleep(0.2)
        elapsed = time.perf_counter() - uploaded
    return {
        "clip": {"size": [1280, 720], "seconds": PUBLISH_CLIP_SECONDS, "bytes": len(content)},
        "status": post["status"],
        "upload_to_published_s": round(elapsed, 1),
        "progress_seen": [{"after_s": at, "done": done} for at, done in progress],
    }


def measure() -> dict[str, object]:
    started = time.perf_counter()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as workdir:
        directory = Path(workdir)
        sources = {name: _source_figures(directory, name) for name in ("1080p30_h264", "2160p30_hevc_hlg")}
        publish = _upload_to_published(directory)
    ratios = {
        f"{name}_ours_vs_bare_ladder_cpu": figures["ours_vs_bare_ladder_cpu"] for name, figures in sources.items()
    }
    return {
        "machine": {
            "cpus": os.cpu_count(),
            "load_before": [round(v, 1) for v in load_before],
            "load_after": [round(v, 1) for v in os.getloadavg()],
        },
        "sources": sources,
        "ratios": ratios,
        "targets": TARGETS,
        "targets_met": {name: value <= TARGETS["ours_vs_bare_ladder_cpu_max"] for name, value in ratios.items()},
        "local_cloud": publish,
        "seconds": round(time.perf_counter() - started, 1),
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
