"""Handlers reach moto (and the gateway's own `@connections` API) in process, not over HTTP.

Handlers are unchanged: their clients are configured by `AWS_ENDPOINT_URL` (moto's server) and
`AWS_ENDPOINT_URL_S3` (the S3 front), as before. A botocore `before-send` handler answers every request
addressed to either by calling moto's backends directly, with moto's own in-process dispatch (the
`BotocoreStubber` behind `mock_aws`), instead of sending it over a socket to ThreadedMotoServer's thread.
The backends are the same ones the server serves, so the moto endpoint `make run` prints (a tester's own
boto3 scripts) sees the same data; what the S3 front adds (the checks of a browser's pre-signed POST) is
never a botocore request, so nothing of it is bypassed.

This is transport only: a `before-call` hook (IAM enforcement) runs earlier, on the same request, and
still decides first. A request this module does not recognise (another endpoint, a service moto is not
asked for here) is sent over HTTP as before.

The WebSocket management API (`AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI`, the gateway itself) is answered
the same way once the gateway serves: the request becomes an ASGI call of the gateway's app on its own event
loop, as uvicorn would have made it, without the socket and the HTTP parsing on both sides.

DynamoDB, DynamoDB Streams, SQS and Cognito calls are answered one step earlier still, at `before-call`, with the
parsed response (`local/direct_calls.py`): no signing, no JSON between moto and botocore, no werkzeug request. So are
`@connections` calls: the gateway's app answers the request botocore built, unsigned (a DM send's PostToConnection
spent most of its CPU on botocore preparing and signing the request).

`PINHOLE_MOTO_TRANSPORT=http` turns both off; `=before-send` keeps only the `before-send` answers
(`transport.enabled` and `transport.direct` do the same at run time: benchmarks compare them in one run).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import inspect
import logging
import os
import re
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
import botocore.session
import moto.backend_index as backend_index
import moto.backends as backends
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.handlers import BUILTIN_HANDLERS
from botocore.loaders import Loader, create_loader
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.base_backend import BackendDict
from moto.core.botocore_stubber import BotocoreStubber, MockRawResponse
from moto.core.config import passthrough_service, passthrough_url, service_whitelisted
from moto.core.exceptions import HTTPException
from moto.core.request import normalize_request
from moto.core.utils import get_equivalent_url_in_aws_domain
from moto.moto_api import recorder

from local import direct_calls
from local.dynamodb_engine import ENGINE_VARIABLE, FAST
from local.template import REGION

log = logging.getLogger("local.in_process")
TRANSPORT_VARIABLE = "PINHOLE_MOTO_TRANSPORT"
ASGI_TIMEOUT_S = 30

# botocore's service id (as in `before-send.<service id>.<operation>`) -> the AWS host moto's
# dispatch recognises the service by. Only the services the local cloud provisions.
AWS_HOSTS = {
    "dynamodb": f"dynamodb.{REGION}.amazonaws.com",
    "dynamodb-streams": f"streams.dynamodb.{REGION}.amazonaws.com",
    "s3": "s3.amazonaws.com",
    "sqs": f"sqs.{REGION}.amazonaws.com",
    "cognito-identity-provider": f"cognito-idp.{REGION}.amazonaws.com",
    "secrets-manager": f"secretsmanager.{REGION}.amazonaws.com",
    "cloudfront": "cloudfront.amazonaws.com",
}


def enabled_by_environment() -> bool:
    return os.environ.get(TRANSPORT_VARIABLE, "in-process") != "http"


def direct_by_environment() -> bool:
    """Answers at before-call only on the fast DynamoDB: `PINHOLE_DYNAMODB=moto` is the local cloud as it ran
    before (local/dynamodb_engine.py), botocore parsing moto's JSON itself."""
    return (
        os.environ.get(TRANSPORT_VARIABLE, "in-process") == "in-process"
        and os.environ.get(ENGINE_VARIABLE, FAST) == FAST
    )


def _header_bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("latin-1")


class AsgiEndpoint:
    """Requests for one service under one URL prefix, answered by an ASGI app on the loop that serves it."""

    def __init__(self, service_id: str, prefix: str, app: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.service_id = service_id
        self.prefix = prefix.rstrip("/")
        self.app = app
        self.loop = loop

    def wants(self, service_id: str, url: str) -> bool:
        return service_id == self.service_id and url.startswith(self.prefix + "/") and not self.loop.is_closed()

    def __call__(self, request: AWSPreparedRequest) -> AWSResponse:
        parts = urlsplit(request.url)
        body = request.body or b""
        if hasattr(body, "read"):
            body = body.read()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": parts.scheme,
            "path": unquote(parts.path),
            "raw_path": parts.path.encode(),
            "query_string": parts.query.encode(),
            "root_path": "",
            "headers": [
                (name.lower().encode("latin-1"), _header_bytes(value)) for name, value in request.headers.items()
            ],
            "client": ("127.0.0.1", 0),
            "server": (parts.hostname or "127.0.0.1", parts.port or 80),
        }
        messages: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {
                "type": "http.request",
                "body": body if isinstance(body, bytes) else body.encode(),
                "more_body": False,
            }

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)

        asyncio.run_coroutine_threadsafe(self.app(scope, receive, send), self.loop).result(timeout=ASGI_TIMEOUT_S)
        start = next(message for message in messages if message["type"] == "http.response.start")
        content = b"".join(message.get("body", b"") for message in messages if message["type"] == "http.response.body")
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in start.get("headers", [])}
        return AWSResponse(request.url, start["status"], headers, MockRawResponse(content))


