"""Lambda entry points of the feed_signals context: what the ranked feed learns from the tables' records
(pinhole.feed.signals), so that a feed page reads small items and never scans history:
- `on_interaction_change`: the interactions table — likes, comments, profile visits → affinity;
- `on_message_change`: the messages table — a DM sent → the sender's affinity for the recipient;
- `on_post_change`: the posts table — a post published or deleted, a celebrity's counts moving → its
  author's recent-posts item.
Each gets its records from its table's stream router, through a FIFO queue of its own (one message group per
item: a record that fails holds back the later records of its item only), and reports partial batch failures."""

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.feed.signals import FeedSignals
from pinhole.shared.observability import logger, tracer
from pinhole.streams.logic import routed_record
from pinhole.streams.models import RoutedRecordMessage

signals = FeedSignals()
records = SqsFifoPartialProcessor(model=RoutedRecordMessage, skip_group_on_error=True)


def _record_handler(
    apply: Callable[[str, dict[str, Any], dict[str, Any]], None],
) -> Callable[[RoutedRecordMessage], None]:
    def handle(record: RoutedRecordMessage) -> None:  # the batch processor passes it as `record=`
        change = routed_record(record)
        old, new = change.dynamodb.OldImage, change.dynamodb.NewImage
        apply(change.eventName, old if isinstance(old, dict) else {}, new if isinstance(new, dict) else {})

    return handle


interaction_changed = tracer.capture_method(_record_handler(signals.interaction_changed))
message_changed = tracer.capture_method(_record_handler(signals.inbox_changed))
post_changed = tracer.capture_method(_record_handler(signals.post_changed))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def on_interaction_change(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=interaction_changed, processor=records, context=context)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def on_message_change(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=message_changed, processor=records, context=context)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def on_post_change(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=post_changed, processor=records, context=context)
