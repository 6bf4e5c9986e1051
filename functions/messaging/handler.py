"""Lambda entry point of the messaging context's HTTP routes: send a message (text or photo), list
conversations and their messages, mark a conversation read, mute it, unsend; create a group, rename it,
add and remove members. The same use cases serve the WebSocket frames (websocket.py); an `Idempotency-Key`
on a message here is the `client_id` of a frame there (messaging keeps its own record of it), one on a group's
creation goes through the shared mechanism (pinhole.shared.idempotency), as posts and comments do."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.messaging import logic
from pinhole.messaging.models import (
    AddMembersRequest,
    Conversation,
    CreateConversationRequest,
    MarkReadRequest,
    Message,
    SendMessageRequest,
    SentMessage,
    UpdateConversationRequest,
)
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
from pinhole.shared.idempotency import once
from pinhole.shared.observability import logger, metrics, tracer
from pinhole.users.models import Username

ConversationId = Annotated[str, Path(max_length=160)]
MessageIdPath = Annotated[str, Path(max_length=64)]

app = APIGatewayHttpResolver(enable_validation=True)
apply_api_conventions(app)


@app.post(
    "/messages",
    summary="Send a message to a person or a conversation; with media, get the photo's pre-signed upload",
    tags=["messaging"],
    security=BEARER_AUTH,
    status_code=201,
)
@tracer.capture_method
def send_message(request: Annotated[SendMessageRequest, Body()], idempotency_key: IdempotencyKey = None) -> SentMessage:
    message = logic.send(current_caller(app), request, client_id=idempotency_key)
    metrics.add_metric(name="MessagesSent", unit="Count", value=1)
    return message


@app.post(
    "/conversations",
    summary="Start a group conversation (3 to 32 members, you included)",
    tags=["messaging"],
    security=BEARER_AUTH,
    status_code=201,
)
@tracer.capture_method
def create_conversation(
    request: Annotated[CreateConversationRequest, Body()], idempotency_key: IdempotencyKey = None
) -> Conversation:
    caller = current_caller(app)
    return once(
        caller,
        "create_group",
        idempotency_key,
        lambda: logic.create_group(caller, request),
        Conversation,
        app.lambda_context,
        request=request.as_retried_by(caller.username),
    )


@app.patch(
    "/conversations/<conversation_id>", summary="Rename a group conversation", tags=["messaging"], security=BEARER_AUTH
)
@tracer.capture_method
def rename_conversation(
    conversation_id: ConversationId, request: Annotated[UpdateConversationRequest, Body()]
) -> Conversation:
    return logic.rename_group(current_caller(app), conversation_id, request.title)


@app.post(
    "/conversations/<conversation_id>/members",
    summary="Add people to a group conversation",
    tags=["messaging"],
    security=BEARER_AUTH,
)
@tracer.capture_method
def add_members(conversation_id: ConversationId, request: Annotated[AddMembersRequest, Body()]) -> Conversation:
    return logic.add_members(current_caller(app), conversation_id, request)


@app.delete(
    "/conversations/<conversation_id>/members/<username>",
    summary="Leave a group conversation (your own username), or remove a member (the group's admin)",
    tags=["messaging"],
    security=BEARER_AUTH,
    status_code=204,
)
@tracer.capture_method
def remove_member(conversation_id: ConversationId, username: Annotated[Username, Path()]) -> Response[None]:
    logic.remove_member(current_caller(app), conversation_id, username)
    return no_content()


@app.post(
    "/conversations/<conversation_id>/mute",
    summary="Mute a conversation: its messages still arrive, but are not pushed to your phones (idempotent)",
    tags=["messaging"],
    security=BEARER_AUTH,
    status_code=204,
)
@tracer.capture_method
def mute_conversation(conversation_id: ConversationId) -> Response[None]:
    logic.mute_conversation(current_caller(app), conversation_id, muted=True)
    return no_content()


@app.delete(
    "/conversations/<conversation_id>/mute",
    summary="Unmute a conversation (idempotent)",
    tags=["messaging"],
    security=BEARER_AUTH,
    status_code=204,
)
@tracer.capture_method
def unmute_conversation(conversation_id: ConversationId) -> Response[None]:
    logic.mute_conversation(current_caller(app), conversation_id, muted=False)
    return no_content()


@app.delete(
    "/conversations/<conversation_id>/messages/<message_id>",
    summary="Unsend one of your messages, for everyone",
    tags=["messaging"],
    security=BEARER_AUTH,
    status_code=204,
)
@tracer.capture_method
def unsend(conversation_id: ConversationId, message_id: MessageIdPath) -> Response[None]:
    logic.unsend(current_caller(app), conversation_id, message_id)
    return no_content()


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
