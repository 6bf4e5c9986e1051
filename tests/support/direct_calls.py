"""Clients whose calls local/direct_calls.py answers, as the local cloud's handlers' are, under mock_aws."""

from __future__ import annotations

from typing import Any

REGION = "us-east-1"


def answered_directly(*clients: Any) -> None:
    """These clients' DynamoDB, Streams, SQS and Cognito calls answered at before-call (local/direct_calls.py), as
    the local cloud's handlers' are, instead of by mock_aws at before-send."""
    from local import direct_calls

    def answer(model: Any, params: dict[str, Any], request_signer: Any, event_name: str, **_: Any) -> Any:
        return direct_calls.answer(event_name.split(".")[1], model, params, request_signer, REGION)

    for client in clients:
        client.meta.events.register(f"before-call.{client.meta.service_model.service_id.hyphenize()}", answer)
