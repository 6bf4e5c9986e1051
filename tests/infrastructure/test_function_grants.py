"""Every AWS call a function's code can make is granted to its role in the synthesized template.

The calls are found statically (tests/support/code_calls.py: mypy's types, a call graph from the function's
entry point to the PynamoDB, boto3 and Powertools calls it reaches — what it cannot see is written there)
and checked against the role's policies with local IAM enforcement's evaluator. The template tests of
test_functions.py bound grants from above; these bound them from below.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from local.iam.authorizer import Authorizer, TemplateLookups, authorizer_for
from local.iam.binding import bind_to_environment
from local.iam.policies import PolicyStore, function_roles
from local.lambda_runner import asset_dir_of, is_app_function, module_file_of
from local.template import CloudAssembly
from tests.support.code_calls import AwsCall, CodeCalls, analyse, missing_grants

REPO_ROOT = Path(__file__).resolve().parents[2]
CDK_OUT = REPO_ROOT / "cdk.out"


def _source_module(staged: Path) -> tuple[str, Path]:
    """The functions/ module a staged handler file was copied from (same relative path, same content)."""
    for candidate in (REPO_ROOT / "functions").rglob(staged.name):
        relative = candidate.relative_to(REPO_ROOT)
        if candidate.read_bytes() == staged.read_bytes() and staged.as_posix().endswith(
            relative.as_posix().removeprefix("functions/").split("/", 1)[-1]
        ):
            return ".".join(relative.with_suffix("").parts), candidate
    raise LookupError(f"no source under functions/ for {staged}")


class Functions:
    def __init__(self, cdk_out: Path) -> None:
        self.assembly = CloudAssembly.load(cdk_out)
        bind_to_environment(self.assembly, os.environ)
        self.authorizer: Authorizer = authorizer_for(PolicyStore.from_assembly(self.assembly), TemplateLookups())
        self.resources = [r for r in self.assembly.resources("AWS::Lambda::Function") if is_app_function(r)]
        self.roles = function_roles(self.assembly, self.resources)
        self.entries: dict[str, str] = {}
        self.modules: dict[str, Path] = {}
        for resource in self.resources:
            handler = resource.properties["Handler"]
            module, path = _source_module(module_file_of(asset_dir_of(resource), handler))
            self.modules[module] = path
            self.entries[resource.logical_id] = f"{module}.{handler.rpartition('.')[2]}"

    def missing(self, calls: CodeCalls, logical_id: str) -> list[str]:
        identity = self.authorizer.identity(logical_id, self.roles[logical_id])
        return missing_grants(self.authorizer, identity, calls.reachable_calls(self.entries[logical_id]))


@pytest.fixture(scope="module")
def functions() -> Functions:
    return Functions(CDK_OUT)


@pytest.fixture(scope="module")
def calls(functions: Functions) -> CodeCalls:
    return analyse(functions.modules)


def _logical_ids() -> list[str]:
    stateless = json.loads((CDK_OUT / "PinholeStateless.template.json").read_text())["Resources"]
    return sorted(
        logical_id
        for logical_id, resource in stateless.items()
        if resource["Type"] == "AWS::Lambda::Function"
        and "Handler" in resource["Properties"]
        and str(resource["Properties"].get("Runtime", "")).startswith("python")
        and "/Custom::CDK" not in resource.get("Metadata", {}).get("aws:cdk:path", "")
    )


@pytest.mark.parametrize("logical_id", _logical_ids())
def test_every_call_the_functions_code_can_make_is_granted_to_its_role(
    functions: Functions, calls: CodeCalls, logical_id: str
) -> None:
    assert functions.missing(calls, logical_id) == []


def _reached(calls: CodeCalls, functions: Functions, prefix: str) -> set[AwsCall]:
    (logical_id,) = [name for name in functions.entries if name.startswith(prefix) and len(name) == len(prefix) + 8]
    return calls.reachable_calls(functions.entries[logical_id])


def test_the_analysis_sees_the_calls_of_each_kind(functions: Functions, calls: CodeCalls) -> None:
    # A test of a blind analysis would pass for nothing: here are calls of every kind it must find.
    resize = {(call.action, call.resource) for call in _reached(calls, functions, "ResizeFunction")}
    media = f"arn:aws:s3:::{os.environ['MEDIA_BUCKET_NAME']}"
    posts = f"arn:aws:dynamodb:us-east-1:123456789012:table/{os.environ['POSTS_TABLE_NAME']}"
    assert ("s3:ListBucket", media) in resize  # boto3 paginator, the bucket from settings
    assert ("dynamodb:GetItem", posts) in resize  # PynamoDB model method
    assert ("dynamodb:UpdateItem", posts) in resize  # TransactWrite item
    invalidator = {call.action for call in _reached(calls, functions, "ResizeInvalidatorFunction")}
    assert "cloudfront:CreateInvalidation" in invalidator  # the CDN purge: a client made on first use, in a property
    purge = {call.action for call in _reached(calls, functions, "PrivacyPurgeFunction")}
    assert {"dynamodb:Scan", "s3:ListBucketVersions"} <= purge  # clients made on first use by a module function
    upload = {call.action for call in _reached(calls, functions, "UploadApiFunction")}
    assert {"s3:PutObject", "secretsmanager:GetSecretValue", "dynamodb:Query"} <= upload  # presign, cursor key
    social = {call.action for call in _reached(calls, functions, "SocialApiFunction")}
    assert "dynamodb:PutItem" in social  # idempotency layer and likes
    deliver = {call.action for call in _reached(calls, functions, "NotificationsDeliverFunction")}
    assert "execute-api:ManageConnections" in deliver  # the client made in a property
    feed = {(call.action, call.resource, call.where) for call in _reached(calls, functions, "FeedReadApiFunction")}
    feeds = f"arn:aws:dynamodb:us-east-1:123456789012:table/{os.environ['FEEDS_TABLE_NAME']}"
    assert ("dynamodb:BatchGetItem", posts, "pinhole.posts.dal.PostRepository.standings_of") in feed  # raw reads
    assert ("dynamodb:Query", feeds, "pinhole.feed.dal.FeedRepository.page") in feed
    cursor_key = (
        "secretsmanager:GetSecretValue",
        os.environ["CURSOR_SECRET_ARN"],
        "pinhole.shared.secrets.CursorKey.value",
    )
    assert cursor_key in feed  # a botocore client (pinhole.shared.aws_clients), made in a property
    fanout = {call.action for call in _reached(calls, functions, "FeedFanoutDeliverFunction")}
    assert "dynamodb:BatchWriteItem" in fanout  # botocore's client, made in a property
    auth = {call.action for call in _reached(calls, functions, "AuthApiFunction")}
    assert {"cognito-idp:AdminCreateUser", "cognito-idp:AdminDeleteUser"} <= auth  # botocore's client, at module scope


def test_a_role_without_a_grant_its_code_needs_fails_the_check(
    functions: Functions, calls: CodeCalls, tmp_path: Path
) -> None:
    # Given the template as resize's role stood before issue 12: no s3:ListBucket on the media bucket
    target = tmp_path / "cdk.out"
    target.mkdir()
    for entry in CDK_OUT.iterdir():
        (target / entry.name).symlink_to(entry.resolve()) if entry.name.startswith("asset.") else None
    for name in ("manifest.json", "PinholeStateful.template.json"):
        (target / name).write_text((CDK_OUT / name).read_text())
    stateless: dict[str, Any] = json.loads((CDK_OUT / "PinholeStateless.template.json").read_text())
    for resource in stateless["Resources"].values():
        roles = resource.get("Properties", {}).get("Roles", [{}])
        if resource["Type"] == "AWS::IAM::Policy" and roles[0].get("Ref", "").startswith("ResizeRole"):
            statements = resource["Properties"]["PolicyDocument"]["Statement"]
            statements[:] = [s for s in statements if s["Action"] != "s3:ListBucket"]
    (target / "PinholeStateless.template.json").write_text(json.dumps(stateless))

    # When the check runs on it
    mutated = Functions(target)
    (resize,) = [name for name in mutated.entries if name.startswith("ResizeFunction")]

    # Then it names the missing grant and where the code needs it
    missing = mutated.missing(calls, resize)
    assert any(line.startswith("s3:ListBucket on arn:aws:s3:::") and "rendition_pages" in line for line in missing)
