"""Notifications: their table (pinhole.notifications.dal's model) and the FIFO queue that carries
activity to the notifications consumer. FIFO, grouped by the item that caused the activity (a like,
a follow), so a like and its undoing are handled in the order they happened; the stream record's id
deduplicates retried sends."""

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks import constants
from stacks.stateful.tables import pinhole_table

NOTIFY_TIMEOUT = Duration.seconds(30)
NOTIFY_VISIBILITY = Duration.minutes(3)  # six times the consumer's timeout, as AWS advises
NOTIFY_MAX_RECEIVES = 5


class NotificationsData(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = pinhole_table(
            self,
            constants.NOTIFICATIONS_TABLE_ID,
            partition_key="user_id",
            sort_key="sk",
            time_to_live_attribute="expires_at",
        )
        self.dlq = sqs.Queue(
            self,
            constants.NOTIFICATIONS_DLQ_ID,
            fifo=True,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.queue = sqs.Queue(
            self,
            constants.NOTIFICATIONS_QUEUE_ID,
            fifo=True,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=NOTIFY_VISIBILITY,
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=NOTIFY_MAX_RECEIVES),
        )
