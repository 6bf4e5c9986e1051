"""Mutation check of local IAM enforcement: a copy of the synthesized template with one grant removed from a
role runs as a local cloud, and the path that needs the grant fails with AccessDenied — while the same path
passes on the unmutated template (the session's local cloud). So a green e2e suite proves grants."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.iam.authorizer import DENIED_MARKER
from tests.e2e.conftest import CDK_OUT, RunningLocalCloud, start_local_cloud
from tests.support.api_client import Member, upload

pytestmark = pytest.mark.e2e
STATELESS = "PinholeStateless.template.json"
PHOTO = b"\xff\xd8\xff\xe0" + b"\x00" * 64  # never resized here: the upload is what is under test


def _role_policy(template: dict[str, Any], role_prefix: str) -> dict[str, Any]:
    """The AWS::IAM::Policy attached to the role whose logical id is `role_prefix` + CDK's hash."""
    resources = template["Resources"]
    (policy,) = [
        resource["Properties"]["PolicyDocument"]
        for resource in resources.values()
        if resource["Type"] == "AWS::IAM::Policy"
        and any(
            role["Ref"].startswith(role_prefix) and len(role["Ref"]) == len(role_prefix) + 8
            for role in resource["Properties"]["Roles"]
        )
    ]
    return dict(policy)


def remove_grant(template: dict[str, Any], role_prefix: str, action: str, resource_names: str) -> None:
    """Takes `action` out of the role's statements on the resource whose reference mentions `resource_names`."""
    removed = 0
    for statement in _role_policy(template, role_prefix)["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if action in actions and resource_names in json.dumps(statement["Resource"]):
            statement["Action"] = [granted for granted in actions if granted != action] or ["none:Nothing"]
            removed += 1
    assert removed, f"{role_prefix} has no {action} on {resource_names} to remove"


def mutated_cdk_out(target: Path, mutate: Callable[[dict[str, Any]], None]) -> Path:
    """cdk.out with the stateless template mutated; the assets (large) are linked, not copied."""
    target.mkdir(parents=True)
    for entry in CDK_OUT.iterdir():
        if entry.name.startswith("asset."):
            (target / entry.name).symlink_to(entry.resolve())
        elif entry.is_file():
            shutil.copy(entry, target / entry.name)
    template = json.loads((target / STATELESS).read_text())
    mutate(template)
    (target / STATELESS).write_text(json.dumps(template))
    return target


def _without_the_grants(template: dict[str, Any]) -> None:
    # The upload role signs pre-signed POSTs: without s3:PutObject on the uploads bucket, uploads fail.
    remove_grant(template, "UploadApiRole", "s3:PutObject", "UploadsBucket")
    # The users role follows by putting the edge in the graph table (in a transaction): without it, follows fail.
    remove_grant(template, "UsersApiRole", "dynamodb:PutItem", "GraphTable")


@pytest.fixture(scope="module")
def mutated_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLocalCloud]:
    workdir = tmp_path_factory.mktemp("iam-mutation")
    cdk_out = mutated_cdk_out(workdir / "cdk.out", _without_the_grants)
    running = start_local_cloud(workdir / "cloud", cdk_out=cdk_out)
    yield running
    returncode, output = running.stop()
    assert returncode == 0, output


def _post_and_upload(cloud: RunningLocalCloud) -> httpx.Response:
    assert cloud.http is not None
    member = Member(cloud.http)
    created = member.http.post(
        "/posts", json={"caption": "", "media": [{"content_type": "image/jpeg", "size_bytes": 68}]}
    )
    assert created.status_code == 201, created.text
    return upload(created.json()["uploads"][0], PHOTO)


def _follow(cloud: RunningLocalCloud) -> httpx.Response:
    assert cloud.http is not None
    fan, star = Member(cloud.http), Member(cloud.http)
    return fan.http.post(f"/users/{star.username}/follow")


def test_an_upload_fails_with_access_denied_without_the_signers_put_object_grant(
    mutated_cloud: RunningLocalCloud, local_cloud: RunningLocalCloud
) -> None:
    # When a client posts its file to the pre-signed POST an upload function without the grant signed
    refused = _post_and_upload(mutated_cloud)

    # Then S3 refuses it with the signer's permissions: 403 AccessDenied naming the upload role and the action
    assert refused.status_code == 403, refused.text
    assert "<Code>AccessDenied</Code>" in refused.text
    assert "assumed-role/PinholeStateless-UploadApiRole" in refused.text
    assert "is not authorized to perform: s3:PutObject" in refused.text
    assert DENIED_MARKER in mutated_cloud.output()

    # And with the grant (the template as synthesized), the same upload is stored
    assert _post_and_upload(local_cloud).status_code == 204


def test_a_follow_fails_with_access_denied_without_put_item_on_the_graph_table(
    mutated_cloud: RunningLocalCloud, local_cloud: RunningLocalCloud
) -> None:
    # When a fan follows someone through a users function whose role lacks the grant
    refused = _follow(mutated_cloud)

    # Then DynamoDB refused the transaction's Put inside the handler, the API answers the envelope's 500, and
    # the local cloud logged the refusal naming the role session, the action and the table
    assert refused.status_code == 500, refused.text
    assert refused.json()["error"]["code"] == "internal"
    log = mutated_cloud.output()
    assert "assumed-role/PinholeStateless-UsersApiRole" in log
    assert "is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:" in log

    # And with the grant, the same follow is made
    followed = _follow(local_cloud)
    assert followed.status_code == 200, followed.text
    assert followed.json() == {"status": "following"}
