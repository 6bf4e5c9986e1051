"""The SNS platform applications: made by the stateful stack only for the platforms whose credentials the
context names, from Secrets Manager by CloudFormation dynamic references (never a value in the template),
and none without them — the stacks synthesise and push is off."""

import json
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from app import cdk_json_context
from stacks.stateful_stack import StatefulStack


def _stateful(push_secrets: dict[str, str] | None) -> Template:
    app = cdk.App(context=cdk_json_context())
    return Template.from_stack(StatefulStack(app, "PinholeStateful", push_secrets=push_secrets))


def _calls(template: Template) -> list[dict[str, Any]]:
    resources = template.find_resources("Custom::AWS")
    return [json.loads(json.dumps(resource["Properties"]["Create"])) for resource in resources.values()]


def test_a_platform_application_per_named_secret_with_the_credentials_resolved_by_cloudformation() -> None:
    template = _stateful({"apns": "prod/push/apns", "fcm": "prod/push/fcm"})

    creates = [json.dumps(call) for call in _calls(template)]

    assert len(creates) == 2
    apns = next(call for call in creates if '\\"APNS\\"' in call or '"APNS"' in call)
    fcm = next(call for call in creates if "GCM" in call)
    assert "createPlatformApplication" in apns and "PinholeStateful-apns" in apns
    for field in ("signing_key", "key_id", "team_id", "bundle_id"):
        assert f"resolve:secretsmanager:prod/push/apns:SecretString:{field}" in apns
    assert "resolve:secretsmanager:prod/push/fcm:SecretString" in fcm and "PinholeStateful-fcm" in fcm


def test_without_credentials_there_is_no_platform_application_and_the_push_queue_still_exists() -> None:
    template = _stateful(None)

    assert template.find_resources("Custom::AWS") == {}
    queues = template.find_resources("AWS::SQS::Queue")
    push_queue = next(body for logical_id, body in queues.items() if logical_id.startswith("PushDataPushQueue"))
    assert push_queue["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 5
