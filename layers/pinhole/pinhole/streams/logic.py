"""Routing a table's stream to its consumers' queues, and reading a routed record back.

DynamoDB Streams serves at most two readers per shard before it throttles, and every feature to come wants
records of the same tables, so each table's stream has one reader: its router. The router sends each record to
the queue of every consumer whose patterns it matches. Each consumer keeps its own function, role, retries
and dead-letter queue; a FIFO queue keeps each item's records in stream order (one message group per item
key), which is the order DynamoDB Streams guarantees.

Order survives failures because a batch is sent in stream order and sending stops at the first failure:
per queue, the records go out in SendMessageBatch calls that never hold two messages of one group, and once
a call fails nothing more goes to any queue from that record on. The router then reports that record and
every later one as failed; Lambda retries from it. What a retry sends again within five minutes is dropped
by SQS (the deduplication id is the record's eventID); after that a consumer may see a record twice, in
order, as on a stream replay, which every consumer tolerates."""

import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamRecordModel

from pinhole.shared.observability import logger
from pinhole.streams.models import (
    TTL_DELETER,
    OverflowedRecord,
    OverflowLocation,
    Route,
    RoutedRecordMessage,
    RouterConfig,
    StreamRecord,
)
from pinhole.streams.patterns import wanted
from pinhole.streams.transport import QueueSender, RecordOverflow

MAX_MESSAGE_BYTES = 256 * 1024
"""SQS's limit for one message, and for all the messages of one SendMessageBatch call together."""
MAX_INLINE_BYTES = MAX_MESSAGE_BYTES - 1024
"""A record above this goes to the overflow bucket (room left for the request's other fields)."""
MAX_BATCH_ENTRIES = 10
MAX_GROUP_ID = 128
_GROUP_ID_CHARACTERS = re.compile(r"^[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]+$")


def message_group(table: str, keys: dict[str, dict[str, Any]]) -> str:
    """The FIFO message group of an item: its table and key, readable when SQS allows it, else hashed."""
    rendered = "/".join(f"{name}={next(iter(value.values()))}" for name, value in sorted(keys.items()))
    readable = f"{table}/{rendered}"
    if len(readable) <= MAX_GROUP_ID and _GROUP_ID_CHARACTERS.match(readable):
        return readable
    return f"{table}/{hashlib.sha256(rendered.encode()).hexdigest()}"


@dataclass(frozen=True)
class Outgoing:
    """One message for one queue: the record's place in the batch, its body and its FIFO group."""

    index: int
    event_id: str
    body: str
    group: str

    @property
    def size(self) -> int:
        return len(self.body.encode())

    def entry(self, fifo: bool) -> dict[str, str]:
        entry = {"Id": str(self.index), "MessageBody": self.body}
        if fifo:
            entry |= {"MessageGroupId": self.group, "MessageDeduplicationId": self.event_id}
        return entry


def send_calls(messages: Sequence[Outgoing], fifo: bool) -> Iterator[list[Outgoing]]:
    """The messages, in order, cut into SendMessageBatch calls within SQS's limits (ten entries, 256 KB in
    all); for a FIFO queue, no call holds two messages of one group, so a failed entry is never overtaken
    by a later record of its item sent in the same call."""
    call: list[Outgoing] = []
    size = 0
    groups: set[str] = set()
    for message in messages:
        full = len(call) == MAX_BATCH_ENTRIES or size + message.size > MAX_MESSAGE_BYTES
        if call and (full or (fifo and message.group in groups)):
            yield call
            call, size, groups = [], 0, set()
        call.append(message)
        size += message.size
        groups.add(message.group)
    if call:
        yield call


_sender = QueueSender()
_overflow = RecordOverflow()


class StreamRouter:
    def __init__(
        self, config: RouterConfig, sender: QueueSender = _sender, overflow: RecordOverflow = _overflow
    ) -> None:
        self.config = config
        self.sender = sender
        self.overflow = overflow

    def route(self, records: Sequence[StreamRecord]) -> int | None:
        """Sends each record to the queues of the consumers that want it; the index of the first record not
        fully sent (it and every later record are to be retried), or None when all were."""
        stop = len(records)
        outgoing: list[list[Outgoing]] = [[] for _ in self.config.routes]
        for index, record in enumerate(records):
            delivered = record.as_delivered()
            targets = [n for n, route in enumerate(self.config.routes) if wanted(delivered, route.patterns)]
            if not targets:
                continue
            try:
                body = self._body(record, delivered)
            except Exception:
                logger.exception("Record could not be put in the overflow bucket", extra={"event_id": record.eventID})
                stop = index
                break
            group = message_group(self.config.table, record.dynamodb.Keys)
            for target in targets:
                outgoing[target].append(Outgoing(index, record.eventID, body, group))
        for route, messages in zip(self.config.routes, outgoing, strict=True):
            refused = self._send(route, [message for message in messages if message.index < stop])
            if refused is not None:
                stop = min(stop, refused)
        return stop if stop < len(records) else None

    def _send(self, route: Route, messages: list[Outgoing]) -> int | None:
        """Sends in order until a call fails; the index of the first record that did not reach the queue,
        or None if all did."""
        for call in send_calls(messages, route.fifo):
            failed = self.sender.send_batch(route.queue_url, [message.entry(route.fifo) for message in call])
            if failed:
                first = min(message.index for message in call if str(message.index) in failed)
                logger.warning("Routed records refused", extra={"consumer": route.consumer, "first_index": first})
                return first
        return None

    def _body(self, record: StreamRecord, delivered: dict[str, Any]) -> str:
        body = json.dumps(delivered, separators=(",", ":"))
        if len(body.encode()) <= MAX_INLINE_BYTES:
            return body
        location = OverflowLocation(
            bucket=self.config.overflow_bucket, key=f"{self.config.table}/{record.eventID}.json"
        )
        self.overflow.put(location, body.encode())
        logger.info("Record too large for SQS; sent by reference", extra={"event_id": record.eventID})
        return OverflowedRecord(eventID=record.eventID, overflow=location).model_dump_json()


def routed_record(message: RoutedRecordMessage, overflow: RecordOverflow = _overflow) -> DynamoDBStreamRecordModel:
    """The stream record a routed message carries, fetched from the overflow bucket if it was too large."""
    body = message.body
    if isinstance(body, DynamoDBStreamRecordModel):
        return body
    return DynamoDBStreamRecordModel.model_validate_json(overflow.read(body.overflow))


def routed_change(message: RoutedRecordMessage) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The routed record's event name and its two images (empty where there is none)."""
    change = routed_record(message)
    old, new = change.dynamodb.OldImage, change.dynamodb.NewImage
    return change.eventName, old if isinstance(old, dict) else {}, new if isinstance(new, dict) else {}


def removed_by_ttl(change: DynamoDBStreamRecordModel) -> bool:
    """DynamoDB's TTL deleted the item: the only REMOVE records that carry its service identity."""
    identity = change.userIdentity
    return change.eventName == "REMOVE" and identity is not None and identity.model_dump() == TTL_DELETER
