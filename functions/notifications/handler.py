"""Lambda entry points of the notifications context:
- `handler`: GET /notifications, GET /notifications/unread-count and POST /notifications/read (JWT);
- `on_activity`: the interactions, graph and posts tables' records (from their stream routers, through a
  FIFO queue of its own) — each record's notification intents onto the FIFO intents queue;
- `deliver`: the FIFO queue — each intent stored (or taken back) and pushed to the recipient.
The consumers report partial batch failures; each stops at a failed message of a group and goes on with
the other groups, as FIFO order requires."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.notifications import logic
from pinhole.notifications.intent_queue import IntentQueue
from pinhole.notifications.models import IntentMessage, Notification, ReadNotificationsRequest, UnreadCount
from pinhole.shared.api import BEARER_AUTH, Cursor, Limit, Page, apply_api_conventions, current_caller, no_content
from pinhole.shared.observability import logger, metrics, tracer
from pinhole.streams.logic import routed_record
from pinhole.streams.models import RoutedRecordMessage

OptionalReadRequest = Annotated[ReadNotificationsRequest | None, Body(description="Optional: up to which one")]

app = APIGatewayHttpResolver(enable_validation=True)
apply_api_conventions(app)

intent_queue = IntentQueue()
notifier = logic.Notifier()
activity = SqsFifoPartialProcessor(model=RoutedRecordMessage, skip_group_on_error=True)
queue = SqsFifoPartialProcessor(model=IntentMessage, skip_group_on_error=True)


@app.get("/notifications", summary="Your notifications, newest first", tags=["notifications"], security=BEARER_AUTH)
@tracer.capture_method
def notifications(limit: Limit = 20, cursor: Cursor = None) -> Page[Notification]:
    items, next_cursor = logic.notifications(current_caller(app), limit, cursor)
    return Page[Notification](items=items, next_cursor=next_cursor)


@app.get(
    "/notifications/unread-count",
    summary="How many notifications are unread (the badge; one read, cheap to poll)",
    tags=["notifications"],
    security=BEARER_AUTH,
)
@tracer.capture_method
def unread_count() -> UnreadCount:
    return UnreadCount(count=logic.unread_count(current_caller(app)))


@app.post(
    "/notifications/read",
    summary="Mark notifications read: up to one of them, or all",
    tags=["notifications"],
    security=BEARER_AUTH,
    status_code=204,
)
@tracer.capture_method
def mark_read(request: OptionalReadRequest = None) -> Response[None]:
    logic.mark_read(current_caller(app), (request or ReadNotificationsRequest()).up_to)
    return no_content()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)


@tracer.capture_method
def activity_received(record: RoutedRecordMessage) -> None:
    logic.relay(routed_record(record), intent_queue)


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
