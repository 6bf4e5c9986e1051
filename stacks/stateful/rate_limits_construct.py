"""Per-user write counters for rate limiting (pinhole.shared.rate_limits): one item per user, action
and time window, expiring by TTL soon after its window ends."""

from constructs import Construct

from stacks import constants
from stacks.stateful.tables import pinhole_table


class RateLimitsData(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = pinhole_table(
            self, constants.RATE_LIMITS_TABLE_ID, partition_key="key", time_to_live_attribute="expires_at"
        )