STUBBER_FINGERPRINT = "f79a1a778c7e755f"
"""`BotocoreStubber.process_request` as `RememberingStubber` reproduces it (moto 5.2.5)."""


class MotoStubberChanged(RuntimeError):
    """moto's in-process dispatch is not the one `RememberingStubber` was written against."""


class RememberingStubber(BotocoreStubber):
    """moto's in-process dispatch, remembering which handler answers each service's root URL.

    For every request moto's `process_request` tries the URL patterns of every service it knows until one
    matches, then each URL pattern of that service's backend, to find the same handler each time. A request
    to a service's root URL (DynamoDB, SQS, Cognito, Secrets Manager: the JSON protocols, every request of a
    handler but S3's) now finds it by a dict lookup, then runs as moto runs it (`normalize_request`, the
    recorder, the handler, an HTTPException as its answer). Anything else, and a URL moto would pass through
    or refuse, is moto's own code."""

    def __init__(self) -> None:
        super().__init__()
        self._handlers: dict[str, Callable[..., Any]] = {}

    def process_request(self, request: AWSPreparedRequest) -> Any:
        handler = self._handlers.get(request.url)
        if handler is None:
            handler = self._root_handler(request.url)
            if handler is None:
                return BotocoreStubber.process_request(self, request)
            self._handlers[request.url] = handler
        normalized_request = normalize_request(request)
        try:
            recorder._record_request(normalized_request)
            return handler(normalized_request, normalized_request.raw_url, normalized_request.headers)
        except HTTPException as error:
            return error.code, error.get_headers(), error.get_body()

    @staticmethod
    def _root_handler(url: str) -> Callable[..., Any] | None:
        """The handler moto's `process_request` would pick for this root URL, or None (not a root URL, or
        one moto passes through or refuses)."""
        parsed_url, _ = get_equivalent_url_in_aws_domain(url)
        if parsed_url.path not in ("", "/") or parsed_url.query or parsed_url.geturl() != url:
            return None
        clean_url = f"{parsed_url.scheme}://{parsed_url.netloc}{parsed_url.path}"
        if passthrough_url(clean_url):
            return None
        for service, pattern in backend_index.backend_url_patterns:
            if pattern.match(clean_url):
                if passthrough_service(service) or not service_whitelisted(service):
                    return None
                backend_dict = backends.get_backend(service)  # type: ignore[call-overload]
                if isinstance(backend_dict, BackendDict):
                    if "us-east-1" in backend_dict[DEFAULT_ACCOUNT_ID]:
                        backend = backend_dict[DEFAULT_ACCOUNT_ID]["us-east-1"]
                    else:
                        backend = backend_dict[DEFAULT_ACCOUNT_ID]["aws"]
                else:
                    backend = backend_dict["global"]
                for pattern_text, method_to_execute in backend.urls.items():
                    if re.compile(pattern_text).match(clean_url):
                        return method_to_execute
                return None
        return None


def _stubber_fingerprint() -> str:
    return hashlib.sha256(inspect.getsource(BotocoreStubber.process_request).encode()).hexdigest()[:16]


