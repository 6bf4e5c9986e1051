"""A checked clip (`VideoSource`) → the ladder: H.264/AAC MP4 rungs with faststart, an HLS ladder of the same encodes,
and a poster and thumb from a representative frame. docs/MEDIA.md "Video" says why each setting.

One ffmpeg run decodes the upload once and encodes every rung (the picture is made upright, constant-rate, SDR
BT.709 and square-pixelled once, at the top rung's size, then split); a second run cuts the MP4s into HLS segments
without re-encoding (`-c copy`), so both ladders hold the same pictures. An upload that is already what the top rung
would be (H.264 + AAC or silent, 8-bit 4:2:0, SDR, upright, square pixels, constant rate, keyframes at most
KEYFRAME_INTERVAL_S apart, within the top rung's size and bitrate) is remuxed into it, and only the lower rungs are
encoded, with their keyframes where the upload has them, so every rung is cut at the same instants.
"""

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from PIL import Image

from pinhole.media.ffmpeg import NO_DEADLINE, Deadline, FfmpegFailed, ffmpeg_executable, run, run_checked
from pinhole.media.imaging import render_frame
from pinhole.media.limits import (
    AUDIO_CHANNELS,
    AUDIO_CODEC,
    AUDIO_KBPS,
    AUDIO_SAMPLE_RATE,
    HLS_CONTENT_TYPE,
    HLS_MASTER,
    HLS_SEGMENT_S,
    KEYFRAME_INTERVAL_S,
    MAX_VIDEO_DURATION_S,
    MP4,
    VIDEO_BUFFER_S,
    VIDEO_CRF,
    VIDEO_DURATION_TOLERANCE_S,
    VIDEO_FPS_CAP,
    VIDEO_HIGH_FPS_CAP,
    VIDEO_HIGH_FPS_FROM,
    VIDEO_PICTURE_RENDITIONS,
    VIDEO_PRESET,
    MediaRejected,
    RejectionCode,
    VideoRung,
    video_rungs,
)
from pinhole.media.models import TranscodedVideo, VideoFile, VideoSource
from pinhole.media.video import input_arguments, parse_header, too_long

ENCODE_TIMEOUT_S = 900.0
PACKAGE_TIMEOUT_S = 120.0
FRAME_TIMEOUT_S = 60.0
POSTER_WIDTH = 1080
POSTER_CANDIDATES = 8
CANDIDATE_WIDTH = 32
SEGMENT_CONTENT_TYPE = "video/iso.segment"
EXTINF = re.compile(r"^#EXTINF:([\d.]+),", re.MULTILINE)
SEGMENT_URI = re.compile(r"^(segment\d+\.m4s)$", re.MULTILINE)
INIT_URI = re.compile(r'^#EXT-X-MAP:URI="([\w.]+)"', re.MULTILINE)
TARGET_DURATION = re.compile(r"^#EXT-X-TARGETDURATION:(\d+)$", re.MULTILINE)
# Reading stops here: a clip whose packets lied about its length costs at most this much encoding, then is refused.
READ_LIMIT_S = MAX_VIDEO_DURATION_S + VIDEO_DURATION_TOLERANCE_S + 0.1
# Frame rates phones and editors write; an average within 3% of one of them is taken as that rate.
STANDARD_RATES = tuple(
    Fraction(rate) for rate in ("24000/1001", "24", "25", "30000/1001", "30", "50", "60000/1001", "60")
)
COPYABLE_VIDEO_PROFILES = frozenset({"Baseline", "Constrained Baseline", "Main", "High"})
# PQ/HLG in BT.2020 → linear light (reference white, BT.2408's 203 nits, at 1.0) → BT.709 primaries → highlights
# compressed by Möbius (which leaves the SDR range as it is, unlike Hable, which darkens it) → BT.709 transfer.
TONE_MAP = (
    "zscale=t=linear:npl=203,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=mobius:desat=0,zscale=t=bt709:m=bt709:r=tv"
)


@dataclass(frozen=True, slots=True)
class PlannedRung:
    rung: VideoRung
    width: int
    height: int
    copy: bool  # the upload remuxed, not encoded

    @property
    def max_kbps(self) -> int:
        return self.rung.max_kbps


