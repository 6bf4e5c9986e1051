"""Photo and video messages through the media pipeline: an original uploaded under `messages/...` becomes, in
the private message media bucket, the renditions of a post (a photo: large, medium, thumb, each also WebP, made
here; a video: handed to transcode, which makes its MP4 ladder, poster and thumb — pinhole.transcode.messages),
and the messaging context delivers the message (or drops it, and what was made for it, when it is gone)."""

from pinhole.media.limits import MediaRejected, max_upload_bytes
from pinhole.media.models import Rendition
from pinhole.messaging import logic as messaging
from pinhole.messaging.media import MessageMediaStorage, MessageUploadKey, rendition_key
from pinhole.posts.models import MediaStatus, StoredMedia, StoredRendition
from pinhole.resize.logic import RenderAttempt, retried_until
from pinhole.shared.clock import utc_now
from pinhole.shared.observability import logger
from pinhole.transcode.models import PENDING_AFTER_UPLOAD, TranscodeRequest
from pinhole.transcode.queue import TranscodeQueue

_EXTENSIONS = {"image/jpeg": "jpg", "image/webp": "webp", "video/mp4": "mp4", "video/quicktime": "mov"}
_storage = MessageMediaStorage()
_transcode_queue = TranscodeQueue()


def store_message_renditions(
    key: MessageUploadKey, renditions: dict[str, Rendition], storage: MessageMediaStorage
) -> dict[str, StoredRendition]:
    stored = {}
    for name, rendition in renditions.items():
        object_key = rendition_key(key.conversation_id, key.message_id, name, _EXTENSIONS[rendition.content_type])
        storage.write_rendition(object_key, rendition.data, rendition.content_type)
        stored[name] = StoredRendition(
            key=object_key, width=rendition.width, height=rendition.height, content_type=rendition.content_type
        )
    return stored


def _render(
    bucket: str,
    key: MessageUploadKey,
    version_id: str | None,
    media: StoredMedia,
    storage: MessageMediaStorage,
    attempt: RenderAttempt,
) -> StoredMedia:
    from pinhole.media.imaging import render_image  # Pillow only on this path

    original = storage.read_original(bucket, str(key), version_id, max_upload_bytes(media.content_type))
    image = attempt.rendered(lambda: render_image(original, media.content_type))
    facts = {"width": image.width, "height": image.height, "blurhash": image.blurhash}
    renditions = store_message_renditions(key, image.renditions, storage)
    return media.model_copy(update={"status": MediaStatus.READY, **facts, "rendition_keys": renditions})


def pending_media(key: MessageUploadKey) -> StoredMedia | None:
    """The media of the message an upload is for, while it is pending (None: unknown, unsent or settled)."""
    record = messaging.media_message(key)
    if record is None or record.media is None or record.media.status != MediaStatus.PENDING:
        logger.info("Upload of no pending media message; ignored", extra={"key": str(key)})
        return None
    return record.media


def process_message_upload(
    bucket: str,
    key: MessageUploadKey,
    version_id: str | None = None,
    receive_count: int = 1,
    storage: MessageMediaStorage = _storage,
    transcode_queue: TranscodeQueue = _transcode_queue,
) -> MediaStatus | None:
    """The message's status afterwards (pending: a video handed to transcode), or None when there was nothing
    to do (duplicate or late events, a message gone). A photo failing on the queue's last receive is refused
    (`RenderAttempt`)."""
    media = pending_media(key)
    if media is None:
        return None
    if media.type == "video":
        transcode_queue.send(TranscodeRequest(bucket=bucket, key=str(key), version_id=version_id))
        messaging.keep_media_pending(key, utc_now() + PENDING_AFTER_UPLOAD)
        logger.info("Message video handed to transcode", extra={"key": str(key)})
        return MediaStatus.PENDING
    try:
        attempt = RenderAttempt(str(key), receive_count, lambda: messaging.keep_media_pending(key, retried_until()))
        settled = _render(bucket, key, version_id, media, storage, attempt)
    except MediaRejected as refused:
        logger.info("Message upload rejected", extra={"key": str(key), "code": refused.code.value})
        settled = media.rejected(refused.code, refused.reason)
    return messaging.record_media_outcome(key, settled, storage=storage)
