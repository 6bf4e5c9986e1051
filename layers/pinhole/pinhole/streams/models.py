"""What the stream routers read, what they are told, and what their consumers receive.

A router reads one table's stream (the only Lambda reader of it) and sends each record that a consumer
wants to that consumer's queue, unchanged: the message body is the record as Lambda delivered it. A record
too large for an SQS message goes to the overflow bucket, and the message carries where it is instead."""

import os
from typing import Any, Literal

from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamRecordModel, SqsRecordModel
from pydantic import BaseModel, ConfigDict, Json

TTL_DELETER = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
"""A stream record's `userIdentity` when DynamoDB's TTL deleted the item, as Lambda delivers it; the record of any
other delete (a client's, a transaction's) has no userIdentity at all."""

ROUTES_ENV = "STREAM_ROUTES"
"""The router's own environment variable (each table's router has its own routes): JSON of RouterConfig."""


class Route(BaseModel):
    """One consumer of a table's stream: the records matching any of its patterns (EventBridge syntax, as a
    mapping's FilterCriteria holds them) go to its queue; a FIFO queue gets each item's records in order."""

    model_config = ConfigDict(frozen=True)

    consumer: str
    queue_url: str
    fifo: bool
    patterns: list[dict[str, Any]]


class RouterConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    table: str
    """The table's short name ("posts"): message groups and overflow keys start with it."""
    overflow_bucket: str
    routes: list[Route]

    @classmethod
    def from_environment(cls) -> "RouterConfig":
        """Read when the router's handler module is imported (one router function per table stream)."""
        return cls.model_validate_json(os.environ[ROUTES_ENV])


class StreamChange(BaseModel):
    """The `dynamodb` part of a stream record; the images stay in DynamoDB's JSON, as they are forwarded."""

    model_config = ConfigDict(extra="allow", frozen=True)

    Keys: dict[str, dict[str, Any]]
    SequenceNumber: str


class StreamRecord(BaseModel):
    """A stream record as Lambda delivers it to a router. Every field is kept (extra="allow"), so the record
    a consumer receives is the one Lambda delivered."""

    model_config = ConfigDict(extra="allow", frozen=True)

    eventID: str
    eventName: Literal["INSERT", "MODIFY", "REMOVE"]
    dynamodb: StreamChange

    def as_delivered(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class StreamBatch(BaseModel):
    Records: list[StreamRecord]


class OverflowLocation(BaseModel):
    bucket: str
    key: str


class OverflowedRecord(BaseModel):
    """The body of a message whose record was too large for SQS: where the record was put."""

    eventID: str
    overflow: OverflowLocation


class RoutedRecordMessage(SqsRecordModel):
    """An SQS record of a routed queue: a stream record, or where one too large for SQS waits. A body that is
    neither fails its message, which the queue's redrive moves to the dead-letter queue after its retries."""

    body: Json[DynamoDBStreamRecordModel | OverflowedRecord]
