"""Deleted media stops being served: its renditions are deleted from the media bucket, then invalidated at
the CDN, where they are cached for a year. Each step is retried until it is done, apart from the other.

Deleting (`purge_renditions`): every rendition under the post's prefix is listed and deleted. DeleteObjects
answers 200 and names the keys it could not delete; those are tried again, and if some still resist, the
purge raises after queueing the invalidation of what is gone, so that its caller (a queue consumer) is
retried, and the next listing finds exactly what is left.

Invalidating: the paths of what is gone are queued (the media invalidations queue), after the deletion, so
that an invalidation never precedes the deletion it follows up (an edge fetching the object in between
would cache it for a year again). The paths come from the post's own record as well as from the listing:
a retry after the objects are gone lists nothing, but the record still names every rendition that was ever
served, so nothing once deleted is forgotten by the queue.

The invalidator (`Invalidator`) takes many queued requests at once and asks CloudFront for one invalidation
of all their paths, never more than MAX_PATHS_PER_INVALIDATION, files only: a distribution may have 3,000
file paths in progress, but only 15 wildcard paths, which a burst of deletions and story expiries would
exhaust at once. What CloudFront refuses for now (TooManyInvalidationsInProgress, throttling) goes back to
the queue, delayed longer each time, until CloudFront takes it: nothing is dropped, nothing given up on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, ValidationError

from pinhole.posts.models import StoredMedia
from pinhole.resize.cdn import MAX_DELAY_S, Cdn, CdnBusy, InvalidationQueue
from pinhole.resize.models import InvalidationRequest
from pinhole.resize.storage import MediaStorage
from pinhole.shared.observability import logger
from pinhole.upload.keys import rendition_prefix

if TYPE_CHECKING:  # the consumers' records, for their signatures only: the upload API purges an avatar's old
    # renditions through purge_prefix and need not import Powertools' event-source models (~3 ms of its cold start)
    from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamRecordModel, SqsRecordModel

DELETE_ATTEMPTS = 3
MAX_PATHS_PER_REQUEST = 500
"""Paths per queued request (each up to ~100 bytes: a message stays far below SQS's 256 KB)."""
MAX_PATHS_PER_INVALIDATION = 1500
"""Half of the 3,000 file paths CloudFront lets a distribution have in progress: two invalidators at once
(the queue's mapping allows no more) stay within it while earlier invalidations complete."""
FIRST_DELAY_S = 30


class RenditionsNotDeleted(Exception):
    """S3 kept refusing to delete some renditions; the purge is to be retried."""


_storage = MediaStorage()
_queue = InvalidationQueue()
_cdn = Cdn()


def purge_renditions(
    post_id: str,
    served_keys: Iterable[str] = (),
    storage: MediaStorage = _storage,
    queue: InvalidationQueue = _queue,
) -> int:
    """Deletes every rendition of the post, then queues the invalidation of what is gone: the keys deleted
    now and `served_keys` (those the post's record names); how many objects this call deleted."""
    return purge_prefix(rendition_prefix(post_id), served_keys, storage, queue)


def purge_prefix(
    prefix: str,
    served_keys: Iterable[str] = (),
    storage: MediaStorage = _storage,
    queue: InvalidationQueue = _queue,
) -> int:
    """Deletes every rendition under the prefix (a post's, an avatar's), then queues the invalidation of what
    is gone and of `served_keys`; how many objects this call deleted."""
    deleted: set[str] = set()
    resisting: dict[str, str] = {}
    for page in storage.rendition_pages(prefix):
        refused = _delete(storage, page)
        deleted |= set(page) - refused.keys()
        resisting |= refused
    paths = sorted(f"/{key}" for key in (deleted | set(served_keys)) - resisting.keys())
    queue.send(
        [
            InvalidationRequest(paths=paths[n : n + MAX_PATHS_PER_REQUEST])
            for n in range(0, len(paths), MAX_PATHS_PER_REQUEST)
        ]
    )
    if resisting:
        codes = sorted(set(resisting.values()))
        raise RenditionsNotDeleted(f"{len(resisting)} renditions under {prefix} not deleted: {codes}")
    return len(deleted)


def _delete(storage: MediaStorage, keys: list[str]) -> dict[str, str]:
    """Deletes, trying again the keys S3 refused; those it still refuses, with its error code."""
    refused: dict[str, str] = {}
    pending = keys
    for _ in range(DELETE_ATTEMPTS):
        refused = storage.delete(pending)
        if not refused:
            return {}
        logger.warning(
            "S3 refused to delete renditions", extra={"keys": len(refused), "codes": sorted(set(refused.values()))}
        )
        pending = sorted(refused)
    return refused


class _RemovedPost(BaseModel):
    post_id: str
    media: dict[str, StoredMedia] = {}


def purge_removed(
    record: DynamoDBStreamRecordModel, storage: MediaStorage = _storage, queue: InvalidationQueue = _queue
) -> int | None:
    """A deleted post's or expired story's renditions, from its REMOVE record: how many objects were deleted
    (None for a record that removes nothing)."""
    if record.eventName != "REMOVE" or not isinstance(record.dynamodb.OldImage, dict):
        return None
    removed = _RemovedPost.model_validate(record.dynamodb.OldImage)
    served = [rendition.key for media in removed.media.values() for rendition in media.rendition_keys.values()]
    return purge_renditions(removed.post_id, served, storage, queue)


class Invalidator:
    def __init__(self, cdn: Cdn = _cdn, queue: InvalidationQueue = _queue, first_delay_s: int = FIRST_DELAY_S) -> None:
        self.cdn = cdn
        self.queue = queue
        self.first_delay_s = first_delay_s

    def invalidate(self, messages: Sequence[SqsRecordModel]) -> set[str]:
        """Invalidates the paths of all the messages, as few invalidations as CloudFront's quota allows; the ids
        of the messages to be redelivered (malformed, or failing otherwise than CloudFront's "not now")."""
        failed: set[str] = set()
        requests: list[tuple[str, InvalidationRequest]] = []
        for message in messages:
            try:
                requests.append((message.messageId, InvalidationRequest.model_validate_json(str(message.body))))
            except ValidationError:
                logger.error("Malformed invalidation request", extra={"message_id": message.messageId})
                failed.add(message.messageId)
        batches = _batches(requests)
        for n, batch in enumerate(batches):
            try:
                invalidation = self.cdn.invalidate([path for _, request in batch for path in request.paths])
                logger.info("CDN invalidation made", extra={"invalidation": invalidation, "requests": len(batch)})
            except CdnBusy:
                waiting = [request for later in batches[n:] for _, request in later]
                failed |= self._later(waiting, [message_id for later in batches[n:] for message_id, _ in later])
                break
            except Exception:
                logger.exception("CDN invalidation failed", extra={"requests": len(batch)})
                failed |= {message_id for message_id, _ in batch}
        return failed

    def _later(self, requests: list[InvalidationRequest], message_ids: list[str]) -> set[str]:
        """Puts the requests back, delayed; the messages to redeliver if even that failed."""
        attempt = max(request.attempt for request in requests) + 1
        delay = min(self.first_delay_s * 2 ** (attempt - 1), MAX_DELAY_S)
        logger.info("CloudFront is busy: invalidations wait", extra={"requests": len(requests), "delay_s": delay})
        try:
            self.queue.send(
                [request.model_copy(update={"attempt": request.attempt + 1}) for request in requests], delay
            )
        except Exception:
            logger.exception("Invalidation requests could not be put back")
            return set(message_ids)
        return set()


def _batches(requests: list[tuple[str, InvalidationRequest]]) -> list[list[tuple[str, InvalidationRequest]]]:
    """Whole requests packed into invalidations of at most MAX_PATHS_PER_INVALIDATION paths."""
    batches: list[list[tuple[str, InvalidationRequest]]] = []
    size = MAX_PATHS_PER_INVALIDATION
    for message_id, request in requests:
        if size + len(request.paths) > MAX_PATHS_PER_INVALIDATION:
            batches.append([])
            size = 0
        batches[-1].append((message_id, request))
        size += len(request.paths)
    return batches
