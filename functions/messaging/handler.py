"""Lambda entry point of the messaging context's HTTP routes: send a direct message, list
conversations and their messages, mark a conversation read. The same use cases serve the WebSocket
frames (websocket.py); an `Idempotency-Key` here is the `client_id` of a frame there."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.messaging import logic
from pinhole.messaging.models import Conversation, MarkReadRequest, Message, SendMessageRequest
from pinhole.shared.api import (
    BEARER_AUTH,
    Cursor,
    IdempotencyKey,
    Limit,
    Page,
    apply_api_conventions,
    current_caller,
    no_content,
)
from pinhole.shared.observability import logger, metrics, tracer

ConversationId = Annotated[str, Path(max_length=160)]

app = APIGatewayHttpResolver(enable_validation=True)
apply_api_conventions(app)


@app.post("/messages", summary="Send a direct message", tags=["messaging"], security=BEARER_AUTH, status_code=201)
@tracer.capture_method
def send_message(request: Annotated[SendMessageRequest, Body()], idempotency_key: IdempotencyKey = None) -> Message:
    message = logic.send(current_caller(app), request, client_id=idempotency_key)
    metrics.add_metric(name="MessagesSent", unit="Count", value=1)
    return message


@app.get(
    "/conversations", summary="Your conversations, latest activity first", tags=["messaging"], security=BEARER_AUTH
)
@tracer.capture_method
def conversations(limit: Limit = 20, cursor: Cursor = None) -> Page[Conversation]:
    items, next_cursor = logic.conversations(current_caller(app), limit, cursor)
    return Page[Conversation](items=items, next_cursor=next_cursor)


@app.get(
    "/conversations/<conversation_id>/messages",
    summary="A conversation's messages, newest first",
    tags=["messaging"],
    security=BEARER_AUTH,
)
@tracer.capture_method
def messages(conversation_id: ConversationId, limit: Limit = 20, cursor: Cursor = None) -> Page[Message]:
    items, next_cursor = logic.conversation_messages(current_caller(app), conversation_id, limit, cursor)
    return Page[Message](items=items, next_cursor=next_cursor)


@app.post(
    "/conversations/<conversation_id>/read",
    summary="Mark a conversation read up to a message",
    tags=["messaging"],
    security=BEARER_AUTH,
    status_code=204,
)
@tracer.capture_method
def mark_read(conversation_id: ConversationId, request: Annotated[MarkReadRequest, Body()]) -> Response[None]:
    logic.mark_read(current_caller(app), conversation_id, request.up_to)
    return no_content()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
