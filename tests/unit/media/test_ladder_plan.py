"""The ladder planned from a probed clip, without running ffmpeg: which rungs at which sizes, the frame rate, when
the upload is copied into the top rung, and the ffmpeg arguments that carry those decisions."""

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest

from pinhole.media.limits import VIDEO_LADDER, video_rungs
from pinhole.media.models import VideoSource
from pinhole.media.transcode import TONE_MAP, encode_command, hls_command, output_frame_rate, plan_ladder

PHONE_1080P = VideoSource(
    width=1920,
    height=1080,
    coded_width=1920,
    coded_height=1080,
    rotation=0,
    sample_aspect=(1, 1),
    duration_s=15.0,
    header_duration_s=15.0,
    video_codec="h264",
    video_profile="High",
    pixel_format="yuv420p",
    color_transfer="bt709",
    color_primaries="bt709",
    frame_rate=30.0,
    constant_frame_rate=True,
    max_keyframe_interval_s=1.0,
    video_kbps=4500,
    audio_codec="aac",
    audio_profile="LC",
    audio_channels=2,
)


def sizes(source: VideoSource) -> list[tuple[str, int, int, bool]]:
    return [(rung.rung.label, rung.width, rung.height, rung.copy) for rung in plan_ladder(source).rungs]


@pytest.mark.parametrize(
    ("short_side", "expected"),
    [(2160, [1080, 720, 480]), (1080, [1080, 720, 480]), (1079, [720, 480]), (720, [720, 480]), (600, [480]),
     (480, [480]), (120, [120])],
)  # fmt: skip
def test_rungs_are_never_upscaled_and_the_smallest_is_always_made(short_side: int, expected: list[int]) -> None:
    # Given a source's displayed short side / When the rungs are chosen
    made = video_rungs(short_side)

    # Then 1080p needs a source at least that tall, each rung is at most the source, and 480p (or less) always exists
    assert [made_at for _, made_at in made] == expected
    assert made[-1][0] == VIDEO_LADDER[-1]


def test_compatible_phone_clip_is_copied_into_the_top_rung_and_the_lower_rungs_encoded() -> None:
    # Given an H.264 High + AAC-LC 1080p30 clip, upright, a keyframe a second, under the 1080p cap
    # When the ladder is planned / Then 1080p is the upload itself; 720p and 480p are encoded
    assert sizes(PHONE_1080P) == [("1080p", 1920, 1080, True), ("720p", 1280, 720, False), ("480p", 854, 480, False)]


@pytest.mark.parametrize(
    "change",
    [
        {"video_codec": "hevc", "video_profile": "Main"},
        {"pixel_format": "yuv420p10le"},
        {"color_transfer": "arib-std-b67", "color_primaries": "bt2020"},
        {"rotation": 90, "width": 1080, "height": 1920},
        {"sample_aspect": (4, 3)},
        {"constant_frame_rate": False},
        {"frame_rate": 48.0},
        {"max_keyframe_interval_s": 5.0},
        {"video_kbps": 17_000},
        {"audio_codec": "opus", "audio_profile": None},
        {"audio_channels": 6},
        {"width": 2560, "height": 1080},
        {"width": 1922, "height": 1082},
    ],
    ids=["hevc", "10-bit", "hdr", "rotated", "anamorphic", "vfr", "48-fps", "sparse-keyframes", "17-mbps", "opus",
         "5.1", "wider-than-16:9", "too-large"],
)  # fmt: skip
def test_anything_short_of_the_top_rung_is_encoded(change: dict[str, object]) -> None:
    # Given the compatible clip with one thing a player (or the HLS ladder) would not take as it is
    source = replace(PHONE_1080P, **change)  # type: ignore[arg-type]

    # When the ladder is planned / Then every rung is encoded
    assert not plan_ladder(source).copies


@pytest.mark.parametrize(
    ("source_fps", "expected"),
    [(240.0, Fraction(60)), (59.94, Fraction(60000, 1001)), (50.0, Fraction(50)), (48.0, Fraction(30)),
     (29.6, Fraction(30000, 1001)), (24.0, Fraction(24)), (17.3, Fraction(173, 10)), (1.0, Fraction(1))],
)  # fmt: skip
def test_frame_rate_is_capped_at_30_or_kept_up_to_60(source_fps: float, expected: Fraction) -> None:
    # Given a source's average frame rate / When the output rate is chosen
    # Then 50–60 fps sources keep their rate (capped at 60), others are capped at 30, never raised; near-standard
    # averages (a phone's variable rate) snap to the standard rate
    assert output_frame_rate(source_fps) == expected


