"""What local IAM enforcement costs per AWS call: the decision (cached and not) for the synthesized
template's roles, and a DynamoDB GetItem on moto (in-process) made with and without an identity, in one
run so the ratio holds whatever the machine's load."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CDK_OUT = Path(__file__).resolve().parent.parent / "cdk.out"
DECISIONS = 20_000
CALLS = 400
ROUNDS = 5


def _per_call_us(function: Callable[[], Any], repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        function()
    return (time.perf_counter() - started) / repeat * 1e6


def run() -> dict[str, Any]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    import boto3
    from moto import mock_aws

    from local.iam.authorizer import TemplateLookups, authorizer_for
    from local.iam.binding import bind_to_environment
    from local.iam.identity import acting_as
    from local.iam.policies import PolicyStore, function_roles
    from local.lambda_runner import is_app_function
    from local.template import CloudAssembly

    assembly = CloudAssembly.load(CDK_OUT)
    table = "bench-posts"
    bind_to_environment(assembly, {**os.environ, "POSTS_TABLE_NAME": table})
    authorizer = authorizer_for(PolicyStore.from_assembly(assembly), TemplateLookups())
    functions = [r for r in assembly.resources("AWS::Lambda::Function") if is_app_function(r)]
    roles = function_roles(assembly, functions)
    (resize,) = [name for name in roles if name.startswith("ResizeFunction")]
    identity = authorizer.identity(resize, roles[resize])
    params = {"TableName": table, "Key": {"post_id": {"S": "p"}}}

    def decide() -> None:
        assert authorizer.check_call(identity, "dynamodb", "GetItem", params, "") is None

    cached_us = _per_call_us(decide, DECISIONS)

    def decide_afresh() -> None:
        authorizer._decisions.clear()
        decide()

    uncached_us = _per_call_us(decide_afresh, DECISIONS // 10)

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=table,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "post_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "post_id", "AttributeType": "S"}],
        )

        def unchecked() -> None:
            client.get_item(**params)

        def checked() -> None:
            with acting_as(identity):
                client.get_item(**params)

        rounds: dict[str, list[float]] = {"without": [], "with": []}
        for _ in range(ROUNDS):  # interleaved, so both see the same load
            rounds["without"].append(_per_call_us(unchecked, CALLS))
            rounds["with"].append(_per_call_us(checked, CALLS))
    without, with_identity = statistics.median(rounds["without"]), statistics.median(rounds["with"])
    return {
        "role": roles[resize],
        "statements_in_role": len(authorizer.store.identity_statements(identity.role_arn)),
        "decision_cached_us": round(cached_us, 2),
        "decision_uncached_us": round(uncached_us, 2),
        "moto_get_item_without_identity_us": round(without, 1),
        "moto_get_item_as_the_role_us": round(with_identity, 1),
        "overhead_per_call_us": round(with_identity - without, 1),
        "ratio": round(with_identity / without, 3),
        "calls_per_round": CALLS,
        "rounds": ROUNDS,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
