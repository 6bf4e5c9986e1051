"""Clients whose calls local/direct_calls.py answers, as the local cloud's handlers' are, under mock_aws."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.exceptions import ClientError
from botocore.handlers import BUILTIN_HANDLERS

REGION = "us-east-1"


def _answer(model: Any, params: dict[str, Any], request_signer: Any, event_name: str, **kwargs: Any) -> Any:
    from local import direct_calls

    region = (kwargs.get("context") or {}).get("client_region") or REGION
    return direct_calls.answer(event_name.split(".")[1], model, params, request_signer, region)


def outcome(call: Any) -> Any:
    """What a caller sees of a call, to compare across the two paths: the response less its metadata, or the error
    with its HTTP status."""
    try:
        response = call()
    except ClientError as error:
        return {"error": error.response["Error"], "status": error.response["ResponseMetadata"]["HTTPStatusCode"]}
    response.pop("ResponseMetadata")
    return response


def answered_directly(*clients: Any) -> None:
    """These clients' DynamoDB, Streams, SQS and Cognito calls answered at before-call (local/direct_calls.py), as
    the local cloud's handlers' are, instead of by mock_aws at before-send."""
    for client in clients:
        client.meta.events.register(f"before-call.{client.meta.service_model.service_id.hyphenize()}", _answer)


@contextmanager
def every_client_answered_directly() -> Iterator[None]:
    """Within this block, the clients botocore makes (PynamoDB's, boto3's default session's) have those calls
    answered at before-call too. Clients made in the block keep it after; made before, they never had it:
    either way they get the same answers (tests/integration/test_fast_dynamodb_differential.py,
    tests/unit/local/test_direct_calls_*.py), the before-call ones for less CPU."""
    from local import direct_calls

    entries = [(f"before-call.{service_id}", _answer) for service_id in direct_calls.HANDLERS]
    BUILTIN_HANDLERS.extend(entries)
    if boto3.DEFAULT_SESSION is not None:
        for event, handler in entries:
            boto3.DEFAULT_SESSION._session.register(event, handler, unique_id=f"pinhole-direct-{event}")
    try:
        yield
    finally:
        for entry in entries:
            BUILTIN_HANDLERS.remove(entry)


def answered_on_the_wire(monkeypatch: Any) -> None:
    """For the rest of the test, no call is answered at before-call: every one reaches moto's request handler at
    before-send (for a test that injects answers there, so that botocore's retries of them are real)."""
    from local import direct_calls

    monkeypatch.setattr(direct_calls, "answer", lambda *args, **kwargs: None)
