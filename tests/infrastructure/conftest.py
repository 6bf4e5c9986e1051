"""Fixtures over the synthesized cloud assembly (`make synth` writes cdk.out/ before the tests run)."""

import os
from typing import Any

import pytest

# The PynamoDB models read their table name from the environment when imported.
os.environ.setdefault("USERS_TABLE_NAME", "users-under-test")
os.environ.setdefault("USER_POOL_ID", "us-east-1_undertest")
os.environ.setdefault("USER_POOL_CLIENT_ID", "client-under-test")

from stacks import constants
from tests.infrastructure.assembly import CDK_OUT, CloudAssembly, load_cloud_assembly


@pytest.fixture(scope="session")
def cloud_assembly() -> CloudAssembly:
    assembly = load_cloud_assembly()
    if assembly is None:
        pytest.fail(f"{CDK_OUT / 'manifest.json'} is missing: run `make synth` first", pytrace=False)
    missing = {constants.STATEFUL_STACK_ID, constants.STATELESS_STACK_ID} - assembly.templates.keys()
    if missing:
        pytest.fail(f"cdk.out has no template for {sorted(missing)}: run `make synth`", pytrace=False)
    return assembly


@pytest.fixture(scope="session")
def stateful(cloud_assembly: CloudAssembly) -> dict[str, Any]:
    return cloud_assembly.templates[constants.STATEFUL_STACK_ID]


@pytest.fixture(scope="session")
def stateless(cloud_assembly: CloudAssembly) -> dict[str, Any]:
    return cloud_assembly.templates[constants.STATELESS_STACK_ID]
