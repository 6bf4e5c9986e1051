"""The resize use case: one uploaded original becomes renditions in the media bucket, and its post
learns the outcome — ready (publishing the post when it was the last item) or rejected with a reason
the uploader understands. A duplicated or late event for an item already settled does nothing, unless an
earlier attempt stopped before settling the post: then it settles it. Renditions made for a post deleted
meanwhile are removed again. A story goes the same way (its upload key names its record in the posts
table) with its own renditions. With automatic screening on (context `image_moderation`), each image — a video's
poster — is screened first; a post with a flagged item is held `in_review` and a moderation case opened."""

import tempfile
from pathlib import Path

from pinhole.media.limits import MediaKind, MediaRejected, max_upload_bytes
from pinhole.media.models import Rendition, ScreeningLabel
from pinhole.moderation.logic import open_screening_case
from pinhole.moderation.models import Label
from pinhole.moderation.screening import ImageScreen
from pinhole.posts import logic as posts
from pinhole.posts.dal import PostRepository
from pinhole.posts.models import (
    MediaStatus,
    PostKind,
    PostRecord,
    PostStatus,
    StoredLabel,
    StoredMedia,
    StoredRendition,
)
from pinhole.resize.storage import MediaStorage
from pinhole.shared.errors import NotFound
from pinhole.shared.observability import logger
from pinhole.upload.keys import UploadKey, rendition_key, rendition_prefix

_RENDITIONS_OF: dict[PostKind, MediaKind] = {PostKind.POST: "post", PostKind.STORY: "story"}
_EXTENSIONS = {"image/jpeg": "jpg", "image/webp": "webp", "video/mp4": "mp4", "video/quicktime": "mov"}

_storage = MediaStorage()
_posts = PostRepository()
_screen = ImageScreen()


def _screened(renditions: dict[str, Rendition], screen: ImageScreen) -> list[StoredLabel]:
    """What automatic screening flags in the largest JPEG rendition (of an image, or of a video's poster)."""
    jpegs = [rendition for rendition in renditions.values() if rendition.content_type == "image/jpeg"]
    if not jpegs or not screen.enabled:
        return []
    largest = max(jpegs, key=lambda rendition: rendition.width * rendition.height)
    return [_stored(label) for label in screen.flagged(largest.data)]


def _stored(label: ScreeningLabel) -> StoredLabel:
    return StoredLabel(name=label.name, parent=label.parent, confidence=label.confidence)


def _store(key: UploadKey, renditions: dict[str, Rendition], storage: MediaStorage) -> dict[str, StoredRendition]:
    stored = {}
    for name, rendition in renditions.items():
        object_key = rendition_key(key.post_id, key.media_id, name, _EXTENSIONS[rendition.content_type])
        storage.write_rendition(object_key, rendition.data, rendition.content_type)
        stored[name] = StoredRendition(
            key=object_key, width=rendition.width, height=rendition.height, content_type=rendition.content_type
        )
    return stored


def _process(
    bucket: str,
    key: UploadKey,
    version_id: str | None,
    media: StoredMedia,
    kind: PostKind,
    storage: MediaStorage,
    screen: ImageScreen = _screen,
) -> StoredMedia:
    # Imported here, not at module scope: only this code path needs Pillow and ffmpeg.
    if media.type == "image":
        from pinhole.media.imaging import render_image

        image = render_image(
            storage.read_original(bucket, str(key), version_id, max_upload_bytes(media.content_type)),
            media.content_type,
            _RENDITIONS_OF[kind],
        )
        return media.model_copy(
            update={
                "status": MediaStatus.READY,
                "width": image.width,
                "height": image.height,
                "blurhash": image.blurhash,
                "rendition_keys": _store(key, image.renditions, storage),
                "flagged": _screened(image.renditions, screen),
            }
        )
    from pinhole.media.video import inspect_video

    with tempfile.TemporaryDirectory() as workdir:
        path = Path(workdir) / "original"
        storage.download_original(bucket, str(key), version_id, path, max_upload_bytes(media.content_type))
        video = inspect_video(path, media.content_type)
    renditions = _store(key, video.poster, storage)
    video_key = rendition_key(key.post_id, key.media_id, "video", _EXTENSIONS[media.content_type])
    storage.publish_video(bucket, str(key), version_id, video_key, media.content_type)
    renditions["video"] = StoredRendition(
        key=video_key, width=video.width, height=video.height, content_type=media.content_type
    )
    return media.model_copy(
        update={
            "status": MediaStatus.READY,
            "width": video.width,
            "height": video.height,
            "blurhash": video.blurhash,
            "duration_s": video.duration_s,
            "rendition_keys": renditions,
            "flagged": _screened(video.poster, screen),
        }
    )


def process_upload(
    bucket: str,
    object_key: str,
    version_id: str | None = None,
    storage: MediaStorage = _storage,
    post_repository: PostRepository = _posts,
    screen: ImageScreen = _screen,
) -> PostStatus | None:
    """Returns the post's status afterwards, or None when there was nothing to do."""
    try:
        key = UploadKey.parse(object_key)
        record = post_repository.get(key.post_id)
    except NotFound:
        logger.warning("Upload of no known post; ignored", extra={"key": object_key})
        return None
    media = record.media.get(key.media_id)
    if media is None:
        logger.warning("Upload of no known media item; ignored", extra={"key": object_key})
        return None
    if media.status != MediaStatus.PENDING:
        if record.status == PostStatus.PENDING:
            # An earlier attempt recorded the item, then failed (a throttled write, a timeout) before the post
            # was settled: this redelivery finishes it, or the post would wait for the sweep to fail it.
            logger.info("Media already settled; settling its post", extra={"key": object_key})
            return _settle(key, media, post_repository)
        logger.info("Media already settled; duplicate event ignored", extra={"key": object_key})
        return None
    try:
        processed = _process(bucket, key, version_id, media, record.kind, storage, screen)
    except MediaRejected as rejected:
        logger.info("Upload rejected", extra={"key": object_key, "code": rejected.code.value})
        refused = media.model_copy(
            update={"status": MediaStatus.REJECTED, "reason": rejected.reason, "reason_code": rejected.code.value}
        )
        return _settle(key, refused, post_repository)
    try:
        return _settle(key, processed, post_repository)
    except NotFound:
        # The post was deleted while its renditions were being made: the cleanup of the deletion has already
        # run, so the renditions just written would stay public with nothing left to remove them.
        removed = remove_renditions(key.post_id, storage)
        logger.info("Post deleted during processing; renditions removed", extra={"key": object_key, "objects": removed})
        return None


def _settle(key: UploadKey, media: StoredMedia, post_repository: PostRepository) -> PostStatus:
    if media.status == MediaStatus.READY:
        return posts.record_media_ready(key, media, post_repository, before_hold=_open_case)
    return posts.record_media_rejected(key, media, post_repository)


def _open_case(record: PostRecord) -> None:
    labels = [Label(**label.model_dump()) for media in record.media.values() for label in media.flagged]
    open_screening_case(record, labels)


def remove_renditions(post_id: str, storage: MediaStorage = _storage) -> int:
    """A deleted post's renditions stop being served: gone from the bucket and from the CDN's caches."""
    return storage.delete_renditions(rendition_prefix(post_id))
