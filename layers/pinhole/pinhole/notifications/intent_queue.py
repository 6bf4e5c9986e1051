"""The FIFO queue between the streams and delivery. Each intent's message group is its source, so a
like and its undoing (or a follow request and its answer) are delivered in the order they happened,
while unrelated activity is delivered in parallel. Each message's deduplication id is the stream
record's id and the intent's place in it: a stream batch sent again (a retry after a partial failure)
is dropped by SQS for five minutes, and delivery is idempotent beyond that."""

from collections.abc import Sequence
from typing import Any

from pinhole.notifications.models import NotificationIntent
from pinhole.shared import aws_clients
from pinhole.shared.settings import get_settings

SEND_BATCH = 10
"""SendMessageBatch's limit."""


class IntentsNotQueued(Exception):
    """SQS refused some of a record's intents; the record is to be tried again."""


class IntentQueue:
    def __init__(self, sqs: Any = None, queue_url: str | None = None) -> None:
        self._sqs = sqs
        self.queue_url = queue_url or get_settings().notifications_queue_url

    @property
    def sqs(self) -> Any:
        if self._sqs is None:  # made on first send, not at import
            self._sqs = aws_clients.client("sqs", get_settings().region)
        return self._sqs

    def send(self, intents: Sequence[NotificationIntent], record_id: str) -> None:
        """Queues the intents of one stream record, in order; IntentsNotQueued if any was refused."""
        entries = [
            {
                "Id": str(index),
                "MessageBody": intent.model_dump_json(exclude_none=True),
                "MessageGroupId": intent.source,
                "MessageDeduplicationId": f"{record_id}:{index}",
            }
            for index, intent in enumerate(intents)
        ]
        for start in range(0, len(entries), SEND_BATCH):
            response = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries[start : start + SEND_BATCH])
            if response.get("Failed"):
                codes = sorted({failure.get("Code", "?") for failure in response["Failed"]})
                raise IntentsNotQueued(f"{len(response['Failed'])} intents of record {record_id} refused: {codes}")
