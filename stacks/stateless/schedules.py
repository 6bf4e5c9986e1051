"""Functions run on a schedule: an EventBridge rule invokes one at a fixed rate. A failed run is retried twice, and
the next run redoes what it left: every scheduled function here is an idempotent sweep."""

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct


def run_every(scope: Construct, function: lambda_.IFunction, rate: Duration, description: str) -> events.Rule:
    return events.Rule(
        scope,
        "Schedule",
        description=description,
        schedule=events.Schedule.rate(rate),
        targets=[targets.LambdaFunction(function, retry_attempts=2)],
    )
