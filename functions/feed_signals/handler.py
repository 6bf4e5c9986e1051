"""Lambda entry points of the feed_signals context: what the ranked feed learns from the tables' records
(pinhole.feed.signals), so that a feed page reads small items and never scans history:
the records of three tables, through one FIFO queue the three tables' stream routers send to (one function, not
one per table: the stateless stack is near CloudFormation's 500 resources), each applied by its table:
- interactions — likes, comments, profile visits → affinity;
- messages — a DM sent → the sender's affinity for the recipient;
- posts — a post published or deleted, a celebrity's counts moving → its author's recent-posts item.
One message group per item: a record that fails holds back the later records of its item only; partial batch
failures are reported."""

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.feed.signals import FeedSignals
from pinhole.shared.observability import logger, tracer
from pinhole.streams.logic import routed_record
from pinhole.streams.models import RoutedRecordMessage

signals = FeedSignals()
records = SqsFifoPartialProcessor(model=RoutedRecordMessage, skip_group_on_error=True)


_APPLY = {
    "interactions": signals.interaction_changed,
    "messages": signals.inbox_changed,
    "posts": signals.post_changed,
}


@tracer.capture_method
def record_changed(record: RoutedRecordMessage) -> None:
    """One routed record, applied by its table (the first part of its message group, pinhole.streams)."""
    change = routed_record(record)
    old, new = change.dynamodb.OldImage, change.dynamodb.NewImage
    table = record.attributes.MessageGroupId.split("/", 1)[0] if record.attributes.MessageGroupId else ""
    _APPLY[table](change.eventName, old if isinstance(old, dict) else {}, new if isinstance(new, dict) else {})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def on_record(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=record_changed, processor=records, context=context)
