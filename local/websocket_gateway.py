"""The WebSocket API: $connect (with its REQUEST authorizer), route selection, route responses, $disconnect,
and the @connections management API, with API Gateway's handshake refusals, message size quota and refusal of
binary frames."""

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
from starlette.types import Message, Receive, Scope, Send

from local.http_gateway import request_time
from local.lambda_runner import LambdaRunner
from local.routes import DEFAULT_ROUTE, Api, Route
from local.template import ACCOUNT_ID, REGION

log = logging.getLogger("local.websocket")

MAX_MESSAGE_BYTES = 128 * 1024  # API Gateway's WebSocket message payload quota, both ways
MAX_FRAME_BYTES = 32 * 1024  # API Gateway's frame size quota, for what clients send (local/websocket_frames.py)
CLOSE_NORMAL = 1000
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_POLICY_VIOLATION = 1008
CLOSE_MESSAGE_TOO_BIG = 1009
HTTP_RESPONSE_EXTENSION = "websocket.http.response"
SUBPROTOCOL_HEADER = "sec-websocket-protocol"
_RFC_6455_SPELLINGS = {
    name.lower(): name
    for name in ("Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Extensions", "Sec-WebSocket-Protocol")
}
_LIFECYCLE_ROUTES = ("$connect", "$disconnect")


class Refusal(Exception):
    """API Gateway refuses the handshake with this HTTP status (and a `{"message": ...}` body)."""

    def __init__(self, status: int, message: str | None = None) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        """As the HTTP response AWS sends when the server can send one before accepting (uvicorn can);
        otherwise the only refusal ASGI has, a close before the handshake completes."""
        if HTTP_RESPONSE_EXTENSION in (scope.get("extensions") or {}):
            await JSONResponse({"message": self.message}, status_code=self.status)(scope, receive, send)
        else:
            await send({"type": "websocket.close", "code": CLOSE_POLICY_VIOLATION})


@dataclass
class Connection:
    connection_id: str
    send: Send
    source_ip: str
    user_agent: str
    connected_at: float = field(default_factory=time.time)
    last_active_at: float = field(default_factory=time.time)
    authorizer: dict[str, Any] | None = None
    # Route responses, @connections POSTs and closes come from different tasks: one at a time on the socket.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send_text(self, text: str) -> bool:
        """One text frame; False when the client has gone while the frame waited."""
        return await self._send_locked({"type": "websocket.send", "text": text})

    async def close(self, code: int) -> None:
        await self._send_locked({"type": "websocket.close", "code": code})

    async def _send_locked(self, message: Message) -> bool:
        async with self.lock:
            try:
                await self.send(message)
            except (OSError, RuntimeError):  # how servers say the socket is already closed
                return False
        return True


def _gone() -> Response:
    return JSONResponse({"message": None}, status_code=410, headers={"x-amzn-ErrorType": "GoneException"})


