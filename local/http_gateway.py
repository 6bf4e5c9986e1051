"""The HTTP API: payload format 2.0 events in, Lambda proxy responses out, JWT authorizer in front."""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from local.errors import error_response
from local.jwt_authorizer import JwksCache, JwtAuthorizer, Unauthorized, claims_for_event
from local.lambda_runner import HandlerTimeout, LambdaRunner, RequestTooLarge, ResponseTooLarge
from local.routes import Api, HttpRouteTable
from local.template import ACCOUNT_ID

MAX_BODY_BYTES = 10 * 1024 * 1024  # the HTTP API's payload quota
_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
    "+json",
    "+xml",
)

log = logging.getLogger("local.http")


def request_entity_too_large(headers: dict[str, str]) -> Response:
    """What an HTTP API answers, itself, for a body over its 10 MB quota and for an event over Lambda's 6 MB
    invocation quota (Lambda's RequestEntityTooLargeException): 413 with API Gateway's own body, not the API's
    envelope (HTTP APIs cannot customise it). As AWS's Lambda Test Tool emulates an HTTP API (payload 2.0)."""
    return JSONResponse({"message": "Request Entity Too Large"}, status_code=413, headers=headers)


class BadHandlerResponse(Exception):
    """The handler returned something API Gateway cannot turn into an HTTP response."""


def is_text(content_type: str) -> bool:
    content_type = content_type.lower()
    return not content_type or any(marker in content_type for marker in _TEXT_TYPES)


def event_body(body: bytes, content_type: str) -> tuple[str, bool]:
    """`body` and `isBase64Encoded` of an event: a text type's body as a string, any other base64-encoded, as API
    Gateway does. A text type's body that is not UTF-8 travels base64-encoded too, byte for byte: what API Gateway
    does with one is not documented, and decoding it with replacement characters invented what the handler read
    (a Latin-1 `é` was stored as U+FFFD); the API refuses it as JSON that is not UTF-8 (docs/LOCAL_CLOUD.md)."""
    if is_text(content_type):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode(), True


def source_address(peer: str | None, forwarded_for: str | None) -> str:
    """API Gateway's `sourceIp`: the TCP peer. Every client of the local cloud is this machine, so a peer on
    loopback may say which address it speaks for with X-Forwarded-For (its first address), as a client behind a
    proxy it trusts would; tests sign up many users, and sign-ups are limited per address. AWS ignores it."""
    peer = peer or "127.0.0.1"
    try:
        trusted = ipaddress.ip_address(peer).is_loopback
    except ValueError:
        trusted = False
    claimed = (forwarded_for or "").split(",", 1)[0].strip()
    if trusted and claimed:
        try:
            return str(ipaddress.ip_address(claimed))
        except ValueError:
            pass
    return peer


def request_time(epoch_ms: int) -> str:
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch_ms / 1000))


