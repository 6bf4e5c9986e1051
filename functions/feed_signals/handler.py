"""Lambda entry points of the feed_signals context: what the ranked feed learns from the tables' records
(pinhole.feed.signals), so that a feed page reads small items and never scans history:
- `on_interaction_change`: the interactions table — likes, comments, profile visits → affinity;
- `on_message_change`: the messages table — a DM sent → the sender's affinity for the recipient;
- `on_post_change`: the posts table — a post published or deleted, its counts moving → its author's
  recent-posts item.
Each reports partial batch failures, so only the failing records are retried."""

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.feed.signals import FeedSignals
from pinhole.shared.observability import logger, tracer

signals = FeedSignals()
streams = BatchProcessor(event_type=EventType.DynamoDBStreams)


def _record_handler(apply: Callable[[str, dict[str, Any], dict[str, Any]], None]) -> Callable[[DynamoDBRecord], None]:
    def handle(record: DynamoDBRecord) -> None:
        assert record.dynamodb is not None and record.event_name is not None
        apply(record.event_name.name, record.dynamodb.old_image or {}, record.dynamodb.new_image or {})

    return handle


interaction_changed = tracer.capture_method(_record_handler(signals.interaction_changed))
message_changed = tracer.capture_method(_record_handler(signals.inbox_changed))
post_changed = tracer.capture_method(_record_handler(signals.post_changed))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def on_interaction_change(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=interaction_changed, processor=streams, context=context)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def on_message_change(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=message_changed, processor=streams, context=context)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def on_post_change(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=post_changed, processor=streams, context=context)
