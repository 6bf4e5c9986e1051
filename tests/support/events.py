"""Real Lambda event shapes (samples from the Powertools test suite, in tests/events/), adjusted per test."""

import copy
import json
from dataclasses import dataclass
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
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event as AWS sends it for this request."""
    event = copy.deepcopy(_HTTP_TEMPLATE)
    event["routeKey"] = route_key or f"{method} {path}"
    event["rawPath"] = path
    event["rawQueryString"] = ""
    event.pop("queryStringParameters")
    event.pop("cookies")
    event["headers"] = {"content-type": "application/json", "user-agent": "pytest"}
    event["requestContext"]["routeKey"] = event["routeKey"]
    event["requestContext"]["http"].update(method=method, path=path)
    event["requestContext"]["authorizer"] = {"jwt": {"claims": claims or {}, "scopes": []}} if claims else {}
    event["pathParameters"] = path_parameters or {}
    event["body"] = body if isinstance(body, str) or body is None else json.dumps(body)
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


def response_json(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None