@dataclass(frozen=True, slots=True)
class LadderPlan:
    rungs: tuple[PlannedRung, ...]  # largest first
    frame_rate: Fraction
    tone_map: bool
    audio: bool

    @property
    def copies(self) -> bool:
        return self.rungs[0].copy


def output_frame_rate(source_fps: float) -> Fraction:
    """30 at most, or 60 at most for a 50–60 fps source; never more than the source has; a standard rate when the
    source's average is within 3% of one (a phone's variable rate averages a little under its nominal one)."""
    cap = VIDEO_HIGH_FPS_CAP if source_fps >= VIDEO_HIGH_FPS_FROM else VIDEO_FPS_CAP
    rate = min(source_fps, cap)
    nearest = min(STANDARD_RATES, key=lambda standard: abs(float(standard) - rate))
    if abs(float(nearest) - rate) <= 0.03 * float(nearest) and float(nearest) <= cap:
        return nearest
    return Fraction(rate).limit_denominator(1001)


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def _size_at(source: VideoSource, short_side: int) -> tuple[int, int]:
    scale = short_side / source.short_side
    if source.width <= source.height:
        return _even(short_side), _even(source.height * scale)
    return _even(source.width * scale), _even(short_side)


def can_copy(source: VideoSource, top: VideoRung, frame_rate: Fraction) -> bool:
    """Whether the upload already is what the top rung would be (module docstring)."""
    width, height = source.width, source.height
    return (
        source.video_codec == "h264"
        and source.video_profile in COPYABLE_VIDEO_PROFILES
        and source.pixel_format in ("yuv420p", "yuvj420p")
        and not source.is_hdr
        and source.rotation == 0
        and source.sample_aspect == (1, 1)
        and width % 2 == 0
        and height % 2 == 0
        and source.short_side <= top.short_side
        and source.long_side <= top.short_side * 16 // 9
        and source.constant_frame_rate
        and abs(source.frame_rate - float(frame_rate)) <= 0.01 * float(frame_rate)
        and source.max_keyframe_interval_s <= KEYFRAME_INTERVAL_S + 0.01
        and source.video_kbps <= top.max_kbps
        and (source.audio_codec is None or (source.audio_codec == "aac" and source.audio_profile == "LC"))
        and (source.audio_channels or 0) <= AUDIO_CHANNELS
    )


def plan_ladder(source: VideoSource) -> LadderPlan:
    """Which rungs, at which sizes, at which frame rate, and whether the top one is the upload itself."""
    frame_rate = output_frame_rate(source.frame_rate)
    made = video_rungs(source.short_side)
    top_rung = made[0][0]
    copy = can_copy(source, top_rung, frame_rate)
    rungs = []
    for index, (rung, short_side) in enumerate(made):
        if index == 0 and copy:
            rungs.append(PlannedRung(rung, source.width, source.height, copy=True))
        else:
            rungs.append(PlannedRung(rung, *_size_at(source, short_side), copy=False))
    return LadderPlan(tuple(rungs), frame_rate, tone_map=source.is_hdr, audio=source.audio_codec is not None)