def _payload_too_large() -> Response:
    return JSONResponse(
        {"message": f"Message payload exceeds {MAX_MESSAGE_BYTES} bytes"},
        status_code=413,
        headers={"x-amzn-ErrorType": "PayloadTooLargeException"},
    )


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
        headers = [(as_sent(key.decode("latin-1")), value.decode("latin-1")) for key, value in scope["headers"]]
        connection = _connection_of(scope, send, headers)
        try:
            subprotocol = await self._open(connection, headers, scope.get("query_string", b"").decode("latin-1"))
        except Refusal as refusal:
            await refusal.answer(scope, receive, send)
            return
        self.connections[connection.connection_id] = connection
        await send(_accept(subprotocol))
        try:
            await self._receive_messages(connection, receive)
        finally:
            self.connections.pop(connection.connection_id, None)
            await self._invoke_route(
                self.routes.get("$disconnect"), self._event(connection, "$disconnect", "DISCONNECT")
            )

    async def _open(self, connection: Connection, headers: list[tuple[str, str]], query: str) -> str | None:
        """Runs the authorizer, then the $connect integration: the subprotocol to accept, or a Refusal."""
        route = self.routes.get("$connect")
        if route is None:
            return None
        event = self._event(connection, "$connect", "CONNECT", headers=headers, query=query)
        if route.custom_authorizer_function is not None:
            connection.authorizer = await self._authorize(route.custom_authorizer_function, event)
            event["requestContext"]["authorizer"] = connection.authorizer
        if route.function_logical_id is None:
            return None
        try:
            result = await self.runner.invoke_async(self.runner.get(route.function_logical_id), event)
        except Exception:
            log.exception("$connect failed")
            raise Refusal(502, "Internal server error") from None
        refusal = connect_refusal(result)
        if refusal is not None:
            raise refusal
        return subprotocol_of(result)

    async def _authorize(self, function: str, connect_event: dict[str, Any]) -> dict[str, Any]:
        """The authorizer's context for the connection's events, or the Refusal API Gateway answers."""
        event = {
            "type": "REQUEST",
            "methodArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{self.api.api_id}/{self.api.stage}/$connect",
            **{key: value for key, value in connect_event.items() if key != "isBase64Encoded"},
        }
        try:
            result = await self.runner.invoke_async(self.runner.get(function), event)
        except Exception as error:
            # Raising "Unauthorized" is the documented way for an authorizer to answer 401.
            if str(error) == "Unauthorized":
                raise Refusal(401, "Unauthorized") from None
            log.exception("$connect authorizer failed")
            raise Refusal(500) from None
        refusal = policy_refusal(result)
        if refusal is not None:
            raise refusal
        return {"principalId": result.get("principalId"), **(result.get("context") or {})}

    async def _receive_messages(self, connection: Connection, receive: Receive) -> None:
        while (message := await receive())["type"] != "websocket.disconnect":
            if _payload_size(message) > MAX_MESSAGE_BYTES:
                await connection.close(CLOSE_MESSAGE_TOO_BIG)
                return
            text = message.get("text")
            if text is None:
                # API Gateway takes no binary frame: it closes the connection with 1003 ("Binary media types for
                # WebSocket APIs"). Decoding one here, with replacement characters, routed what no client sent.
                await connection.close(CLOSE_UNSUPPORTED_DATA)
                return
            connection.last_active_at = time.time()
            await self._on_message(connection, text)

    async def _on_message(self, connection: Connection, body: str) -> None:
        route = self._select_route(body)
        if route is None:
            await connection.send_text(self._forbidden_frame(connection))
            return
        result = await self._invoke_route(route, self._event(connection, route.route_key, "MESSAGE", body=body))
        reply = route_response_body(result) if route.returns_response else None
        if reply:
            await connection.send_text(reply)

    def _select_route(self, body: str) -> Route | None:
        """The route the selection expression names in the frame, else $default (None if there is none).

        A frame API Gateway cannot evaluate the expression on goes to $default, whose integration answers it:
        not JSON, not an object, or JSON nested deeper than Python's parser goes (a RecursionError, which
        escaped here and dropped the sender's connection without a frame or a close)."""
        selected = None
        if self._selection_field:
            try:
                frame = json.loads(body)
            except (ValueError, RecursionError):
                frame = None
            selected = frame.get(self._selection_field) if isinstance(frame, dict) else None
        if isinstance(selected, str) and selected in self.routes and selected not in _LIFECYCLE_ROUTES:
            return self.routes[selected]
        return self.routes.get(DEFAULT_ROUTE)

    @staticmethod
    def _forbidden_frame(connection: Connection) -> str:
        """What API Gateway answers a frame no route takes."""
        return json.dumps(
            {"message": "Forbidden", "connectionId": connection.connection_id, "requestId": str(uuid.uuid4())}
        )

    async def _invoke_route(self, route: Route | None, event: dict[str, Any]) -> Any:
        """The integration's result; None when there is none or it failed (logged, the connection stays)."""
        if route is None or route.function_logical_id is None:
            return None
        try:
            return await self.runner.invoke_async(self.runner.get(route.function_logical_id), event)
        except Exception:
            log.exception("WebSocket route %s failed", route.route_key)
            return None

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
            response = _gone()
        elif request.method == "POST":
            response = await self._post(connection, await request.body())
        elif request.method == "GET":
            response = _connection_info(connection)
        elif request.method == "DELETE":
            response = await self._delete(connection)
        else:
            response = JSONResponse({"message": "Method Not Allowed"}, status_code=405)
        await response(scope, receive, send)

    async def _post(self, connection: Connection, data: bytes) -> Response:
        if len(data) > MAX_MESSAGE_BYTES:
            return _payload_too_large()
        if not await connection.send_text(data.decode("utf-8", errors="replace")):
            self.connections.pop(connection.connection_id, None)
            return _gone()
        return Response(status_code=200)

    async def _delete(self, connection: Connection) -> Response:
        self.connections.pop(connection.connection_id, None)
        await connection.close(CLOSE_NORMAL)
        return Response(status_code=204)


