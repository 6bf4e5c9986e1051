"""The resize use case: one uploaded original becomes renditions in the media bucket, and its post
learns the outcome — ready (publishing the post when it was the last item) or rejected with a reason
the uploader understands. A duplicated or late event for an item already settled does nothing, unless an
earlier attempt stopped before settling the post: then it settles it. Renditions made for a post deleted
meanwhile are removed again (pinhole.resize.purge). A story goes the same way (its upload key names its
record in the posts table) with its own renditions. With automatic screening on (context `image_moderation`),
each image — a video's poster, in transcode — is screened first; a post with a flagged item is held `in_review`
and a moderation case opened.

A video is not processed here: it is handed to the transcode function's queue (`pinhole.transcode`), which
settles it through the same `handle_upload_event`, and its post is kept from the sweep meanwhile.

A picture whose rendering fails unexpectedly (an encoder's error, S3 going away) is retried by the queue, its post
kept from the sweep meanwhile; on the queue's last attempt (`RESIZE_MAX_RECEIVES`) it is rejected `unprocessable`
(`RenderAttempt`), as transcode's dead-letter consumer rejects a video: a file that fails every attempt is
refused, not left pending for the sweep to call `upload_missing`."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from pinhole.media.limits import MAX_AVATAR_BYTES, MB, MediaKind, MediaRejected, RejectionCode, max_upload_bytes
from pinhole.media.models import ImageRenditions, Rendition, ScreeningLabel
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
from pinhole.resize.models import PENDING_WHILE_RETRIED, RESIZE_MAX_RECEIVES, UNPROCESSABLE_PICTURE_REASON
from pinhole.resize.purge import purge_renditions
from pinhole.resize.storage import MediaStorage
from pinhole.shared.clock import utc_now
from pinhole.shared.errors import NotFound
from pinhole.shared.observability import logger
from pinhole.transcode.models import PENDING_AFTER_UPLOAD, TranscodeRequest
from pinhole.transcode.queue import TranscodeQueue
from pinhole.upload.keys import AvatarKey, UploadKey, rendition_key
from pinhole.users import avatar
from pinhole.users.models import AvatarStatus, AvatarUpload

_RENDITIONS_OF: dict[PostKind, MediaKind] = {PostKind.POST: "post", PostKind.STORY: "story"}
_EXTENSIONS = {"image/jpeg": "jpg", "image/webp": "webp", "video/mp4": "mp4", "video/quicktime": "mov"}

_storage = MediaStorage()
_posts = PostRepository()
_transcode_queue = TranscodeQueue()
_screen = ImageScreen()

T = TypeVar("T")

Processor = Callable[[UploadKey, PostRecord, StoredMedia], StoredMedia | None]
"""Makes a pending item's renditions: the item settled as ready, None when the work went elsewhere (a video handed to
transcode, an attempt already running), or MediaRejected."""


@dataclass(frozen=True, slots=True)
class RenderAttempt:
    """One delivery of an upload's event (`receive_count`: the queue's count), and how to keep its item from the
    sweep while the queue retries it."""

    object_key: str
    receive_count: int = 1
    keep_pending: Callable[[], object] = lambda: None

    def rendered(self, render: Callable[[], T]) -> T:
        """`render()` — the decoding and encoding of the picture, the work the picture itself can make fail every
        time (S3 and DynamoDB failures stay retried, then parked in the dead-letter queue): a failure is retried by
        the queue, the item kept from the sweep until the retries are over; on the last receive it is a rejection
        `unprocessable` instead."""
        try:
            return render()
        except MediaRejected:
            raise
        except Exception as error:
            if self.receive_count < RESIZE_MAX_RECEIVES:
                self.keep_pending()
                raise
            logger.exception("Picture failed on every attempt; rejected", extra={"key": self.object_key})
            raise MediaRejected(RejectionCode.UNPROCESSABLE, UNPROCESSABLE_PICTURE_REASON) from error


def retried_until() -> datetime:
    """When the sweep may judge an item again whose resize failed and will be retried."""
    return utc_now() + PENDING_WHILE_RETRIED


def store_renditions(
    key: UploadKey, renditions: dict[str, Rendition], storage: MediaStorage
) -> dict[str, StoredRendition]:
    stored = {}
    for name, rendition in renditions.items():
        object_key = rendition_key(key.post_id, key.media_id, name, _EXTENSIONS[rendition.content_type])
        storage.write_rendition(object_key, rendition.data, rendition.content_type)
        stored[name] = StoredRendition(
            key=object_key, width=rendition.width, height=rendition.height, content_type=rendition.content_type
        )
    return stored


def screened(renditions: dict[str, Rendition], screen: ImageScreen = _screen) -> list[StoredLabel]:
    """What automatic screening flags in the largest JPEG rendition (of an image, or of a video's poster)."""
    jpegs = [rendition for rendition in renditions.values() if rendition.content_type == "image/jpeg"]
    if not jpegs or not screen.enabled:
        return []
    largest = max(jpegs, key=lambda rendition: rendition.width * rendition.height)
    return [_stored(label) for label in screen.flagged(largest.data)]


def _stored(label: ScreeningLabel) -> StoredLabel:
    return StoredLabel(name=label.name, parent=label.parent, confidence=label.confidence)


def _render_image(
    bucket: str,
    key: UploadKey,
    version_id: str | None,
    media: StoredMedia,
    kind: PostKind,
    storage: MediaStorage,
    screen: ImageScreen,
    attempt: RenderAttempt,
) -> StoredMedia:
    # Imported here, not at module scope: only this code path needs Pillow.
    from pinhole.media.imaging import render_image

    original = storage.read_original(bucket, str(key), version_id, max_upload_bytes(media.content_type))
    image = attempt.rendered(lambda: render_image(original, media.content_type, _RENDITIONS_OF[kind]))
    return media.model_copy(
        update={
            "status": MediaStatus.READY,
            "width": image.width,
            "height": image.height,
            "blurhash": image.blurhash,
            "rendition_keys": store_renditions(key, image.renditions, storage),
            "flagged": screened(image.renditions, screen),
        }
    )


def process_upload(
    bucket: str,
    object_key: str,
    version_id: str | None = None,
    receive_count: int = 1,
    storage: MediaStorage = _storage,
    post_repository: PostRepository = _posts,
    transcode_queue: TranscodeQueue = _transcode_queue,
    screen: ImageScreen = _screen,
) -> PostStatus | None:
    """Returns the post's status afterwards, or None when there was nothing to do. `receive_count`: which delivery
    of the event this is (the last one rejects a picture that fails again)."""

    def process(key: UploadKey, record: PostRecord, media: StoredMedia) -> StoredMedia | None:
        if media.type == "image":
            attempt = RenderAttempt(
                object_key, receive_count, lambda: post_repository.keep_pending(key.post_id, retried_until())
            )
            return _render_image(bucket, key, version_id, media, record.kind, storage, screen, attempt)
        transcode_queue.send(TranscodeRequest(bucket=bucket, key=object_key, version_id=version_id))
        post_repository.keep_pending(key.post_id, utc_now() + PENDING_AFTER_UPLOAD)
        logger.info("Video handed to transcode", extra={"key": object_key})
        return None

    return handle_upload_event(object_key, process, storage, post_repository)


def handle_upload_event(
    object_key: str, process: Processor, storage: MediaStorage, post_repository: PostRepository
) -> PostStatus | None:
    """The exactly-once rules around `process` for one event about an uploaded original: an unknown post or item
    is ignored; a settled item is ignored (or its post settled, if an earlier attempt stopped in between); a
    rejection settles the item rejected; renditions of a post deleted meanwhile are removed again."""
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
            return settle(key, media, post_repository)
        logger.info("Media already settled; duplicate event ignored", extra={"key": object_key})
        return None
    try:
        processed = process(key, record, media)
    except MediaRejected as rejected:
        logger.info("Upload rejected", extra={"key": object_key, "code": rejected.code.value})
        refused = media.model_copy(
            update={
                "status": MediaStatus.REJECTED,
                "reason": rejected.reason,
                "reason_code": rejected.code.value,
                "processing": None,
                "claim": None,
            }
        )
        return settle(key, refused, post_repository)
    if processed is None:
        return PostStatus.PENDING
    try:
        return settle(key, processed, post_repository)
    except NotFound:
        # The post was deleted while its renditions were being made: the cleanup of the deletion has already
        # run, so the renditions just written would stay public with nothing left to remove them.
        served = [rendition.key for rendition in processed.rendition_keys.values()]
        removed = purge_renditions(key.post_id, served, storage)
        logger.info("Post deleted during processing; renditions removed", extra={"key": object_key, "objects": removed})
        return None


def settle(key: UploadKey, media: StoredMedia, post_repository: PostRepository) -> PostStatus:
    if media.status == MediaStatus.READY:
        return posts.record_media_ready(key, media, post_repository, before_hold=_open_case)
    return posts.record_media_rejected(key, media, post_repository)


def _open_case(record: PostRecord) -> None:
    labels = [Label(**label.model_dump()) for media in record.media.values() for label in media.flagged]
    open_screening_case(record, labels)


def process_avatar_upload(
    bucket: str,
    object_key: str,
    version_id: str | None = None,
    receive_count: int = 1,
    storage: MediaStorage = _storage,
) -> AvatarStatus | None:
    """An avatar original: square renditions through the same decoder as post photos, then the profile
    (`pinhole.users.avatar`). None when it is not the user's latest upload (or is already settled)."""
    try:
        key = AvatarKey.parse(object_key)
    except NotFound:
        logger.warning("Not an avatar key; ignored", extra={"key": object_key})
        return None

    def render(upload: AvatarUpload) -> ImageRenditions:
        from pinhole.media.imaging import render_image

        original = storage.read_original(bucket, object_key, version_id, MAX_AVATAR_BYTES)
        if len(original) > MAX_AVATAR_BYTES:
            raise MediaRejected(RejectionCode.TOO_LARGE, f"Avatars can be at most {MAX_AVATAR_BYTES // MB} MB.")
        attempt = RenderAttempt(object_key, receive_count, lambda: avatar.keep_pending(key, upload, retried_until()))
        return attempt.rendered(lambda: render_image(original, upload.content_type, "avatar"))

    return avatar.process_upload(key, render, storage=storage)