def encode_command(ffmpeg: str, source_path: str, plan: LadderPlan, outputs: list[Path]) -> list[str]:
    """The one run that makes every encoded MP4 rung (`outputs`: one path per rung of the plan)."""
    encoded = [(rung, output) for rung, output in zip(plan.rungs, outputs, strict=True) if not rung.copy]
    top = plan.rungs[0]
    if plan.copies:
        # The upload is constant-rate at the output rate already: no `fps`, which might move frames off the keyframes.
        prepared = "[0:v:0]setsar=1"
    else:
        prepared = f"[0:v:0]fps={plan.frame_rate},scale={top.width}:{top.height}:flags=lanczos"
        prepared += f",{TONE_MAP}" if plan.tone_map else ""
        prepared += ",setsar=1"
    labels = [f"[split{index}]" for index in range(len(encoded))]
    graph = f"{prepared},format=yuv420p,split={len(encoded)}{''.join(labels)}"
    for index, (rung, _) in enumerate(encoded):
        graph += f";{labels[index]}scale={rung.width}:{rung.height}:flags=lanczos,setsar=1[v{index}]"
    if plan.copies:
        # Keyframes where the upload has them (and only there), so that every rung is cut at the same instants.
        keyframes = ["-force_key_frames", "source", "-g", "100000"]
    else:
        gop = str(max(1, round(KEYFRAME_INTERVAL_S * plan.frame_rate)))
        keyframes = ["-g", gop, "-keyint_min", gop]
    command = [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-t", f"{READ_LIMIT_S:.1f}"]
    command += [*input_arguments(source_path), "-filter_complex", graph]
    for index, (rung, output) in enumerate(encoded):
        command += ["-map", f"[v{index}]", *(["-map", "0:a:0"] if plan.audio else [])]
        command += ["-c:v", "libx264", "-preset", VIDEO_PRESET, "-profile:v", "high", "-crf", str(VIDEO_CRF)]
        command += ["-maxrate", f"{rung.max_kbps}k", "-bufsize", f"{rung.max_kbps * VIDEO_BUFFER_S}k"]
        command += [*keyframes, "-sc_threshold", "0", "-pix_fmt", "yuv420p"]
        command += ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709"]
        if plan.audio:
            command += ["-c:a", AUDIO_CODEC, "-b:a", f"{AUDIO_KBPS}k", "-ac", str(AUDIO_CHANNELS)]
            command += ["-ar", str(AUDIO_SAMPLE_RATE), "-af", "aresample=async=1"]
        command += _mp4_output(output)
    return command


def copy_command(ffmpeg: str, source_path: str, plan: LadderPlan, output: Path) -> list[str]:
    """The upload's own streams into the top rung's MP4, index first, metadata (location, device) left behind."""
    audio = ["-map", "0:a:0"] if plan.audio else []
    command = [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", *input_arguments(source_path)]
    return [*command, "-map", "0:v:0", *audio, "-c", "copy", *_mp4_output(output)]


def _mp4_output(output: Path) -> list[str]:
    return ["-map_metadata", "-1", "-map_chapters", "-1", "-movflags", "+faststart", "-f", "mp4", f"file:{output}"]


def hls_command(ffmpeg: str, plan: LadderPlan, mp4s: list[Path], directory: Path) -> list[str]:
    """The MP4 rungs cut, without re-encoding, into fMP4 segments of HLS_SEGMENT_S (each starts on a keyframe)
    under `directory`/<label>/, with one playlist each (`write_master_playlist` names them all)."""
    command = [ffmpeg, "-hide_banner", "-nostdin", "-v", "error"]
    for mp4 in mp4s:
        command += ["-i", f"file:{mp4}"]
    variants = []
    for index, rung in enumerate(plan.rungs):
        command += ["-map", f"{index}:v:0", *(["-map", f"{index}:a:0"] if plan.audio else [])]
        streams = f"v:{index},a:{index}" if plan.audio else f"v:{index}"
        variants.append(f"{streams},name:{rung.rung.label}")
    # Encoded rungs have a keyframe every KEYFRAME_INTERVAL_S: cut every HLS_SEGMENT_S, segments are exactly that. A
    # copied ladder has the upload's keyframes (at most KEYFRAME_INTERVAL_S apart): a cut at the first keyframe past
    # KEYFRAME_INTERVAL_S makes segments of 2 s up to (not including) 4 s.
    segment_s = KEYFRAME_INTERVAL_S if plan.copies else HLS_SEGMENT_S
    command += ["-c", "copy", "-f", "hls", "-hls_time", f"{segment_s:g}", "-hls_playlist_type", "vod"]
    command += [
        "-hls_segment_type",
        "fmp4",
        "-hls_flags",
        "independent_segments",
        "-hls_fmp4_init_filename",
        "init.mp4",
    ]
    command += ["-hls_segment_filename", f"{directory}/%v/segment%d.m4s"]
    command += ["-var_stream_map", " ".join(variants), f"{directory}/%v/index.m3u8"]
    return command


def transcode(
    source_path: str | os.PathLike[str],
    source: VideoSource,
    workdir: str | os.PathLike[str],
    ffmpeg: str | None = None,
    deadline: Deadline = NO_DEADLINE,
    on_step: Callable[[], None] | None = None,
    hls: bool = True,
) -> TranscodedVideo:
    """Every rendition of the checked clip, written under `workdir` (MediaRejected on failure or at the deadline).
    `on_step` is told after the encode and after the packaging, so the client can be shown progress. Without `hls`,
    no HLS ladder is cut (a message's video: private, read through signed URLs a playlist's segments lack)."""
    executable = ffmpeg or ffmpeg_executable()
    directory = Path(workdir)
    plan = plan_ladder(source)
    outputs = [directory / f"{rung.rung.name}.mp4" for rung in plan.rungs]
    try:
        if plan.copies:
            run_checked(copy_command(executable, str(source_path), plan, outputs[0]), ENCODE_TIMEOUT_S, deadline)
        if len(plan.rungs) > int(plan.copies):
            run_checked(encode_command(executable, str(source_path), plan, outputs), ENCODE_TIMEOUT_S, deadline)
    except FfmpegFailed as error:
        raise MediaRejected(RejectionCode.CORRUPT, "The video is damaged and could not be converted.") from error
    duration_s = _duration_of(executable, outputs[0], deadline)
    if duration_s > MAX_VIDEO_DURATION_S + VIDEO_DURATION_TOLERANCE_S:
        raise too_long(duration_s)
    if on_step:
        on_step()
    hls_directory = directory / "hls"
    if hls:
        run_checked(hls_command(executable, plan, outputs, hls_directory), PACKAGE_TIMEOUT_S, deadline)
        write_master_playlist(hls_directory, plan)
    top = plan.rungs[0]
    frame = _poster_frame(executable, outputs[0], outputs[-1], top, duration_s, deadline)
    pictures = render_frame(frame, VIDEO_PICTURE_RENDITIONS)
    if on_step:
        on_step()
    return TranscodedVideo(
        width=top.width,
        height=top.height,
        duration_s=duration_s,
        blurhash=pictures.blurhash,
        mp4=tuple(
            VideoFile(rung.rung.name, str(output), rung.width, rung.height, MP4)
            for rung, output in zip(plan.rungs, outputs, strict=True)
        ),
        hls=_hls_files(hls_directory, plan) if hls else (),
        pictures=pictures.renditions,
        copied=plan.copies,
    )


def _duration_of(ffmpeg: str, mp4: Path, deadline: Deadline) -> float:
    """The real duration of what was made: ffmpeg's own MP4 header, written from the frames it encoded."""
    result = run([ffmpeg, "-hide_banner", "-nostdin", "-i", f"file:{mp4}"], FRAME_TIMEOUT_S, deadline)
    return round(parse_header(result.stderr.decode("utf-8", "replace")).duration_s, 3)


def write_master_playlist(directory: Path, plan: LadderPlan) -> str:
    """The master playlist over the variant playlists ffmpeg wrote (ffmpeg's own omits the variants of a clip that
    fits in one segment): per variant its peak and average segment bitrate, resolution, frame rate and codecs (the
    H.264 profile and level from its init segment's avcC box; AAC-LC). Each variant's target duration is made at
    least 1 s, as RFC 8216 wants an integer that a segment's rounded duration does not exceed."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for rung in plan.rungs:
        variant = directory / rung.rung.label
        playlist = (variant / "index.m3u8").read_text()
        durations = [float(value) for value in EXTINF.findall(playlist)]
        sizes = [(variant / name).stat().st_size for name in SEGMENT_URI.findall(playlist)]
        rates = [8 * size / duration for size, duration in zip(sizes, durations, strict=True) if duration > 0]
        average = 8 * sum(sizes) / sum(durations)
        (variant / "index.m3u8").write_text(
            TARGET_DURATION.sub(lambda found: f"#EXT-X-TARGETDURATION:{max(1, int(found[1]))}", playlist)
        )
        init_segment = INIT_URI.search(playlist)
        assert init_segment, f"{variant} has no EXT-X-MAP"
        codecs = [_avc_codec((variant / init_segment[1]).read_bytes()), *(["mp4a.40.2"] if plan.audio else [])]
        lines.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={math.ceil(max(rates, default=average))},"
            f"AVERAGE-BANDWIDTH={math.ceil(average)},RESOLUTION={rung.width}x{rung.height},"
            f'FRAME-RATE={float(plan.frame_rate):.3f},CODECS="{",".join(codecs)}"'
        )
        lines.append(f"{rung.rung.label}/index.m3u8")
    text = "\n".join(lines) + "\n"
    (directory / HLS_MASTER).write_text(text)
    return text


def _avc_codec(init_segment: bytes) -> str:
    """RFC 6381's `avc1.PPCCLL`: profile, constraint flags and level from the AVCDecoderConfigurationRecord."""
    at = init_segment.index(b"avcC") + 4
    profile, constraints, level = init_segment[at + 1 : at + 4]
    return f"avc1.{profile:02x}{constraints:02x}{level:02x}"


def _hls_files(directory: Path, plan: LadderPlan) -> tuple[VideoFile, ...]:
    top = plan.rungs[0]
    files = [VideoFile(HLS_MASTER, str(directory / HLS_MASTER), top.width, top.height, HLS_CONTENT_TYPE)]
    for rung in plan.rungs:
        for path in sorted((directory / rung.rung.label).iterdir()):
            content_type = {".m3u8": HLS_CONTENT_TYPE, ".mp4": MP4}.get(path.suffix, SEGMENT_CONTENT_TYPE)
            name = f"{rung.rung.label}/{path.name}"
            files.append(VideoFile(name, str(path), rung.width, rung.height, content_type))
    return tuple(files)


def _poster_frame(
    ffmpeg: str, best: Path, smallest: Path, top: PlannedRung, duration_s: float, deadline: Deadline
) -> Image.Image:
    """The most detailed of POSTER_CANDIDATES frames spread over the clip (a black or blank frame, such as the first
    of many phone clips, has no detail), taken from the best rung: upright, SDR, square-pixelled already."""
    at_s = _representative_time(ffmpeg, smallest, duration_s, deadline)
    width = min(POSTER_WIDTH, top.width)
    height = max(1, round(top.height * width / top.width))
    command = [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-ss", f"{at_s:.3f}", "-i", f"file:{best}"]
    command += ["-frames:v", "1", "-vf", f"scale={width}:{height}:flags=lanczos", "-pix_fmt", "rgb24"]
    command += ["-f", "rawvideo", "pipe:1"]
    frame = run(command, FRAME_TIMEOUT_S, deadline).stdout
    if len(frame) < width * height * 3:
        raise MediaRejected(RejectionCode.CORRUPT, "The video is damaged or incomplete and cannot be played.")
    return Image.frombytes("RGB", (width, height), frame[: width * height * 3])


def _representative_time(ffmpeg: str, smallest: Path, duration_s: float, deadline: Deadline) -> float:
    """When the candidate frame with the most contrast (standard deviation of its grey levels) is shown."""
    step_s = duration_s / POSTER_CANDIDATES
    height = CANDIDATE_WIDTH  # a square thumbnail: the aspect ratio does not matter for the score
    command = [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-i", f"file:{smallest}"]
    command += ["-vf", f"fps=1/{step_s:.6f}:start_time={step_s / 2:.6f},scale={CANDIDATE_WIDTH}:{height},format=gray"]
    command += ["-frames:v", str(POSTER_CANDIDATES), "-f", "rawvideo", "pipe:1"]
    pixels = run(command, FRAME_TIMEOUT_S, deadline).stdout
    size = CANDIDATE_WIDTH * height
    frames = [pixels[offset : offset + size] for offset in range(0, len(pixels) - size + 1, size)]
    if not frames:
        return 0.0
    scores = [_contrast(frame) for frame in frames]
    best = max(range(len(frames)), key=lambda index: (scores[index], -index))
    return min(step_s / 2 + best * step_s, max(0.0, duration_s - 0.05))


def _contrast(frame: bytes) -> float:
    mean = sum(frame) / len(frame)
    return math.sqrt(sum((value - mean) ** 2 for value in frame) / len(frame))
