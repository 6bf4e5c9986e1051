"""Lambda's event source mappings for integration tests: the local cloud's own pumps (retry from the
first failed record, bisect, bounded retries, the on-failure destination's DDBStreamBatchInfo, SQS
partial batch responses and redrive) against moto in-process, with the settings the synthesized
template gives each mapping and queue. The handlers are called in-process; a pump's backoff pauses
are recorded instead of slept, and failed SQS messages come back at once (visibility timeout 0)."""

import json
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, cast

import boto3

from local.pumps.dynamodb_stream import DynamoStreamPump, StreamMappingConfig
from local.pumps.filters import patterns_of
from local.pumps.sqs import SqsPump
from tests.support.events import CountdownLambdaContext, FakeLambdaContext
from tests.support.streams import STREAMS_ENDPOINT

CDK_OUT = Path(__file__).resolve().parents[2] / "cdk.out"


@cache
def _resources(stack: str) -> dict[str, Any]:
    return dict(json.loads((CDK_OUT / f"{stack}.template.json").read_text())["Resources"])


def _mapping(function_path: str, source: str) -> dict[str, Any]:
    """The template's event source mapping of the function under `function_path` (its construct path,
    e.g. "FeedFanout/PostsStream") whose source's export names `source` (e.g. "PostsTable")."""
    resources = _resources("PinholeStateless")
    for resource in resources.values():
        if resource["Type"] != "AWS::Lambda::EventSourceMapping":
            continue
        properties = resource["Properties"]
        function = resources[properties["FunctionName"]["Ref"]]
        path = function["Metadata"]["aws:cdk:path"]
        if f"/{function_path}/" in path and source in json.dumps(properties["EventSourceArn"]):
            return dict(properties)
    raise LookupError(f"no event source mapping of {function_path} on {source} in {CDK_OUT}")


def stream_mapping(function_path: str, table: str, stream_arn: str, on_failure_url: str) -> StreamMappingConfig:
    properties = _mapping(function_path, f"{table}Table")
    return StreamMappingConfig(
        stream_arn=stream_arn,
        batch_size=int(properties.get("BatchSize", 100)),
        max_retry_attempts=int(properties.get("MaximumRetryAttempts", -1)),
        bisect_on_error=bool(properties.get("BisectBatchOnFunctionError", False)),
        report_failures="ReportBatchItemFailures" in properties.get("FunctionResponseTypes", []),
        on_failure_queue_url=on_failure_url,
        filters=tuple(patterns_of(properties.get("FilterCriteria"))),
    )


@dataclass(frozen=True)
class QueueMapping:
    batch_size: int
    report_failures: bool
    fifo: bool
    max_receive_count: int


def queue_mapping(function_path: str, queue: str) -> QueueMapping:
    """The mapping of the function under `function_path` on the stateful stack's queue `queue`, and
    that queue's redrive policy."""
    properties = _mapping(function_path, queue)
    export = properties["EventSourceArn"]["Fn::ImportValue"]
    logical_id = export.split("FnGetAtt", 1)[1].rsplit("Arn", 1)[0]
    queue_properties = _resources("PinholeStateful")[logical_id]["Properties"]
    return QueueMapping(
        batch_size=int(properties.get("BatchSize", 10)),
        report_failures="ReportBatchItemFailures" in properties.get("FunctionResponseTypes", []),
        fifo=bool(queue_properties.get("FifoQueue", False)),
        max_receive_count=int(queue_properties["RedrivePolicy"]["maxReceiveCount"]),
    )


@dataclass
class InProcessFunction:
    """What a pump needs of a function: its names, and here the handler itself."""

    logical_id: str
    handler: Any
    memory_mb: int = FakeLambdaContext.memory_limit_in_mb
    timeout_s: float | None = None  # the template's Timeout, for handlers that read their remaining time

    @property
    def name(self) -> str:
        return self.logical_id

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.logical_id}"


@dataclass
class Invocation:
    """One call of a handler: the ids of the records it carried (SQS message ids, stream event ids)
    and what came of it."""

    record_ids: list[str]
    result: Any  # the handler's answer, or None when it raised
    error: Exception | None = None

    @property
    def failed_ids(self) -> list[str]:
        """The records Lambda retries: those reported in batchItemFailures, or all of them if the handler
        raised (Powertools raises when every record of a batch failed)."""
        if self.error is not None:
            return list(self.record_ids)
        return [failure["itemIdentifier"] for failure in (self.result or {}).get("batchItemFailures", [])]


