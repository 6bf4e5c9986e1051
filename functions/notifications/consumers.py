"""The notifications context's queue consumers:
- `on_activity`: the interactions, graph and posts tables' records (from their stream routers, through a FIFO queue
  of its own) — each record's notification intents onto the FIFO intents queue;
- `deliver`: the FIFO queue — each intent stored (or taken back) and pushed to the recipient.
Both report partial batch failures; each stops at a failed message of a group and goes on with the other groups, as
FIFO order requires. The HTTP routes are `handler.py`'s: each function imports only its own entry module."""

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.notifications import delivery
from pinhole.notifications.intent_queue import IntentQueue
from pinhole.notifications.queue_records import IntentMessage
from pinhole.shared.observability import logger, metrics, tracer
from pinhole.streams.logic import routed_record
from pinhole.streams.models import RoutedRecordMessage

intent_queue = IntentQueue()
notifier = delivery.Notifier()
activity = SqsFifoPartialProcessor(model=RoutedRecordMessage, skip_group_on_error=True)
queue = SqsFifoPartialProcessor(model=IntentMessage, skip_group_on_error=True)


@tracer.capture_method
def activity_received(record: RoutedRecordMessage) -> None:
    delivery.relay(routed_record(record), intent_queue)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def on_activity(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=activity_received, processor=activity, context=context)


@tracer.capture_method
def intent_received(record: IntentMessage) -> None:
    if notifier.deliver(record.body):
        metrics.add_metric(name="NotificationsCreated", unit="Count", value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def deliver(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=intent_received, processor=queue, context=context)
