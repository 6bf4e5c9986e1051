"""The CDN side of deleting media: the queue of invalidations still to make, and CloudFront itself. The two
clients stay in this module, made on first use (upload imports this module through the avatar's
purge, and most of its invocations never invalidate anything: two clients are ~40 ms of a cold start)."""

import functools
import hashlib
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from pinhole.resize.models import InvalidationRequest
from pinhole.shared import aws_clients
from pinhole.shared.settings import get_settings

MAX_DELAY_S = 900  # SQS's longest message delay


@functools.cache
def _default_sqs() -> Any:
    return aws_clients.client("sqs", region_name=get_settings().region)


@functools.cache
def _default_cloudfront() -> Any:
    return aws_clients.client("cloudfront", region_name=get_settings().region)


# CloudFront's answers that mean "not now": too many invalidations in progress, or the API's rate.
BUSY = frozenset({"TooManyInvalidationsInProgress", "Throttling", "ThrottlingException", "RequestLimitExceeded"})


class CdnBusy(Exception):
    """CloudFront refused an invalidation for now; asking again later will do."""


class InvalidationQueue:
    def __init__(self, sqs: Any = None, queue_url: str | None = None) -> None:
        self._given_sqs = sqs
        self._queue_url = queue_url

    @property
    def _sqs(self) -> Any:
        return self._given_sqs or _default_sqs()

    @property
    def queue_url(self) -> str:
        return self._queue_url or get_settings().media_invalidations_queue_url

    def send(self, requests: Sequence[InvalidationRequest], delay_s: int = 0) -> None:
        """Queues the requests (ten per call); raises if SQS refused any, so the caller is retried."""
        for start in range(0, len(requests), 10):
            entries = [
                {"Id": str(n), "MessageBody": request.model_dump_json(), "DelaySeconds": min(delay_s, MAX_DELAY_S)}
                for n, request in enumerate(requests[start : start + 10])
            ]
            failed = self._sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries).get("Failed") or []
            if failed:
                codes = sorted({failure.get("Code", "?") for failure in failed})
                raise RuntimeError(f"{len(failed)} invalidation requests not queued: {codes}")


class Cdn:
    def __init__(self, cloudfront: Any = None, distribution_id: str | None = None) -> None:
        self._given_cloudfront = cloudfront
        self._distribution_id = distribution_id

    @property
    def _cloudfront(self) -> Any:
        return self._given_cloudfront or _default_cloudfront()

    def invalidate(self, paths: Sequence[str]) -> str:
        """One invalidation of all the paths; its id. The caller reference is the paths' digest, so asking
        again for the same paths (an answer lost, a redelivered message) names the same invalidation instead
        of starting another. CdnBusy if CloudFront refuses for now."""
        items = sorted(set(paths))
        try:
            response = self._cloudfront.create_invalidation(
                DistributionId=self._distribution_id or get_settings().media_distribution_id,
                InvalidationBatch={
                    "Paths": {"Quantity": len(items), "Items": items},
                    "CallerReference": hashlib.sha256("\n".join(items).encode()).hexdigest(),
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in BUSY:
                raise CdnBusy(str(error)) from error
            raise
        return str(response["Invalidation"]["Id"])
