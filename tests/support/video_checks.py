"""Renditions decoded back with the bundled ffmpeg, for tests to check what a player would get: every frame decoded
(`decode`: size, frame count, timestamps), the packets as stored (`packets`: codec, bytes, keyframes), ffmpeg's
description (`describe`: profile, colour tags, rotation left behind) and single frames as RGB (`pixel`).

A path or an http(s) URL (the local media endpoint) may be given wherever a file is read: HLS playlists are read
through ffmpeg's HLS demuxer, which fetches the variant playlists and segments they name."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from pinhole.media.ffmpeg import ffmpeg_executable

TIMEOUT_S = 120
HLS_READ = ("-protocol_whitelist", "file,http,https,tcp,tls,crypto", "-allowed_extensions", "ALL")


def _source(source: str | Path) -> list[str]:
    text = str(source)
    extra = list(HLS_READ) if text.endswith(".m3u8") else []
    return [*extra, "-i", text if "://" in text else f"file:{text}"]


def _ffmpeg(*arguments: str) -> subprocess.CompletedProcess[str]:
    command = [ffmpeg_executable(), "-hide_banner", "-nostdin", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


def _time_base(framecrc: str) -> float:
    found = re.search(r"^#tb 0: (\d+/\d+)$", framecrc, re.M)
    assert found, framecrc[:500]
    return float(Fraction(found[1]))


@dataclass
class Decoded:
    """Every frame of one stream, decoded: its size (0×0 for audio) and timestamps (seconds)."""

    width: int
    height: int
    times: list[float] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)

    @property
    def frames(self) -> int:
        return len(self.times)

    @property
    def duration_s(self) -> float:
        return self.times[-1] + self.durations[-1] - self.times[0]

    @property
    def frame_rate(self) -> float:
        return self.frames / self.duration_s

    @property
    def constant_rate(self) -> bool:
        gaps = {round(later - earlier, 4) for earlier, later in zip(self.times, self.times[1:], strict=False)}
        return len(gaps) <= 1


def decode(source: str | Path, stream: str = "0:v:0") -> Decoded:
    """Decodes every frame of `stream` (an error anywhere fails the check) and lists them with framecrc."""
    result = _ffmpeg("-v", "error", "-xerror", *_source(source), "-map", stream, "-f", "framecrc", "pipe:1")
    assert result.returncode == 0, f"{source} does not decode: {result.stderr[-2000:]}"
    time_base = _time_base(result.stdout)
    size = re.search(r"^#dimensions 0: (\d+)x(\d+)$", result.stdout, re.M)  # none for audio
    decoded = Decoded(int(size[1]) if size else 0, int(size[2]) if size else 0)
    for line in result.stdout.splitlines():
        if line and not line.startswith("#"):
            fields = [part.strip() for part in line.split(",")]
            decoded.times.append(int(fields[2]) * time_base)
            decoded.durations.append(int(fields[3]) * time_base)
    assert decoded.frames, f"{source} has no frames"
    return decoded


@dataclass
class Packets:
    codec: str
    time_base: float
    sizes: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    keyframe_times: list[float] = field(default_factory=list)

    @property
    def bits(self) -> int:
        return 8 * sum(self.sizes)


def packets(source: str | Path, stream: str = "0:v:0") -> Packets:
    """The stored packets of one stream, not decoded."""
    result = _ffmpeg("-v", "error", *_source(source), "-map", stream, "-c", "copy", "-f", "framecrc", "pipe:1")
    assert result.returncode == 0, f"{source}: {result.stderr[-2000:]}"
    codec = re.search(r"^#codec_id 0: (\w+)", result.stdout, re.M)
    assert codec, result.stdout[:500]
    found = Packets(codec[1], _time_base(result.stdout))
    for line in result.stdout.splitlines():
        if line and not line.startswith("#"):
            fields = [part.strip() for part in line.split(",")]
            at = int(fields[2]) * found.time_base
            found.sizes.append(int(fields[4]))
            found.times.append(at)
            if not any(part.startswith("F=") for part in fields[6:]):
                found.keyframe_times.append(at)
    return found


def describe(source: str | Path) -> str:
    """ffmpeg's description of an input (streams, profiles, colour tags, side data such as a display matrix)."""
    return _ffmpeg(*_source(source)).stderr


def streams(source: str | Path, kind: str) -> list[str]:
    """The description lines of every stream of a kind ("Video", "Audio")."""
    return [line.strip() for line in describe(source).splitlines() if f": {kind}: " in line]


def pixel(source: str | Path, at: tuple[float, float], at_s: float = 0.0) -> tuple[int, int, int]:
    """The RGB colour of a frame at a point given as fractions of its width and height."""
    x, y = at
    crop = f"crop=1:1:floor(iw*{x}):floor(ih*{y})"
    result = subprocess.run(
        [ffmpeg_executable(), "-v", "error", "-nostdin", "-ss", f"{at_s:.3f}", *_source(source), "-frames:v", "1",
         "-vf", f"{crop},format=rgb24", "-f", "rawvideo", "pipe:1"],
        capture_output=True, timeout=TIMEOUT_S, check=True,
    )  # fmt: skip
    red, green, blue = result.stdout[:3]
    return red, green, blue


def master_variants(playlist: str) -> list[dict[str, str]]:
    """The attributes of each EXT-X-STREAM-INF of a master playlist, with the URI that follows it."""
    variants, lines = [], playlist.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF:"):
            attributes = dict(re.findall(r'([A-Z-]+)=("[^"]*"|[^,]*)', line.split(":", 1)[1]))
            variants.append({**{k: v.strip('"') for k, v in attributes.items()}, "URI": lines[index + 1].strip()})
    return variants


def segment_durations(playlist: str) -> list[float]:
    return [float(value) for value in re.findall(r"^#EXTINF:([\d.]+),", playlist, re.M)]
