"""SQS's message size quota as SQS counts it (local/moto_sqs_limits.py): the queue's MaximumMessageSize (1 MiB
unless set) against the body and every message attribute in UTF-8 bytes, and 1 MiB for a whole batch; nothing
of a refused message or batch is stored."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local.moto_sqs_limits import enforce_sqs_limits

MIB = 1_048_576


@pytest.fixture
def sqs() -> Iterator[Any]:
    enforce_sqs_limits()
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def queue(sqs: Any, maximum: int | None = None) -> str:
    attributes = {"MaximumMessageSize": str(maximum)} if maximum else {}
    return str(sqs.create_queue(QueueName=f"q{maximum}", Attributes=attributes)["QueueUrl"])


def waiting(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def refused(call: Any) -> str:
    with pytest.raises(ClientError) as error:
        call()
    return str(error.value.response["Error"]["Message"])


def test_a_queue_takes_messages_up_to_its_maximum_in_bytes(sqs: Any) -> None:
    url = queue(sqs, maximum=1024)
    sqs.send_message(QueueUrl=url, MessageBody="x" * 1024)
    message = refused(lambda: sqs.send_message(QueueUrl=url, MessageBody="x" * 1025))

    assert message == "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes."
    assert waiting(sqs, url) == 1


def test_text_is_counted_in_utf8_bytes_not_characters(sqs: Any) -> None:
    # Given 600 characters of two bytes each: 1,200 bytes (moto alone counts 600 and lets it through)
    url = queue(sqs, maximum=1024)
    refused(lambda: sqs.send_message(QueueUrl=url, MessageBody="é" * 600))
    assert waiting(sqs, url) == 0


def test_message_attributes_count_towards_the_size(sqs: Any) -> None:
    # Given a 1,000-byte body and an attribute of 1 + 6 + 20 bytes (name, data type, value)
    url = queue(sqs, maximum=1024)
    attribute = {"k": {"DataType": "String", "StringValue": "x" * 20}}
    refused(lambda: sqs.send_message(QueueUrl=url, MessageBody="x" * 1000, MessageAttributes=attribute))
    sqs.send_message(QueueUrl=url, MessageBody="x" * 997, MessageAttributes=attribute)
    assert waiting(sqs, url) == 1


def test_a_queue_without_a_maximum_takes_1_mib(sqs: Any) -> None:
    url = queue(sqs)
    sqs.send_message(QueueUrl=url, MessageBody="x" * MIB)
    refused(lambda: sqs.send_message(QueueUrl=url, MessageBody="x" * (MIB + 1)))
    assert waiting(sqs, url) == 1


def test_a_batch_over_1_mib_in_all_is_refused_whole(sqs: Any) -> None:
    # Given three messages that each fit, 1.2 MiB together
    url = queue(sqs)
    entries = [{"Id": str(n), "MessageBody": "x" * 400_000 + "é" * 10} for n in range(3)]

    refused(lambda: sqs.send_message_batch(QueueUrl=url, Entries=entries))

    assert waiting(sqs, url) == 0
    sqs.send_message_batch(QueueUrl=url, Entries=entries[:2])
    assert waiting(sqs, url) == 2


def test_a_batch_with_one_message_too_large_stores_none_of_it(sqs: Any) -> None:
    url = queue(sqs, maximum=1024)
    entries = [{"Id": "fits", "MessageBody": "ok"}, {"Id": "too-big", "MessageBody": "é" * 600}]
    refused(lambda: sqs.send_message_batch(QueueUrl=url, Entries=entries))
    assert waiting(sqs, url) == 0


def test_the_patch_refuses_to_run_on_a_moto_it_was_not_written_for(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.sqs.models import SQSBackend

    from local import moto_sqs_limits

    def send_message(self: Any, queue_name: str, body: str, attributes: Any = None) -> None: ...

    monkeypatch.setattr(moto_sqs_limits, "_applied", False)
    monkeypatch.setattr(SQSBackend, "send_message", send_message)

    with pytest.raises(moto_sqs_limits.MotoChanged, match="send_message"):
        moto_sqs_limits.enforce_sqs_limits()
