"""SQS calls answered at before-call (local/direct_calls.py) get what moto's dispatch answers at before-send: the
same sequence of calls, each made on a queue of its own by a client of each kind, compared answer for answer
(the queue's URL and name told apart, message ids and receipt handles compared by shape: moto makes them at
random), errors included."""

from __future__ import annotations

import re
from typing import Any

import boto3

from tests.support.direct_calls import answered_directly, outcome

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def normalised(value: Any, names: dict[str, str]) -> Any:
    """The queue's own name replaced; random ids and handles replaced by their kind."""
    if isinstance(value, dict):
        return {key: normalised(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [normalised(item, names) for item in value]
    if isinstance(value, str):
        for name, stand_in in names.items():
            value = value.replace(name, stand_in)
        if UUID.match(value):
            return "<uuid>"
        if len(value) > 100 and " " not in value:
            return "<receipt handle>"
    return value


def untimed(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages with the times SQS stamps them with named, not compared."""
    return [
        {
            **message,
            "Attributes": {
                key: "<time>" if key.endswith("Timestamp") else value
                for key, value in message.get("Attributes", {}).items()
            },
        }
        for message in messages
    ]


def calls(sqs: Any, name: str) -> list[Any]:
    """A queue's life: created, written in every way, read, changed, refused what SQS refuses."""
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    fifo = sqs.create_queue(
        QueueName=f"{name}.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    seen: list[Any] = [url, fifo]
    seen.append(outcome(lambda: sqs.send_message(QueueUrl=url, MessageBody="one", DelaySeconds=0)))
    seen.append(
        outcome(
            lambda: sqs.send_message(
                QueueUrl=url,
                MessageBody="two",
                MessageAttributes={"kind": {"DataType": "String", "StringValue": "like"}},
            )
        )
    )
    seen.append(
        outcome(
            lambda: sqs.send_message_batch(
                QueueUrl=url,
                Entries=[{"Id": "a", "MessageBody": "three"}, {"Id": "b", "MessageBody": "four"}],
            )
        )
    )
    seen.append(outcome(lambda: sqs.send_message(QueueUrl=fifo, MessageBody="in order", MessageGroupId="g")))
    seen.append(outcome(lambda: sqs.send_message(QueueUrl=fifo, MessageBody="in order", MessageGroupId="g")))
    received = outcome(
        lambda: sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], AttributeNames=["All"]
        )
    )
    messages = sorted(received.get("Messages", []), key=lambda message: message["Body"])
    seen.append(untimed(messages))
    handles = [message["ReceiptHandle"] for message in messages]
    seen.append(
        outcome(lambda: sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handles[0], VisibilityTimeout=0))
    )
    seen.append(outcome(lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle=handles[1])))
    seen.append(
        outcome(
            lambda: sqs.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": "x", "ReceiptHandle": handles[2]}, {"Id": "y", "ReceiptHandle": "bogus"}]
            )
        )
    )
    seen.append(outcome(lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])))
    seen.append(
        untimed(
            outcome(lambda: sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10, AttributeNames=["All"]))[
                "Messages"
            ]
        )
    )
    # refused
    seen.append(outcome(lambda: sqs.send_message(QueueUrl=url + "-missing", MessageBody="lost")))
    seen.append(outcome(lambda: sqs.send_message(QueueUrl=fifo, MessageBody="no group")))
    seen.append(outcome(lambda: sqs.send_message(QueueUrl=url, MessageBody="x" * 1_048_577)))
    seen.append(
        outcome(
            lambda: sqs.send_message_batch(
                QueueUrl=url, Entries=[{"Id": "same", "MessageBody": "1"}, {"Id": "same", "MessageBody": "2"}]
            )
        )
    )
    seen.append(
        outcome(lambda: sqs.change_message_visibility(QueueUrl=url, ReceiptHandle="bogus", VisibilityTimeout=1))
    )
    seen.append(outcome(lambda: sqs.get_queue_url(QueueName=name)))
    seen.append(outcome(lambda: sqs.delete_queue(QueueUrl=url)))
    return seen


def test_sqs_answered_at_before_call_answers_as_moto_s_dispatch_does(aws):
    # Given a client answered at before-send (moto's dispatch) and one answered at before-call
    at_before_send = boto3.client("sqs", region_name="us-east-1")
    at_before_call = boto3.client("sqs", region_name="us-east-1")
    answered = []
    answered_directly(at_before_call)
    at_before_call.meta.events.register("before-send.sqs", lambda **kwargs: answered.append(kwargs["request"].url))
    # When each lives the same queue life on a queue of its own
    sent = calls(at_before_send, "sent")
    direct = calls(at_before_call, "direct")
    # Then they saw the same answers and errors, and the before-call client sent nothing further
    assert normalised(direct, {"direct": "<queue>"}) == normalised(sent, {"sent": "<queue>"})
    assert answered == []
    assert any("error" in step for step in sent if isinstance(step, dict))