def test_portrait_odd_sized_clip_gets_even_rungs_by_its_short_side() -> None:
    # Given a 1081×1921 portrait clip (odd sizes, as some phones crop) in 4:4:4
    source = replace(PHONE_1080P, width=1081, height=1921, coded_width=1081, coded_height=1921, pixel_format="yuv444p")

    # When the ladder is planned / Then each rung is named by the short side, with even sizes, none copied
    assert sizes(source) == [("1080p", 1080, 1920, False), ("720p", 720, 1280, False), ("480p", 480, 852, False)]


def test_encode_command_tone_maps_hdr_and_caps_every_rung(tmp_path: Path) -> None:
    # Given a 4K HLG clip at 30 fps with audio
    source = replace(
        PHONE_1080P, width=3840, height=2160, video_codec="hevc", pixel_format="yuv420p10le",
        color_transfer="arib-std-b67", color_primaries="bt2020",
    )  # fmt: skip
    plan = plan_ladder(source)
    outputs = [tmp_path / f"{rung.rung.name}.mp4" for rung in plan.rungs]

    # When the encode is built
    command = encode_command("ffmpeg", "source", plan, outputs)
    text = " ".join(command)

    # Then the picture is made constant-rate, scaled, tone-mapped once, then split; each rung is High-profile H.264
    # capped at its bitrate with a 2 s buffer and a keyframe every 2 s, AAC-LC 128 kb/s stereo 48 kHz, faststart
    assert f"fps=30,scale=1920:1080:flags=lanczos,{TONE_MAP},setsar=1,format=yuv420p,split=3" in text
    assert text.count(TONE_MAP) == 1
    for rung, output in zip(plan.rungs, outputs, strict=True):
        assert f"-maxrate {rung.max_kbps}k -bufsize {rung.max_kbps * 2}k" in text
        assert f"-movflags +faststart -f mp4 file:{output}" in text
    assert text.count("-profile:v high") == text.count("-g 60 -keyint_min 60 -sc_threshold 0") == 3
    assert text.count("-c:a aac -b:a 128k -ac 2 -ar 48000") == 3
    assert text.count("-map_metadata -1") == 3
    assert command[command.index("-t") + 1] == "90.2"


def test_copied_top_rung_sets_the_keyframes_of_the_encoded_ones(tmp_path: Path) -> None:
    # Given a compatible clip (its top rung is the upload)
    plan = plan_ladder(PHONE_1080P)
    outputs = [tmp_path / f"{rung.rung.name}.mp4" for rung in plan.rungs]

    # When the encode is built
    text = " ".join(encode_command("ffmpeg", "source", plan, outputs))

    # Then only the lower rungs are encoded, with keyframes exactly where the upload has them
    assert str(outputs[0]) not in text
    assert text.count("-force_key_frames source") == 2
    assert "fps=" not in text


def test_silent_clip_maps_no_audio_into_the_mp4s_or_the_hls_variants(tmp_path: Path) -> None:
    # Given a clip without an audio track
    plan = plan_ladder(replace(PHONE_1080P, audio_codec=None, audio_profile=None, audio_channels=None))
    outputs = [tmp_path / f"{rung.rung.name}.mp4" for rung in plan.rungs]

    # When the encode and the packaging are built
    encode = encode_command("ffmpeg", "source", plan, outputs)
    package = hls_command("ffmpeg", plan, outputs, tmp_path / "hls")

    # Then no audio is mapped or encoded, and each variant is video only
    assert "-c:a" not in encode and "0:a:0" not in encode
    assert package[package.index("-var_stream_map") + 1] == "v:0,name:1080p v:1,name:720p v:2,name:480p"


def test_hls_segments_are_cut_so_they_last_2_to_4_seconds(tmp_path: Path) -> None:
    # Given an encoded ladder (a keyframe every 2 s) and a copied one (the upload's keyframes, at most 2 s apart)
    encoded = plan_ladder(replace(PHONE_1080P, video_codec="hevc"))
    copied = plan_ladder(PHONE_1080P)
    outputs = [tmp_path / "a.mp4", tmp_path / "b.mp4", tmp_path / "c.mp4"]

    # When the packaging is built
    def segment_s(plan: object) -> str:
        command = hls_command("ffmpeg", plan, outputs, tmp_path)  # type: ignore[arg-type]
        return command[command.index("-hls_time") + 1]

    # Then encoded rungs are cut every 4 s (exactly 4 s segments), copied ones at the first keyframe past 2 s
    assert (segment_s(encoded), segment_s(copied)) == ("4", "2")
