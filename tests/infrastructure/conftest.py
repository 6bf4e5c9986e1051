"""Fixtures over the synthesized cloud assembly (`make synth` writes cdk.out/ before the tests run)."""

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# The PynamoDB models read their table name from the environment when imported.
os.environ.setdefault("USERS_TABLE_NAME", "users-under-test")
os.environ.setdefault("USER_POOL_ID", "us-east-1_undertest")
os.environ.setdefault("USER_POOL_CLIENT_ID", "client-under-test")

from stacks import constants

REPO_ROOT = Path(__file__).resolve().parents[2]
CDK_OUT = REPO_ROOT / "cdk.out"


@dataclass(frozen=True)
class CloudAssembly:
    directory: Path
    templates: dict[str, dict[str, Any]]

    def resources(self, stack: str, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.templates[stack]["Resources"].items()
            if resource["Type"] == resource_type
        }

    def resource_at(self, stack: str, construct_path: str) -> tuple[str, dict[str, Any]]:
        """The resource whose aws:cdk:path is `<stack>/<construct_path>`."""
        wanted = f"{stack}/{construct_path}"
        for logical_id, resource in self.templates[stack]["Resources"].items():
            if resource.get("Metadata", {}).get("aws:cdk:path") == wanted:
                return logical_id, resource
        raise AssertionError(f"no resource at {wanted}")


@pytest.fixture(scope="session")
def cloud_assembly() -> CloudAssembly:
    manifest_file = CDK_OUT / "manifest.json"
    if not manifest_file.exists():
        pytest.fail(f"{manifest_file} is missing: run `make synth` first", pytrace=False)
    manifest = json.loads(manifest_file.read_text())
    templates = {
        name: json.loads((CDK_OUT / artifact["properties"]["templateFile"]).read_text())
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    missing = {constants.STATEFUL_STACK_ID, constants.STATELESS_STACK_ID} - templates.keys()
    if missing:
        pytest.fail(f"cdk.out has no template for {sorted(missing)}: run `make synth`", pytrace=False)
    return CloudAssembly(directory=CDK_OUT, templates=templates)


@pytest.fixture(scope="session")
def stateful(cloud_assembly: CloudAssembly) -> dict[str, Any]:
    return cloud_assembly.templates[constants.STATEFUL_STACK_ID]


@pytest.fixture(scope="session")
def stateless(cloud_assembly: CloudAssembly) -> dict[str, Any]:
    return cloud_assembly.templates[constants.STATELESS_STACK_ID]
