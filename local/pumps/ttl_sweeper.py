"""Deletes expired items, since moto never honours TimeToLiveSpecification.

The deletes go through DynamoDB like any other, so streams emit REMOVE records as on AWS.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from local.provision import Table
from local.pumps.base import Pump


class TtlSweeper(Pump):
    interval_s = 1.0
    drains_a_backlog = False

    def __init__(self, tables: list[Table], dynamodb_client: Any, clock: Callable[[], float] = time.time) -> None:
        super().__init__(name="ttl-sweeper")
        self.tables = [table for table in tables if table.ttl_attribute]
        self.dynamodb = dynamodb_client
        self.clock = clock

    def poll_once(self) -> int:
        for table in self.tables:
            self.sweep(table)
        # Sweeping is periodic work, not a backlog: always wait for the next round.
        return 0

    def sweep(self, table: Table) -> int:
        attribute = table.ttl_attribute
        assert attribute is not None
        now = int(self.clock())
        deleted = 0
        paginator = self.dynamodb.get_paginator("scan")
        pages = paginator.paginate(
            TableName=table.name,
            FilterExpression="#ttl < :now",
            ExpressionAttributeNames={"#ttl": attribute},
            ExpressionAttributeValues={":now": {"N": str(now)}},
        )
        for page in pages:
            for item in page.get("Items", []):
                key = {name: item[name] for name in table.key_names}
                try:
                    self.dynamodb.delete_item(
                        TableName=table.name,
                        Key=key,
                        # Only if still expired: a writer may have extended it meanwhile.
                        ConditionExpression="#ttl < :now",
                        ExpressionAttributeNames={"#ttl": attribute},
                        ExpressionAttributeValues={":now": {"N": str(now)}},
                    )
                    deleted += 1
                except self.dynamodb.exceptions.ConditionalCheckFailedException:
                    continue
        return deleted
