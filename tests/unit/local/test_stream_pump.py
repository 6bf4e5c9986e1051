"""DynamoDB stream delivery semantics: partial failures, retries, bisect, on-failure destination."""

import json
import time

import pytest

from local.pumps.dynamodb_stream import DynamoStreamPump, StreamMappingConfig

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/1"


class FakeFunction:
    logical_id = "Consumer"
    name = "consumer"
    arn = "arn:aws:lambda:us-east-1:123456789012:function:consumer"


class FakeRunner:
    """Calls a behaviour with each batch's sequence numbers; records every delivery."""

    def __init__(self, behaviour):
        self.behaviour = behaviour
        self.deliveries: list[list[str]] = []

    def invoke(self, function, event):
        numbers = [record["dynamodb"]["SequenceNumber"] for record in event["Records"]]
        self.deliveries.append(numbers)
        return self.behaviour(numbers)


class FakeStreams:
    def __init__(self, count):
        self.records = [
            {
                "eventID": str(n),
                "eventName": "INSERT",
                "dynamodb": {
                    "SequenceNumber": str(n),
                    "ApproximateCreationDateTime": 1700000000.0,
                    "Keys": {"id": {"S": str(n)}},
                },
            }
            for n in range(1, count + 1)
        ]
        self.served = False

    def describe_stream(self, StreamArn):
        return {"StreamDescription": {"Shards": [{"ShardId": "shard-1"}]}}

    def get_shard_iterator(self, **_):
        return {"ShardIterator": "it-0"}

    def get_records(self, ShardIterator, Limit):
        records, self.served = ([] if self.served else self.records), True
        return {"Records": records, "NextShardIterator": "it-1"}


class FakeSqs:
    def __init__(self):
        self.sent = []

    def send_message(self, QueueUrl, MessageBody):
        self.sent.append(json.loads(MessageBody))


def pump(behaviour, count=4, **config):
    runner, sqs = FakeRunner(behaviour), FakeSqs()
    pump = DynamoStreamPump(
        FakeFunction(), runner, FakeStreams(count), sqs, StreamMappingConfig(stream_arn=STREAM_ARN, **config)
    )
    pump.sleep = lambda _seconds: True  # backoff is not what these tests observe
    pump.poll_once()
    return runner, sqs


def test_records_arrive_in_batches_with_event_source_arn():
    seen = []
    runner, _ = pump(lambda numbers: seen.append(numbers) or None, count=5, batch_size=2)
    assert runner.deliveries == [["1", "2"], ["3", "4"], ["5"]]


def test_event_records_carry_the_stream_arn_and_region():
    events = []

    class Capturing(FakeRunner):
        def invoke(self, function, event):
            events.append(event)

    runner, sqs = Capturing(None), FakeSqs()
    DynamoStreamPump(FakeFunction(), runner, FakeStreams(1), sqs, StreamMappingConfig(STREAM_ARN)).poll_once()
    record = events[0]["Records"][0]
    assert (record["eventSourceARN"], record["awsRegion"], record["eventSource"]) == (
        STREAM_ARN,
        "us-east-1",
        "aws:dynamodb",
    )


def test_batch_item_failure_retries_from_the_first_failed_sequence_number():
    # Given a consumer that fails record 3 once
    failed_once = []

    def behaviour(numbers):
        if "3" in numbers and not failed_once:
            failed_once.append(True)
            return {"batchItemFailures": [{"itemIdentifier": "3"}]}
        return {"batchItemFailures": []}

    # When a batch of 4 is delivered with ReportBatchItemFailures
    runner, _ = pump(behaviour, batch_size=4, report_failures=True)
    # Then the retry starts at record 3, records 1-2 are not redelivered
    assert runner.deliveries == [["1", "2", "3", "4"], ["3", "4"]]


def test_exhausted_retries_go_to_the_on_failure_destination():
    runner, sqs = pump(
        lambda numbers: {"batchItemFailures": [{"itemIdentifier": numbers[0]}]},
        count=2,
        batch_size=2,
        report_failures=True,
        max_retry_attempts=2,
        on_failure_queue_url="q",
    )
    assert len(runner.deliveries) == 3  # the first attempt and 2 retries
    info = sqs.sent[0]["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == ("1", "2", 2)
    assert sqs.sent[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_bisect_isolates_the_poison_record():
    # Given a consumer that raises whenever record 3 is in its batch
    def behaviour(numbers):
        if "3" in numbers:
            raise ValueError("poison")

    # When bisect is on and retries are bounded
    runner, sqs = pump(
        behaviour, count=4, batch_size=4, bisect_on_error=True, max_retry_attempts=0, on_failure_queue_url="q"
    )
    # Then the good records are processed and only record 3 reaches the destination
    assert ["1", "2"] in runner.deliveries and ["4"] in runner.deliveries
    assert [
        (m["DDBStreamBatchInfo"]["startSequenceNumber"], m["DDBStreamBatchInfo"]["batchSize"]) for m in sqs.sent
    ] == [("3", 1)]


def test_unknown_item_identifier_fails_the_whole_batch():
    calls = []

    def behaviour(numbers):
        calls.append(numbers)
        return {"batchItemFailures": [{"itemIdentifier": "nope"}]} if len(calls) == 1 else None

    runner, _ = pump(behaviour, count=2, batch_size=2, report_failures=True)
    assert runner.deliveries == [["1", "2"], ["1", "2"]]


@pytest.mark.parametrize("result", [None, {}, {"batchItemFailures": []}, "ok"])
def test_successful_results_are_delivered_once(result):
    runner, _ = pump(lambda numbers: result, count=2, batch_size=2, report_failures=True)
    assert runner.deliveries == [["1", "2"]]


class CountingStreams(FakeStreams):
    def __init__(self, count):
        super().__init__(count)
        self.descriptions = 0

    def describe_stream(self, StreamArn):
        self.descriptions += 1
        return super().describe_stream(StreamArn)


def test_the_shards_are_described_now_and_then_not_before_every_read(monkeypatch):
    # Given a stream pump that has read its stream once
    streams = CountingStreams(3)
    stream_pump = DynamoStreamPump(
        FakeFunction(), FakeRunner(lambda _: None), streams, FakeSqs(), StreamMappingConfig(stream_arn=STREAM_ARN)
    )
    assert stream_pump.poll_once() == 3
    # When it reads again and again within the refresh interval, Then the stream is not described again
    for _ in range(5):
        assert stream_pump.poll_once() == 0
    assert streams.descriptions == 1
    # And once the interval has passed it is
    clock = time.monotonic() + 11
    monkeypatch.setattr("local.pumps.dynamodb_stream.time.monotonic", lambda: clock)
    stream_pump.poll_once()
    assert streams.descriptions == 2


@pytest.mark.parametrize(("count", "took_all"), [(3, True), (1000, False)])
def test_a_read_short_of_the_limit_took_all_there_was(count, took_all):
    stream_pump = DynamoStreamPump(
        FakeFunction(), FakeRunner(lambda _: None), FakeStreams(count), FakeSqs(), StreamMappingConfig(STREAM_ARN)
    )
    assert stream_pump.poll_once() == count
    # fewer records than asked for: the pump waits for the next write instead of reading again to find nothing
    assert stream_pump.took_all_there_was is took_all
