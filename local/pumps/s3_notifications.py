"""S3 bucket notifications → Lambda, via an internal SQS queue moto can notify.

moto can only notify SQS/SNS (its Lambda target needs Docker), so each notified bucket gets a
hidden queue; records are reshaped into what Lambda receives from S3 directly.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from local.lambda_runner import ASYNC, LambdaRunner, LocalFunction
from local.pumps.base import Pump
from local.pumps.write_targets import bucket_source, queue_source
from local.s3_front import PostedObjects

log = logging.getLogger("local.pumps")


@dataclass(frozen=True)
class NotificationTarget:
    """A function S3 invokes, or a queue S3 sends the event to (exactly one of the two)."""

    function: LocalFunction | None
    events: tuple[str, ...]  # "s3:ObjectCreated:*"
    prefix: str = ""
    suffix: str = ""
    queue_url: str | None = None

    def wants(self, event_name: str, key: str) -> bool:
        event = f"s3:{event_name}"
        matches_event = any(
            event == pattern or (pattern.endswith("*") and event.startswith(pattern[:-1])) for pattern in self.events
        )
        return matches_event and key.startswith(self.prefix) and key.endswith(self.suffix)


def lambda_s3_record(record: dict[str, Any], sequencer: str) -> dict[str, Any]:
    """Fill what moto leaves out of an S3 record, and encode the key the way S3 does."""
    s3 = record.get("s3", {})
    bucket = s3.get("bucket", {})
    obj = dict(s3.get("object", {}))
    obj["key"] = quote_plus(unquote_plus(obj.get("key", "")), safe="/")
    obj.setdefault("sequencer", sequencer)
    return {
        "eventVersion": record.get("eventVersion", "2.1"),
        "eventSource": "aws:s3",
        "awsRegion": record.get("awsRegion"),
        "eventTime": record.get("eventTime"),
        "eventName": record.get("eventName"),
        "userIdentity": record.get("userIdentity") or {"principalId": "AWS:LOCALCLOUD"},
        "requestParameters": record.get("requestParameters") or {"sourceIPAddress": "127.0.0.1"},
        "responseElements": record.get("responseElements")
        or {"x-amz-request-id": uuid.uuid4().hex[:16].upper(), "x-amz-id-2": uuid.uuid4().hex},
        "s3": {
            "s3SchemaVersion": s3.get("s3SchemaVersion", "1.0"),
            "configurationId": s3.get("configurationId", "local"),
            "bucket": {
                "name": bucket.get("name"),
                "ownerIdentity": bucket.get("ownerIdentity") or {"principalId": "LOCALCLOUD"},
                "arn": bucket.get("arn") or f"arn:aws:s3:::{bucket.get('name')}",
            },
            "object": obj,
        },
    }


class S3NotificationPump(Pump):
    def __init__(
        self,
        bucket: str,
        queue_url: str,
        targets: list[NotificationTarget],
        runner: LambdaRunner,
        sqs_client: Any,
        posted: PostedObjects | None = None,
    ) -> None:
        self.posted = posted or PostedObjects()
        super().__init__(name=f"s3:{bucket}", sources=frozenset({bucket_source(bucket), queue_source(queue_url)}))
        self.bucket = bucket
        self.queue_url = queue_url
        self.targets = targets
        self.runner = runner
        self.sqs = sqs_client
        self._sequence = 0

    def poll_once(self) -> int:
        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        self.took_all_there_was = len(messages) < 10
        for message in messages:
            self._dispatch(json.loads(message["Body"]))
            # S3 invokes Lambda asynchronously: a failing invocation does not block the bucket.
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def _dispatch(self, body: dict[str, Any]) -> None:
        if body.get("Event") == "s3:TestEvent":
            return
        for raw in body.get("Records", []):
            self._sequence += 1
            record = lambda_s3_record(raw, sequencer=f"{self._sequence:018X}")
            key = unquote_plus(record["s3"]["object"]["key"])
            if record["eventName"] == "ObjectCreated:Put" and self.posted.was_posted(
                self.bucket, key, str(record["s3"]["object"].get("eTag", ""))
            ):
                record["eventName"] = "ObjectCreated:Post"
            for target in self.targets:
                if target.wants(record["eventName"], key):
                    self._deliver(target, record, key)

    def _deliver(self, target: NotificationTarget, record: dict[str, Any], key: str) -> None:
        if target.queue_url:
            self.sqs.send_message(QueueUrl=target.queue_url, MessageBody=json.dumps({"Records": [record]}))
            return
        assert target.function is not None
        try:
            self.runner.invoke(target.function, {"Records": [record]}, invocation_type=ASYNC)
        except Exception:
            log.exception("%s failed on s3://%s/%s", target.function.name, self.bucket, key)
