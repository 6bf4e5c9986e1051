"""The records of Idempotency-Key retries (pinhole.shared.idempotency). The schema is Powertools'
idempotency utility's: partition key `id`, TTL attribute `expiration` (24 hours)."""

from constructs import Construct

from stacks import constants
from stacks.stateful.tables import pinhole_table


class IdempotencyData(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = pinhole_table(
            self, constants.IDEMPOTENCY_TABLE_ID, partition_key="id", time_to_live_attribute="expiration"
        )
