"""Phone clips and broken videos (tests/support/video_corpus.py) through the real pipeline on moto: the upload lands,
resize hands it to the transcode queue, transcode (a context counting down from the template's Timeout) makes the
ladder, and the post ends published or failed. Every rendition is then read back from the media bucket and decoded
with ffmpeg as a player would: size, orientation, duration, codec, frame rate, bitrate cap, audio, colour, and the
HLS master playlist played end to end from its files."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from pinhole.media.limits import HLS_SEGMENT_S, VIDEO_BUFFER_S, VIDEO_LADDER, RejectionCode
from pinhole.media.models import ScreeningLabel
from pinhole.moderation.dal import ModerationRepository
from pinhole.moderation.models import CaseStatus, TargetType, case_id_of
from pinhole.moderation.screening import ImageScreen
from pinhole.posts.models import MediaStatus, PostKind, PostStatus
from pinhole.upload.keys import UploadKey, rendition_prefix
from tests.support.resize_pipeline import ResizePipeline, media_account, resize_wiring
from tests.support.video_checks import (
    decode,
    describe,
    master_variants,
    packets,
    pixel,
    segment_durations,
    streams,
)
from tests.support.video_corpus import CLIPS, GREY_SDR, READY, PhoneClip, build

WIRING = resize_wiring()
CAPS_KBPS = {rung.name: rung.max_kbps for rung in VIDEO_LADDER}
PICTURES = {"poster": "image/jpeg", "poster_webp": "image/webp", "thumb": "image/jpeg", "thumb_webp": "image/webp"}
RED, BLUE = (255, 0, 0), (0, 0, 255)


@pytest.fixture(scope="module")
def pipeline() -> Iterator[ResizePipeline]:
    """One account and pipeline for the whole corpus: every clip has a post of its own, and each test drains it."""
    with media_account():
        yield ResizePipeline(WIRING)


def close(colour: tuple[int, int, int], expected: tuple[int, int, int], tolerance: int = 60) -> bool:
    return max(abs(a - b) for a, b in zip(colour, expected, strict=True)) <= tolerance


def download(pipeline: ResizePipeline, upload: UploadKey, directory: Path) -> dict[str, Path]:
    """Every object under the post's prefix, written under `directory` at its key's path."""
    files = {}
    for key, data in pipeline.rendition_objects(upload).items():
        path = directory / key.removeprefix(rendition_prefix(upload.post_id))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        files[key] = path
    return files


def test_the_corpus_covers_what_phones_send() -> None:
    # Given the corpus / Then it has the rotations, HDR, frame rates, sizes, lengths and breakages of the issue
    clips = CLIPS.values()
    assert {"portrait-rotation-90", "landscape-rotation-180", "portrait-rotation-270"} <= set(CLIPS)
    assert sum(clip.hdr for clip in clips) == 2
    assert {clip.frame_rate for clip in clips if clip.expected == READY} >= {60, 30, 24}
    assert {clip.duration_s for clip in clips} >= {0.5, 90.0}
    assert {clip.expected for clip in clips} == {
        READY,
        RejectionCode.TOO_LONG,
        RejectionCode.CORRUPT,
        RejectionCode.NO_VIDEO_STREAM,
        RejectionCode.TYPE_MISMATCH,
    }
    assert any(clip.copied for clip in clips) and any(not clip.audio for clip in clips if clip.expected == READY)


@pytest.mark.parametrize("clip", list(CLIPS.values()), ids=list(CLIPS))
def test_clip_ends_published_with_playable_renditions_or_rejected_with_a_reason(
    pipeline: ResizePipeline, clip: PhoneClip, tmp_path: Path
) -> None:
    # Given the clip uploaded for a pending post
    calls_before = len(pipeline.runner.calls)
    key = pipeline.upload(clip.content_type, build(clip.name))

    # When the pipeline runs until every queue is empty
    pipeline.deliver()

    # Then nothing is left in any queue, and no invocation failed
    assert pipeline.waiting() == pipeline.transcode_requests() == 0
    calls = pipeline.runner.calls[calls_before:]
    assert calls and all(call.failed_ids == [] for call in calls), calls
    media = pipeline.media(key)
    if clip.expected != READY:
        # And a broken clip is rejected with its reason, its post failed, nothing in the media bucket
        assert (media.status, media.reason_code, pipeline.status(key)) == (
            MediaStatus.REJECTED,
            clip.expected,
            PostStatus.FAILED,
        )
        assert media.reason and media.reason.endswith(".")
        assert pipeline.rendition_objects(key) == {}
        return
    assert (media.status, pipeline.status(key)) == (MediaStatus.READY, PostStatus.PUBLISHED), media
    assert media.processing is None and media.claim is None
    files = download(pipeline, key, tmp_path)
    renditions = media.rendition_keys
    rungs = [name for name in renditions if name.startswith("mp4_")]
    assert rungs and set(renditions) == {"video", "hls", *rungs, *PICTURES}
    assert renditions["video"] == renditions[rungs[0]]  # the best MP4, for clients that know no rungs
    assert (media.width, media.height) == (renditions[rungs[0]].width, renditions[rungs[0]].height)
    assert media.duration_s == pytest.approx(clip.duration_s, abs=0.1)
    assert media.blurhash

    for name in rungs:
        rendition = renditions[name]
        copied = clip.copied and name == rungs[0]
        check_mp4(clip, name, rendition.width, rendition.height, files[rendition.key], copied)
    check_pictures(clip, {name: files[renditions[name].key] for name in PICTURES}, renditions)
    check_hls(clip, files[renditions["hls"].key], [renditions[name] for name in rungs])


def test_a_flagged_poster_holds_the_video_post_in_review_with_a_case(
    pipeline: ResizePipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given automatic screening on, and Rekognition flagging the poster it is shown
    shown: list[bytes] = []

    def flag(screen: ImageScreen, image: bytes) -> list[ScreeningLabel]:
        shown.append(image)
        return [ScreeningLabel(name="Explicit Nudity", parent="", confidence=97.5)]

    monkeypatch.setattr(ImageScreen, "enabled", property(lambda screen: True))
    monkeypatch.setattr(ImageScreen, "flagged", flag)
    clip = min((clip for clip in CLIPS.values() if clip.expected == READY), key=lambda clip: clip.duration_s)

    # When a clip that transcodes is uploaded and the pipeline drains
    key = pipeline.upload(clip.content_type, build(clip.name))
    pipeline.deliver()

    # Then the video is made, but its post is held in review (published nowhere), its item carrying the label
    media = pipeline.media(key)
    assert (media.status, pipeline.status(key)) == (MediaStatus.READY, PostStatus.IN_REVIEW), media
    assert [(label.name, label.confidence) for label in media.flagged] == [("Explicit Nudity", 97.5)]
    # And Rekognition was shown one JPEG (the largest poster), and an open case has the labels
    assert len(shown) == 1 and shown[0][:3] == b"\xff\xd8\xff"
    case = ModerationRepository().case(case_id_of(TargetType.POST, key.post_id))
    assert case is not None and case.status == CaseStatus.OPEN
    assert [label.name for label in case.labels] == ["Explicit Nudity"]


def test_a_video_story_gets_a_post_videos_renditions(pipeline: ResizePipeline, tmp_path: Path) -> None:
    # Given the shortest clip that transcodes, uploaded for a story (a post's video beside it, for comparison)
    clip = min((clip for clip in CLIPS.values() if clip.expected == READY), key=lambda clip: clip.duration_s)
    story = pipeline.upload(clip.content_type, build(clip.name), kind=PostKind.STORY)
    post = pipeline.upload(clip.content_type, build(clip.name))

    # When the pipeline drains
    pipeline.deliver()

    # Then the story is published with API.md's video Media (`video`, `poster`, `duration_s`): every rendition a
    # post's video of the same clip has (the ladder, hls, poster and thumb), each of the same size and type
    media, of_post = pipeline.media(story), pipeline.media(post)
    assert (media.status, pipeline.status(story)) == (MediaStatus.READY, PostStatus.PUBLISHED), media
    assert pipeline.record(story).kind == PostKind.STORY  # type: ignore[union-attr]
    shape = {name: (r.width, r.height, r.content_type) for name, r in media.rendition_keys.items()}
    assert shape == {name: (r.width, r.height, r.content_type) for name, r in of_post.rendition_keys.items()}
    rungs = [name for name in shape if name.startswith("mp4_")]
    assert rungs and set(shape) == {"video", "hls", *rungs, *PICTURES}
    assert media.rendition_keys["video"] == media.rendition_keys[rungs[0]]
    assert media.duration_s == pytest.approx(clip.duration_s, abs=0.1) and media.blurhash
    files = download(pipeline, story, tmp_path)
    width, height, _ = shape[rungs[0]]
    check_mp4(clip, rungs[0], width, height, files[media.rendition_keys["video"].key], clip.copied)
    check_pictures(clip, {name: files[media.rendition_keys[name].key] for name in PICTURES}, media.rendition_keys)


def check_mp4(clip: PhoneClip, name: str, width: int, height: int, path: Path, copied: bool) -> None:
    decoded = decode(path)
    stored = packets(path)
    description = describe(path)
    assert clip.shown is not None
    # every frame decodes, at the rendition's size: even, upright, the shape of the picture as shown
    assert (decoded.width, decoded.height) == (width, height)
    assert width % 2 == 0 and height % 2 == 0
    assert abs(width / height - clip.shown[0] / clip.shown[1]) < 0.01
    assert "Display Matrix" not in description  # turned already: no player turns it again
    # as long as the clip, at a constant frame rate of at most 30 (60 kept for a 60 fps clip)
    assert decoded.duration_s == pytest.approx(clip.duration_s, abs=0.1)
    assert decoded.constant_rate
    assert decoded.frame_rate == pytest.approx(clip.frame_rate, rel=0.02)
    # H.264 4:2:0 8-bit; encoded rungs are High profile, SDR BT.709, square pixels, a keyframe every 2 s at most
    (video,) = streams(path, "Video")
    assert stored.codec == "h264" and "yuv420p" in video
    if not copied:
        assert "(High)" in video and "bt709" in video, video
        assert "SAR 1:1" in video
        gaps = [b - a for a, b in zip(stored.keyframe_times, stored.keyframe_times[1:], strict=False)]
        assert max(gaps, default=0) <= 2.0 + 1 / clip.frame_rate  # type: ignore[operator]
    # within the rung's bitrate cap: no more than the cap over the clip plus the 2 s buffer
    assert stored.bits <= CAPS_KBPS[name] * 1000 * (clip.duration_s + VIDEO_BUFFER_S)  # type: ignore[operator]
    # AAC-LC stereo 48 kHz when the clip has sound, no audio track when it has none
    audio = streams(path, "Audio")
    if clip.audio:
        (track,) = audio
        # (a copied rung keeps the upload's AAC as it is: mono here)
        assert "aac (LC)" in track and (copied or ("stereo" in track and "48000 Hz" in track)), track
        assert decode(path, "0:a:0").duration_s == pytest.approx(clip.duration_s, abs=0.1)
    else:
        assert audio == []
    if clip.marked:
        assert close(pixel(path, (0.1, 0.1), clip.duration_s / 2), RED), "the top-left corner is not red"
        assert close(pixel(path, (0.9, 0.9), clip.duration_s / 2), BLUE), "the bottom-right corner is not blue"
    if clip.hdr:
        grey = pixel(path, (0.5, 0.5), 0.5)
        assert all(abs(channel - GREY_SDR) <= 12 for channel in grey), f"tone-mapped grey is {grey}"
    if clip.name == "noise-480p":
        # the cap binds: incompressible noise fills it
        assert stored.bits >= 0.5 * CAPS_KBPS[name] * 1000 * clip.duration_s  # type: ignore[operator]


def check_pictures(clip: PhoneClip, pictures: dict[str, Path], renditions: dict) -> None:  # type: ignore[type-arg]
    from PIL import Image

    for name, content_type in PICTURES.items():
        assert renditions[name].content_type == content_type
        with Image.open(pictures[name]) as image:
            assert image.size == (renditions[name].width, renditions[name].height)
            if name.startswith("thumb"):
                assert image.size == (150, 150)
            else:
                assert image.width == min(1080, renditions["video"].width)
            if name == "poster" and clip.name == "black-first-second":
                grey = image.convert("L")
                low, high = grey.getextrema()
                assert high - low > 100, "the poster is a blank frame"
            if name == "poster" and clip.marked:
                rgb = image.convert("RGB")
                assert close(rgb.getpixel((rgb.width // 10, rgb.height // 10)), RED)  # type: ignore[arg-type]


def check_hls(clip: PhoneClip, master: Path, rungs: list) -> None:  # type: ignore[type-arg]
    variants = master_variants(master.read_text())
    # one variant per MP4 rung, best first, each with BANDWIDTH, RESOLUTION and CODECS
    assert [variant["RESOLUTION"] for variant in variants] == [f"{rung.width}x{rung.height}" for rung in rungs]
    for variant in variants:
        assert int(variant["BANDWIDTH"]) > 0
        codecs = variant["CODECS"].split(",")
        assert codecs[0].startswith("avc1.") and (codecs[1:] == ["mp4a.40.2"] if clip.audio else codecs[1:] == [])
        playlist = (master.parent / variant["URI"]).read_text()
        assert "#EXT-X-PLAYLIST-TYPE:VOD" in playlist and "#EXT-X-ENDLIST" in playlist
        durations = segment_durations(playlist)
        assert all(2.0 - 0.01 <= duration <= HLS_SEGMENT_S + 0.01 for duration in durations[:-1]), durations
        assert 0 < durations[-1] <= HLS_SEGMENT_S + 0.01
        assert sum(durations) == pytest.approx(clip.duration_s, abs=0.15)
    # and the master playlist plays end to end: every frame of the best variant decodes, as long as the clip
    played = decode(master)
    assert (played.width, played.height) == (rungs[0].width, rungs[0].height)
    assert played.duration_s == pytest.approx(clip.duration_s, abs=0.15)
