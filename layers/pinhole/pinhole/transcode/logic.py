"""The transcode use case: an uploaded video (handed over by resize) becomes the MP4 and HLS ladders, a poster and a
thumb in the media bucket, and its post learns the outcome through the same exactly-once rules as resize's.

- One attempt at a time: the first attempt claims the item (its SQS message id, until its invocation must have ended);
  a duplicate event meanwhile is dropped, a redelivery of the same message may go on, an expired claim is taken over.
- Progress: `processing.done` moves after each step, while the item stays pending.
- Limits: ffmpeg is stopped WATCHDOG_RESERVE_S before Lambda's timeout (or when the kernel kills it for memory), and
  the item is rejected `unprocessable`; an invocation that dies anyway is retried by the queue, and once the queue
  gives up, `give_up` (the dead-letter consumer) rejects the item the same way. Nothing stays pending.
- Every object lives under the post's rendition prefix (posts/<post>/<media>/…, HLS under …/hls/), so the deletion of
  the post (resize's cleanup: one prefix) removes the ladder and every segment with the pictures.
- A message's video (an upload under messages/…) is made the same way, without HLS, into the private message media
  bucket, and the messaging context delivers (or drops) the message: no claim and no progress there — a duplicate
  attempt writes the same keys, and only the first outcome is recorded (the message's media must still be pending).
"""

import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from pinhole.media.ffmpeg import Deadline
from pinhole.media.limits import HLS_MASTER, MediaRejected, RejectionCode, max_upload_bytes
from pinhole.media.models import TranscodedVideo
from pinhole.messaging import logic as messaging
from pinhole.messaging.media import MessageMediaStorage, MessageUploadKey
from pinhole.messaging.media import rendition_key as message_rendition_key
from pinhole.posts.dal import PostRepository
from pinhole.posts.logic import record_media_rejected
from pinhole.posts.models import MediaStatus, PostRecord, PostStatus, StoredMedia, StoredRendition
from pinhole.resize.logic import handle_upload_event, screened, store_renditions
from pinhole.resize.message_media import pending_media, store_message_renditions
from pinhole.resize.storage import MediaStorage
from pinhole.shared.clock import utc_now
from pinhole.shared.errors import NotFound
from pinhole.shared.observability import logger
from pinhole.transcode.models import (
    CLAIM_MARGIN,
    TRANSCODE_STEPS,
    UNPROCESSABLE_REASON,
    WATCHDOG_RESERVE_S,
    TranscodeRequest,
)
from pinhole.upload.keys import UploadKey, rendition_key

HLS_DIRECTORY = "hls"

_storage = MediaStorage()
_posts = PostRepository()
_message_storage = MessageMediaStorage()


def transcode_upload(
    request: TranscodeRequest,
    attempt_id: str,
    remaining_s: float,
    storage: MediaStorage = _storage,
    post_repository: PostRepository = _posts,
) -> PostStatus | None:
    """Transcodes the video of `request` within `remaining_s` (what is left of the invocation), as attempt
    `attempt_id`; the post's status afterwards, or None when there was nothing to do (or it was a message's)."""
    deadline = Deadline.after(remaining_s - WATCHDOG_RESERVE_S)
    message_key = MessageUploadKey.parse(request.key)
    if message_key is not None:
        transcode_message_upload(request, message_key, deadline, storage)
        return None
    claim_until = utc_now() + timedelta(seconds=remaining_s) + CLAIM_MARGIN

    def process(key: UploadKey, record: PostRecord, media: StoredMedia) -> StoredMedia | None:
        claimed = post_repository.claim_media(
            key.post_id, key.media_id, attempt_id, claim_until, utc_now(), TRANSCODE_STEPS
        )
        if not claimed:
            logger.info("Video already being transcoded; duplicate event dropped", extra={"key": request.key})
            return None
        progress = _Progress(post_repository, key, attempt_id)
        with tempfile.TemporaryDirectory() as workdir:
            made = _transcode(request, media, Path(workdir), deadline, progress, storage)
            renditions = _store(key, made, storage)
        return media.model_copy(
            update={
                "status": MediaStatus.READY,
                "width": made.width,
                "height": made.height,
                "blurhash": made.blurhash,
                "duration_s": made.duration_s,
                "processing": None,
                "claim": None,
                "rendition_keys": renditions,
                "flagged": screened(made.pictures),  # automatic screening looks at the poster
            }
        )

    return handle_upload_event(request.key, process, storage, post_repository)


