"""Lambda entry point of the WebSocket API's routes: `$connect` and `$disconnect` keep the registry
of open connections; `sendMessage`, `markRead`, `typing` and `ping` act on a frame; `$default` answers any
other frame. A bad frame gets an error frame and the connection stays open (API.md)."""

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ValidationError

from pinhole.messaging import logic
from pinhole.messaging.models import (
    AckFrame,
    ErrorFrame,
    MarkReadFrame,
    PongFrame,
    SendMessageFrame,
    TypingFrame,
)
from pinhole.realtime.dal import ConnectionRepository
from pinhole.realtime.handshake import PROTOCOL_HEADER, selected_protocol
from pinhole.shared.caller import Caller
from pinhole.shared.errors import DomainError, RateLimited
from pinhole.shared.observability import logger, metrics, tracer
from pinhole.shared.throttling import RETRY_AFTER_S, throttled_by_aws

_connections = ConnectionRepository()


class BadFrame(Exception):
    def __init__(self, frame: ErrorFrame) -> None:
        super().__init__(frame.message)
        self.frame = frame


def _caller(request: APIGatewayProxyEvent) -> Caller:
    """Who the `$connect` authorizer said this connection belongs to."""
    authorizer = request.request_context.authorizer.raw_event
    return Caller(user_id=str(authorizer["principalId"]), username=str(authorizer.get("username", "")))


def _frame(request: APIGatewayProxyEvent) -> dict[str, Any]:
    try:
        frame = json.loads(request.body or "")
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        frame = None
    if not isinstance(frame, dict):
        raise BadFrame(ErrorFrame(code="invalid_frame", message="A frame is a JSON object with an `action`."))
    return frame


def _parse(model: type[Any], frame: dict[str, Any]) -> Any:
    try:
        return model.model_validate(frame)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, issue['loc']))}: {issue['msg']}" for issue in error.errors())
        client_id = frame.get("client_id") if isinstance(frame.get("client_id"), str) else None
        raise BadFrame(ErrorFrame(code="validation_error", message=problems, client_id=client_id)) from None


def connect(request: APIGatewayProxyEvent, caller: Caller) -> dict[str, Any]:
    session = request.request_context.authorizer.raw_event.get("session")  # the authorizer's: its token's log-in
    _connections.add(caller.user_id, request.request_context.connection_id, session=session)
    protocol = selected_protocol(request.headers)
    return {"statusCode": 200, "headers": {PROTOCOL_HEADER: protocol} if protocol else {}}


def disconnect(request: APIGatewayProxyEvent, caller: Caller) -> None:
    _connections.remove(caller.user_id, request.request_context.connection_id)


def send_message(request: APIGatewayProxyEvent, caller: Caller) -> AckFrame:
    frame = _parse(SendMessageFrame, _frame(request))
    try:
        message = logic.send(caller, frame, frame.client_id, from_connection=request.request_context.connection_id)
    except DomainError as error:
        raise BadFrame(_error_frame(error, frame.client_id)) from None
    metrics.add_metric(name="MessagesSent", unit="Count", value=1)
    return AckFrame(client_id=frame.client_id, message=message)


def mark_read(request: APIGatewayProxyEvent, caller: Caller) -> None:
    frame = _parse(MarkReadFrame, _frame(request))
    logic.mark_read(caller, frame.conversation_id, frame.up_to, from_connection=request.request_context.connection_id)


def typing(request: APIGatewayProxyEvent, caller: Caller) -> None:
    frame = _parse(TypingFrame, _frame(request))
    logic.typing(caller, frame.conversation_id, from_connection=request.request_context.connection_id)


def ping(request: APIGatewayProxyEvent, caller: Caller) -> PongFrame:
    return PongFrame()


def unknown(request: APIGatewayProxyEvent, caller: Caller) -> None:
    action = _frame(request).get("action")
    raise BadFrame(ErrorFrame(code="unknown_action", message=f"Unknown action {action!r}: see API.md."))


ROUTES: dict[str, Callable[[APIGatewayProxyEvent, Caller], Any]] = {
    "$connect": connect,
    "$disconnect": disconnect,
    "sendMessage": send_message,
    "markRead": mark_read,
    "typing": typing,
    "ping": ping,
    "$default": unknown,
}


def _error_frame(error: DomainError, client_id: str | None = None) -> ErrorFrame:
    retry_after = error.retry_after_s if isinstance(error, RateLimited) else None
    return ErrorFrame(code=error.code, message=error.message, client_id=client_id, retry_after_s=retry_after)


def _unexpected_frame(error: Exception, route: str | None) -> ErrorFrame:
    """AWS throttling us is `unavailable` with a delay to retry after (as over HTTP); anything else our fault."""
    if throttled_by_aws(error):
        logger.warning("Throttled by AWS", extra={"route": route, "error_type": type(error).__name__})
        return ErrorFrame(
            code="unavailable", message="Too busy right now: retry in a moment.", retry_after_s=RETRY_AFTER_S
        )
    logger.exception("Frame failed", extra={"route": route})
    return ErrorFrame(code="internal", message="Something went wrong on our side.")


def _answer(frame: BaseModel | None) -> dict[str, Any]:
    if frame is None:
        return {"statusCode": 200}
    # An error frame's optional fields are left out when empty; every other frame is sent whole.
    return {"statusCode": 200, "body": frame.model_dump_json(exclude_none=isinstance(frame, ErrorFrame))}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict[str, Any]:
    request = APIGatewayProxyEvent(event)
    route = ROUTES.get(request.request_context.route_key or "", unknown)
    try:
        result = route(request, _caller(request))
    except BadFrame as bad:
        return _answer(bad.frame)
    except DomainError as error:
        return _answer(_error_frame(error))
    except Exception as error:
        return _answer(_unexpected_frame(error, request.request_context.route_key))
    return result if isinstance(result, dict) else _answer(result)
