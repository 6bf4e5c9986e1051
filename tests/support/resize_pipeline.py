"""The resize pipeline on moto, wired as the synthesized template wires it on AWS: an object lands in the uploads
bucket, its S3 notification (in the shape S3 sends) goes to the upload-events queue, which has the template's
dead-letter queue and maxReceiveCount, and the local cloud's SQS pump (local/pumps/sqs.py) hands batches of the
template's BatchSize to the real resize handler, deleting what succeeded and leaving failures to be received
again — so moto's redrive moves a message that keeps failing to the dead-letter queue. A video goes on from resize
to the transcode queue (the template's batch size, maxReceiveCount and dead-letter queue), whose pump runs the real
transcode handler with a context counting down from the template's Timeout; the dead-letter queue's pump runs the
dead-letter handler.

One liberty is taken: the queues' visibility timeout is 0 instead of the template's 12 and 90 minutes, so a
failed message is visible again at the next poll.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3

from functions.resize import handler as resize
from functions.transcode import handler as transcode
from local.iam.identity import Identity
from local.pumps.s3_notifications import lambda_s3_record
from pinhole.posts.dal import PostRepository
from pinhole.posts.logic import checked_media
from pinhole.posts.models import MediaDeclaration, PostKind, PostRecord, PostStatus, StoredMedia
from pinhole.resize.models import InvalidationRequest
from pinhole.shared.clock import to_iso, utc_now
from pinhole.shared.errors import NotFound
from pinhole.shared.ids import new_id
from pinhole.shared.settings import get_settings
from pinhole.upload.keys import UploadKey, rendition_prefix
from tests.support.event_sources import (
    InProcessFunction,
    InProcessRunner,
    QueueConsumer,
    QueueMapping,
    create_queue,
    drain_queue,
)

CDK_OUT = Path(__file__).resolve().parents[2] / "cdk.out"
RESIZE_HANDLER = "handler.handler"
TRANSCODE_QUEUE_NAME = "pinhole-transcode"  # tests/conftest.py's TRANSCODE_QUEUE_URL names it


@dataclass(frozen=True, slots=True)
class FunctionWiring:
    """What the synthesized template says about a queue-fed function and its queue."""

    memory_mb: int
    timeout_s: float
    batch_size: int
    max_receives: int
    ephemeral_storage_mb: int = 512


@dataclass(frozen=True, slots=True)
class ResizeWiring(FunctionWiring):
    """resize and the upload-events queue; `transcode` and its queue; the transcode dead-letter consumer."""

    transcode: FunctionWiring | None = None
    dead_letter_batch_size: int = 10


def _resources(template: str) -> dict[str, Any]:
    resources: dict[str, Any] = json.loads((CDK_OUT / template).read_text())["Resources"]
    return resources


def _function_wiring(construct: str, handler: str, queue_id: str) -> FunctionWiring:
    stateless = _resources("PinholeStateless.template.json")
    function_id, function = next(
        (logical_id, resource)
        for logical_id, resource in stateless.items()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"].get("Handler") == handler
        and f"/{construct}/" in resource.get("Metadata", {}).get("aws:cdk:path", "")
    )
    mapping = next(
        resource["Properties"]
        for resource in stateless.values()
        if resource["Type"] == "AWS::Lambda::EventSourceMapping"
        and resource["Properties"].get("FunctionName", {}).get("Ref") == function_id
    )
    queue = next(
        resource["Properties"]
        for logical_id, resource in _resources("PinholeStateful.template.json").items()
        if resource["Type"] == "AWS::SQS::Queue" and queue_id in logical_id and "DeadLetter" not in logical_id
    )
    properties = function["Properties"]
    return FunctionWiring(
        memory_mb=int(properties["MemorySize"]),
        timeout_s=float(properties["Timeout"]),
        batch_size=int(mapping["BatchSize"]),
        max_receives=int(queue["RedrivePolicy"]["maxReceiveCount"]),
        ephemeral_storage_mb=int(properties.get("EphemeralStorage", {}).get("Size", 512)),
    )


def resize_wiring() -> ResizeWiring:
    resize_function = _function_wiring("Resize", RESIZE_HANDLER, "UploadEventsQueue")
    transcode_function = _function_wiring("Transcode", "handler.handler", "TranscodeQueue")
    dead_letter = _function_wiring("DeadLetters", "handler.dead_letter", "TranscodeQueue")
    return ResizeWiring(
        memory_mb=resize_function.memory_mb,
        timeout_s=resize_function.timeout_s,
        batch_size=resize_function.batch_size,
        max_receives=resize_function.max_receives,
        transcode=transcode_function,
        dead_letter_batch_size=dead_letter.batch_size,
    )


@contextmanager
def media_account() -> Iterator[None]:
    """A fresh moto account with only what the media pipeline touches: the two buckets, the posts and users tables
    (cheaper than the integration tests' full account, which every transcode test would otherwise pay for)."""
    from moto import mock_aws

    from local.dynamodb_engine import use_dynamodb

    # the engine the local cloud runs (the fast path unless PINHOLE_DYNAMODB says moto), never both patches: moto
    # made atomic first refused the fast path later in the same worker, and the two locks in one process can deadlock
    use_dynamodb()
    with mock_aws():
        get_settings.cache_clear()
        settings = get_settings()
        s3 = boto3.client("s3")
        for bucket in (settings.uploads_bucket_name, settings.media_bucket_name):
            s3.create_bucket(Bucket=bucket)
        create_resize_tables()
        yield
    get_settings.cache_clear()


def create_resize_tables() -> None:
    """The tables resize writes to (posts, users for the author's post count, moderation for a case automatic
    screening opens), for a bare moto account."""
    from pinhole.moderation.dal import ModerationModel
    from pinhole.posts.dal import PostModel
    from pinhole.users.dal import UserModel

    for model in (PostModel, UserModel, ModerationModel):
        if not model.exists():
            model.create_table(wait=True)


class ResizePipeline:
    def __init__(self, wiring: ResizeWiring, author_id: str = "hostile-uploader") -> None:
        self.wiring = wiring
        self.author_id = author_id
        self.settings = get_settings()
        self.s3 = boto3.client("s3")
        self.sqs = boto3.client("sqs")
        self.posts = PostRepository()
        self.queue_url, dlq_url = create_queue("upload-events", dead_letters_after=wiring.max_receives)
        assert dlq_url is not None
        self.dlq_url = dlq_url
        # where the renditions of a post deleted meanwhile are queued for their CDN invalidation
        self.invalidations_url, _ = create_queue(self.settings.media_invalidations_queue_url.rsplit("/", 1)[1])
        assert self.invalidations_url == self.settings.media_invalidations_queue_url
        self.runner = InProcessRunner()
        self.function = InProcessFunction("ResizeFunction", resize.handler, memory_mb=wiring.memory_mb)
        mapping = QueueMapping(
            batch_size=wiring.batch_size, report_failures=True, fifo=False, max_receive_count=wiring.max_receives
        )
        self.pump = QueueConsumer(self.function, self.runner, self.queue_url, mapping)
        transcoding = wiring.transcode
        assert transcoding is not None
        self.transcode_wiring = transcoding
        self.transcode_queue_url, transcode_dlq_url = create_queue(
            TRANSCODE_QUEUE_NAME, dead_letters_after=transcoding.max_receives
        )
        assert transcode_dlq_url is not None
        self.transcode_dlq_url = transcode_dlq_url
        self.transcode_function = InProcessFunction(
            "TranscodeFunction", transcode.handler, memory_mb=transcoding.memory_mb, timeout_s=transcoding.timeout_s
        )
        self.transcode_pump = QueueConsumer(
            self.transcode_function,
            self.runner,
            self.transcode_queue_url,
            QueueMapping(transcoding.batch_size, True, False, transcoding.max_receives),
        )
        self.dead_letter_pump = QueueConsumer(
            InProcessFunction("TranscodeDeadLetterFunction", transcode.dead_letter),
            self.runner,
            self.transcode_dlq_url,
            QueueMapping(wiring.dead_letter_batch_size, True, False, 1),
        )

    def run_as(self, role: Identity) -> None:
        """Resize (and its event source mapping) act as `role` from now on: its template role
        (tests.support.iam.TemplateRoles), so every call is authorized as on AWS."""
        self.function.identity = role

    # -- what POST /posts and the client do --

    def pending_post(self, content_type: str, size_bytes: int, kind: PostKind = PostKind.POST) -> UploadKey:
        """A pending post with one media item, as POST /posts (or /stories) leaves it; its upload key."""
        media: StoredMedia = checked_media(MediaDeclaration(content_type=content_type, size_bytes=size_bytes), "media")
        now = utc_now()
        record = PostRecord(
            post_id=new_id(),
            author_id=self.author_id,
            caption="",
            tags=[],
            mentions=[],
            created_at=now,
            status=PostStatus.PENDING,
            media={media.media_id: media},
            media_order=[media.media_id],
            upload_expires_at=now + timedelta(minutes=15),
            kind=kind,
        )
        self.posts.create(record, fail_after=record.upload_expires_at)
        return UploadKey(post_id=record.post_id, media_id=media.media_id)

    def upload(self, content_type: str, data: bytes, kind: PostKind = PostKind.POST) -> UploadKey:
        """A pending post whose file has landed in the uploads bucket, and the notification S3 sends for it."""
        # The policy signed for the post admits 1..declared bytes; an empty or oversized body stands for a file
        # that got around it, so the declaration is whatever POST /posts would have accepted.
        declared = min(max(len(data), 1), 30 * 1024 * 1024)
        key = self.pending_post(content_type, declared, kind)
        self.put(key, data, content_type)
        self.notify(key)
        return key

    def put(self, key: UploadKey, data: bytes, content_type: str) -> None:
        self.s3.put_object(Bucket=self.settings.uploads_bucket_name, Key=str(key), Body=data, ContentType=content_type)

    def notify(self, key: UploadKey, body: str | None = None) -> None:
        """The upload-events message S3 sends for the key's object (or any `body`, for poison messages)."""
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body or self.s3_event(key))

    def s3_event(self, key: UploadKey) -> str:
        bucket = self.settings.uploads_bucket_name
        head = self.s3.head_object(Bucket=bucket, Key=str(key))
        record = {
            "eventVersion": "2.1",
            "awsRegion": self.settings.region,
            "eventTime": to_iso(utc_now()),
            "eventName": "ObjectCreated:Post",
            "s3": {
                "bucket": {"name": bucket},
                "object": {"key": str(key), "size": head["ContentLength"], "eTag": head["ETag"].strip('"')},
            },
        }
        sequencer = hashlib.sha256(str(key).encode()).hexdigest()[:16].upper()
        return json.dumps({"Records": [lambda_s3_record(record, sequencer)]})

    # -- what Lambda's event source mapping does --

    def deliver_once(self) -> int:
        """One receive and one invocation of resize; how many messages it carried."""
        return self.pump.poll_once()

    def deliver(self, max_invocations: int = 50) -> int:
        """Invocations of resize, transcode and the dead-letter consumer until every queue is empty (bounded, so a
        redrive that never happens fails instead of hanging)."""
        pumps = (self.pump, self.transcode_pump, self.dead_letter_pump)
        for invocation in range(max_invocations):
            if not any([pump.poll_once() for pump in pumps]):
                return invocation
        raise AssertionError(f"the pipeline's queues still had messages after {max_invocations} rounds")

    # -- what users and operators see --

    def record(self, key: UploadKey) -> PostRecord | None:
        try:
            return self.posts.get(key.post_id)
        except NotFound:
            return None

    def media(self, key: UploadKey) -> StoredMedia:
        record = self.record(key)
        assert record is not None, f"post {key.post_id} is gone"
        return record.media[key.media_id]

    def status(self, key: UploadKey) -> PostStatus | None:
        record = self.record(key)
        return record.status if record else None

    def rendition_objects(self, key: UploadKey) -> dict[str, bytes]:
        """Every object under the post's prefix in the media bucket, by key."""
        bucket = self.settings.media_bucket_name
        listed = self.s3.list_objects_v2(Bucket=bucket, Prefix=rendition_prefix(key.post_id)).get("Contents", [])
        return {item["Key"]: self.s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read() for item in listed}

    def invalidation_paths(self) -> list[str]:
        """The paths of every CDN invalidation queued so far, taken out of the queue."""
        return sorted(
            path
            for message in drain_queue(self.invalidations_url)
            for path in InvalidationRequest.model_validate_json(message["Body"]).paths
        )

    def dead_letters(self) -> list[str]:
        messages = self.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10).get("Messages", [])
        return [message["Body"] for message in messages]

    def transcode_requests(self) -> int:
        """Messages waiting in the transcode queue."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.transcode_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def waiting(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])