class InProcessMoto:
    """The before-send handler. One per process (botocore's built-in handler list is process-wide);
    each local cloud adds the endpoints it serves and removes them when it stops."""

    def __init__(self) -> None:
        self._endpoints: tuple[str, ...] = ()  # replaced whole, so a request never sees it half-changed
        self._lock = threading.Lock()
        self._dispatch = RememberingStubber()
        self.calls = 0  # requests answered in process (tests and benchmarks read it)
        self.enabled = True  # False: everything goes over HTTP again (benchmarks compare both in one run)
        self.direct = direct_by_environment()  # False: DynamoDB answered at before-send, as other services
        self._asgi: tuple[AsgiEndpoint, ...] = ()

    def serve_asgi(self, endpoint: AsgiEndpoint) -> None:
        with self._lock:
            self._asgi = (*self._asgi, endpoint)

    def forget_asgi(self, prefix: str) -> None:
        with self._lock:
            self._asgi = tuple(endpoint for endpoint in self._asgi if endpoint.prefix != prefix.rstrip("/"))

    def serve(self, *endpoints: str) -> None:
        with self._lock:
            self._endpoints = (*self._endpoints, *(endpoint.rstrip("/") for endpoint in endpoints))

    def forget(self, *endpoints: str) -> None:
        with self._lock:
            gone = {endpoint.rstrip("/") for endpoint in endpoints}
            self._endpoints = tuple(endpoint for endpoint in self._endpoints if endpoint not in gone)

    def aws_url(self, service_id: str, url: str) -> str | None:
        """The URL moto's dispatch expects for a request sent to one of our endpoints, else None."""
        host = AWS_HOSTS.get(service_id)
        if host is None:
            return None
        for endpoint in self._endpoints:
            if url == endpoint or url.startswith((endpoint + "/", endpoint + "?")):
                rest = url[len(endpoint) :]
                if not rest.startswith("/"):
                    rest = "/" + rest
                return f"https://{host}{rest}"
        return None

    def answer_call(
        self, model: Any, params: dict[str, Any], request_signer: Any, event_name: str, **_: Any
    ) -> tuple[AWSResponse, dict[str, Any]] | None:
        """The before-call handler: a DynamoDB, DynamoDB Streams, SQS or Cognito call to one of our endpoints,
        answered with the parsed response (`local/direct_calls.py`); anything else goes on to `before-send`."""
        if not (self.enabled and self.direct):
            return None
        service_id = event_name.split(".")[1]
        if service_id not in direct_calls.HANDLERS:
            return self._answer_asgi_call(model, params, service_id)
        if self.aws_url(service_id, params["url"]) is None:
            return None
        answered = direct_calls.answer(service_id, model, params, request_signer, REGION)
        if answered is None:
            return None
        self.calls += 1
        return answered

    def _answer_asgi_call(
        self, model: Any, params: dict[str, Any], service_id: str
    ) -> tuple[AWSResponse, dict[str, Any]] | None:
        """A call to the gateway's own API (`@connections`): the request botocore built, answered by the gateway's
        ASGI app as at `before-send` but unsigned (nothing checks a signature there; IAM enforcement decided
        before), and parsed by botocore's own parser as its endpoint would."""
        for endpoint in self._asgi:
            if endpoint.wants(service_id, params["url"]):
                request = AWSPreparedRequest(
                    method=params["method"],
                    url=params["url"],
                    headers=params["headers"],
                    body=params["body"],
                    stream_output=False,
                )
                response = endpoint(request)
                self.calls += 1
                parsed = direct_calls.parsed_response(model, response.status_code, response.headers, response.content)
                parsed.setdefault("ResponseMetadata", {})["RetryAttempts"] = 0
                return response, parsed
        return None

    def __call__(self, request: AWSPreparedRequest, event_name: str, **_: Any) -> AWSResponse | None:
        if not self.enabled:
            return None
        service_id = event_name.split(".")[1]
        for endpoint in self._asgi:
            if endpoint.wants(service_id, request.url):
                self.calls += 1
                return endpoint(request)
        url = self.aws_url(service_id, request.url)
        if url is None:
            return None
        aws_request = AWSPreparedRequest(
            method=request.method,
            url=url,
            headers=request.headers,
            body=request.body,
            stream_output=request.stream_output,
        )
        try:
            answer = self._dispatch.process_request(aws_request)
        except Exception:
            # moto's server answers an exception in a backend with a 500; so does this transport, so a
            # handler sees the same error (and botocore the same retries) in both.
            log.exception("moto raised on %s %s", request.method, url)
            answer = (500, {}, b"Internal Server Error")
        if answer is None:
            return None
        self.calls += 1
        status, headers, body = answer
        return AWSResponse(request.url, status, headers, MockRawResponse(body))


transport = InProcessMoto()
# moto's services answered by local/direct_calls.py, and the gateway's @connections API
ANSWERED_AT_BEFORE_CALL = (*direct_calls.HANDLERS, "apigatewaymanagementapi")
_installed = False
_install_lock = threading.Lock()


@functools.cache
def _shared_loader(search_path_string: str | None = None) -> Loader:
    return create_loader(search_path_string)


def install() -> InProcessMoto:
    """Registers the handler for every botocore session created from now on, and for boto3's default
    session if it exists already (idempotent). Clients created before (none in the local cloud: it installs
    this before importing any handler) keep sending over HTTP, which still works."""
    global _installed
    with _install_lock:
        if not _installed:
            if _stubber_fingerprint() != STUBBER_FINGERPRINT:
                raise MotoStubberChanged(
                    f"moto's BotocoreStubber.process_request changed ({_stubber_fingerprint()}): re-check "
                    "local/in_process.py's RememberingStubber against it, then update STUBBER_FINGERPRINT"
                )
            # Every botocore session (PynamoDB makes its own, each handler's clients...) loaded and parsed the
            # service models' JSON again: one loader for the process parses each model once.
            botocore.session.create_loader = _shared_loader
            BUILTIN_HANDLERS.append(("before-send", transport))
            for service_id in ANSWERED_AT_BEFORE_CALL:
                BUILTIN_HANDLERS.append((f"before-call.{service_id}", transport.answer_call))
            if boto3.DEFAULT_SESSION is not None:
                boto3.DEFAULT_SESSION._session.register("before-send", transport)
                for service_id in ANSWERED_AT_BEFORE_CALL:
                    boto3.DEFAULT_SESSION._session.register(f"before-call.{service_id}", transport.answer_call)
            _installed = True
    return transport
