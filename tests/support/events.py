"""Real Lambda event shapes (samples from the Powertools test suite, in tests/events/), adjusted per test."""

import base64
import copy
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parent.parent / "events"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


_HTTP_TEMPLATE = load_event("apiGatewayProxyV2Event.json")


def http_event(
    method: str,
    path: str,
    *,
    route_key: str | None = None,
    body: Any = None,
    claims: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    raw_body: bytes | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event as AWS sends it for this request. `raw_body` is a body that
    travels base64-encoded (`isBase64Encoded`), as the local cloud passes a JSON body that is not UTF-8."""
    event = copy.deepcopy(_HTTP_TEMPLATE)
    event["routeKey"] = route_key or f"{method} {path}"
    event["rawPath"] = path
    event["rawQueryString"] = ""
    event.pop("queryStringParameters")
    event.pop("cookies")
    event["headers"] = {"content-type": "application/json", "user-agent": "pytest"}
    event["requestContext"]["routeKey"] = event["routeKey"]
    event["requestContext"]["http"].update(method=method, path=path)
    event["requestContext"]["authorizer"] = (
        {"jwt": {"claims": {"token_use": "access", **claims}, "scopes": []}} if claims else {}
    )
    event["pathParameters"] = path_parameters or {}
    event["body"] = body if isinstance(body, str) or body is None else json.dumps(body)
    if raw_body is not None:
        event["body"], event["isBase64Encoded"] = base64.b64encode(raw_body).decode(), True
    return event


@dataclass
class FakeLambdaContext:
    function_name: str = "test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


@dataclass
class CountdownLambdaContext(FakeLambdaContext):
    """A context whose remaining time runs down from the function's Timeout, as Lambda's does."""

    timeout_s: float = 30.0
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]
        return max(0, int((self.started + self.timeout_s - time.monotonic()) * 1000))


def response_json(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None


_WEBSOCKET_TEMPLATES = {
    "$connect": load_event("apiGatewayWebSocketApiConnect.json"),
    "$disconnect": load_event("apiGatewayWebSocketApiDisconnect.json"),
}
_WEBSOCKET_MESSAGE = load_event("apiGatewayWebSocketApiMessage.json")


def websocket_event(
    route_key: str,
    connection_id: str,
    caller: dict[str, str] | None,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A WebSocket API event as AWS sends it to a route's function; `caller` (JWT claims: sub,
    username, and the log-in's `session` where the test names it) is what the $connect authorizer put on the
    connection."""
    event = copy.deepcopy(_WEBSOCKET_TEMPLATES.get(route_key, _WEBSOCKET_MESSAGE))
    context = event["requestContext"]
    context.update(routeKey=route_key, connectionId=connection_id)
    if caller is not None:
        context["authorizer"] = {"principalId": caller["sub"], "username": caller["username"], "integrationLatency": 3}
        if "session" in caller:
            context["authorizer"]["session"] = caller["session"]
    if headers is not None:
        event["headers"] = headers
        event["multiValueHeaders"] = {name: [value] for name, value in headers.items()}
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    return event


def authorizer_event(query: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """The REQUEST authorizer event of a WebSocket $connect."""
    event = copy.deepcopy(load_event("apiGatewayAuthorizerWebSocketEvent.json"))
    event["queryStringParameters"] = query or {}
    event["multiValueQueryStringParameters"] = {name: [value] for name, value in (query or {}).items()}
    event["headers"] = headers or {}
    event["multiValueHeaders"] = {name: [value] for name, value in (headers or {}).items()}
    return event
