"""The WebSocket gateway as API Gateway behaves: handshake refusals, subprotocols, route responses, quotas.

The gateway is driven as an ASGI server drives it, with in-memory handlers in place of the Lambda runner.
"""

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from local.routes import Api, Route
from local.websocket_gateway import (
    CLOSE_MESSAGE_TOO_BIG,
    CLOSE_POLICY_VIOLATION,
    CLOSE_UNSUPPORTED_DATA,
    MAX_MESSAGE_BYTES,
    WebSocketGateway,
    as_sent,
    policy_refusal,
)
from tests.support.asyncio_run import run as run_coroutine

Handler = Callable[[dict[str, Any]], Any]
ALLOW = {"principalId": "u1", "policyDocument": {"Statement": [{"Effect": "Allow"}]}, "context": {"username": "al"}}
HTTP_RESPONSE_EXTENSION = {"websocket.http.response": {}}


class FakeRunner:
    """Handlers by function name, called on the event loop: the gateway needs only get() and invoke_async()."""

    def __init__(self, handlers: dict[str, Handler]) -> None:
        self.handlers = handlers
        self.events: list[tuple[str, dict[str, Any]]] = []

    def get(self, name: str) -> str:
        return name

    async def invoke_async(self, name: str, event: dict[str, Any]) -> Any:
        self.events.append((name, event))
        return self.handlers[name](event)

    def events_of(self, route_key: str) -> list[dict[str, Any]]:
        return [event for _, event in self.events if event["requestContext"]["routeKey"] == route_key]


def route(key: str, function: str | None = "ws", authorizer: str | None = None, two_way: bool = False) -> Route:
    return Route(
        api_logical_id="WsApi",
        route_key=key,
        function_logical_id=function,
        authorization_type="CUSTOM" if authorizer else "NONE",
        authorizer=None,
        scopes=(),
        custom_authorizer_function=authorizer,
        returns_response=two_way,
    )


def gateway(*routes: Route, **handlers: Handler) -> WebSocketGateway:
    api = Api("WsApi", "wsapi", "WEBSOCKET", "$request.body.action", routes, stage="prod")
    return WebSocketGateway(api, FakeRunner({"ws": lambda event: {"statusCode": 200}, **handlers}))


def answered(body: Any = None, status: int = 200) -> Handler:
    return lambda event: {"statusCode": status, "body": body}


def raising(message: str) -> Handler:
    def handler(event: dict[str, Any]) -> Any:
        raise Exception(message)

    return handler


class Client:
    """One WebSocket as the ASGI app sees it: the messages the server hands in, the ones the app sent out."""

    def __init__(self, *frames: str | bytes, headers: list[tuple[bytes, bytes]] | None = None, extensions=None) -> None:
        self.scope = {
            "type": "websocket",
            "path": "/ws",
            "headers": headers or [(b"Host", b"localhost"), (b"User-Agent", b"test")],
            "query_string": b"",
            "client": ("10.0.0.1", 5000),
            "extensions": HTTP_RESPONSE_EXTENSION if extensions is None else extensions,
        }
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.incoming.put_nowait({"type": "websocket.connect"})
        for frame in frames:  # bytes: a binary frame
            kind = "bytes" if isinstance(frame, bytes) else "text"
            self.incoming.put_nowait({"type": "websocket.receive", kind: frame})
        self.sent: list[dict[str, Any]] = []

    def hang_up(self) -> None:
        self.incoming.put_nowait({"type": "websocket.disconnect", "code": 1000})

    async def receive(self) -> dict[str, Any]:
        return await self.incoming.get()

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    def of_type(self, message_type: str) -> list[dict[str, Any]]:
        return [message for message in self.sent if message["type"] == message_type]

    @property
    def frames(self) -> list[str]:
        return [message["text"] for message in self.of_type("websocket.send")]


def run(ws: WebSocketGateway, client: Client) -> Client:
    """The whole connection: handshake, the client's frames, then a hang-up (unless the gateway closed first)."""
    client.hang_up()
    run_coroutine(ws.connect(client.scope, client.receive, client.send))
    return client


def refused_status(client: Client) -> int:
    (start,) = client.of_type("websocket.http.response.start")
    assert not client.of_type("websocket.accept")
    return int(start["status"])


