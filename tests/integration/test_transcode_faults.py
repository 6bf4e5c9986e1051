"""Faults in the video path, through the real resize and transcode handlers on moto with the template's queues:
duplicate and late events, the watchdog before Lambda's timeout, an invocation that dies every time (the dead-letter
path), a post deleted mid-transcode, progress while pending, and the sweep leaving a transcode alone.

What must hold: one transcode per upload, settled exactly once; a post never stays pending (published, or failed
with a reason); nothing is left in a queue or, for a rejected or deleted post, in the media bucket."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from pinhole.media import ffmpeg
from pinhole.posts import logic as posts_logic
from pinhole.posts.dal import PostModel, PostRepository
from pinhole.posts.models import MediaStatus, PostStatus, Processing
from pinhole.shared.clock import utc_now
from pinhole.transcode import logic as transcode_logic
from pinhole.transcode.models import TRANSCODE_STEPS, UNPROCESSABLE_REASON
from pinhole.users.dal import UserModel
from tests.support.resize_pipeline import ResizePipeline, media_account, resize_wiring
from tests.support.video_corpus import MP4, build

WIRING = resize_wiring()
CLIP = "silent"  # 1 s, 160×120: the cheapest clip that publishes


@pytest.fixture
def pipeline() -> Iterator[ResizePipeline]:
    with media_account():
        yield ResizePipeline(WIRING)


def test_pending_video_shows_its_progress_then_publishes_once(
    pipeline: ResizePipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an uploaded clip, and a record of the item's processing state at every step the transcode reports
    key = pipeline.upload(MP4, build(CLIP))
    assert pipeline.media(key).processing == Processing(done=0, total=TRANSCODE_STEPS)
    seen = []
    original = PostRepository.record_progress

    def record_progress(repository: PostRepository, *arguments: Any) -> bool:
        recorded = original(repository, *arguments)
        media = pipeline.media(key)
        seen.append((media.status, media.processing))
        return recorded

    monkeypatch.setattr(PostRepository, "record_progress", record_progress)

    # When the pipeline runs
    pipeline.deliver()

    # Then the item stayed pending while each step moved `done` (checked, encoded, packaged), then it became ready
    # without a processing state, and the post was published once
    assert seen == [(MediaStatus.PENDING, Processing(done=done, total=TRANSCODE_STEPS)) for done in (1, 2, 3)]
    media = pipeline.media(key)
    assert (media.status, media.processing, pipeline.status(key)) == (MediaStatus.READY, None, PostStatus.PUBLISHED)
    assert UserModel.get(pipeline.author_id).post_count == 1


def test_duplicate_event_is_dropped_while_the_first_transcode_holds_the_claim(pipeline: ResizePipeline) -> None:
    # Given an upload whose S3 notification arrives twice: resize hands the video to transcode twice
    key = pipeline.upload(MP4, build(CLIP))
    pipeline.notify(key)
    pipeline.deliver_once()
    assert pipeline.transcode_requests() == 2

    # When transcode takes the first message and, while it holds the claim, the second arrives (messages in flight
    # stay hidden, as the template's visibility timeout keeps them)
    pipeline.sqs.set_queue_attributes(QueueUrl=pipeline.transcode_queue_url, Attributes={"VisibilityTimeout": "600"})
    encodes = []
    original = transcode_logic._transcode

    def counting(*arguments: Any, **keywords: Any) -> Any:
        encodes.append(1)
        if len(encodes) == 1:
            assert pipeline.transcode_pump.poll_once() == 1  # the duplicate, delivered meanwhile
        return original(*arguments, **keywords)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transcode_logic, "_transcode", counting)
        pipeline.deliver()

    # Then the video was transcoded once, the post published once, and both messages were consumed
    assert len(encodes) == 1
    assert pipeline.status(key) == PostStatus.PUBLISHED
    assert UserModel.get(pipeline.author_id).post_count == 1
    assert pipeline.transcode_requests() == 0 and pipeline.waiting() == 0


def test_video_pending_from_before_processing_was_recorded_is_transcoded(pipeline: ResizePipeline) -> None:
    # Given a pending video item written before items had a processing state (an upload in flight at a deployment)
    key = pipeline.upload(MP4, build(CLIP))
    path = PostModel.media[key.media_id]
    PostModel(post_id=key.post_id).update(actions=[path["processing"].remove(), path["claim"].remove()])
    assert pipeline.media(key).processing is None

    # When the pipeline runs / Then its progress is recorded from the claim on, and it publishes
    pipeline.deliver()
    assert (pipeline.media(key).status, pipeline.status(key)) == (MediaStatus.READY, PostStatus.PUBLISHED)


def test_late_event_after_publishing_changes_nothing(pipeline: ResizePipeline) -> None:
    # Given a published video post
    key = pipeline.upload(MP4, build(CLIP))
    pipeline.deliver()
    before = pipeline.rendition_objects(key)
    media = pipeline.media(key)

    # When the same upload's event arrives again, after the object was overwritten with something else
    pipeline.put(key, build("still-image-renamed"), MP4)
    pipeline.notify(key)
    pipeline.deliver()

    # Then the item, the post and every rendition are as they were
    assert pipeline.media(key) == media
    assert pipeline.status(key) == PostStatus.PUBLISHED
    assert UserModel.get(pipeline.author_id).post_count == 1
    assert pipeline.rendition_objects(key) == before


def test_watchdog_stops_ffmpeg_before_lambdas_timeout_and_the_post_fails_with_a_reason(
    pipeline: ResizePipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a transcode invocation with less time left than the watchdog keeps in reserve (as for a clip that
    # would take longer than the function's timeout)
    monkeypatch.setattr(transcode_logic, "WATCHDOG_RESERVE_S", WIRING.transcode.timeout_s + 1)  # type: ignore[union-attr]
    key = pipeline.upload(MP4, build(CLIP))

    # When the pipeline runs
    pipeline.deliver()

    # Then ffmpeg was stopped, the item rejected `unprocessable` with a sentence, the post failed; no retry, no
    # dead letter, nothing in the media bucket
    media = pipeline.media(key)
    assert (media.status, media.reason_code, media.reason) == (
        MediaStatus.REJECTED,
        "unprocessable",
        ffmpeg.TOO_SLOW,
    )
    assert pipeline.status(key) == PostStatus.FAILED
    assert all(call.failed_ids == [] for call in pipeline.runner.calls)
    assert pipeline.rendition_objects(key) == {}
    assert pipeline.transcode_requests() == 0


def test_invocation_that_dies_every_time_ends_in_the_dead_letter_queue_and_fails_the_post(
    pipeline: ResizePipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a video whose transcode invocation dies every time (as Lambda kills one at its timeout or memory limit)
    def dies(*_arguments: Any, **_keywords: Any) -> Any:
        raise MemoryError("injected: the sandbox ran out of memory")

    monkeypatch.setattr(transcode_logic, "_transcode", dies)
    key = pipeline.upload(MP4, build(CLIP))

    # When the pipeline runs until every queue is empty
    pipeline.deliver()

    # Then the message was received maxReceiveCount times, went to the dead-letter queue, whose consumer rejected
    # the item, so the post failed with a reason instead of waiting
    failed = [failed for call in pipeline.runner.calls for failed in call.failed_ids]
    assert len(failed) == WIRING.transcode.max_receives  # type: ignore[union-attr]
    media = pipeline.media(key)
    assert (media.status, media.reason_code, media.reason) == (
        MediaStatus.REJECTED,
        "unprocessable",
        UNPROCESSABLE_REASON,
    )
    assert pipeline.status(key) == PostStatus.FAILED
    assert pipeline.transcode_requests() == 0


def test_post_deleted_during_the_transcode_leaves_no_rendition_behind(
    pipeline: ResizePipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a video post deleted by its author while its renditions are being stored (after the deletion's
    # cleanup ran)
    key = pipeline.upload(MP4, build(CLIP))
    original = transcode_logic._store

    def store_then_delete(*arguments: Any) -> Any:
        stored = original(*arguments)
        record = pipeline.record(key)
        assert record is not None
        pipeline.posts.delete(record)
        return stored

    monkeypatch.setattr(transcode_logic, "_store", store_then_delete)

    # When the pipeline runs
    pipeline.deliver()

    # Then the post is gone and so is every object under its prefix (MP4s, HLS segments, pictures)
    assert pipeline.record(key) is None
    assert pipeline.rendition_objects(key) == {}
    assert pipeline.transcode_requests() == 0


def test_sweep_leaves_a_video_being_transcoded_and_fails_one_that_never_finished_with_its_reason(
    pipeline: ResizePipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a video whose upload arrived (resize handed it over) and whose transcode claimed it, then vanished
    key = pipeline.upload(MP4, build(CLIP))
    pipeline.deliver_once()
    now = utc_now()
    until = now + timedelta(minutes=16)
    assert pipeline.posts.claim_media(key.post_id, key.media_id, "attempt-1", until, now, TRANSCODE_STEPS)

    # When the sweep runs an hour after the upload window closed / Then the post is left pending
    assert posts_logic.fail_overdue_posts(now + timedelta(hours=1)) == 0
    assert pipeline.status(key) == PostStatus.PENDING

    # When it runs after every attempt the queue allows must have ended / Then it fails, unprocessable, not missing
    assert posts_logic.fail_overdue_posts(now + timedelta(hours=5)) == 1
    media = pipeline.media(key)
    assert (media.status, media.reason_code, pipeline.status(key)) == (
        MediaStatus.REJECTED,
        "unprocessable",
        PostStatus.FAILED,
    )
