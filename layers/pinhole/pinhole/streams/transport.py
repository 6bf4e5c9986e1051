"""The routers' and consumers' AWS calls: SendMessageBatch to the consumers' queues, and the overflow bucket
for records too large for an SQS message. The clients stay in this module."""

from collections.abc import Sequence
from functools import cache
from typing import Any

from pinhole.shared import aws_clients
from pinhole.shared.observability import logger
from pinhole.streams.models import OverflowLocation


# Created on first use, not at import: every consumer imports this module (and API functions share a module
# with their consumer), but only a router sends, and only a record too large for SQS is ever read from S3.
# The region is the Lambda runtime's (AWS_REGION): a router is not given the shared settings.
@cache
def _client(service: str) -> Any:
    return aws_clients.client(service)


class QueueSender:
    def __init__(self, sqs: Any = None) -> None:
        self._sqs = sqs

    @property
    def sqs(self) -> Any:
        return self._sqs or _client("sqs")

    def send_batch(self, queue_url: str, entries: Sequence[dict[str, str]]) -> set[str]:
        """Sends up to ten entries in one call; the ids of those SQS did not take (all of them if the call
        itself failed: a throttle, a timeout)."""
        try:
            response = self.sqs.send_message_batch(QueueUrl=queue_url, Entries=list(entries))
        except Exception:
            logger.exception("SendMessageBatch failed", extra={"queue_url": queue_url, "entries": len(entries)})
            return {entry["Id"] for entry in entries}
        failed = response.get("Failed") or []
        if failed:
            codes = sorted({failure.get("Code", "?") for failure in failed})
            logger.warning("SQS refused routed records", extra={"queue_url": queue_url, "codes": codes})
        return {failure["Id"] for failure in failed}


class RecordOverflow:
    """Records too large for an SQS message, one object each, expired by the bucket's lifecycle once no
    queue can still hold a message naming it."""

    def __init__(self, s3: Any = None) -> None:
        self._s3 = s3

    @property
    def s3(self) -> Any:
        return self._s3 or _client("s3")

    def put(self, location: OverflowLocation, body: bytes) -> None:
        self.s3.put_object(Bucket=location.bucket, Key=location.key, Body=body, ContentType="application/json")

    def read(self, location: OverflowLocation) -> bytes:
        response = self.s3.get_object(Bucket=location.bucket, Key=location.key)
        with response["Body"] as body:
            return bytes(body.read())
