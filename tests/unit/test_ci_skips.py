"""A missing prerequisite skips a test on a developer's machine and fails it in CI (CI=true), where a skip
would let a broken pipeline pass (tests/support/ci.py)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.ci import skip_unless_ci

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_a_missing_prerequisite_skips_here_and_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match=r"no python3\.12"):
        skip_unless_ci("no python3.12 on PATH")


def test_the_runtime_check_without_python312_fails_in_ci() -> None:
    # Given CI, with no python3.12 on the PATH
    env = {**os.environ, "PATH": str(Path(sys.executable).parent), "CI": "true"}

    # When the Lambda runtime check runs
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/unit/test_runtime_compatibility.py", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    # Then it fails, saying why (on a laptop the same is a skip: the test above)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed" in result.stdout and "no python3.12 on PATH" in result.stdout
