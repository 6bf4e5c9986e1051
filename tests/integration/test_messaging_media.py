"""Video messages through the real pipeline on moto (resize hands the upload to the transcode queue, the transcode
handler makes the MP4 ladder, poster and thumb in the private message media bucket, the message is delivered), their
failures (a broken clip, a transcode that dies every time), a photo or video message whose sender left the group
before it was ready, and the sweep that refuses those whose upload never came."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest

from functions.messaging import sweep
from functions.transcode import handler as transcode
from pinhole.media.limits import MAX_VIDEO_BYTES
from pinhole.messaging import logic as messaging_logic
from pinhole.messaging.dal import UPLOAD_MISSING_AFTER, MessageRepository
from pinhole.messaging.media import MessageUploadKey
from pinhole.posts.models import MediaStatus
from pinhole.resize.message_media import process_message_upload
from pinhole.resize.models import RESIZE_MAX_RECEIVES
from pinhole.shared.caller import Caller
from pinhole.shared.clock import utc_now
from pinhole.shared.settings import get_settings
from pinhole.transcode import logic as transcode_logic
from pinhole.transcode.models import PENDING_AFTER_UPLOAD, UNPROCESSABLE_REASON
from tests.integration.test_messaging_groups import (
    _jpeg,
    connect,
    connections_api,  # noqa: F401  # a fixture
    create_group,
    history,
    inbox,
    people,  # noqa: F401  # a fixture
    remove,
    send,
    unsend,
)
from tests.support.event_sources import InProcessFunction, InProcessRunner, QueueConsumer, QueueMapping, create_queue
from tests.support.events import FakeLambdaContext
from tests.support.resize_pipeline import TRANSCODE_QUEUE_NAME, resize_wiring
from tests.support.video_corpus import build

WIRING = resize_wiring().transcode
assert WIRING is not None
CLIP = "half-second"  # 0.5 s 64×48 with sound: the cheapest clip that makes every rendition
BROKEN = "truncated"  # a MOV cut in half
PICTURES = {"poster", "poster_webp", "thumb", "thumb_webp"}


class Transcoder:
    """The transcode queue (the template's batch size and maxReceiveCount, with its dead-letter queue) pumped to the
    real transcode handler and its dead-letter consumer, as the local cloud's SQS pump does."""

    def __init__(self) -> None:
        self.queue_url, dead_letters = create_queue(TRANSCODE_QUEUE_NAME, dead_letters_after=WIRING.max_receives)
        assert dead_letters is not None and self.queue_url == get_settings().transcode_queue_url
        self.runner = InProcessRunner()
        function = InProcessFunction(
            "TranscodeFunction", transcode.handler, memory_mb=WIRING.memory_mb, timeout_s=WIRING.timeout_s
        )
        mapping = QueueMapping(WIRING.batch_size, True, False, WIRING.max_receives)
        self.pumps = (
            QueueConsumer(function, self.runner, self.queue_url, mapping),
            QueueConsumer(
                InProcessFunction("TranscodeDeadLetterFunction", transcode.dead_letter),
                self.runner,
                dead_letters,
                QueueMapping(10, True, False, 1),
            ),
        )

    def waiting(self) -> int:
        attributes = boto3.client("sqs").get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def run(self, max_invocations: int = 20) -> None:
        for _ in range(max_invocations):
            if not any([pump.poll_once() for pump in self.pumps]):
                return
        raise AssertionError("the transcode queues still had messages")


@pytest.fixture
def transcoder(aws: dict[str, str]) -> Iterator[Transcoder]:
    yield Transcoder()


@pytest.fixture
def group(people: dict[str, dict[str, str]], connections_api: Any) -> str:  # noqa: F811
    status, body = create_group(people["ada"], ["bob", "cat"], title="clips")
    assert status == 201, body
    return str(body["conversation_id"])


def upload(sent: dict[str, Any], data: bytes, content_type: str) -> MessageUploadKey:
    """What the client does with the answer's pre-signed POST, and the S3 event resize gets for it."""
    key = MessageUploadKey(sent["conversation_id"], sent["message_id"], sent["media"]["media_id"])
    uploads = get_settings().uploads_bucket_name
    boto3.client("s3").put_object(Bucket=uploads, Key=str(key), Body=data, ContentType=content_type)
    return key


def send_media(claims: dict[str, str], group: str, text: str, data: bytes, content_type: str) -> dict[str, Any]:
    status, sent = send(claims, group, text, extra={"media": {"content_type": content_type, "size_bytes": len(data)}})
    assert status == 201, sent
    assert (sent["kind"], sent["media"]["status"], sent["media"]["type"]) == (
        "media",
        "pending",
        content_type.split("/")[0],
    )
    return sent


def uploaded(key: MessageUploadKey) -> bool:
    listed = boto3.client("s3").list_objects_v2(Bucket=get_settings().uploads_bucket_name, Prefix=str(key))
    return bool(listed.get("KeyCount"))


def message_media_objects() -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=get_settings().message_media_bucket_name)
    return [item["Key"] for item in listed.get("Contents", [])]


