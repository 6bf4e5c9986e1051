"""Event pumps: the event source mappings, S3 notifications and TTL expiry that moto does not run."""

from __future__ import annotations

import logging
from typing import Any

from local.lambda_runner import LambdaRunner, LocalFunction
from local.provision import LocalResources
from local.pumps.base import Pump, settled
from local.pumps.dynamodb_stream import DynamoStreamPump, StreamMappingConfig
from local.pumps.s3_notifications import NotificationTarget, S3NotificationPump
from local.pumps.schedule import SchedulePump, rate_seconds
from local.pumps.sqs import SqsPump
from local.pumps.ttl_sweeper import TtlSweeper
from local.s3_front import PostedObjects
from local.template import CloudAssembly, Resource, TemplateError
from pinhole.streams.patterns import patterns_of

__all__ = ["EventSource", "Pump", "event_sources_from", "pumps_from", "settled"]
log = logging.getLogger("local.pumps")
MAX_READERS_PER_STREAM = 2
"""DynamoDB Streams serves at most two simultaneous readers per shard; more are throttled
(LimitExceededException) and fall behind. Locally every reader would be served, so the wiring is refused."""


class EventSource:
    """One event source → function wiring of the template (for pumps and the wiring test)."""

    def __init__(self, kind: str, source: str, function: LocalFunction, properties: dict[str, Any]) -> None:
        self.kind = kind  # dynamodb | sqs | s3 | schedule
        self.source = source  # stream ARN, queue ARN or bucket name
        self.function = function
        self.properties = properties

    def __repr__(self) -> str:
        return f"EventSource({self.kind} {self.source} -> {self.function.logical_id})"


def _function_named(runner: LambdaRunner, name_or_arn: str) -> LocalFunction:
    for function in runner.functions.values():
        if name_or_arn in (function.name, function.arn) or name_or_arn.endswith(f":function:{function.name}"):
            return function
    raise TemplateError(f"event source targets unknown function {name_or_arn!r}")


def event_sources_from(assembly: CloudAssembly, runner: LambdaRunner) -> list[EventSource]:
    sources = []
    for mapping in assembly.resources("AWS::Lambda::EventSourceMapping"):
        props = assembly.resolve(mapping.stack, mapping.properties)
        if props.get("Enabled") is False:
            continue
        arn = str(props["EventSourceArn"])
        kind = "dynamodb" if ":dynamodb:" in arn else "sqs" if ":sqs:" in arn else "unsupported"
        if kind == "unsupported":
            log.warning("event source %s is not supported locally", arn)
            continue
        sources.append(EventSource(kind, arn, _function_named(runner, str(props["FunctionName"])), props))
    for rule in assembly.resources("AWS::Events::Rule"):
        props = assembly.resolve(rule.stack, rule.properties)
        if "ScheduleExpression" not in props or props.get("State", "ENABLED") != "ENABLED":
            continue
        for target in props.get("Targets", []):
            arn = str(target["Arn"])
            if ":function:" in arn:
                rule_arn = str(assembly.physical_of(rule).attributes.get("Arn", rule.logical_id))
                sources.append(EventSource("schedule", rule_arn, _function_named(runner, arn), props))
    for resource in assembly.resources():
        for bucket, configuration in _bucket_notifications(assembly, resource):
            for config in configuration.get("LambdaFunctionConfigurations", []):
                function = _function_named(runner, str(config["LambdaFunctionArn"]))
                sources.append(EventSource("s3", bucket, function, config))
    return sources


def _bucket_notifications(assembly: CloudAssembly, resource: Resource) -> list[tuple[str, dict[str, Any]]]:
    if resource.type == "Custom::S3BucketNotifications":
        props = assembly.resolve(resource.stack, resource.properties)
        return [(str(props["BucketName"]), props.get("NotificationConfiguration", {}))]
    if resource.type == "AWS::S3::Bucket" and "NotificationConfiguration" in resource.properties:
        config = assembly.resolve(resource.stack, resource.properties["NotificationConfiguration"])
        # The inline CloudFormation form names fields differently from the S3 API.
        lambda_configs = [
            {"Events": [item["Event"]], "Filter": item.get("Filter", {}), "LambdaFunctionArn": item["Function"]}
            for item in config.get("LambdaConfigurations", [])
        ]
        return [(assembly.physical_of(resource).ref, {"LambdaFunctionConfigurations": lambda_configs})]
    return []