# --- refusals at the handshake ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("authorizer", "status"),
    [
        (raising("Unauthorized"), 401),
        (lambda event: {"policyDocument": {"Statement": [{"Effect": "Deny"}]}}, 403),
        (raising("database down"), 500),
        (lambda event: {"isAuthorized": True}, 500),
    ],
    ids=["raises-Unauthorized", "explicit-deny", "crashes", "simple-response"],
)
def test_refused_authorizer_is_answered_with_api_gateways_http_status(authorizer, status):
    ws = gateway(route("$connect", authorizer="auth"), auth=authorizer)
    client = run(ws, Client())
    assert refused_status(client) == status
    assert [function for function, _ in ws.runner.events] == ["auth"]  # $connect never ran
    assert not ws.connections


@pytest.mark.parametrize(
    ("result", "status"),
    [(None, 200), ({"statusCode": 204}, 200), ({"statusCode": 403}, 403), ({"statusCode": 429}, 429)],
)
def test_connect_integration_status_decides_the_handshake(result, status):
    ws = gateway(route("$connect"), ws=lambda event: result)
    client = run(ws, Client())
    if status == 200:
        assert client.of_type("websocket.accept")
    else:
        assert refused_status(client) == status


def test_connect_integration_that_fails_is_a_502():
    client = run(gateway(route("$connect"), ws=raising("boom")), Client())
    assert refused_status(client) == 502


def test_refusal_body_is_api_gateways_message():
    client = run(gateway(route("$connect", authorizer="auth"), auth=raising("Unauthorized")), Client())
    (body,) = client.of_type("websocket.http.response.body")
    assert json.loads(body["body"]) == {"message": "Unauthorized"}


def test_without_the_http_response_extension_a_refusal_closes_with_1008():
    client = Client(extensions={})
    run(gateway(route("$connect", authorizer="auth"), auth=raising("Unauthorized")), client)
    assert client.sent == [{"type": "websocket.close", "code": CLOSE_POLICY_VIOLATION}]


@pytest.mark.parametrize(
    ("result", "refused"),
    [
        (ALLOW, False),
        ({"policyDocument": {"Statement": [{"Effect": "Allow"}, {"Effect": "Deny"}]}}, True),
        ({"policyDocument": {"Statement": []}}, True),
    ],
    ids=["allow", "deny-wins", "no-allow"],
)
def test_policy_lets_in_only_an_allow_without_deny(result, refused):
    refusal = policy_refusal(result)
    assert (refusal.status if refusal else None) == (403 if refused else None)


# --- subprotocols -------------------------------------------------------------------------------
def test_connect_and_authorizer_events_carry_the_offered_subprotocols_as_sent():
    # Given a browser offering its token as a subprotocol (the ASGI server lowercased the header's name)
    client = Client(headers=[(b"host", b"localhost"), (b"sec-websocket-protocol", b"pinhole, tok3n")])
    ws = gateway(route("$connect", authorizer="auth"), auth=lambda event: ALLOW)
    # When it connects
    run(ws, client)
    # Then the authorizer and $connect both see the header under the name the browser sent
    for _, event in ws.runner.events[:2]:
        assert event["headers"]["Sec-WebSocket-Protocol"] == "pinhole, tok3n"
        assert event["multiValueHeaders"]["Sec-WebSocket-Protocol"] == ["pinhole, tok3n"]
    assert ws.runner.events[0][1]["type"] == "REQUEST"


@pytest.mark.parametrize(
    ("name", "spelled"),
    [
        ("sec-websocket-protocol", "Sec-WebSocket-Protocol"),
        ("user-agent", "User-Agent"),
        ("x-amzn-trace-id", "X-Amzn-Trace-Id"),
        ("X-Client-ID", "X-Client-ID"),
    ],
)
def test_header_names_get_the_spelling_clients_send(name, spelled):
    assert as_sent(name) == spelled