def test_a_video_message_is_delivered_once_its_renditions_and_poster_are_ready(
    people,  # noqa: F811
    connections_api,  # noqa: F811
    group,
    transcoder,
) -> None:
    # Given bob online, and ada sending a video to the group
    ada, bob = people["ada"], people["bob"]
    connect("bob-phone", bob)
    clip = build(CLIP)
    sent = send_media(ada, group, "watch", clip, "video/mp4")

    # When the upload lands and resize hands it to transcode
    key = upload(sent, clip, "video/mp4")
    assert process_message_upload(get_settings().uploads_bucket_name, key).value == "pending"  # type: ignore[union-attr]

    # Then nobody but ada knows of it yet
    assert transcoder.waiting() == 1
    assert connections_api.of_type("bob-phone", "message") == []
    assert "watch" not in [message["text"] for message in history(bob, group)[1]["items"]]

    # When transcode runs
    transcoder.run()

    # Then bob's phone gets the message, ready, with MP4 rungs, the best one as `video`, a poster and a thumb, all
    # behind signed URLs of the private bucket (no HLS: a playlist's segments could not be signed)
    assert all(call.failed_ids == [] for call in transcoder.runner.calls)
    pushed = connections_api.of_type("bob-phone", "message")
    assert [frame["message"]["message_id"] for frame in pushed] == [sent["message_id"]]
    media = pushed[0]["message"]["media"]
    rungs = {name for name in media["renditions"] if name.startswith("mp4_")}
    assert (media["status"], media["type"]) == ("ready", "video")
    assert rungs and set(media["renditions"]) == {"video", *rungs, *PICTURES}
    assert media["duration_s"] == pytest.approx(0.5, abs=0.1)
    video = media["renditions"]["video"]
    assert video["content_type"] == "video/mp4" and "X-Amz-Signature" in video["url"]
    assert get_settings().message_media_bucket_name in video["url"]
    assert inbox(bob)[group]["last_message"]["message_id"] == sent["message_id"]
    listed = history(bob, group)[1]["items"][0]
    assert (listed["message_id"], listed["media"]["status"]) == (sent["message_id"], "ready")
    stored = message_media_objects()
    assert len(stored) == len(rungs) + len(PICTURES) and not any("hls" in stored_key for stored_key in stored)

    # And a duplicate event changes nothing
    assert process_message_upload(get_settings().uploads_bucket_name, key) is None
    assert transcoder.waiting() == 0


def test_a_broken_video_ends_rejected_and_told_to_its_sender_only(
    people,  # noqa: F811
    connections_api,  # noqa: F811
    group,
    transcoder,
) -> None:
    # Given ada sending a damaged MOV
    ada, bob = people["ada"], people["bob"]
    connect("ada-phone", ada)
    connect("bob-phone", bob)
    clip = build(BROKEN)
    sent = send_media(ada, group, "broken", clip, "video/quicktime")
    key = upload(sent, clip, "video/quicktime")

    # When the pipeline runs
    process_message_upload(get_settings().uploads_bucket_name, key)
    transcoder.run()

    # Then ada's phone hears it was rejected, with a reason; bob never hears of it; nothing is stored
    told = connections_api.of_type("ada-phone", "message")
    assert [frame["message"]["media"]["status"] for frame in told] == ["rejected"]
    assert told[0]["message"]["media"]["reason_code"] == "corrupt" and told[0]["message"]["media"]["reason"]
    assert connections_api.of_type("bob-phone", "message") == []
    assert sent["message_id"] not in [message["message_id"] for message in history(bob, group)[1]["items"]]
    assert message_media_objects() == []
    assert transcoder.waiting() == 0


