"""Handlers on moto (mock_aws) invoked as their template role: the synthesized template's policies,
bound to the test's tables, buckets, queues and secrets through the environment variables every function
gets, enforced by the local cloud's IAM enforcement (local/iam). A call the role may not make fails with
AWS's AccessDenied, as it would on AWS."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import boto3

from local.iam.authorizer import Authorizer, TemplateLookups, authorizer_for
from local.iam.binding import bind_to_environment, is_named
from local.iam.identity import Identity, run_as
from local.iam.policies import PolicyStore, function_roles
from local.template import CloudAssembly

CDK_OUT = Path(__file__).resolve().parents[2] / "cdk.out"


class TemplateRoles:
    def __init__(self, also_bind: Mapping[str, str] | None = None, cdk_out: Path = CDK_OUT) -> None:
        """`also_bind`: resources no function variable names, by logical id prefix -> name (URL for a queue)
        in the test's world, e.g. the queue an event source mapping reads."""
        assembly = CloudAssembly.load(cdk_out)
        bind_to_environment(assembly, os.environ, also_bind)
        secrets = boto3.client("secretsmanager")
        self.authorizer: Authorizer = authorizer_for(
            PolicyStore.from_assembly(assembly),
            TemplateLookups(describe_secret=lambda name: str(secrets.describe_secret(SecretId=name)["ARN"])),
        )
        functions = list(assembly.resources("AWS::Lambda::Function"))
        self._roles = function_roles(assembly, [f for f in functions if "Role" in f.properties])

    def identity(self, function_logical_id_prefix: str) -> Identity:
        """The role session of the template's function whose logical id starts with the prefix (e.g.
        "ResizeFunction", "ResizeCleanupFunction")."""
        (logical_id,) = [logical_id for logical_id in self._roles if is_named(logical_id, function_logical_id_prefix)]
        return self.authorizer.identity(logical_id, self._roles[logical_id])

    def handler_as(self, function_logical_id_prefix: str, handler: Callable[..., Any]) -> Callable[..., Any]:
        """`handler`, invoked as the template role of that function (and threads it starts)."""
        return run_as(self.identity(function_logical_id_prefix), handler)
