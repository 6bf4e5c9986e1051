"""A first request without a network, for benchmarks/cold_start.py: every botocore call is answered at the
HTTP layer, after serialisation and signing: DynamoDB as an empty table answers (no item, no page), Secrets
Manager with a secret. The whole client path runs (session, service model, endpoint, signing, parsing); only
the wire is missing.

Imported by the probe after the timed import, so it may only load what every subject has loaded by then."""

import json
from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.endpoint import Endpoint

ANSWERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "Query": lambda _request: {"Items": [], "Count": 0, "ScannedCount": 0},
    "Scan": lambda _request: {"Items": [], "Count": 0, "ScannedCount": 0},
    "GetItem": lambda _request: {},
    "BatchGetItem": lambda request: {
        "Responses": {name: [] for name in request["RequestItems"]},
        "UnprocessedKeys": {},
    },
    "GetSecretValue": lambda request: {"ARN": request["SecretId"], "SecretString": "stubbed-secret"},
}
"""Answers by operation (the X-Amz-Target header names it), from the request: DynamoDB's for an empty table."""

CALLS: list[str] = []
"""The operations answered, in order: the probe reports them, so a first request that called nothing (or
something unexpected) shows in the results."""


class _Body:
    def __init__(self, content: bytes) -> None:
        self._content = content

    def stream(self, **_kwargs: object) -> object:
        yield self._content


def _answer(_endpoint: Endpoint, request: AWSPreparedRequest) -> AWSResponse:
    target = request.headers.get("X-Amz-Target", b"")
    operation = (target.decode() if isinstance(target, bytes) else target).rpartition(".")[2]
    CALLS.append(operation or request.url)
    if operation not in ANSWERS:
        raise NotImplementedError(f"no stubbed answer for {operation or request.url}")
    answer = ANSWERS[operation](json.loads(request.body or b"{}"))
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "stubbed"}
    return AWSResponse(request.url, 200, headers, _Body(json.dumps(answer).encode()))


def install() -> None:
    """From now on in this process, botocore sends nothing: calls get the answers above (signed with whatever
    credentials the environment holds, as Lambda's does)."""
    Endpoint._send = _answer  # type: ignore[method-assign]