def test_a_video_whose_transcode_dies_every_time_is_rejected_by_the_dead_letter_consumer(
    people,  # noqa: F811
    connections_api,  # noqa: F811
    group,
    transcoder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a video whose transcode invocation dies every time (as Lambda kills one at its limits)
    def dies(*_arguments: Any, **_keywords: Any) -> Any:
        raise MemoryError("injected: the sandbox ran out of memory")

    monkeypatch.setattr(transcode_logic, "_transcode", dies)
    ada = people["ada"]
    connect("ada-phone", ada)
    clip = build(CLIP)
    sent = send_media(ada, group, "never", clip, "video/mp4")
    key = upload(sent, clip, "video/mp4")

    # When the pipeline runs until every queue is empty
    process_message_upload(get_settings().uploads_bucket_name, key)
    transcoder.run()

    # Then every attempt failed, the dead-letter consumer rejected it: ada's message is not stuck pending
    failed = [failed for call in transcoder.runner.calls for failed in call.failed_ids]
    assert len(failed) == WIRING.max_receives
    told = connections_api.of_type("ada-phone", "message")
    assert [(frame["message"]["media"]["status"], frame["message"]["media"]["reason"]) for frame in told] == [
        ("rejected", UNPROCESSABLE_REASON)
    ]
    mine = history(ada, group)[1]["items"][0]
    assert (mine["message_id"], mine["media"]["status"]) == (sent["message_id"], "rejected")


def test_a_video_message_over_the_limits_is_refused_before_any_upload(people, connections_api, group) -> None:  # noqa: F811
    status, body = send(
        people["ada"], group, "huge", extra={"media": {"content_type": "video/mp4", "size_bytes": MAX_VIDEO_BYTES + 1}}
    )
    assert (status, body["error"]["code"]) == (413, "payload_too_large")
    status, body = send(people["ada"], group, "odd", extra={"media": {"content_type": "video/webm", "size_bytes": 10}})
    assert (status, body["error"]["code"]) == (422, "validation_error")


def test_a_photo_whose_sender_left_before_it_was_ready_is_dropped_with_its_media(
    people,  # noqa: F811
    connections_api,  # noqa: F811
    group,
) -> None:
    # Given ada's photo, still uploading, and ada leaving the group meanwhile
    ada, bob = people["ada"], people["bob"]
    connect("ada-phone", ada)
    connect("bob-phone", bob)
    picture = _jpeg()
    sent = send_media(ada, group, "late", picture, "image/jpeg")
    assert remove(ada, group, "ada")[0] == 204
    key = upload(sent, picture, "image/jpeg")

    # When resize has made its renditions
    outcome = process_message_upload(get_settings().uploads_bucket_name, key)

    # Then it is never delivered: bob's phone and history never see it; ada's phone is told to drop it, her history
    # no longer shows it; the renditions just made and the uploaded file are deleted; a late duplicate event does
    # nothing
    assert outcome is None
    assert [frame["message"]["text"] for frame in connections_api.of_type("bob-phone", "message")] == ["ada left"]
    assert sent["message_id"] not in [message["message_id"] for message in history(bob, group)[1]["items"]]
    assert connections_api.of_type("ada-phone", "message_deleted") == [
        {"type": "message_deleted", "conversation_id": group, "message_id": sent["message_id"]}
    ]
    assert sent["message_id"] not in [message["message_id"] for message in history(ada, group)[1]["items"]]
    assert message_media_objects() == [] and not uploaded(key)
    assert process_message_upload(get_settings().uploads_bucket_name, key) is None
    assert inbox(bob)[group]["last_message"]["text"] == "ada left"


def test_a_video_whose_sender_left_during_the_transcode_is_dropped_with_its_renditions(
    people,  # noqa: F811
    connections_api,  # noqa: F811
    group,
    transcoder,
) -> None:
    # Given cat's video handed to transcode, and cat leaving before it is done
    cat, bob = people["cat"], people["bob"]
    connect("bob-phone", bob)
    clip = build(CLIP)
    sent = send_media(cat, group, "bye", clip, "video/mp4")
    key = upload(sent, clip, "video/mp4")
    process_message_upload(get_settings().uploads_bucket_name, key)
    assert remove(cat, group, "cat")[0] == 204

    # When transcode finishes
    transcoder.run()

    # Then the message is gone, with every rendition transcode wrote and the upload; the queue holds nothing more
    assert all(call.failed_ids == [] for call in transcoder.runner.calls)
    assert sent["message_id"] not in [message["message_id"] for message in history(bob, group)[1]["items"]]
    assert sent["message_id"] not in [message["message_id"] for message in history(cat, group)[1]["items"]]
    assert [frame["message"]["text"] for frame in connections_api.of_type("bob-phone", "message")] == ["cat left"]
    assert message_media_objects() == [] and not uploaded(key)
    assert transcoder.waiting() == 0


# The sweep (functions/messaging/sweep.py, every five minutes): a photo or video whose upload never came


def sweep_at(monkeypatch: pytest.MonkeyPatch, after_sending: timedelta) -> int:
    """The scheduled sweep, run as if `after_sending` had passed since the messages were sent."""
    later = utc_now() + after_sending
    monkeypatch.setattr(messaging_logic, "utc_now", lambda: later)
    answer = sweep.handler({"source": "aws.events", "detail-type": "Scheduled Event"}, FakeLambdaContext())
    return int(answer["refused"])


def test_a_photo_whose_upload_never_came_is_refused_by_the_sweep_and_told_to_its_sender_only(
    people,  # noqa: F811
    connections_api,  # noqa: F811
    group,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given ada's photo message to the group, whose upload never reaches storage
    ada, bob = people["ada"], people["bob"]
    connect("ada-phone", ada)
    connect("bob-phone", bob)
    sent = send_media(ada, group, "lost", _jpeg(), "image/jpeg")

    # When the sweep runs before the upload is overdue (its URL's 15 minutes, then 15 of grace)
    # Then it leaves the message pending
    assert sweep_at(monkeypatch, UPLOAD_MISSING_AFTER - timedelta(minutes=1)) == 0
    assert history(ada, group)[1]["items"][0]["media"]["status"] == "pending"
    assert connections_api.of_type("ada-phone", "message") == []

    # When it runs once the upload is overdue
    assert sweep_at(monkeypatch, UPLOAD_MISSING_AFTER + timedelta(minutes=1)) == 1

    # Then ada's phone hears her photo was refused, and why; bob never hears of it; her thread shows it refused
    told = connections_api.of_type("ada-phone", "message")
    assert [frame["message"]["message_id"] for frame in told] == [sent["message_id"]]
    media = told[0]["message"]["media"]
    assert (media["status"], media["reason_code"]) == ("rejected", "upload_missing")
    assert media["reason"] == "The photo or video never arrived: send it again."
    assert connections_api.of_type("bob-phone", "message") == []
    assert sent["message_id"] not in [message["message_id"] for message in history(bob, group)[1]["items"]]
    mine = history(ada, group)[1]["items"][0]
    assert (mine["message_id"], mine["media"]["status"], mine["media"]["reason_code"]) == (
        sent["message_id"],
        "rejected",
        "upload_missing",
    )
    # And a later sweep finds nothing more to do (the message left the pending index when it was settled)
    assert sweep_at(monkeypatch, UPLOAD_MISSING_AFTER + timedelta(hours=1)) == 0
    assert len(connections_api.of_type("ada-phone", "message")) == 1


def test_a_video_whose_upload_arrived_is_left_to_its_transcode_by_the_sweep(
    people,  # noqa: F811
    connections_api,  # noqa: F811
    group,
    transcoder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given ada's video message whose upload arrived and was handed to transcode, which has not run yet
    ada, bob = people["ada"], people["bob"]
    connect("bob-phone", bob)
    clip = build(CLIP)
    sent = send_media(ada, group, "slow", clip, "video/mp4")
    process_message_upload(get_settings().uploads_bucket_name, upload(sent, clip, "video/mp4"))

    # When the sweep runs past the upload window
    # Then it leaves the video to its transcode, which delivers it
    assert sweep_at(monkeypatch, UPLOAD_MISSING_AFTER + timedelta(minutes=1)) == 0
    transcoder.run()
    pushed = connections_api.of_type("bob-phone", "message")
    assert [(frame["message"]["message_id"], frame["message"]["media"]["status"]) for frame in pushed] == [
        (sent["message_id"], "ready")
    ]
    # And once delivered, no later sweep touches it
    assert sweep_at(monkeypatch, PENDING_AFTER_UPLOAD + timedelta(hours=1)) == 0
    assert history(bob, group)[1]["items"][0]["media"]["status"] == "ready"


def test_a_media_message_unsent_before_its_upload_came_is_not_swept(
    people,  # noqa: F811
    connections_api,  # noqa: F811
    group,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ada = people["ada"]
    connect("ada-phone", ada)
    sent = send_media(ada, group, "never mind", _jpeg(), "image/jpeg")
    assert unsend(ada, group, sent["message_id"])[0] == 204

    assert sweep_at(monkeypatch, UPLOAD_MISSING_AFTER + timedelta(minutes=1)) == 0
    assert connections_api.of_type("ada-phone", "message") == []


class ReadBeforeDelivery(MessageRepository):
    """Gives the unsend the message as it was read before its photo was delivered, once: the unsend that read
    it pending, and whose delete comes after the delivery reached the inboxes."""

    def __init__(self, stale: Any) -> None:
        super().__init__()
        self.stale: Any = stale

    def get_message(self, conversation_id: str, message_id: str) -> Any:
        stale, self.stale = self.stale, None
        return stale or super().get_message(conversation_id, message_id)


def test_a_photo_unsent_while_it_was_being_delivered_leaves_no_trace_in_the_inboxes(
    people,  # noqa: F811
    connections_api,  # noqa: F811
    group,
) -> None:
    # Given ada's photo, read pending by her unsend, then delivered (bob's inbox shows it, unread) before the
    # unsend's delete is written
    ada, bob = people["ada"], people["bob"]
    connect("bob-phone", bob)
    unread_before = inbox(bob)[group]["unread_count"]
    picture = _jpeg()
    sent = send_media(ada, group, "oops", picture, "image/jpeg")
    read_pending = MessageRepository().get_message(group, sent["message_id"])
    assert process_message_upload(get_settings().uploads_bucket_name, upload(sent, picture, "image/jpeg")) is not None
    assert inbox(bob)[group]["last_message"]["message_id"] == sent["message_id"]

    # When the unsend goes on from what it read
    caller = Caller(user_id=ada["sub"], username=ada["username"])
    messaging_logic.unsend(caller, group, sent["message_id"], messages=ReadBeforeDelivery(read_pending))

    # Then it saw the delivery and undid it too: bob's inbox neither previews nor counts it, his phone is told
    assert inbox(bob)[group]["last_message"]["message_id"] != sent["message_id"]
    assert inbox(bob)[group]["unread_count"] == unread_before
    assert connections_api.of_type("bob-phone", "message_deleted") == [
        {"type": "message_deleted", "conversation_id": group, "message_id": sent["message_id"]}
    ]


def test_a_photo_message_failing_every_resize_attempt_is_refused_unprocessable_not_upload_missing(
    people,  # noqa: F811
    connections_api,  # noqa: F811
    group,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given ada's photo message, uploaded, whose WebP encode fails on every attempt (as a 1080×17000 screenshot's did)
    from pinhole.media import imaging

    def encode(image: Any, content_type: str) -> bytes:
        raise ValueError("encoding error 5: Image size exceeds WebP limit of 16383 pixels")

    monkeypatch.setattr(imaging, "_encode", encode)
    ada = people["ada"]
    connect("ada-phone", ada)
    picture = _jpeg()
    sent = send_media(ada, group, "long", picture, "image/jpeg")
    key = upload(sent, picture, "image/jpeg")
    uploads = get_settings().uploads_bucket_name

    # When resize's first attempts fail
    for receive_count in range(1, RESIZE_MAX_RECEIVES):
        with pytest.raises(ValueError, match="WebP limit"):
            process_message_upload(uploads, key, receive_count=receive_count)

    # Then the sweep leaves it alone past the upload window: the file arrived, the queue is retrying it
    assert sweep_at(monkeypatch, UPLOAD_MISSING_AFTER + timedelta(minutes=1)) == 0
    assert history(ada, group)[1]["items"][0]["media"]["status"] == "pending"

    # When the last attempt fails too
    outcome = process_message_upload(uploads, key, receive_count=RESIZE_MAX_RECEIVES)

    # Then the photo is refused `unprocessable` and ada's phone and thread say so
    assert outcome == MediaStatus.REJECTED
    told = connections_api.of_type("ada-phone", "message")
    assert [frame["message"]["message_id"] for frame in told] == [sent["message_id"]]
    media = told[0]["message"]["media"]
    assert (media["status"], media["reason_code"], media["reason"]) == (
        "rejected",
        "unprocessable",
        "The picture could not be processed. Try another photo.",
    )
    mine = history(ada, group)[1]["items"][0]
    assert (mine["message_id"], mine["media"]["status"], mine["media"]["reason_code"]) == (
        sent["message_id"],
        "rejected",
        "unprocessable",
    )
