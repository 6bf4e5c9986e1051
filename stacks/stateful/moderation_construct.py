"""Moderation's table: cases, reports and the audit log; its shape is pinhole.moderation.dal.ModerationModel's
(tests/infrastructure proves it). No stream: nothing reacts to a case but the moderators."""

from constructs import Construct

from stacks import constants
from stacks.stateful.tables import index, pinhole_table


class ModerationData(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = pinhole_table(
            self,
            constants.MODERATION_TABLE_ID,
            partition_key="pk",
            sort_key="sk",
            indexes=[
                index(constants.MODERATION_QUEUE_INDEX, "queue", "queue_position"),
                index(constants.MODERATION_BY_REPORTER_INDEX, "reporter_id", "report_id"),
            ],
        )
