"""The WebSocket API: $connect (with its REQUEST authorizer), route selection, $disconnect, @connections."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from local.http_gateway import request_time
from local.lambda_runner import LambdaRunner
from local.routes import DEFAULT_ROUTE, Api, Route
from local.template import ACCOUNT_ID, REGION

log = logging.getLogger("local.websocket")


@dataclass
class Connection:
    connection_id: str
    send: Send
    source_ip: str
    user_agent: str
    connected_at: float = field(default_factory=time.time)
    last_active_at: float = field(default_factory=time.time)
    authorizer: dict[str, Any] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def _gone() -> Response:
    return JSONResponse({"message": None}, status_code=410, headers={"x-amzn-ErrorType": "GoneException"})


class WebSocketGateway:
    def __init__(self, api: Api, runner: LambdaRunner) -> None:
        self.api = api
        self.runner = runner
        self.routes: dict[str, Route] = {route.route_key: route for route in api.routes}
        self.connections: dict[str, Connection] = {}
        selection = api.route_selection_expression
        body_prefix = "$request.body."
        self._selection_field = selection.removeprefix(body_prefix) if selection.startswith(body_prefix) else None

    # --- the client side -------------------------------------------------------------------
    async def connect(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        headers = [(key.decode("latin-1"), value.decode("latin-1")) for key, value in scope["headers"]]
        query = scope.get("query_string", b"").decode("latin-1")
        client = scope.get("client") or ("127.0.0.1", 0)
        connection = Connection(
            connection_id=base64.urlsafe_b64encode(uuid.uuid4().bytes[:10]).decode(),
            send=send,
            source_ip=client[0],
            user_agent=dict((k.lower(), v) for k, v in headers).get("user-agent", ""),
        )
        if not await self._authorize_and_connect(connection, headers, query):
            await send({"type": "websocket.close", "code": 1008})
            return
        self.connections[connection.connection_id] = connection
        await send({"type": "websocket.accept"})
        try:
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    break
                body = message.get("text")
                if body is None:
                    body = (message.get("bytes") or b"").decode("utf-8", errors="replace")
                connection.last_active_at = time.time()
                await self._on_message(connection, body)
        finally:
            self.connections.pop(connection.connection_id, None)
            await self._invoke_route("$disconnect", connection, self._event(connection, "$disconnect", "DISCONNECT"))

    async def _authorize_and_connect(self, connection: Connection, headers: list[tuple[str, str]], query: str) -> bool:
        route = self.routes.get("$connect")
        event = self._event(connection, "$connect", "CONNECT", headers=headers, query=query)
        if route is not None and route.custom_authorizer_function is not None:
            authorizer_event = {
                "type": "REQUEST",
                "methodArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{self.api.api_id}/{self.api.stage}/$connect",
                **{key: value for key, value in event.items() if key not in ("isBase64Encoded",)},
            }
            try:
                result = await self.runner.invoke_async(
                    self.runner.get(route.custom_authorizer_function), authorizer_event
                )
            except Exception:
                log.exception("$connect authorizer failed")
                return False
            if not _allows(result):
                return False
            connection.authorizer = {"principalId": result.get("principalId"), **(result.get("context") or {})}
            event["requestContext"]["authorizer"] = connection.authorizer
        if route is None or route.function_logical_id is None:
            return True
        return await self._invoke_route("$connect", connection, event)

    async def _on_message(self, connection: Connection, body: str) -> None:
        route_key = DEFAULT_ROUTE
        if self._selection_field:
            try:
                selected = json.loads(body).get(self._selection_field)
            except (ValueError, AttributeError):
                selected = None
            if isinstance(selected, str) and selected in self.routes:
                route_key = selected
        if route_key not in self.routes:
            await connection.send(
                {
                    "type": "websocket.send",
                    "text": json.dumps(
                        {
                            "message": "Forbidden",
                            "connectionId": connection.connection_id,
                            "requestId": str(uuid.uuid4()),
                        }
                    ),
                }
            )
            return
        event = self._event(connection, route_key, "MESSAGE", body=body)
        await self._invoke_route(route_key, connection, event)

    async def _invoke_route(self, route_key: str, connection: Connection, event: dict[str, Any]) -> bool:
        route = self.routes.get(route_key)
        if route is None or route.function_logical_id is None:
            return True
        try:
            result = await self.runner.invoke_async(self.runner.get(route.function_logical_id), event)
        except Exception:
            log.exception("WebSocket route %s failed", route_key)
            return False
        status = result.get("statusCode", 200) if isinstance(result, dict) else 200
        return isinstance(status, int) and 200 <= status < 300

    def _event(
        self,
        connection: Connection,
        route_key: str,
        event_type: str,
        headers: list[tuple[str, str]] | None = None,
        query: str | None = None,
        body: str | None = None,
    ) -> dict[str, Any]:
        now_ms = int(time.time() * 1000)
        request_id = base64.urlsafe_b64encode(uuid.uuid4().bytes[:10]).decode()
        context: dict[str, Any] = {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": request_time(now_ms),
            "messageDirection": "IN",
            "stage": self.api.stage,
            "connectedAt": int(connection.connected_at * 1000),
            "requestTimeEpoch": now_ms,
            "identity": {"sourceIp": connection.source_ip},
            "requestId": request_id,
            "domainName": f"{self.api.api_id}.execute-api.{REGION}.amazonaws.com",
            "connectionId": connection.connection_id,
            "apiId": self.api.api_id,
        }
        if event_type == "MESSAGE":
            context["messageId"] = request_id
        if connection.authorizer is not None:
            context["authorizer"] = connection.authorizer
        event: dict[str, Any] = {}
        if headers is not None:
            single: dict[str, str] = {}
            multi: dict[str, list[str]] = {}
            for name, value in headers:
                single[name] = value
                multi.setdefault(name, []).append(value)
            pairs = parse_qsl(query or "", keep_blank_values=True)
            multi_query: dict[str, list[str]] = {}
            for name, value in pairs:
                multi_query.setdefault(name, []).append(value)
            event.update(
                {
                    "headers": single,
                    "multiValueHeaders": multi,
                    "queryStringParameters": dict(pairs),
                    "multiValueQueryStringParameters": multi_query,
                }
            )
        event["requestContext"] = context
        if body is not None:
            event["body"] = body
        event["isBase64Encoded"] = False
        return event

    # --- the @connections management API ---------------------------------------------------
    async def management(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        path = scope["path"].removeprefix(scope.get("root_path", ""))
        parts = [part for part in path.split("/") if part]
        # With the stage (the callback URL AWS gives) or without (AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI).
        if len(parts) == 2:
            parts = [self.api.stage, *parts]
        if len(parts) != 3 or parts[1] != "@connections":
            await JSONResponse({"message": "Not Found"}, status_code=404)(scope, receive, send)
            return
        connection = self.connections.get(parts[2])
        if connection is None:
            await _gone()(scope, receive, send)
            return
        if request.method == "POST":
            data = await request.body()
            async with connection.lock:
                try:
                    await connection.send({"type": "websocket.send", "text": data.decode("utf-8", errors="replace")})
                except Exception:
                    self.connections.pop(connection.connection_id, None)
                    await _gone()(scope, receive, send)
                    return
            response: Response = Response(status_code=200)
        elif request.method == "GET":
            response = JSONResponse(
                {
                    "ConnectedAt": _iso(connection.connected_at),
                    "Identity": {"SourceIp": connection.source_ip, "UserAgent": connection.user_agent},
                    "LastActiveAt": _iso(connection.last_active_at),
                }
            )
        elif request.method == "DELETE":
            self.connections.pop(connection.connection_id, None)
            async with connection.lock:
                await connection.send({"type": "websocket.close", "code": 1000})
            response = Response(status_code=204)
        else:
            response = JSONResponse({"message": "Method Not Allowed"}, status_code=405)
        await response(scope, receive, send)


def _allows(result: Any) -> bool:
    if not isinstance(result, dict):
        return False
    if "isAuthorized" in result:
        return bool(result["isAuthorized"])
    statements = (result.get("policyDocument") or {}).get("Statement") or []
    effects = [statement.get("Effect") for statement in statements if isinstance(statement, dict)]
    return bool(effects) and "Deny" not in effects and "Allow" in effects


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch * 1000) % 1000:03d}Z"
