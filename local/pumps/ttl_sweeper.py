"""Deletes expired items, since moto never honours TimeToLiveSpecification.

The deletes go through DynamoDB like any other, so streams emit REMOVE records as on AWS, and those records
say who deleted the item as AWS's do: `userIdentity` {Type: Service, PrincipalId: dynamodb.amazonaws.com},
which no other write's record carries. A consumer may act on an expiry alone by that (the purge of a deleted
account must never start from a reactivation's removal of the same marker: pinhole.privacy). The expired items
are found by reading moto's table in this process (its items' TTL attribute): a Scan through the API every
second walked and serialised every TTL table under moto's DynamoDB lock, the largest part of an idle local
cloud's CPU once the tables held a few thousand items.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from moto.backends import get_backend
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import StreamShard

from local.fast_dynamodb.streams import LazyStreamShard
from local.provision import Table
from local.pumps.base import Pump
from local.template import ACCOUNT_ID, REGION

TTL_DELETER = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
"""A stream record's `userIdentity` when DynamoDB's TTL deleted the item (GetRecords' shape; Lambda's event
spells it {"type", "principalId"}: local/pumps/dynamodb_stream.py)."""

_deleting = threading.local()


@contextlib.contextmanager
def deleting_as_ttl() -> Iterator[None]:
    """The REMOVE records of the deletes made in this block, on this thread, are DynamoDB's TTL's. The sweeper's
    delete is answered in its own thread (the in-process transport; moto's stubber in tests): a delete sent to
    moto's HTTP server (PINHOLE_MOTO_TRANSPORT=http) is answered in the server's thread and says nothing."""
    _deleting.by_ttl = True
    try:
        yield
    finally:
        _deleting.by_ttl = False


def _saying_who_deleted(add: Callable[[Any, Item | None, Item | None], None]) -> Callable[..., None]:
    @functools.wraps(add)
    def add_record(shard: StreamShard, old: Item | None, new: Item | None) -> None:
        recorded = len(shard.items)
        add(shard, old, new)
        if new is None and getattr(_deleting, "by_ttl", False) and len(shard.items) > recorded:
            shard.items[-1].record["userIdentity"] = dict(TTL_DELETER)

    add_record.says_who_deleted = True  # type: ignore[attr-defined]
    return add_record


def install_ttl_identity() -> None:
    """Idempotent: moto's stream shards (moto's own DynamoDB) and the fast DynamoDB's say TTL deletes."""
    for shard_class in (StreamShard, LazyStreamShard):
        add = shard_class.__dict__["add"]
        if not getattr(add, "says_who_deleted", False):
            shard_class.add = _saying_who_deleted(add)  # type: ignore[method-assign]


class TtlSweeper(Pump):
    interval_s = 1.0
    drains_a_backlog = False

    def __init__(
        self,
        tables: list[Table],
        dynamodb_client: Any,
        clock: Callable[[], float] = time.time,
        account_id: str = ACCOUNT_ID,
    ) -> None:
        super().__init__(name="ttl-sweeper")
        self.tables = [table for table in tables if table.ttl_attribute]
        self.dynamodb = dynamodb_client
        self.clock = clock
        self.account_id = account_id  # whose moto tables are read (the client's)
        install_ttl_identity()

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
        try:
            expired = expired_keys(table, attribute, now, self.account_id)
        except RuntimeError:  # the table changed while it was read (it is not locked): next round
            return 0
        for key in expired:
            try:
                with deleting_as_ttl():
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


def stored_items(stored: Any) -> Iterator[Any]:
    """Every item of a moto table, in no order: `Table.all_items` sorts the whole table by key (comparing
    DynamoType's), which made the sweep, every second, the costliest thing an idle local cloud did; the sweep
    sorts only what expired."""
    for partition in stored.items.values():
        if stored.range_key_attr:
            yield from partition.values()
        elif not isinstance(partition, dict):  # a lookup of moto's defaultdict may leave an empty one behind
            yield partition


def expired_keys(table: Table, attribute: str, now: int, account_id: str = ACCOUNT_ID) -> list[dict[str, Any]]:
    """The keys of the items whose TTL attribute (a number, as DynamoDB requires) is before `now`."""
    stored = get_backend("dynamodb")[account_id][REGION].get_table(table.name)
    expired_items = []
    for item in stored_items(stored):
        expiry = item.attrs.get(attribute)
        if expiry is None or expiry.type != "N":
            continue
        try:
            expired = float(expiry.value) < now
        except ValueError:
            continue
        if expired:
            expired_items.append(item)
    # in `Table.all_items`' order (moto's sweep order, which the differential test compares stream records in):
    # only the few expired items sorted, not the table
    expired_items.sort(key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)
    # as the low-level client takes a key (binary as bytes)
    return [
        {name: {item.attrs[name].type: item.attrs[name].value} for name in table.key_names} for item in expired_items
    ]
