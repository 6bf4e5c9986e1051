"""DynamoDB stream → Lambda, as an event source mapping delivers it (moto has no mapping runtime)."""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from local.iam.identity import acting_as, mapping_role
from local.lambda_runner import LambdaRunner, LocalFunction
from local.pumps.base import Pump
from local.pumps.batch import fitting_batches, invoke_batch
from local.pumps.write_targets import stream_source
from local.template import REGION
from pinhole.streams.patterns import wanted

log = logging.getLogger("local.pumps")
MAX_BACKOFF_S = 5.0
RECORDS_PER_READ = 1000  # GetRecords' own maximum
SHARDS_REFRESH_S = 10.0


@dataclass(frozen=True)
class StreamMappingConfig:
    stream_arn: str
    batch_size: int = 100
    max_retry_attempts: int = -1  # -1: until the record expires, as on AWS
    bisect_on_error: bool = False
    report_failures: bool = False
    on_failure_queue_url: str | None = None
    filters: tuple[dict[str, Any], ...] = ()


def jsonable(value: Any) -> Any:
    """boto3 decodes binary and timestamps; Lambda events carry base64 strings and epoch seconds."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return float(int(value.timestamp()))
    if isinstance(value, set):
        return [jsonable(item) for item in value]
    return value


def lambda_record(raw: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A record GetRecords returned, as a mapping hands it to Lambda."""
    record = jsonable(raw)
    record["eventSourceARN"] = stream_arn
    record.setdefault("awsRegion", REGION)
    record.setdefault("eventSource", "aws:dynamodb")
    identity = record.pop("userIdentity", None)
    if identity:  # a TTL delete: GetRecords says {Type, PrincipalId}, Lambda's event {type, principalId}
        record["userIdentity"] = {"type": identity["Type"], "principalId": identity["PrincipalId"]}
    return dict(record)


class DynamoStreamPump(Pump):
    def __init__(
        self,
        function: LocalFunction,
        runner: LambdaRunner,
        streams_client: Any,
        sqs_client: Any,
        config: StreamMappingConfig,
    ) -> None:
        super().__init__(name=f"stream->{function.logical_id}", sources=frozenset({stream_source(config.stream_arn)}))
        self.function = function
        self.runner = runner
        self.streams = streams_client
        self.sqs = sqs_client
        self.config = config
        # The last sequence number read per shard (None: from the start). A fresh iterator is asked for
        # on every poll instead of following NextShardIterator: moto rolls a cancelled transaction back
        # by restoring deep copies of its tables, and an iterator held across that keeps reading the
        # discarded copy of the stream (seen here: feeds stopped after a refused duplicate like).
        self._positions: dict[str, str | None] = {}
        self._shard_list: list[dict[str, Any]] = []
        self._described_at: float | None = None

    def poll_once(self) -> int:
        handled = 0
        # Lambda's event source mapping reads the stream with the function's role: a role that may not is
        # refused as on AWS (AccessDeniedException, logged by local.iam), and nothing is delivered.
        self.took_all_there_was = True
        for shard in self._shards():
            shard_id = shard["ShardId"]
            position = self._positions.setdefault(shard_id, None)
            where = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": position}
                if position
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            with acting_as(mapping_role(self.function)):
                iterator = self.streams.get_shard_iterator(StreamArn=self.config.stream_arn, ShardId=shard_id, **where)[
                    "ShardIterator"
                ]
                raw_records = self.streams.get_records(ShardIterator=iterator, Limit=RECORDS_PER_READ).get(
                    "Records", []
                )
            if raw_records:
                self._positions[shard_id] = raw_records[-1]["dynamodb"]["SequenceNumber"]
            if len(raw_records) >= RECORDS_PER_READ:
                self.took_all_there_was = False
            records = [self._record(raw) for raw in raw_records]
            records = [record for record in records if wanted(record, list(self.config.filters))]
            for start in range(0, len(records), self.config.batch_size):
                for batch in fitting_batches(records[start : start + self.config.batch_size]):
                    self._deliver(shard_id, batch)
            handled += len(raw_records)
        return handled

    def _shards(self) -> list[dict[str, Any]]:
        """The stream's shards, described again every SHARDS_REFRESH_S (as a mapping does now and then, not
        before every read: a table's stream keeps its shards; a new one is read from its start when seen)."""
        now = time.monotonic()
        if self._described_at is None or now - self._described_at >= SHARDS_REFRESH_S:
            with acting_as(mapping_role(self.function)):
                description = self.streams.describe_stream(StreamArn=self.config.stream_arn)["StreamDescription"]
            self._shard_list = list(description.get("Shards", []))
            self._described_at = now
        return self._shard_list

    def _record(self, raw: dict[str, Any]) -> dict[str, Any]:
        return lambda_record(raw, self.config.stream_arn)

    def _deliver(self, shard_id: str, batch: list[dict[str, Any]], attempts: int = 0) -> None:
        """Deliver until the batch succeeds or its retries are exhausted, keeping shard order."""
        backoff = 0.1
        while batch and not self._stopping.is_set():
            ids = [record["dynamodb"]["SequenceNumber"] for record in batch]
            outcome = invoke_batch(self.runner, self.function, {"Records": batch}, ids, self.config.report_failures)
            if outcome.succeeded:
                return
            attempts += 1
            if outcome.function_error and self.config.bisect_on_error and len(batch) > 1:
                middle = len(batch) // 2
                self._deliver(shard_id, batch[:middle], attempts)
                self._deliver(shard_id, batch[middle:], attempts)
                return
            if not outcome.function_error:
                # Retry from the first failed sequence number: what came before it is checkpointed.
                first_failed = min(ids.index(identifier) for identifier in outcome.failed_ids)
                batch = batch[first_failed:]
            if 0 <= self.config.max_retry_attempts < attempts:
                self._send_to_on_failure(shard_id, batch, attempts)
                return
            if not self.sleep(backoff):
                return
            backoff = min(backoff * 2, MAX_BACKOFF_S)

    def _send_to_on_failure(self, shard_id: str, batch: list[dict[str, Any]], attempts: int) -> None:
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        if self.config.on_failure_queue_url is None:
            log.error(
                "%s: dropping %d stream records after %d attempts (no on-failure destination)",
                self.function.name,
                len(batch),
                attempts,
            )
            return
        now = datetime.now(UTC)
        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.function.arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(first.get("ApproximateCreationDateTime")),
                "approximateArrivalOfLastRecord": _iso(last.get("ApproximateCreationDateTime")),
                "batchSize": len(batch),
                "streamArn": self.config.stream_arn,
            },
        }
        with acting_as(mapping_role(self.function)):  # the on-failure destination is sent to with the function's role
            self.sqs.send_message(QueueUrl=self.config.on_failure_queue_url, MessageBody=json.dumps(message))
        log.warning("%s: %d stream records sent to the on-failure destination", self.function.name, len(batch))


def _iso(epoch: Any) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(float(epoch), UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
