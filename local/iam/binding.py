"""The template's resources bound to a world that was not provisioned from it (a test's moto account):
each resource an app function's environment variable names gets the name that variable has in `environ`,
so the template's policies resolve to the tables, buckets, queues and secrets the test created.

What it cannot bind: resources no function variable names (dead-letter and failure queues, the upload
events queue, log groups) keep placeholder names, so grants on them match nothing in the test's world; a
table's stream ARN becomes `<table ARN>/stream/*` (moto labels streams when tables are created)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from local.iam.operations import queue_arn_of, websocket_api_from_aws_url
from local.iam.policies import role_arn, role_name_of
from local.template import ACCOUNT_ID, REGION, CloudAssembly, Resource, Stack

_TABLES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")


def bind_to_environment(
    assembly: CloudAssembly, environ: Mapping[str, str], also: Mapping[str, str] | None = None
) -> None:
    """`also`: more resources no variable names, by logical id prefix (e.g. a queue an event source
    mapping reads) -> their name (URL for a queue) in the test's world."""
    for resource in assembly.resources():
        if resource.type == "AWS::IAM::Role":
            name = role_name_of(resource)
            assembly.set_physical(resource, name, Arn=role_arn(name), RoleId=name)
        elif resource.type == "AWS::SQS::Queue":
            _bind(assembly, resource, f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/unbound-{resource.logical_id}")
        else:
            placeholder = f"{resource.stack.name}-{resource.logical_id}"
            assembly.set_physical(resource, placeholder, any_attribute=True, Arn=f"arn:aws:local:::{placeholder}")
    for function in assembly.resources("AWS::Lambda::Function"):
        variables = function.properties.get("Environment", {}).get("Variables", {})
        for name, value in variables.items():
            if name not in environ:
                continue
            target = _referenced(assembly, function.stack, value)
            if target is not None:
                _bind(assembly, target, environ[name])
            for api in _apis_joined_into(assembly, function.stack, value):
                parsed = websocket_api_from_aws_url(environ[name])
                if parsed is not None:
                    assembly.set_physical(api, parsed[0], ApiId=parsed[0])
    for prefix, value in (also or {}).items():
        (resource,) = [resource for resource in assembly.resources() if is_named(resource.logical_id, prefix)]
        _bind(assembly, resource, value)


def is_named(logical_id: str, prefix: str) -> bool:
    """Whether CDK named this logical id after the construct path `prefix` (+ its 8-character hash)."""
    rest = logical_id.removeprefix(prefix)
    return logical_id.startswith(prefix) and len(rest) == 8 and rest.isalnum()


def _referenced(assembly: CloudAssembly, stack: Stack, value: Any) -> Resource | None:
    """The resource a variable is the `Ref` of, directly or through another stack's export."""
    if isinstance(value, dict) and "Fn::ImportValue" in value:
        for other in assembly.stacks.values():
            for output in other.outputs.values():
                if output.get("Export", {}).get("Name") == value["Fn::ImportValue"]:
                    return _referenced(assembly, other, output["Value"])
        return None
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return stack.resources.get(value["Ref"])
    return None


def _apis_joined_into(assembly: CloudAssembly, stack: Stack, value: Any) -> list[Resource]:
    if not (isinstance(value, dict) and "Fn::Join" in value):
        return []
    refs = [part["Ref"] for part in value["Fn::Join"][1] if isinstance(part, dict) and set(part) == {"Ref"}]
    return [
        stack.resources[ref]
        for ref in refs
        if ref in stack.resources and stack.resources[ref].type == "AWS::ApiGatewayV2::Api"
    ]


def _bind(assembly: CloudAssembly, resource: Resource, value: str) -> None:
    if resource.type in _TABLES:
        arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{value}"
        assembly.set_physical(resource, value, Arn=arn, StreamArn=f"{arn}/stream/*")
    elif resource.type == "AWS::S3::Bucket":
        assembly.set_physical(resource, value, Arn=f"arn:aws:s3:::{value}")
    elif resource.type == "AWS::SQS::Queue":
        arn = queue_arn_of(value, REGION)
        assembly.set_physical(resource, value, Arn=arn, QueueUrl=value, QueueName=arn.rsplit(":", 1)[1])
    elif resource.type == "AWS::Cognito::UserPool":
        assembly.set_physical(resource, value, Arn=f"arn:aws:cognito-idp:{REGION}:{ACCOUNT_ID}:userpool/{value}")
    elif resource.type in ("AWS::SecretsManager::Secret", "AWS::CloudFront::Distribution"):
        assembly.set_physical(resource, value, Arn=value, Id=value)
    else:
        assembly.set_physical(resource, value, any_attribute=True)
