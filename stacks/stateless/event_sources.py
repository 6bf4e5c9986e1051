"""How a Pinhole function consumes a table's stream or a queue, made one way: partial batch failures,
bounded retries, bisect on error, a failure destination, and alarms on what was given up and on lag."""

from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.stateless.alarms import alarm_on

STREAM_BATCH_SIZE = 50
STREAM_RETRIES = 5
ITERATOR_AGE_ALARM = Duration.minutes(5)


def consume_stream(
    scope: Construct,
    function: lambda_.Function,
    table: dynamodb.ITableV2,
    *,
    patterns: Sequence[dict[str, Any]],
    what: str,
    batch_size: int = STREAM_BATCH_SIZE,
) -> sqs.Queue:
    """Feeds `function` with the stream records matching any of `patterns` (Lambda drops the others
    before invoking); records given up on after the retries land in the returned queue."""
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
            report_batch_item_failures=True,
            on_failure=event_sources.SqsDlq(failures),
            filters=[lambda_.FilterCriteria.filter(pattern) for pattern in patterns],
        )
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
) -> None:
    """Feeds `function` from `queue`, reporting partial batch failures; the queue's redrive policy moves
    a message that keeps failing to `dead_letters`, which is alarmed."""
    function.add_event_source(
        event_sources.SqsEventSource(queue, batch_size=batch_size, report_batch_item_failures=True)
    )
    alarm_on(
        scope,
        "DeadLettersAlarm",
        f"{what}: messages were given up on, see the dead-letter queue",
        dead_letters.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
        1,
    )