def transcode_message_upload(
    request: TranscodeRequest,
    key: MessageUploadKey,
    deadline: Deadline,
    storage: MediaStorage = _storage,
    message_storage: MessageMediaStorage = _message_storage,
) -> MediaStatus | None:
    """A message's video: its MP4 ladder, poster and thumb in the message media bucket, and the message delivered
    (a video refused — damaged, too long, past the watchdog — is told to its sender). The message's media status
    afterwards, or None when there was nothing to do."""
    media = pending_media(key)
    if media is None:
        return None
    try:
        with tempfile.TemporaryDirectory() as workdir:
            made = _transcode(request, media, Path(workdir), deadline, lambda: None, storage, hls=False)
            renditions = store_message_renditions(key, made.pictures, message_storage)
            for file in made.mp4:
                object_key = message_rendition_key(key.conversation_id, key.message_id, file.name, "mp4")
                message_storage.write_rendition_file(object_key, file.path, file.content_type)
                renditions[file.name] = StoredRendition(
                    key=object_key, width=file.width, height=file.height, content_type=file.content_type
                )
        renditions["video"] = renditions[made.mp4[0].name]
        facts = {"width": made.width, "height": made.height, "blurhash": made.blurhash, "duration_s": made.duration_s}
        settled = media.model_copy(update={"status": MediaStatus.READY, **facts, "rendition_keys": renditions})
    except MediaRejected as refused:
        logger.info("Message video rejected", extra={"key": request.key, "code": refused.code.value})
        settled = media.rejected(refused.code, refused.reason)
    return messaging.record_media_outcome(key, settled, storage=message_storage)


def give_up(request: TranscodeRequest, post_repository: PostRepository = _posts) -> PostStatus | MediaStatus | None:
    """The queue gave up on a video (every attempt died: out of time or memory past the watchdog): its item is
    rejected `unprocessable` and its post fails (a message: its sender is told), unless it was settled meanwhile."""
    message_key = MessageUploadKey.parse(request.key)
    if message_key is not None:
        media = pending_media(message_key)
        if media is None:
            return None
        logger.info("Transcode given up; message video rejected", extra={"key": request.key})
        return messaging.record_media_outcome(
            message_key, media.rejected(RejectionCode.UNPROCESSABLE, UNPROCESSABLE_REASON)
        )
    try:
        key = UploadKey.parse(request.key)
        record = post_repository.get(key.post_id)
    except NotFound:
        return None
    media = record.media.get(key.media_id)
    if media is None or media.status != MediaStatus.PENDING:
        return None
    refused = media.model_copy(
        update={
            "status": MediaStatus.REJECTED,
            "reason": UNPROCESSABLE_REASON,
            "reason_code": "unprocessable",
            "processing": None,
            "claim": None,
        }
    )
    logger.info("Transcode given up; video rejected", extra={"key": request.key})
    # rejected, never ready: the moderation table (a held post's case) is not this function's to touch
    return record_media_rejected(key, refused, post_repository)


class _Progress:
    """Shows each finished step on the item (`processing.done`), as long as this attempt holds the claim."""

    def __init__(self, post_repository: PostRepository, key: UploadKey, attempt_id: str) -> None:
        self._posts = post_repository
        self._key = key
        self._attempt_id = attempt_id
        self.done = 0

    def __call__(self) -> None:
        self.done += 1
        self._posts.record_progress(self._key.post_id, self._key.media_id, self._attempt_id, self.done)


def _transcode(
    request: TranscodeRequest,
    media: StoredMedia,
    workdir: Path,
    deadline: Deadline,
    progress: Callable[[], None],
    storage: MediaStorage,
    *,
    hls: bool = True,
) -> TranscodedVideo:
    # Imported here, not at module scope: the handler imports this module for `give_up` too, which needs no ffmpeg.
    from pinhole.media.transcode import transcode
    from pinhole.media.video import probe_video

    original = workdir / "original"
    storage.download_original(
        request.bucket, request.key, request.version_id, original, max_upload_bytes(media.content_type)
    )
    source = probe_video(original, media.content_type, deadline=deadline)
    progress()
    output = workdir / "renditions"
    output.mkdir()
    return transcode(original, source, output, deadline=deadline, on_step=progress, hls=hls)


def _store(key: UploadKey, made: TranscodedVideo, storage: MediaStorage) -> dict[str, StoredRendition]:
    """Every file under the item's rendition prefix; `video` (for clients that know no rungs) is the best MP4 and
    `hls` the master playlist."""
    renditions = store_renditions(key, made.pictures, storage)
    for file in made.mp4:
        object_key = rendition_key(key.post_id, key.media_id, file.name, "mp4")
        storage.write_rendition_file(object_key, Path(file.path), file.content_type)
        renditions[file.name] = StoredRendition(
            key=object_key, width=file.width, height=file.height, content_type=file.content_type
        )
    for file in made.hls:
        name, extension = file.name.rsplit(".", 1)
        object_key = rendition_key(key.post_id, key.media_id, f"{HLS_DIRECTORY}/{name}", extension)
        storage.write_rendition_file(object_key, Path(file.path), file.content_type)
        if file.name == HLS_MASTER:
            renditions["hls"] = StoredRendition(
                key=object_key, width=file.width, height=file.height, content_type=file.content_type
            )
    renditions["video"] = renditions[made.mp4[0].name]
    return renditions
