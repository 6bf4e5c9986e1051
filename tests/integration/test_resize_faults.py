"""Faults in the resize consumer: the upload-events queue (with the template's BatchSize, dead-letter queue and
maxReceiveCount) drives the real handler through the local cloud's SQS pump on moto, and faults are injected
where they happen on AWS — an exception while writing renditions, DynamoDB answering ThrottlingException-class
errors on the wire, S3 delivering an event twice or after the post is gone, a message that can never succeed.

What must hold: a failed record is retried alone, its neighbours publish; retries settle it exactly once; a
poison message ends in the dead-letter queue after maxReceiveCount receives; nothing is duplicated or left behind.

Resize runs as its template role (tests.support.iam): every call it and its event source mapping make is
authorized against the synthesized policies, so a path that lacks a grant fails here as it would on AWS.
"""

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from moto.core.botocore_stubber import BotocoreStubber

from pinhole.posts import logic as posts_logic
from pinhole.posts.models import MediaStatus, PostStatus
from pinhole.resize.storage import MediaStorage
from pinhole.shared.clock import utc_now
from pinhole.upload.keys import UploadKey
from pinhole.users.dal import UserModel
from tests.support.direct_calls import answered_on_the_wire
from tests.support.hostile_media import JPEG, VALID, build
from tests.support.iam import TemplateRoles
from tests.support.resize_pipeline import ResizePipeline, create_resize_tables, resize_wiring

WIRING = resize_wiring()
POST_RENDITIONS = {"large", "large_webp", "medium", "medium_webp", "thumb", "thumb_webp"}
# PynamoDB's default: 1 call + 3 retries (botocore "standard" mode); one more throttle than that reaches resize.
SDK_ATTEMPTS = 4


@pytest.fixture
def pipeline(aws: dict[str, str]) -> ResizePipeline:
    create_resize_tables()
    pipeline = ResizePipeline(WIRING)
    roles = TemplateRoles(also_bind={"MediaStorageUploadEventsQueue": pipeline.queue_url})
    pipeline.run_as(roles.identity("ResizeFunction"))
    return pipeline


def photo() -> bytes:
    return build(VALID[JPEG].name)


def rendition_names(pipeline: ResizePipeline, key: UploadKey) -> list[str]:
    return sorted(name.rsplit("/", 1)[1].split(".")[0] for name in pipeline.rendition_objects(key))


class Throttle:
    """DynamoDB refusing `operation` on one post with ProvisionedThroughputExceededException, `times` times: the
    answer is given on the wire (moto's request handler), so botocore's retries and PynamoDB's errors are real."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, operation: str, post_id: str, times: int) -> None:
        self.remaining = times
        self.refused = 0
        answered_on_the_wire(monkeypatch)
        original = BotocoreStubber.process_request

        def process_request(stubber: BotocoreStubber, request: Any) -> Any:
            target = request.headers.get("X-Amz-Target", b"")
            target = target.decode() if isinstance(target, bytes) else target
            body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
            if target.endswith(f".{operation}") and post_id in body and self.remaining > 0:
                self.remaining -= 1
                self.refused += 1
                error = {
                    "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                    "message": "The level of configured provisioned throughput for the table was exceeded.",
                }
                return 400, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(error)
            return original(stubber, request)

        monkeypatch.setattr(BotocoreStubber, "process_request", process_request)


@pytest.fixture
def failing_writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Rendition writes for the post ids put in the dict fail that many more times (an S3 error, a crash)."""
    failures: dict[str, int] = {}
    original = MediaStorage.write_rendition

    def write_rendition(storage: MediaStorage, key: str, data: bytes, content_type: str) -> None:
        post_id = key.split("/")[1]
        if failures.get(post_id, 0) > 0:
            failures[post_id] -= 1
            raise ConnectionError(f"injected: S3 went away while writing {key}")
        original(storage, key, data, content_type)

    monkeypatch.setattr(MediaStorage, "write_rendition", write_rendition)
    yield failures


def test_exception_mid_batch_fails_only_its_record_which_publishes_on_redelivery(
    pipeline: ResizePipeline, failing_writes: dict[str, int]
) -> None:
    # Given a batch of four uploads, the second of which fails once part way through writing its renditions
    keys = [pipeline.upload(JPEG, photo()) for _ in range(WIRING.batch_size)]
    failing_writes[keys[1].post_id] = 1

    # When resize receives the batch
    pipeline.deliver_once()

    # Then only that record is reported failed; the other three are published
    first = pipeline.runner.calls[0]
    assert len(first.record_ids) == WIRING.batch_size
    assert first.failed_ids == [first.record_ids[1]]
    assert [pipeline.status(key) for key in keys] == [
        PostStatus.PUBLISHED,
        PostStatus.PENDING,
        PostStatus.PUBLISHED,
        PostStatus.PUBLISHED,
    ]

    # When the queue redelivers it
    pipeline.deliver()

    # Then it publishes too, with one set of renditions, and nothing is left in either queue
    assert pipeline.status(keys[1]) == PostStatus.PUBLISHED
    assert set(rendition_names(pipeline, keys[1])) == POST_RENDITIONS
    assert (pipeline.waiting(), pipeline.dead_letters()) == (0, [])


