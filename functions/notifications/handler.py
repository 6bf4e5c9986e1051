"""The notifications context's HTTP entry point, `handler`: GET /notifications, GET /notifications/unread-count and
POST /notifications/read (JWT). Its queue consumers are `consumers.py`'s: each function imports only its own entry
module."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.notifications import logic
from pinhole.notifications.models import Notification, ReadNotificationsRequest, UnreadCount
from pinhole.shared.api import BEARER_AUTH, Cursor, Limit, Page, apply_api_conventions, current_caller, no_content
from pinhole.shared.observability import logger, metrics, tracer

OptionalReadRequest = Annotated[ReadNotificationsRequest | None, Body(description="Optional: up to which one")]

app = APIGatewayHttpResolver(enable_validation=True)
apply_api_conventions(app)


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
    return UnreadCount(count=logic.unread_count(current_caller(app).user_id))


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
