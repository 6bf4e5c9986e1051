"""How a Pinhole function consumes a table's stream or a queue, made one way: partial batch failures,
bounded retries, bisect on error, a failure destination, and alarms on what was given up and on lag."""

import json
from collections.abc import Callable, Sequence
from typing import Any, cast

import jsii
from aws_cdk import Duration, IAnyProducer, IResolveContext, IStringProducer, Lazy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.stateless.alarms import alarm_on

STREAM_BATCH_SIZE = 50
STREAM_RETRIES = 5
ITERATOR_AGE_ALARM = Duration.minutes(5)


@jsii.implements(IAnyProducer, IStringProducer)
class AtSynth:
    """A value computed when the template is written, once everything it depends on has been declared. Use it
    with Lazy.uncached_any/uncached_string: aws-cdk-lib 2.275's cached Lazy calls a Python producer without
    its context, which jsii cannot pass (aws/aws-cdk#37952)."""

    def __init__(self, produce: Callable[[], Any]) -> None:
        self._produce = produce

    def produce(self, context: IResolveContext) -> Any:
        return self._produce()


def _filter_criteria(patterns: Sequence[dict[str, Any]] | None) -> dict[str, Any] | None:
    return {"Filters": [{"Pattern": json.dumps(pattern)} for pattern in patterns]} if patterns else None


def consume_stream(
    scope: Construct,
    function: lambda_.Function,
    table: dynamodb.ITableV2,
    *,
    patterns: Sequence[dict[str, Any]] | Callable[[], Sequence[dict[str, Any]] | None],
    what: str,
    batch_size: int = STREAM_BATCH_SIZE,
    parallelization_factor: int | None = None,
) -> sqs.Queue:
    """Feeds `function` with the stream records matching any of `patterns` (Lambda drops the others
    before invoking; patterns given as a function are computed when the template is written, None for no
    filter); records given up on after the retries land in the returned queue."""
    failures = sqs.Queue(
        scope,
        "FailedRecords",
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(14),
    )
    function.add_event_source(
        event_sources.DynamoEventSource(
            table,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=batch_size,
            bisect_batch_on_error=True,
            retry_attempts=STREAM_RETRIES,
            parallelization_factor=parallelization_factor,
            report_batch_item_failures=True,
            on_failure=event_sources.SqsDlq(failures),
            filters=[] if callable(patterns) else [lambda_.FilterCriteria.filter(pattern) for pattern in patterns],
        )
    )
    if callable(patterns):
        (mapping,) = [child for child in function.node.children if isinstance(child, lambda_.EventSourceMapping)]
        cast(lambda_.CfnEventSourceMapping, mapping.node.default_child).add_property_override(
            "FilterCriteria", Lazy.uncached_any(AtSynth(lambda: _filter_criteria(patterns())))
        )
    alarm_on(
        scope,
        "FailedRecordsAlarm",
        f"{what} gave up on stream records",
        failures.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
        1,
    )
    alarm_on(
        scope,
        "IteratorAgeAlarm",
        f"{what} falls behind its stream",
        function.metric("IteratorAge", statistic="Maximum", period=Duration.minutes(1)),
        ITERATOR_AGE_ALARM.to_milliseconds(),
        evaluation_periods=3,
    )
    return failures


def consume_queue(
    scope: Construct,
    function: lambda_.Function,
    queue: sqs.IQueue,
    dead_letters: sqs.IQueue,
    *,
    what: str,
    batch_size: int,
    max_batching_window: Duration | None = None,
    max_concurrency: int | None = None,
) -> None:
    """Feeds `function` from `queue`, reporting partial batch failures; the queue's redrive policy moves
    a message that keeps failing to `dead_letters`, which is alarmed."""
    function.add_event_source(
        event_sources.SqsEventSource(
            queue,
            batch_size=batch_size,
            report_batch_item_failures=True,
            max_batching_window=max_batching_window,
            max_concurrency=max_concurrency,
        )
    )
    alarm_on(
        scope,
        "DeadLettersAlarm",
        f"{what}: messages were given up on, see the dead-letter queue",
        dead_letters.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
        1,
    )
