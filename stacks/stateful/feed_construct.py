"""Precomputed home feeds; the shape is pinhole.feed.dal's model's. Entries expire (TTL) besides
being capped, so a feed nobody reads stops costing storage. Large fan-outs travel as chunks through
the fan-out queue (with its dead-letter queue), which holds work in flight and so lives here."""

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks import constants
from stacks.stateful.tables import pinhole_table

FANOUT_DELIVER_TIMEOUT = Duration.minutes(1)
FANOUT_VISIBILITY = Duration.minutes(6)  # six times the deliver function's timeout, as AWS advises
FANOUT_MAX_RECEIVES = 5


class FeedData(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = pinhole_table(
            self, constants.FEEDS_TABLE_ID, partition_key="user_id", sort_key="sk", time_to_live_attribute="expires_at"
        )
        self.fanout_dlq = sqs.Queue(
            self,
            constants.FANOUT_DLQ_ID,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.fanout_queue = sqs.Queue(
            self,
            constants.FANOUT_QUEUE_ID,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=FANOUT_VISIBILITY,
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.fanout_dlq, max_receive_count=FANOUT_MAX_RECEIVES),
        )