@dataclass
class InProcessRunner:
    """Invokes handlers in the calling thread; counts invocations and the records they carried, and
    keeps every call."""

    invocations: Counter[str] = field(default_factory=Counter)
    records: Counter[str] = field(default_factory=Counter)
    calls: list[Invocation] = field(default_factory=list)

    def invoke(self, function: InProcessFunction, event: dict[str, Any]) -> Any:
        records = event.get("Records", [])
        self.invocations[function.logical_id] += 1
        self.records[function.logical_id] += len(records)
        ids = [str(record.get("messageId") or record.get("eventID")) for record in records]
        context = (
            FakeLambdaContext(function_name=function.logical_id, memory_limit_in_mb=function.memory_mb)
            if function.timeout_s is None
            else CountdownLambdaContext(
                function_name=function.logical_id, memory_limit_in_mb=function.memory_mb, timeout_s=function.timeout_s
            )
        )
        try:
            result = function.handler(event, context)
        except Exception as error:
            self.calls.append(Invocation(ids, None, error))
            raise
        self.calls.append(Invocation(ids, result))
        return result


class StreamConsumer(DynamoStreamPump):
    """The stream pump, polled by the test; its backoff pauses are recorded, not slept."""

    def __init__(self, function: InProcessFunction, runner: InProcessRunner, config: StreamMappingConfig) -> None:
        streams = boto3.client("dynamodbstreams", endpoint_url=STREAMS_ENDPOINT)
        super().__init__(cast(Any, function), cast(Any, runner), streams, boto3.client("sqs"), config)
        self.pauses: list[float] = []

    def sleep(self, seconds: float) -> bool:
        self.pauses.append(seconds)
        return True


class QueueConsumer(SqsPump):
    def __init__(
        self, function: InProcessFunction, runner: InProcessRunner, queue_url: str, mapping: QueueMapping
    ) -> None:
        sqs = boto3.client("sqs")
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        pump_function, pump_runner = cast(Any, function), cast(Any, runner)
        super().__init__(
            pump_function, pump_runner, sqs, queue_url, queue_arn, mapping.batch_size, mapping.report_failures
        )


def stream_arn(table_name: str) -> str:
    return str(boto3.client("dynamodb").describe_table(TableName=table_name)["Table"]["LatestStreamArn"])


def create_queue(name: str, *, fifo: bool = False, dead_letters_after: int | None = None) -> tuple[str, str | None]:
    """A queue as the stateful stack makes it, but whose failed messages come back at once; with
    `dead_letters_after`, its dead-letter queue too. (url, dead-letter url)"""
    sqs = boto3.client("sqs")
    suffix = ".fifo" if fifo else ""
    base = {"FifoQueue": "true"} if fifo else {}
    attributes: dict[str, str] = {**base, "VisibilityTimeout": "0"}
    dead_letters_url = None
    if dead_letters_after is not None:
        dead_letters_url = sqs.create_queue(QueueName=f"{name.removesuffix(suffix)}-dlq{suffix}", Attributes=base)[
            "QueueUrl"
        ]
        arn = sqs.get_queue_attributes(QueueUrl=dead_letters_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": dead_letters_after})
    return sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"], dead_letters_url


def drain_queue(queue_url: str) -> list[dict[str, Any]]:
    """Every message waiting in a queue (a DLQ, an on-failure destination), taken out of it."""
    sqs, messages = boto3.client("sqs"), []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]).get(
        "Messages", []
    ):
        messages.extend(batch)
        entries = [{"Id": str(n), "ReceiptHandle": message["ReceiptHandle"]} for n, message in enumerate(batch)]
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
    return messages


@dataclass
class EventSources:
    """Every consumer under test, polled in turn until a whole round finds nothing to do."""

    runner: InProcessRunner
    streams: list[StreamConsumer] = field(default_factory=list)
    queues: list[QueueConsumer] = field(default_factory=list)

    def settle(self, max_rounds: int = 60) -> int:
        """Runs until quiet; how many rounds that took (bounded: a consumer that never settles fails)."""
        for round_number in range(1, max_rounds + 1):
            handled = sum(consumer.poll_once() for consumer in [*self.streams, *self.queues])
            if not handled:
                return round_number
        raise AssertionError(f"the event sources did not settle in {max_rounds} rounds")

    @property
    def backoff_pauses(self) -> int:
        return sum(len(consumer.pauses) for consumer in self.streams)