def build_event(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    header_pairs: list[tuple[str, str]],
    body: bytes,
    route_key: str,
    path_parameters: dict[str, str],
    api_id: str,
    domain_name: str,
    source_ip: str,
    request_id: str,
    claims: dict[str, Any] | None,
    scopes: list[str] | None = None,
    now_ms: int | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API payload-v2.0 event, shaped the way AWS sends it."""
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in header_pairs:
        name = name.lower()
        if name == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if query:
        event["queryStringParameters"] = query
    request_context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": api_id,
    }
    if claims is not None:
        jwt_context: dict[str, Any] = {"claims": claims_for_event(claims), "scopes": scopes}
        request_context["authorizer"] = {"jwt": jwt_context}
    request_context.update(
        {
            "domainName": domain_name,
            "domainPrefix": domain_name.split(".")[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": request_time(now_ms),
            "timeEpoch": now_ms,
        }
    )
    event["requestContext"] = request_context
    if body:
        event["body"], event["isBase64Encoded"] = event_body(body, headers.get("content-type", ""))
    else:
        event["isBase64Encoded"] = False
    if path_parameters:
        event["pathParameters"] = path_parameters
    return event


BODYLESS_STATUSES = frozenset({204, 304})


def build_response(result: Any, extra_headers: dict[str, str]) -> Response:
    """Map a payload-v2 Lambda result to HTTP, inferring the format like API Gateway does."""
    if not (isinstance(result, dict) and "statusCode" in result):
        # API Gateway treats any other valid JSON as a 200 body.
        try:
            body = json.dumps(result)
        except (TypeError, ValueError) as error:
            raise BadHandlerResponse("result is not JSON-serializable") from error
        return Response(body, status_code=200, media_type="application/json", headers=extra_headers)
    status = result["statusCode"]
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise BadHandlerResponse(f"invalid statusCode {status!r}")
    raw_body = result.get("body")
    if raw_body is None:
        content = b""
    elif not isinstance(raw_body, str):
        raise BadHandlerResponse("body must be a string")
    elif result.get("isBase64Encoded"):
        try:
            content = base64.b64decode(raw_body, validate=True)
        except ValueError as error:
            raise BadHandlerResponse("body is not valid base64") from error
    else:
        content = raw_body.encode()
    headers = result.get("headers") or {}
    if not isinstance(headers, dict):
        raise BadHandlerResponse("headers must be an object")
    if status in BODYLESS_STATUSES:
        content = b""  # HTTP forbids a body here; API Gateway drops it too
    response = Response(content, status_code=status)
    response.headers.update(extra_headers)
    for name, value in headers.items():
        response.headers[str(name)] = str(value)
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.append(str(name), str(value))
    for cookie in result.get("cookies") or []:
        response.headers.append("set-cookie", str(cookie))
    if "content-type" not in response.headers and content:
        response.headers["content-type"] = "application/json"
    return response


class HttpGateway:
    """ASGI app serving one HTTP API of the template."""

    def __init__(
        self,
        api: Api,
        runner: LambdaRunner,
        jwks: JwksCache,
    ) -> None:
        self.api = api
        self.runner = runner
        self.table = HttpRouteTable(api.routes)
        self._authorizers: dict[str, JwtAuthorizer] = {}
        for route in api.routes:
            if route.authorizer is not None:
                self._authorizers.setdefault(route.authorizer.authorizer_id, JwtAuthorizer(route.authorizer, jwks))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        request_id = str(uuid.uuid4())
        id_headers = {"apigw-requestid": request_id, "x-amzn-requestid": request_id}
        cors = self.api.cors
        if cors is not None and cors.is_preflight(request.method, request.headers):
            response = cors.preflight(request.headers, id_headers)
        else:
            response = await self._handle(request, request_id, id_headers)
            if cors is not None:
                response = cors.apply(response, request.headers.get("origin"))
        await response(scope, receive, send)

    async def _handle(self, request: Request, request_id: str, id_headers: dict[str, str]) -> Response:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return request_entity_too_large(id_headers)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return request_entity_too_large(id_headers)
        raw_path = unquote(request.scope.get("raw_path", b"").decode("latin-1")) or request.url.path
        match = self.table.match(request.method, request.url.path)
        function_id = match.route.function_logical_id if match else None
        if match is None or function_id is None:
            return error_response(404, "not_found", "No route matches this request.", id_headers)
        route = match.route
        header_pairs = [(key.decode("latin-1"), value.decode("latin-1")) for key, value in request.scope["headers"]]
        claims = None
        if route.authorization_type == "JWT" and route.authorizer is not None:
            authorizer = self._authorizers[route.authorizer.authorizer_id]
            try:
                headers = {key.lower(): value for key, value in header_pairs}
                claims = authorizer.authorize(headers, route.scopes)
            except Unauthorized as reason:
                log.info("401 %s %s: %s", request.method, request.url.path, reason)
                return error_response(401, "unauthorized", "A valid bearer token is required.", id_headers)
        event = build_event(
            method=request.method,
            raw_path=raw_path,
            raw_query=request.url.query,
            header_pairs=header_pairs,
            body=body,
            route_key=route.route_key,
            path_parameters=match.path_parameters,
            api_id=self.api.api_id,
            domain_name=request.headers.get("host", "127.0.0.1"),
            source_ip=source_address(
                request.client.host if request.client else None, request.headers.get("x-forwarded-for")
            ),
            request_id=request_id,
            claims=claims,
            scopes=list(route.scopes) or None,
        )
        function = self.runner.get(function_id)
        try:
            result = await self.runner.invoke_async(function, event)
            return build_response(result, id_headers)
        except RequestTooLarge as refused:
            log.info("413 %s %s: %s", request.method, request.url.path, refused)
            return request_entity_too_large(id_headers)
        except HandlerTimeout:
            log.warning("%s %s: %s timed out", request.method, request.url.path, function.name)
            return error_response(504, "timeout", "The handler did not answer in time.", id_headers)
        except ResponseTooLarge as too_large:
            log.error("%s %s: %s", request.method, request.url.path, too_large)
            return error_response(500, "internal", "Internal server error.", id_headers)
        except BadHandlerResponse as error:
            log.error("%s %s: bad response from %s: %s", request.method, request.url.path, function.name, error)
            return error_response(500, "internal", "Internal server error.", id_headers)
        except Exception:
            log.exception("%s %s: %s raised", request.method, request.url.path, function.name)
            return error_response(500, "internal", "Internal server error.", id_headers)