def _connection_of(scope: Scope, send: Send, headers: list[tuple[str, str]]) -> Connection:
    client = scope.get("client") or ("127.0.0.1", 0)
    return Connection(
        connection_id=base64.urlsafe_b64encode(uuid.uuid4().bytes[:10]).decode(),
        send=send,
        source_ip=client[0],
        user_agent=next((value for name, value in headers if name.lower() == "user-agent"), ""),
    )


def _connection_info(connection: Connection) -> Response:
    return JSONResponse(
        {
            "connectedAt": _iso(connection.connected_at),
            "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
            "lastActiveAt": _iso(connection.last_active_at),
        }
    )


def as_sent(name: str) -> str:
    """A header name as browsers and WebSocket clients write it, which is how AWS hands it to handlers.

    ASGI servers lowercase header names (uvicorn's HTTP parser does, before the upgrade), so handlers
    reading `headers["Sec-WebSocket-Protocol"]` as they would on AWS need the usual spelling back.
    """
    if name != name.lower():
        return name
    return _RFC_6455_SPELLINGS.get(name) or "-".join(part.capitalize() for part in name.split("-"))


def _accept(subprotocol: str | None) -> Message:
    return {"type": "websocket.accept", **({"subprotocol": subprotocol} if subprotocol else {})}


def _payload_size(message: Message) -> int:
    text = message.get("text")
    return len(text.encode("utf-8")) if text is not None else len(message.get("bytes") or b"")


def policy_refusal(result: Any) -> Refusal | None:
    """None when the authorizer's IAM policy lets the connection in; else API Gateway's answer: 403 for
    an explicit Deny or no Allow at all, 500 (AuthorizerConfigurationException) for a result that is no
    policy (WebSocket APIs take no `isAuthorized` simple responses)."""
    document = result.get("policyDocument") if isinstance(result, dict) else None
    statements = document.get("Statement") if isinstance(document, dict) else None
    if not isinstance(statements, list):
        return Refusal(500)
    effects = {statement.get("Effect") for statement in statements if isinstance(statement, dict)}
    if "Deny" in effects or "Allow" not in effects:
        return Refusal(403, "Forbidden")
    return None


def connect_refusal(result: Any) -> Refusal | None:
    """None when the $connect integration answered 2xx (a result without statusCode counts as 200); else
    API Gateway answers the handshake with that status, or 502 when the result holds no HTTP status."""
    status = result.get("statusCode", 200) if isinstance(result, dict) else 200
    if not isinstance(status, int) or not 200 <= status < 600:
        return Refusal(502, "Internal server error")
    return None if status < 300 else Refusal(status)


def subprotocol_of(result: Any) -> str | None:
    """The subprotocol the $connect integration chose among those the client offered, if any."""
    headers = result.get("headers") if isinstance(result, dict) else None
    if not isinstance(headers, dict):
        return None
    chosen = next((value for name, value in headers.items() if name.lower() == SUBPROTOCOL_HEADER), None)
    return str(chosen) if chosen else None


def route_response_body(result: Any) -> str | None:
    """What a two-way route sends back to its caller: the proxy result's body, when it is a string."""
    body = result.get("body") if isinstance(result, dict) else None
    return body if isinstance(body, str) else None


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch * 1000) % 1000:03d}Z"