def _queue_notification_targets(
    assembly: CloudAssembly, resources: LocalResources
) -> list[tuple[str, NotificationTarget]]:
    """S3 → SQS notifications of the template: the pump forwards each event, in the shape S3 sends,
    to the template's queue, whose own event source mapping then runs as on AWS."""
    targets = []
    for resource in assembly.resources():
        for bucket, configuration in _bucket_notifications(assembly, resource):
            for config in configuration.get("QueueConfigurations", []):
                target = NotificationTarget(
                    function=None,
                    events=tuple(config.get("Events", [])),
                    prefix=_filter(config, "prefix"),
                    suffix=_filter(config, "suffix"),
                    queue_url=resources.queues[str(config["QueueArn"])],
                )
                targets.append((bucket, target))
    return targets


def _filter(config: dict[str, Any], name: str) -> str:
    for rule in config.get("Filter", {}).get("Key", {}).get("FilterRules", []):
        if rule["Name"].lower() == name:
            return str(rule["Value"])
    return ""


def _refuse_crowded_streams(sources: list[EventSource]) -> None:
    readers: dict[str, list[str]] = {}
    for source in sources:
        if source.kind == "dynamodb":
            readers.setdefault(source.source, []).append(source.function.logical_id)
    crowded = {stream: functions for stream, functions in readers.items() if len(functions) > MAX_READERS_PER_STREAM}
    if crowded:
        raise TemplateError(
            f"more than {MAX_READERS_PER_STREAM} readers of one DynamoDB stream, which DynamoDB Streams throttles "
            f"(LimitExceededException): {crowded}"
        )


def pumps_from(
    assembly: CloudAssembly,
    resources: LocalResources,
    runner: LambdaRunner,
    session: Any,
    moto_url: str,
    posted: PostedObjects | None = None,
) -> list[Pump]:
    sqs = session.client("sqs", endpoint_url=moto_url)
    pumps: list[Pump] = []
    s3_targets: dict[str, list[NotificationTarget]] = {}
    sources = event_sources_from(assembly, runner)
    _refuse_crowded_streams(sources)
    for source in sources:
        props = source.properties
        report = "ReportBatchItemFailures" in props.get("FunctionResponseTypes", [])
        if source.kind == "dynamodb":
            on_failure = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
            config = StreamMappingConfig(
                stream_arn=source.source,
                batch_size=int(props.get("BatchSize", 100)),
                max_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
                bisect_on_error=bool(props.get("BisectBatchOnFunctionError", False)),
                report_failures=report,
                on_failure_queue_url=resources.queues.get(on_failure) if on_failure else None,
                filters=tuple(patterns_of(props.get("FilterCriteria"))),
            )
            streams = session.client("dynamodbstreams", endpoint_url=moto_url)
            pumps.append(DynamoStreamPump(source.function, runner, streams, sqs, config))
        elif source.kind == "schedule":
            every = rate_seconds(str(props["ScheduleExpression"]))
            if every is None:
                log.warning("schedule %s is not emulated locally", props["ScheduleExpression"])
                continue
            pumps.append(SchedulePump(source.function, runner, source.source, every))
        elif source.kind == "sqs":
            queue_url = resources.queues[source.source]
            pumps.append(
                SqsPump(source.function, runner, sqs, queue_url, source.source, int(props.get("BatchSize", 10)), report)
            )
        else:
            s3_targets.setdefault(source.source, []).append(
                NotificationTarget(
                    function=source.function,
                    events=tuple(props.get("Events", [])),
                    prefix=_filter(props, "prefix"),
                    suffix=_filter(props, "suffix"),
                )
            )
    for bucket, target in _queue_notification_targets(assembly, resources):
        s3_targets.setdefault(bucket, []).append(target)
    s3 = session.client("s3", endpoint_url=moto_url)
    for bucket, targets in s3_targets.items():
        queue_url = sqs.create_queue(QueueName=f"local-s3-notifications-{bucket}"[:80])["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events = sorted({event for target in targets for event in target.events})
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={"QueueConfigurations": [{"QueueArn": queue_arn, "Events": events}]},
        )
        pumps.append(S3NotificationPump(bucket, queue_url, targets, runner, sqs, posted))
    if any(table.ttl_attribute for table in resources.tables):
        pumps.append(TtlSweeper(resources.tables, session.client("dynamodb", endpoint_url=moto_url)))
    return pumps
