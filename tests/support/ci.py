"""A test that cannot run on this machine says why (a skip) — but not in CI, where a missing prerequisite
(python3.12 for the runtime check, a synthesized cdk.out for the e2e tests) is a broken pipeline, and a skip
would let it pass unnoticed. CI sets CI=true (GitHub Actions, GitLab, most others)."""

import os
from typing import NoReturn

import pytest


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def skip_unless_ci(reason: str) -> NoReturn:
    """Skips with `reason` on a developer's machine; fails with it in CI."""
    if running_in_ci():
        pytest.fail(f"{reason} (CI=true: CI must provide it, a skip would hide the gap)", pytrace=False)
    pytest.skip(reason)
