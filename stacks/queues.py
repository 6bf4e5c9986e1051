"""A work queue as Pinhole makes them: encrypted, TLS only, a dead-letter queue that keeps what it is given
for 14 days (alarmed by whoever consumes the queue), and a bounded number of receives before it lands there."""

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

KEPT_FOR = Duration.days(14)


def work_queue(
    scope: Construct,
    queue_id: str,
    dead_letters_id: str,
    *,
    visibility_timeout: Duration,
    max_receive_count: int,
    retention_period: Duration = KEPT_FOR,
    fifo: bool = False,
) -> tuple[sqs.Queue, sqs.Queue]:
    """(queue, dead-letter queue). A FIFO queue gets the high-throughput mode (its quota per message group)."""
    fifo_options: dict[str, object] = (
        {
            "fifo": True,
            "fifo_throughput_limit": sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
            "deduplication_scope": sqs.DeduplicationScope.MESSAGE_GROUP,
        }
        if fifo
        else {}
    )
    dead_letters = sqs.Queue(
        scope,
        dead_letters_id,
        fifo=fifo or None,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=KEPT_FOR,
    )
    queue = sqs.Queue(
        scope,
        queue_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=retention_period,
        visibility_timeout=visibility_timeout,
        dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=max_receive_count),
        **fifo_options,  # type: ignore[arg-type]
    )
    return queue, dead_letters