@pytest.mark.parametrize(
    ("headers", "accepted"),
    [({"Sec-WebSocket-Protocol": "pinhole"}, "pinhole"), ({"sec-websocket-protocol": "v2"}, "v2"), (None, None)],
)
def test_subprotocol_of_the_connect_result_is_the_one_accepted(headers, accepted):
    client = run(gateway(route("$connect"), ws=lambda event: {"statusCode": 200, "headers": headers}), Client())
    (accept,) = client.of_type("websocket.accept")
    assert accept.get("subprotocol") == accepted


# --- route responses ----------------------------------------------------------------------------
def test_two_way_route_sends_its_result_body_back_and_one_way_routes_do_not():
    ws = gateway(route("echo", two_way=True), route("$default"), ws=answered("hello"))
    client = run(ws, Client('{"action": "echo"}', '{"action": "other"}'))
    assert client.frames == ["hello"]
    assert [event["requestContext"]["routeKey"] for _, event in ws.runner.events] == ["echo", "$default"]


@pytest.mark.parametrize("result", [{"statusCode": 200}, {"statusCode": 200, "body": ""}, None])
def test_two_way_route_without_a_body_sends_nothing(result):
    client = run(gateway(route("echo", two_way=True), ws=lambda event: result), Client('{"action": "echo"}'))
    assert client.frames == []


def test_route_response_waits_for_the_connection_lock():
    async def scenario() -> list[str]:
        ws = gateway(route("echo", two_way=True), ws=answered("reply"))
        client = Client()
        serving = asyncio.create_task(ws.connect(client.scope, client.receive, client.send))
        await settle()
        (connection,) = ws.connections.values()
        # Given another sender (an @connections POST) holding the socket
        async with connection.lock:
            client.incoming.put_nowait({"type": "websocket.receive", "text": '{"action": "echo"}'})
            await settle()
            # Then the answered route response waits
            assert ws.runner.events_of("echo") and client.frames == []
        await settle()
        client.hang_up()
        await serving
        return client.frames

    assert run_coroutine(scenario()) == ["reply"]


async def settle() -> None:
    """Let every task that can progress without I/O do so (the fake handlers never do I/O)."""
    for _ in range(20):
        await asyncio.sleep(0)


def test_frame_no_route_takes_is_answered_forbidden():
    client = run(gateway(route("ping")), Client('{"action": "pong"}'))
    assert json.loads(client.frames[0])["message"] == "Forbidden"


# --- the 128 KB message quota ------------------------------------------------------------------
def test_message_of_128_kb_is_routed_and_a_bigger_one_closes_with_1009_then_disconnects():
    # Given a message of exactly the quota in bytes (two bytes per "é") and one a byte over
    at_quota = "é" * (MAX_MESSAGE_BYTES // 2)
    ws = gateway(route("$default"), route("$disconnect"))
    # When they arrive, followed by one more
    client = run(ws, Client(at_quota, at_quota + "x", '{"action": "after"}'))
    # Then the first reached the route, the second closed the connection with 1009 (so the third was never
    # read), and $disconnect ran
    routed = [event["requestContext"]["routeKey"] for _, event in ws.runner.events]
    assert routed == ["$default", "$disconnect"]
    assert client.of_type("websocket.close") == [{"type": "websocket.close", "code": CLOSE_MESSAGE_TOO_BIG}]
    assert not ws.connections


# --- binary frames ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "binary", [b'{"action": "ping"}', b'{"action": "ping", "text": "caf\xe9"}'], ids=["utf8", "latin-1"]
)
def test_a_binary_frame_closes_the_connection_with_1003_as_api_gateway_does(binary):
    # Given a connection whose routes would answer a ping
    ws = gateway(route("ping", two_way=True), route("$default"), route("$disconnect"), ws=answered('{"type": "pong"}'))

    # When a binary frame arrives (UTF-8 or not), then a text frame
    client = run(ws, Client(binary, '{"action": "ping"}'))

    # Then no route read it (it was decoded with U+FFFD for what it held, and routed), the connection is closed with
    # 1003 "unsupported data" (so the text frame after it was never read), and $disconnect ran
    assert [event["requestContext"]["routeKey"] for _, event in ws.runner.events] == ["$disconnect"]
    assert client.frames == []
    assert client.of_type("websocket.close") == [{"type": "websocket.close", "code": CLOSE_UNSUPPORTED_DATA}]
    assert not ws.connections