def test_throttled_status_write_is_retried_until_the_post_publishes(
    pipeline: ResizePipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two uploads, and DynamoDB throttling the first one's media-status write past the SDK's retries
    throttled, other = pipeline.upload(JPEG, photo()), pipeline.upload(JPEG, photo())
    throttle = Throttle(monkeypatch, "UpdateItem", throttled.post_id, times=SDK_ATTEMPTS)

    # When resize runs until the queue is empty
    pipeline.deliver()

    # Then the SDK retried, the queue redelivered, and both posts are published with their renditions
    assert throttle.refused == SDK_ATTEMPTS
    assert len(pipeline.runner.calls) == 2
    assert pipeline.status(throttled) == pipeline.status(other) == PostStatus.PUBLISHED
    assert pipeline.media(throttled).status == MediaStatus.READY
    assert set(rendition_names(pipeline, throttled)) == POST_RENDITIONS
    assert pipeline.dead_letters() == []


def test_throttled_publish_after_the_status_write_is_finished_by_the_redelivery(
    pipeline: ResizePipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an upload whose media-status write succeeds but whose publishing transaction is throttled past the
    # SDK's retries (before the fix, the redelivery saw the item settled, ignored it, and the post stayed pending
    # until the sweep failed it as `upload_missing`)
    key = pipeline.upload(JPEG, photo())
    Throttle(monkeypatch, "TransactWriteItems", key.post_id, times=SDK_ATTEMPTS)

    # When resize runs until the queue is empty
    pipeline.deliver()

    # Then the first invocation failed, and the redelivery published the post, once: the author's post count is 1
    assert [invocation.error is not None for invocation in pipeline.runner.calls] == [True, False]
    assert pipeline.status(key) == PostStatus.PUBLISHED
    assert UserModel.get(pipeline.author_id).post_count == 1
    assert pipeline.dead_letters() == []


def test_duplicate_events_make_one_set_of_renditions_and_never_regress_the_status(pipeline: ResizePipeline) -> None:
    # Given an upload whose notification S3 delivers twice in one batch
    key = pipeline.upload(JPEG, photo())
    pipeline.notify(key)

    # When resize processes the batch
    pipeline.deliver()
    first = pipeline.rendition_objects(key)

    # And the same event arrives once more after the object was overwritten with something hostile
    pipeline.put(key, build("jpeg-is-html"), JPEG)
    pipeline.notify(key)
    pipeline.deliver()

    # Then the item stays ready, the post published once, and the renditions are the same six objects
    assert pipeline.media(key).status == MediaStatus.READY
    assert pipeline.status(key) == PostStatus.PUBLISHED
    assert UserModel.get(pipeline.author_id).post_count == 1
    assert set(rendition_names(pipeline, key)) == POST_RENDITIONS
    assert pipeline.rendition_objects(key) == first
    assert all(invocation.failed_ids == [] for invocation in pipeline.runner.calls)


def test_event_arriving_after_the_post_was_deleted_is_consumed_and_makes_nothing(pipeline: ResizePipeline) -> None:
    # Given an upload whose post is deleted before its notification is delivered
    key = pipeline.upload(JPEG, photo())
    record = pipeline.record(key)
    assert record is not None
    pipeline.posts.delete(record)

    # When resize receives the late event
    pipeline.deliver()

    # Then it is consumed (no retry, no dead letter) and nothing reaches the media bucket
    assert pipeline.runner.calls[0].failed_ids == []
    assert pipeline.rendition_objects(key) == {}
    assert (pipeline.waiting(), pipeline.dead_letters()) == (0, [])


def test_post_deleted_while_its_renditions_are_written_leaves_none_behind(
    pipeline: ResizePipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an upload whose post is deleted by its author right after resize wrote its first rendition (the
    # deletion's cleanup has run by then: before the fix, the renditions written afterwards stayed public)
    key = pipeline.upload(JPEG, photo())
    original = MediaStorage.write_rendition
    deleted = []

    def write_then_delete(storage: MediaStorage, object_key: str, data: bytes, content_type: str) -> None:
        original(storage, object_key, data, content_type)
        if not deleted:
            record = pipeline.record(key)
            assert record is not None
            pipeline.posts.delete(record)
            deleted.append(object_key)

    monkeypatch.setattr(MediaStorage, "write_rendition", write_then_delete)

    # When resize runs until the queue is empty
    pipeline.deliver()

    # Then the post is gone, none of its renditions is left in the media bucket, and the event was consumed
    assert deleted and pipeline.record(key) is None
    assert pipeline.rendition_objects(key) == {}
    assert (pipeline.waiting(), pipeline.dead_letters()) == (0, [])
    # and the CDN is to forget every one of them
    assert pipeline.invalidation_paths() == sorted(
        f"/posts/{key.post_id}/{key.media_id}/{name}.{extension}"
        for name in POST_RENDITIONS
        for extension in (["webp"] if name.endswith("_webp") else ["jpg"])
    )


@pytest.mark.parametrize(
    "poison",
    [
        "this is not JSON",
        json.dumps({"Records": [{"eventSource": "aws:s3", "s3": {"object": {}}}]}),
        "missing-object",
    ],
    ids=["not-json", "not-an-s3-event", "event-for-a-missing-object"],
)
def test_poison_message_lands_in_the_dead_letter_queue_after_max_receives_while_the_rest_publish(
    pipeline: ResizePipeline, poison: str
) -> None:
    # Given three ordinary uploads and, among them, a message no retry can process
    keys = [pipeline.upload(JPEG, photo())]
    if poison == "missing-object":
        missing = pipeline.pending_post(JPEG, 1000)
        pipeline.put(missing, photo(), JPEG)
        body = pipeline.s3_event(missing)
        pipeline.s3.delete_object(Bucket=pipeline.settings.uploads_bucket_name, Key=str(missing))
        pipeline.notify(missing, body)
    else:
        pipeline.notify(keys[0], poison)
    keys += [pipeline.upload(JPEG, photo()) for _ in range(2)]

    # When resize runs until the queue is empty
    pipeline.deliver()

    # Then the three uploads are published
    assert [pipeline.status(key) for key in keys] == [PostStatus.PUBLISHED] * 3
    # And the poison message was received maxReceiveCount times, then moved to the dead-letter queue
    failed = [failed for invocation in pipeline.runner.calls for failed in invocation.failed_ids]
    assert len(failed) == WIRING.max_receives and len(set(failed)) == 1
    assert len(pipeline.dead_letters()) == 1
    assert pipeline.waiting() == 0


# A picture that fails on every attempt: its WebP encode raising as libwebp did for a 1080×17000 screenshot


@pytest.fixture
def webp_encoder_fails(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every WebP encode raises what Pillow raised for a picture past WebP's limit; the list counts the attempts."""
    from pinhole.media import imaging

    attempts: list[int] = []
    original = imaging._encode

    def encode(image: Any, content_type: str) -> bytes:
        if content_type == "image/webp":
            attempts.append(1)
            raise ValueError("encoding error 5: Image size exceeds WebP limit of 16383 pixels")
        return original(image, content_type)

    monkeypatch.setattr(imaging, "_encode", encode)
    return attempts


def test_a_picture_failing_every_attempt_is_rejected_unprocessable_on_the_last_one(
    pipeline: ResizePipeline, webp_encoder_fails: list[int]
) -> None:
    # Given a real photo whose rendering fails on every attempt
    key = pipeline.upload(JPEG, photo())

    # When resize runs until the queue is empty
    pipeline.deliver()

    # Then the photo was tried maxReceiveCount times, and on the last its item was rejected `unprocessable`: no size,
    # no renditions, the reason a sentence for the uploader; its post failed with that code
    failed = [failed for invocation in pipeline.runner.calls for failed in invocation.failed_ids]
    assert len(failed) == WIRING.max_receives - 1 and len(set(failed)) == 1
    assert len(webp_encoder_fails) == WIRING.max_receives
    media = pipeline.media(key)
    assert (media.status, media.reason_code, media.reason) == (
        MediaStatus.REJECTED,
        "unprocessable",
        "The picture could not be processed. Try another photo.",
    )
    assert (media.width, media.height, media.blurhash, media.rendition_keys, media.claim) == (
        None,
        None,
        None,
        {},
        None,
    )
    record = pipeline.record(key)
    assert record is not None and (record.status, record.reason) == (PostStatus.FAILED, "unprocessable")
    # And nothing was parked in the dead-letter queue, nothing waits, nothing was stored for it
    assert pipeline.dead_letters() == [] and pipeline.waiting() == 0
    assert pipeline.rendition_objects(key) == {}


def test_the_sweep_leaves_a_picture_being_retried_alone_and_it_ends_unprocessable_not_upload_missing(
    pipeline: ResizePipeline, webp_encoder_fails: list[int]
) -> None:
    # Given a real photo whose first rendering attempt failed
    key = pipeline.upload(JPEG, photo())
    assert pipeline.deliver_once() == 1
    assert pipeline.media(key).status == MediaStatus.PENDING

    # When the sweep runs after the upload window and its grace (the post was due at the upload link's expiry)
    swept = posts_logic.fail_overdue_posts(now=utc_now() + timedelta(minutes=31))

    # Then it leaves the post alone: its upload arrived, the queue is retrying it
    assert swept == 0 and pipeline.status(key) == PostStatus.PENDING

    # When the retries run out
    pipeline.deliver()

    # Then it is rejected for what happened, `unprocessable`, never `upload_missing`
    media = pipeline.media(key)
    assert (media.status, media.reason_code) == (MediaStatus.REJECTED, "unprocessable")
    assert pipeline.status(key) == PostStatus.FAILED
