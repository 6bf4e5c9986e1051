"""Stream records rendered when they are read, and stream reads that hold the table's lock.

moto renders each stream record when the write happens: both images to JSON and the whole record to
a JSON string (only to measure `SizeBytes`). On a FastTable the images are Items nobody changes again,
so the record can keep them and render the same dict the first time it is read: a table whose stream
nobody reads (most tables in the integration tests) pays nothing, and a pump pays once. The event id
and the creation time are taken at the write, as moto does.

Source: moto 5.2.5 `StreamShard.add` and `StreamRecord.__init__` (models/table.py), fingerprinted in
moto_contract.py."""

from __future__ import annotations

from typing import Any

from moto.core.utils import utcnow
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import StreamRecord, StreamShard
from moto.dynamodb.models.utilities import dynamo_json_dump
from moto.moto_api._internal import mock_random


class LazyStreamRecord(StreamRecord):
    def __init__(
        self,
        hash_key_attr: str,
        range_key_attr: str | None,
        stream_type: str,
        event_name: str,
        old: Item | None,
        new: Item | None,
        seq: int,
    ) -> None:
        self._event_id = mock_random.uuid4().hex
        self._created = utcnow()
        self._parts = (hash_key_attr, range_key_attr, stream_type, event_name, old, new, seq)
        self._record: dict[str, Any] | None = None

    @property
    def record(self) -> dict[str, Any]:  # type: ignore[override]
        if self._record is None:
            self._record = self._render()
        return self._record

    def _render(self) -> dict[str, Any]:
        hash_key_attr, range_key_attr, stream_type, event_name, old, new, seq = self._parts
        old_a = old.to_json()["Attributes"] if old is not None else {}
        new_a = new.to_json()["Attributes"] if new is not None else {}
        rec = old if old is not None else new
        assert rec is not None
        keys = {hash_key_attr: rec.hash_key.to_json()}
        if range_key_attr is not None:
            keys[range_key_attr] = rec.range_key.to_json()  # type: ignore[union-attr]
        record: dict[str, Any] = {
            "eventID": self._event_id,
            "eventName": event_name,
            "eventSource": "aws:dynamodb",
            "eventVersion": "1.0",
            "awsRegion": "us-east-1",
            "dynamodb": {
                "StreamViewType": stream_type,
                "ApproximateCreationDateTime": self._created,
                "SequenceNumber": str(seq),
                "SizeBytes": 1,
                "Keys": keys,
            },
        }
        if stream_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES") and new is not None:
            record["dynamodb"]["NewImage"] = new_a
        if stream_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES") and old is not None:
            record["dynamodb"]["OldImage"] = old_a
        record["dynamodb"]["SizeBytes"] = len(dynamo_json_dump(record["dynamodb"]))
        return record

    def to_json(self) -> dict[str, Any]:
        return self.record


class LazyStreamShard(StreamShard):
    """moto's StreamShard whose records are LazyStreamRecords."""

    def add(self, old: Item | None, new: Item | None) -> None:
        t = self.table.stream_specification["StreamViewType"]  # type: ignore[index]
        if old is None:
            event_name = "INSERT"
        elif new is None:
            event_name = "REMOVE"
        else:
            event_name = "MODIFY"
        seq = len(self.items) + self.starting_sequence_number
        self.items.append(
            LazyStreamRecord(self.table.hash_key_attr, self.table.range_key_attr, t, event_name, old, new, seq)
        )
        result = None
        from moto.awslambda.utils import get_backend

        for arn, esm in self.table.lambda_event_source_mappings.items():
            region = arn.split(":")[3]
            result = get_backend(self.account_id, region).send_dynamodb_items(arn, self.items, esm.event_source_arn)
        if result:
            self.items = []


def adopt_shard(shard: StreamShard | None) -> None:
    if shard is not None and type(shard) is StreamShard:
        shard.__class__ = LazyStreamShard
