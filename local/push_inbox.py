"""The local cloud's device inboxes: what SNS mobile push would hand to APNs or FCM, per device, read
from moto's platform endpoints (in this process) and served at `/_local/push`. Local only: on AWS the
phones receive it.

    GET    /_local/push[?token=<device token>]     {"items": [Device inbox...]}: per endpoint, its token,
                                                   platform, whether it is enabled, and what reached it
                                                   (the payload of its platform, decoded), oldest first
    POST   /_local/push/disable?token=<token>      the platform reports the token invalid (an app removed
                                                   from the phone): SNS disables the endpoint, as APNs'
                                                   and FCM's feedback make it do
    DELETE /_local/push                            204, every inbox emptied
"""

from __future__ import annotations

import json
from typing import Any

from moto.sns.models import PlatformEndpoint, sns_backends
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from local.errors import error_response
from local.template import ACCOUNT_ID, REGION

PUSH_PREFIX = "/_local/push"
_PLATFORM_KEYS = {"APNS": "APNS", "APNS_SANDBOX": "APNS_SANDBOX", "GCM": "GCM"}


def _delivered(platform: str, message: str) -> Any:
    """What the phone gets: the message's key for its platform (MessageStructure=json), else `default`."""
    try:
        structure = json.loads(message)
    except json.JSONDecodeError:
        return message
    if not isinstance(structure, dict):
        return message
    own = structure.get(_PLATFORM_KEYS.get(platform, platform), structure.get("default"))
    try:
        return json.loads(own) if isinstance(own, str) else own
    except json.JSONDecodeError:
        return own


def _endpoints() -> list[PlatformEndpoint]:
    return list(sns_backends[ACCOUNT_ID][REGION].platform_endpoints.values())


def inboxes(token: str | None = None) -> list[dict[str, Any]]:
    return [
        {
            "token": endpoint.token,
            "platform": endpoint.application.platform,
            "endpoint_arn": endpoint.arn,
            "enabled": endpoint.enabled,
            "messages": [
                {"message_id": message_id, "payload": _delivered(endpoint.application.platform, message)}
                for message_id, message in endpoint.messages.items()
            ],
        }
        for endpoint in _endpoints()
        if token is None or endpoint.token == token
    ]


def disable(token: str) -> int:
    found = [endpoint for endpoint in _endpoints() if endpoint.token == token]
    for endpoint in found:
        endpoint.attributes["Enabled"] = False
    return len(found)


def clear() -> None:
    for endpoint in _endpoints():
        endpoint.messages.clear()


class PushInboxEndpoint:
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self._respond(Request(scope, receive))
        await response(scope, receive, send)

    def _respond(self, request: Request) -> Response:
        path = request.url.path.removeprefix(request.scope.get("root_path", "")).rstrip("/")
        token = request.query_params.get("token")
        if path == "/disable":
            if request.method != "POST":
                return error_response(405, "method_not_allowed", "Disabling is a POST.", {"Allow": "POST"})
            if not token:
                return error_response(422, "validation_error", "Name the device by its token: ?token=...")
            if not disable(token):
                return error_response(404, "not_found", "No endpoint has this token.")
            return Response(status_code=204)
        if path:
            return error_response(404, "not_found", "No such local push surface.")
        if request.method == "DELETE":
            clear()
            return Response(status_code=204)
        if request.method != "GET":
            return error_response(
                405, "method_not_allowed", "The inboxes are read or emptied.", {"Allow": "GET, DELETE"}
            )
        body = json.dumps({"items": inboxes(token)})
        return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})
