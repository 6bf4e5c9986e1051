"""Direct messages and live connections, two tables; their shapes are pinhole.messaging.dal's and
pinhole.realtime.dal's models'. Connections expire by TTL because API Gateway's `$disconnect` is
best-effort; send receipts (a retried `client_id`) expire after a day. The messages table's stream tells
the ranked feed who writes to whom (feed_signals: a DM is affinity); its sparse pending index lists the photo
and video messages still waiting for their upload, for the sweep that refuses those whose upload never came."""

from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from stacks import constants
from stacks.stateful.tables import index, pinhole_table


class MessagingData(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = pinhole_table(
            self,
            constants.MESSAGES_TABLE_ID,
            partition_key="pk",
            sort_key="sk",
            indexes=[
                index(constants.MESSAGES_INBOX_INDEX, "inbox_user", "last_activity"),
                index(
                    constants.MESSAGES_PENDING_INDEX, "pending_shard", "fail_after", dynamodb.ProjectionType.KEYS_ONLY
                ),
            ],
            time_to_live_attribute="expires_at",
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        )
        self.connections_table = pinhole_table(
            self,
            constants.CONNECTIONS_TABLE_ID,
            partition_key="user_id",
            sort_key="connection_id",
            time_to_live_attribute="expires_at",
        )
