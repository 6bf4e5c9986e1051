"""The template's policies, resolved to local ARNs: each role's identity-based policies (AWS::IAM::Policy
documents attached through `Roles`, inline `Policies`, `ManagedPolicyArns`) and the resource-based policies
AWS evaluates for Pinhole's calls (bucket policies, queue policies)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from local.iam.evaluator import PolicyNotUnderstood, Statement, parse_policy
from local.iam.operations import queue_arn_of
from local.template import ACCOUNT_ID, REGION, CloudAssembly, Resource


def _allow(actions: list[str], resource: str = "*") -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]}


_LOGS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
# The AWS managed policies a Pinhole template may attach, as AWS publishes them. Any other is refused.
AWS_MANAGED_POLICIES: dict[str, dict[str, Any]] = {
    "service-role/AWSLambdaBasicExecutionRole": _allow(_LOGS),
    "service-role/AWSLambdaDynamoDBExecutionRole": _allow(
        ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams", *_LOGS]
    ),
    "service-role/AWSLambdaSQSQueueExecutionRole": _allow(
        ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", *_LOGS]
    ),
    "AWSXRayDaemonWriteAccess": _allow(
        [
            "xray:PutTraceSegments",
            "xray:PutTelemetryRecords",
            "xray:GetSamplingRules",
            "xray:GetSamplingTargets",
            "xray:GetSamplingStatisticSummaries",
        ]
    ),
    "service-role/AmazonAPIGatewayPushToCloudWatchLogs": _allow(
        [
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:DescribeLogGroups",
            "logs:DescribeLogStreams",
            "logs:PutLogEvents",
            "logs:GetLogEvents",
            "logs:FilterLogEvents",
        ]
    ),
}
AWS_MANAGED_PREFIX = "arn:aws:iam::aws:policy/"


def role_name_of(resource: Resource) -> str:
    """The role's name: RoleName if the template gives one, else one CloudFormation-like (≤ 64 characters)."""
    name = resource.properties.get("RoleName")
    return str(name) if name else f"{resource.stack.name}-{resource.logical_id}"[:64]


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"


@dataclass
class PolicyStore:
    roles: dict[str, tuple[Statement, ...]] = field(default_factory=dict)  # role ARN -> statements
    buckets: dict[str, tuple[Statement, ...]] = field(default_factory=dict)  # bucket name -> statements
    queues: dict[str, tuple[Statement, ...]] = field(default_factory=dict)  # queue ARN -> statements

    def identity_statements(self, role: str) -> tuple[Statement, ...]:
        return self.roles.get(role, ())

    def resource_statements(self, resource_arn: str) -> tuple[Statement, ...]:
        if resource_arn.startswith("arn:aws:s3:::"):
            return self.buckets.get(resource_arn.removeprefix("arn:aws:s3:::").split("/", 1)[0], ())
        if resource_arn.startswith("arn:aws:sqs:"):
            return self.queues.get(resource_arn, ())
        return ()

    @classmethod
    def from_assembly(cls, assembly: CloudAssembly) -> PolicyStore:
        """Every policy of the template, resolved to local ARNs (the assembly's resources must have their
        physical names: provisioned by the local cloud, or bound to a test's environment)."""
        for key in _keys_of_resources_functions_call(assembly):
            raise PolicyNotUnderstood(f"{key}: customer-managed KMS keys (and their key policies) are not modelled")
        store = cls()
        documents: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        managed = {
            str(assembly.physical_of(policy).ref): policy for policy in assembly.resources("AWS::IAM::ManagedPolicy")
        }
        for role in assembly.resources("AWS::IAM::Role"):
            arn = role_arn(str(assembly.physical_of(role).ref))
            found = documents.setdefault(arn, [])
            props = assembly.resolve(role.stack, role.properties)
            for inline in props.get("Policies", []):
                found.append((f"{role.logical_id}/{inline.get('PolicyName', 'inline')}", inline["PolicyDocument"]))
            for managed_arn in props.get("ManagedPolicyArns", []):
                found.append((str(managed_arn), _managed_document(assembly, managed, str(managed_arn))))
        for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for policy in assembly.resources(kind):
                props = assembly.resolve(policy.stack, policy.properties)
                for name in props.get("Roles", []):
                    documents.setdefault(role_arn(str(name)), []).append((policy.logical_id, props["PolicyDocument"]))
        for arn, parts in documents.items():
            store.roles[arn] = tuple(
                statement for origin, document in parts for statement in parse_policy(document, origin)
            )
        for policy in assembly.resources("AWS::S3::BucketPolicy"):
            props = assembly.resolve(policy.stack, policy.properties)
            store.buckets[str(props["Bucket"])] = parse_policy(props["PolicyDocument"], policy.logical_id, True)
        for policy in assembly.resources("AWS::SQS::QueuePolicy"):
            props = assembly.resolve(policy.stack, policy.properties)
            statements = parse_policy(props["PolicyDocument"], policy.logical_id, True)
            for queue_url in props.get("Queues", []):
                arn = queue_arn_of(str(queue_url), REGION)
                store.queues[arn] = store.queues.get(arn, ()) + statements
        return store


def _managed_document(assembly: CloudAssembly, managed: dict[str, Resource], arn: str) -> dict[str, Any]:
    if arn in managed:
        policy = managed[arn]
        return dict(assembly.resolve(policy.stack, policy.properties)["PolicyDocument"])
    name = arn.removeprefix(AWS_MANAGED_PREFIX)
    if arn.startswith(AWS_MANAGED_PREFIX) and name in AWS_MANAGED_POLICIES:
        return AWS_MANAGED_POLICIES[name]
    raise PolicyNotUnderstood(
        f"managed policy {arn} is unknown to local IAM enforcement: add its document to "
        "local/iam/policies.py AWS_MANAGED_POLICIES"
    )


def function_roles(assembly: CloudAssembly, functions: Iterable[Resource]) -> dict[str, str]:
    """Function logical id -> its role's ARN, from each function's `Role`."""
    return {
        function.logical_id: str(assembly.resolve(function.stack, function.properties["Role"]))
        for function in functions
    }


CALLED_BY_FUNCTIONS = (
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable",
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::SecretsManager::Secret",
)
"""Resource types whose customer-managed key a function's call would need kms:* on (a key used only by what
AWS services call among themselves — the alarm topic CloudWatch publishes to — is outside what is enforced)."""


def _keys_of_resources_functions_call(assembly: CloudAssembly) -> list[Resource]:
    keys = assembly.resources("AWS::KMS::Key")
    called = [resource.properties for kind in CALLED_BY_FUNCTIONS for resource in assembly.resources(kind)]
    used = json.dumps(called)
    return [key for key in keys if f'"{key.logical_id}"' in used]
