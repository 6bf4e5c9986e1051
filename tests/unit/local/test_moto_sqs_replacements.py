"""local/moto_sqs_attributes.py and local/moto_sqs_receive.py answer as moto's own SQS does: the same queue life
(standard and FIFO queues, batches, delays, deduplication ids and content-based deduplication, message groups,
visibility changes, receive counts, redrive to dead-letter queues, retention, attributes, message attributes filtered
on receive, what SQS refuses) lived once with moto's code and once with the replacements, from the same random seed,
must give the same answers: the same message ids, receipt handles, sequence numbers and MD5s, in the same order (only
the clock's timestamps are not compared)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.moto_api._internal import mock_random
from moto.sqs.models import Queue, SQSBackend, sqs_backends

from local import moto_sqs_attributes, moto_sqs_receive
from local.fast_dynamodb.moto_contract import MotoChanged
from tests.support.direct_calls import answered_directly, outcome

ACCOUNT = "123456789012"
REGION = "us-east-1"


def untimed(value: Any) -> Any:
    """The answer with the times moto stamps (sent, first received, created, modified) named, not compared."""
    if isinstance(value, dict):
        return {key: "<time>" if key.endswith("Timestamp") else untimed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [untimed(item) for item in value]
    return value


def aged(queue_name: str, body: str, seconds: int) -> None:
    """The message sent `seconds` earlier than it was (retention is counted from the send)."""
    for message in sqs_backends[ACCOUNT][REGION].queues[queue_name]._messages:
        if message.body == body:
            message.sent_timestamp -= seconds * 1000  # type: ignore[operator]


def queue_life(sqs: Any) -> list[Any]:
    seen: list[Any] = []

    def see(call: Callable[[], Any]) -> Any:
        answer = outcome(call)
        seen.append(untimed(answer))
        return answer

    def arn(url: str) -> str:
        return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])

    def receive(url: str, names: tuple[str, ...] = ("All",), **kwargs: Any) -> list[dict[str, Any]]:
        answer = see(
            lambda: sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                AttributeNames=["All"],
                MessageAttributeNames=list(names),
                **kwargs,
            )
        )
        return list(answer.get("Messages", []))

    # Queues: dead letters for each kind, a standard queue and two FIFO ones
    dead = sqs.create_queue(QueueName="dead")["QueueUrl"]
    dead_fifo = sqs.create_queue(QueueName="dead.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    work_attributes = {
        "VisibilityTimeout": "30",
        "MessageRetentionPeriod": "60",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn(dead), "maxReceiveCount": 2}),
    }
    work = see(lambda: sqs.create_queue(QueueName="work", Attributes=work_attributes))["QueueUrl"]
    see(lambda: sqs.create_queue(QueueName="work", Attributes=work_attributes))
    see(lambda: sqs.create_queue(QueueName="work", Attributes={**work_attributes, "VisibilityTimeout": "31"}))
    ordered = see(
        lambda: sqs.create_queue(
            QueueName="ordered.fifo",
            Attributes={
                "FifoQueue": "true",
                "DeduplicationScope": "messageGroup",
                "FifoThroughputLimit": "perMessageGroupId",
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn(dead_fifo), "maxReceiveCount": 2}),
            },
        )
    )["QueueUrl"]
    content = see(
        lambda: sqs.create_queue(
            QueueName="content.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
        )
    )["QueueUrl"]

    # A standard queue: sends of every kind, a delay, a refused delay in a batch
    attributes = {
        "kind": {"DataType": "String", "StringValue": "like"},
        "count": {"DataType": "Number", "StringValue": "3"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
    }
    see(lambda: sqs.send_message(QueueUrl=work, MessageBody="one"))
    see(lambda: sqs.send_message(QueueUrl=work, MessageBody="two", MessageAttributes=attributes))
    see(lambda: sqs.send_message(QueueUrl=work, MessageBody="late", DelaySeconds=5))
    see(
        lambda: sqs.send_message_batch(
            QueueUrl=work,
            Entries=[
                {"Id": "a", "MessageBody": "three", "MessageAttributes": {"kind": attributes["kind"]}},
                {"Id": "b", "MessageBody": "four"},
                {"Id": "c", "MessageBody": "too late", "DelaySeconds": 901},
            ],
        )
    )
    see(lambda: sqs.get_queue_attributes(QueueUrl=work, AttributeNames=["All"]))
    # Received twice without hiding them, then moved to the dead letters on the third receive
    receive(work, VisibilityTimeout=0)
    receive(work, VisibilityTimeout=0)
    receive(work)
    receive(dead)
    see(lambda: sqs.get_queue_attributes(QueueUrl=work, AttributeNames=["All"]))
    # Visibility: hidden, shown again, received again, deleted (twice), a batch delete with a bogus handle
    see(lambda: sqs.send_message(QueueUrl=work, MessageBody="kept"))
    handle = receive(work)[0]["ReceiptHandle"]
    see(lambda: sqs.change_message_visibility(QueueUrl=work, ReceiptHandle=handle, VisibilityTimeout=0))
    handle = receive(work)[0]["ReceiptHandle"]
    see(lambda: sqs.delete_message(QueueUrl=work, ReceiptHandle=handle))
    see(lambda: sqs.delete_message(QueueUrl=work, ReceiptHandle=handle))
    see(lambda: sqs.change_message_visibility(QueueUrl=work, ReceiptHandle="bogus", VisibilityTimeout=1))
    see(lambda: sqs.send_message(QueueUrl=work, MessageBody="batched"))
    handle = receive(work)[0]["ReceiptHandle"]
    see(
        lambda: sqs.delete_message_batch(
            QueueUrl=work, Entries=[{"Id": "x", "ReceiptHandle": handle}, {"Id": "y", "ReceiptHandle": "bogus"}]
        )
    )
    # Message attributes asked for by name and prefix leave the others stored; a trace header kept
    see(
        lambda: sqs.send_message(
            QueueUrl=work,
            MessageBody="filtered",
            MessageAttributes=attributes,
            MessageSystemAttributes={
                "AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5e1b4151-5ac6c58f"}
            },
        )
    )
    receive(work, names=("kind", "co.*"), VisibilityTimeout=0)
    handle = receive(work)[0]["ReceiptHandle"]
    see(lambda: sqs.delete_message(QueueUrl=work, ReceiptHandle=handle))
    # Retention: a message older than the queue keeps messages is not delivered
    see(lambda: sqs.send_message(QueueUrl=work, MessageBody="old"))
    aged("work", "old", 120)
    receive(work)
    see(lambda: sqs.get_queue_attributes(QueueUrl=work, AttributeNames=["All"]))

    # A FIFO queue without content-based deduplication: what it refuses, groups, deduplication ids
    see(lambda: sqs.send_message(QueueUrl=ordered, MessageBody="no group"))
    see(lambda: sqs.send_message(QueueUrl=ordered, MessageBody="no id", MessageGroupId="a"))
    see(
        lambda: sqs.send_message(
            QueueUrl=ordered, MessageBody="delayed", MessageGroupId="a", MessageDeduplicationId="d0", DelaySeconds=1
        )
    )
    see(
        lambda: sqs.send_message_batch(
            QueueUrl=ordered,
            Entries=[
                {"Id": "1", "MessageBody": "a1", "MessageGroupId": "a", "MessageDeduplicationId": "d1"},
                {"Id": "2", "MessageBody": "a2", "MessageGroupId": "a", "MessageDeduplicationId": "d2"},
                {
                    "Id": "3",
                    "MessageBody": "b1",
                    "MessageGroupId": "b",
                    "MessageDeduplicationId": "d3",
                    "MessageAttributes": {"kind": attributes["kind"]},
                },
                {"Id": "4", "MessageBody": "b2", "MessageGroupId": "b", "MessageDeduplicationId": "d4"},
            ],
        )
    )
    see(lambda: sqs.send_message_batch(QueueUrl=ordered, Entries=[{"Id": "1", "MessageBody": "a3"}]))
    see(
        lambda: sqs.send_message(
            QueueUrl=ordered, MessageBody="a1 again", MessageGroupId="a", MessageDeduplicationId="d1"
        )
    )
    see(lambda: sqs.receive_message(QueueUrl=ordered, MaxNumberOfMessages=1, AttributeNames=["All"]))
    group_b = receive(ordered)
    see(
        lambda: sqs.delete_message_batch(
            QueueUrl=ordered,
            Entries=[{"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(group_b)],
        )
    )
    see(lambda: sqs.get_queue_attributes(QueueUrl=ordered, AttributeNames=["All"]))
    # Group a's messages, received without hiding them, go to the FIFO dead letters on the third receive
    see(lambda: sqs.send_message(QueueUrl=ordered, MessageBody="c1", MessageGroupId="c", MessageDeduplicationId="d5"))
    receive(ordered, VisibilityTimeout=0)
    receive(ordered, VisibilityTimeout=0)
    receive(ordered, VisibilityTimeout=0)
    receive(dead_fifo)
    # Content-based deduplication switched on later: no id needed any more
    see(lambda: sqs.set_queue_attributes(QueueUrl=ordered, Attributes={"ContentBasedDeduplication": "true"}))
    see(lambda: sqs.send_message(QueueUrl=ordered, MessageBody="by content", MessageGroupId="e"))
    see(lambda: sqs.send_message(QueueUrl=ordered, MessageBody="by content", MessageGroupId="e"))
    receive(ordered)

    # A FIFO queue with content-based deduplication: the same body twice is one message
    see(lambda: sqs.send_message(QueueUrl=content, MessageBody="same", MessageGroupId="g"))
    see(lambda: sqs.send_message(QueueUrl=content, MessageBody="same", MessageGroupId="g"))
    see(lambda: sqs.send_message(QueueUrl=content, MessageBody="same", MessageGroupId="g", MessageDeduplicationId="x"))
    see(lambda: sqs.send_message(QueueUrl=content, MessageBody="other", MessageGroupId="h"))
    see(
        lambda: sqs.send_message_batch(
            QueueUrl=content, Entries=[{"Id": "1", "MessageBody": "other", "MessageGroupId": "h"}]
        )
    )
    receive(content)

    # Attributes asked one by one, of a standard and a FIFO queue, and a name SQS does not know
    for url in (work, ordered, content, dead):
        see(
            lambda url=url: sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=["ContentBasedDeduplication", "MessageRetentionPeriod", "ApproximateNumberOfMessages"],
            )
        )
    see(lambda: sqs.get_queue_attributes(QueueUrl=work, AttributeNames=["NoSuchAttribute"]))
    see(lambda: sqs.send_message(QueueUrl=work + "-missing", MessageBody="lost"))
    return seen


def lived(seed: int) -> list[Any]:
    with mock_aws():
        mock_random.seed(seed)
        try:
            sqs = boto3.client("sqs", region_name=REGION)
            answered_directly(sqs)
            return queue_life(sqs)
        finally:
            mock_random.seed()  # moto's ids unpredictable again for the tests that follow


def test_the_replacements_answer_as_motos_own_sqs(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the replacements installed, and a way back to moto's own code
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    moto_sqs_attributes.install()
    moto_sqs_receive.install()
    # When the same queue life is lived with moto's code and with the replacements, from the same seed
    with pytest.MonkeyPatch.context() as motos_own:
        for owner, name, original in moto_sqs_attributes.ORIGINALS + moto_sqs_receive.ORIGINALS:
            motos_own.setattr(owner, name, original)
        assert Queue.add_message is not moto_sqs_attributes.add_message
        by_moto = lived(seed=19)
    assert Queue.add_message is moto_sqs_attributes.add_message
    assert SQSBackend._validate_message is moto_sqs_attributes.validate_message
    assert SQSBackend.receive_message is moto_sqs_receive.receive_message
    replaced = lived(seed=19)
    # Then every answer is the same, ids, handles and MD5s included, and the life reached what it set out to
    assert replaced == by_moto
    assert sum("error" in answer for answer in by_moto if isinstance(answer, dict)) >= 8
    dead_letters = [answer for answer in by_moto if isinstance(answer, dict) and "Messages" in answer]
    assert any(
        message["Attributes"].get("ApproximateReceiveCount") == "3" for m in dead_letters for message in m["Messages"]
    )


@pytest.mark.parametrize(
    ("module", "function"),
    [(moto_sqs_attributes, "Queue.add_message"), (moto_sqs_receive, "SQSBackend.receive_message")],
)
def test_the_replacements_refuse_a_moto_they_were_not_written_against(
    monkeypatch: pytest.MonkeyPatch, module: Any, function: str
) -> None:
    # Given a moto whose function is not the one the replacement copies
    monkeypatch.setattr(module, "ORIGINALS", [])
    monkeypatch.setitem(module.WRITTEN_AGAINST, function, "0000000000000000")
    # When the replacements are installed, then the start stops, naming it
    with pytest.raises(MotoChanged, match=re.escape(function)):
        module.install()
