"""Lambda's event source mappings for integration tests: the local cloud's own pumps (retry from the
first failed record, bisect, bounded retries, the on-failure destination's DDBStreamBatchInfo, SQS
partial batch responses and redrive) against moto in-process, with the settings the synthesized
template gives each mapping and queue. The handlers are called in-process; a pump's backoff pauses
are recorded instead of slept, and failed SQS messages come back at once (visibility timeout 0).

A table's records reach their consumers as on AWS: its stream router (the template's routes, restricted to
the consumers under test) reads the stream and sends each record to the routed queue of every consumer that
wants it (`route_streams`)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, cast

import boto3

from functions.streams import handler as streams_handler
from local.iam.identity import Identity, acting_as
from local.pumps.dynamodb_stream import DynamoStreamPump, StreamMappingConfig
from local.pumps.sqs import SqsPump
from pinhole.streams.logic import StreamRouter
from pinhole.streams.models import Route, RouterConfig
from pinhole.streams.patterns import patterns_of
from pinhole.streams.transport import QueueSender
from tests.support.events import CountdownLambdaContext, FakeLambdaContext
from tests.support.stream_routes import routers
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


def queue_mapping(function_path: str, queue: str = "RoutedRecords") -> QueueMapping:
    """The mapping of the function under `function_path` on the queue `queue` (by default its own queue of
    routed stream records), and that queue's redrive policy."""
    properties = _mapping(function_path, queue)
    source = properties["EventSourceArn"]
    if "Fn::GetAtt" in source:  # a queue of the stateless stack
        queue_properties = _resources("PinholeStateless")[source["Fn::GetAtt"][0]]["Properties"]
    else:
        logical_id = source["Fn::ImportValue"].split("FnGetAtt", 1)[1].rsplit("Arn", 1)[0]
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
    # Its template role (tests.support.iam.TemplateRoles): the handler and its event source mapping's
    # calls are then authorized as on AWS. None: nothing is checked.
    identity: Identity | None = None
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
            with acting_as(function.identity):
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


def router_config(table: str, queue_urls: Mapping[str, str], overflow_bucket: str) -> RouterConfig:
    """The routes the template gives `table`'s stream router, restricted to the consumers under test (by
    construct path, e.g. "FeedFanout/PostsStream") and pointed at their test queues."""
    routes = [
        Route(consumer=route.consumer, queue_url=queue_urls[route.consumer], fifo=route.fifo, patterns=route.patterns)
        for route in routers(_resources("PinholeStateless"))[table].routes
        if route.consumer in queue_urls
    ]
    return RouterConfig(table=table, overflow_bucket=overflow_bucket, routes=routes)


class ReplayingSender(QueueSender):
    """SQS as the routers see it; once `replaying`, what they send is new to SQS (as a replay of the stream
    later than SQS's five-minute deduplication window would be)."""

    replays = 0

    def send_batch(self, queue_url: str, entries: Sequence[dict[str, str]]) -> set[str]:
        if self.replays:
            entries = [
                entry | {"MessageDeduplicationId": f"{entry['MessageDeduplicationId']}:replay{self.replays}"}
                if "MessageDeduplicationId" in entry
                else entry
                for entry in entries
            ]
        return super().send_batch(queue_url, entries)


def router_handler(router: StreamRouter) -> Callable[[dict[str, Any], Any], Any]:
    """functions/streams/handler.route as the function of one table's router runs it (each router is a function
    of its own on AWS: here they share the module, each with its own router)."""

    def route(event: dict[str, Any], context: Any) -> Any:
        default, streams_handler.router = streams_handler.router, router
        try:
            return streams_handler.route(event, context)
        finally:
            streams_handler.router = default

    return route


@dataclass
class RoutedQueues:
    """The queues made for the consumers under test, by construct path, and the routers' failure queues."""

    queue_urls: dict[str, str]
    dead_letters: dict[str, str]
    on_failure: dict[str, str]
    sender: ReplayingSender
    overflow_bucket: str


def route_streams(
    sources: EventSources, consumers: Mapping[str, Callable[..., Any]], tables: Mapping[str, str]
) -> RoutedQueues:
    """Each consumer (construct path → entry point) gets its routed queue as the template makes it (FIFO or
    not, maxReceiveCount, with a dead-letter queue) and is fed from it; each table ("Posts" → table name) gets
    its stream router, with the template's mapping and routes, feeding the consumers under test."""
    queue_urls, dead_letters = {}, {}
    for path, entry_point in consumers.items():
        mapping = queue_mapping(path)
        name = f"{path.replace('/', '-').lower()}-routed" + (".fifo" if mapping.fifo else "")
        queue_urls[path], dead_letters_url = create_queue(
            name, fifo=mapping.fifo, dead_letters_after=mapping.max_receive_count
        )
        assert dead_letters_url is not None
        dead_letters[path] = dead_letters_url
        function = InProcessFunction(path.replace("/", ""), entry_point)
        sources.queues.append(QueueConsumer(function, sources.runner, queue_urls[path], mapping))
    overflow_bucket = "stream-overflow"
    boto3.client("s3").create_bucket(Bucket=overflow_bucket)
    sender, on_failure = ReplayingSender(), {}
    for table, table_name in tables.items():
        on_failure[table], _ = create_queue(f"stream-router-{table.lower()}-failed-records")
        router = StreamRouter(router_config(table.lower(), queue_urls, overflow_bucket), sender=sender)
        config = stream_mapping(f"StreamRoutes/{table}", table, stream_arn(table_name), on_failure[table])
        function = InProcessFunction(f"StreamRoutes{table}", router_handler(router))
        sources.streams.append(StreamConsumer(function, sources.runner, config))
    return RoutedQueues(queue_urls, dead_letters, on_failure, sender, overflow_bucket)


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

    def replay_streams(self, sender: ReplayingSender) -> None:
        """Every stream record is read again from the trim horizon and, being sent by routers that are
        `sender`'s, reaches the consumers again however long after the first time."""
        for consumer in self.streams:
            consumer._positions.clear()
        sender.replays += 1
