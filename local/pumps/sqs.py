"""SQS queue → Lambda consumer. Failed messages stay in the queue; moto redrives them to the DLQ."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from local.iam.identity import acting_as, mapping_role
from local.lambda_runner import LambdaRunner, LocalFunction
from local.pumps.base import Pump
from local.pumps.batch import fitting_batches, invoke_batch
from local.pumps.write_targets import queue_source
from local.template import REGION


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """A received message in the shape of a Lambda SQS event record."""
    attributes = {}
    for name, attribute in (message.get("MessageAttributes") or {}).items():
        rendered: dict[str, Any] = {"dataType": attribute["DataType"]}
        if "StringValue" in attribute:
            rendered["stringValue"] = attribute["StringValue"]
        if "BinaryValue" in attribute:
            rendered["binaryValue"] = base64.b64encode(attribute["BinaryValue"]).decode()
        rendered.setdefault("stringListValues", [])
        rendered.setdefault("binaryListValues", [])
        attributes[name] = rendered
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": attributes,
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


class SqsPump(Pump):
    def __init__(
        self,
        function: LocalFunction,
        runner: LambdaRunner,
        sqs_client: Any,
        queue_url: str,
        queue_arn: str,
        batch_size: int = 10,
        report_failures: bool = False,
    ) -> None:
        super().__init__(name=f"sqs->{function.logical_id}", sources=frozenset({queue_source(queue_url)}))
        self.function = function
        self.runner = runner
        self.sqs = sqs_client
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.batch_size = batch_size
        self.report_failures = report_failures

    def poll_once(self) -> int:
        # Lambda's event source mapping polls and deletes with the function's role (local.iam checks it).
        with acting_as(mapping_role(self.function)):
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(self.batch_size, 10),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
        if not messages:
            return 0
        self.took_all_there_was = len(messages) < min(self.batch_size, 10)
        records = [sqs_record(message, self.queue_arn) for message in messages]
        failed: set[str] = set()
        for batch in fitting_batches(records):
            ids = [record["messageId"] for record in batch]
            failed.update(
                invoke_batch(self.runner, self.function, {"Records": batch}, ids, self.report_failures).failed_ids
            )
        done = [record for record in records if record["messageId"] not in failed]
        if done:
            with acting_as(mapping_role(self.function)):
                self.sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(done)],
                )
        return len(records)
