"""Photo messages through the resize pipeline: an original uploaded under `messages/...` becomes, in the
private message media bucket, the renditions of a post (large, medium, thumb, each also WebP), and the
messaging context delivers the message. Renditions made for a message unsent meanwhile are
removed again."""

from pinhole.media.limits import MediaRejected, max_upload_bytes
from pinhole.media.models import Rendition
from pinhole.messaging import logic as messaging
from pinhole.messaging.media import MessageMediaStorage, MessageUploadKey, message_prefix, rendition_key
from pinhole.posts.models import MediaStatus, StoredMedia, StoredRendition
from pinhole.shared.observability import logger

_EXTENSIONS = {"image/jpeg": "jpg", "image/webp": "webp", "video/mp4": "mp4", "video/quicktime": "mov"}
_storage = MessageMediaStorage()


def _store(
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
    bucket: str, key: MessageUploadKey, version_id: str | None, media: StoredMedia, storage: MessageMediaStorage
) -> StoredMedia:
    from pinhole.media.imaging import render_image  # Pillow only on this path

    limit = max_upload_bytes(media.content_type)
    image = render_image(storage.read_original(bucket, str(key), version_id, limit), media.content_type)
    facts = {"width": image.width, "height": image.height, "blurhash": image.blurhash}
    renditions = _store(key, image.renditions, storage)
    return media.model_copy(update={"status": MediaStatus.READY, **facts, "rendition_keys": renditions})


def process_message_upload(
    bucket: str, key: MessageUploadKey, version_id: str | None = None, storage: MessageMediaStorage = _storage
) -> MediaStatus | None:
    """The message's status afterwards, or None when there was nothing to do (duplicate or late events)."""
    record = messaging.media_message(key)
    if record is None or record.media is None or record.media.status != MediaStatus.PENDING:
        logger.info("Upload of no pending photo message; ignored", extra={"key": str(key)})
        return None
    try:
        settled = _render(bucket, key, version_id, record.media, storage)
    except MediaRejected as rejected:
        logger.info("Message upload rejected", extra={"key": str(key), "code": rejected.code.value})
        settled = record.media.model_copy(
            update={"status": MediaStatus.REJECTED, "reason": rejected.reason, "reason_code": rejected.code.value}
        )
    status = messaging.record_media_outcome(key, settled)
    if status is None and settled.rendition_keys and messaging.media_message(key) is None:
        # Unsent while its picture was being made: renditions nobody records would stay behind.
        storage.delete_prefix(message_prefix(key.conversation_id, key.message_id))
    return status
