"""Privacy: its table (pinhole.privacy.dal's model) — the deletion markers whose TTL starts a purge, the
purges' progress and the export jobs — and the two job queues, purge and export, each with a dead-letter
queue. Standard queues: a job is idempotent (a purge resumes, an export is written once per request), so a
duplicate delivery changes nothing and FIFO ordering buys nothing."""

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks import constants
from stacks.stateful.tables import pinhole_table

PURGE_TIMEOUT = Duration.minutes(15)  # a purge continues in a new message before this (PURGE_MARGIN_MS)
EXPORT_TIMEOUT = Duration.minutes(15)
PURGE_MAX_RECEIVES = 5
EXPORT_MAX_RECEIVES = 3  # functions/privacy/handler.py marks the export failed on the last one
DEAD_LETTERS_KEPT_FOR = Duration.days(14)


def _job_queue(
    scope: Construct, queue_id: str, dlq_id: str, timeout: Duration, max_receives: int
) -> tuple[sqs.Queue, sqs.Queue]:
    dead_letters = sqs.Queue(
        scope,
        dlq_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=DEAD_LETTERS_KEPT_FOR,
    )
    queue = sqs.Queue(
        scope,
        queue_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        visibility_timeout=Duration.seconds(timeout.to_seconds() * 6),  # six times the consumer's, as AWS advises
        dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=max_receives),
    )
    return queue, dead_letters


class PrivacyData(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = pinhole_table(
            self,
            constants.PRIVACY_TABLE_ID,
            partition_key="user_id",
            sort_key="sk",
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            time_to_live_attribute="expires_at",
        )
        self.purge_queue, self.purge_dlq = _job_queue(
            self, constants.PURGE_QUEUE_ID, constants.PURGE_DLQ_ID, PURGE_TIMEOUT, PURGE_MAX_RECEIVES
        )
        self.export_queue, self.export_dlq = _job_queue(
            self, constants.EXPORT_QUEUE_ID, constants.EXPORT_DLQ_ID, EXPORT_TIMEOUT, EXPORT_MAX_RECEIVES
        )
