"""The load soak in small (`soak/load.py`: a few users for ~25 s): under a mixed workload of reads and writes the
local cloud answers no 5xx and no unexpected 4xx, and afterwards every count, list and feed agrees with itself and
with what the clients know they did. No timing is asserted; `make soak` reports the figures."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import CDK_OUT, REPO_ROOT
from tests.support.ci import skip_unless_ci

pytestmark = pytest.mark.e2e

HARD_TIMEOUT_S = 900  # the machine may be shared; the run itself is ~25 s of load plus seeding and the audit
HANDLER_TIMEOUT = "local.lambda_runner.HandlerTimeout"
SMOKE = {
    "SOAK_LOAD_DURATION_S": "25",
    "SOAK_LOAD_USERS": "4",
    "SOAK_LOAD_SPAWN_RATE": "4",
    "SOAK_LOAD_ACCOUNTS": "6",
    "SOAK_LOAD_POSTS_EACH": "1",
    "SOAK_LOAD_FOLLOWS_EACH": "3",
    "SOAK_LOAD_SETTLE_S": "60",
    "SOAK_LOAD_WAIT_S": "0.1,0.5",  # four users who think between requests: the smoke checks correctness, not capacity
}


def is_a_write(route: str) -> bool:
    return route.split()[0] in {"POST", "DELETE"} and route != "POST /auth/login"


def run_the_load(out: Path) -> dict[str, Any]:
    """`python -m soak.load` in a session of its own: past the deadline it dies with its local cloud and locust."""
    env = {**os.environ, **SMOKE, "PINHOLE_CDK_OUT": str(CDK_OUT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "soak.load", "--out", str(out)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=HARD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        raise AssertionError(f"the load did not finish within {HARD_TIMEOUT_S} s:\n{output[-4000:]}") from None
    assert process.returncode == 0, output[-6000:]
    return dict(json.loads(out.read_text()))


def test_mixed_load_loses_nothing_and_answers_no_server_error(tmp_path: Path) -> None:
    if not (CDK_OUT / "manifest.json").is_file():
        skip_unless_ci(f"{CDK_OUT} has no manifest.json: run `make synth`")

    # Given a seeded local cloud, When a few users read and write for 25 s and the audit has run
    figures = run_the_load(tmp_path / "load.json")

    # Then the load really read and wrote
    writes = sum(route["requests"] for name, route in figures["routes"].items() if is_a_write(name))
    assert figures["requests"] > 0 and writes > 0, figures["routes"]
    assert figures["audit"]["checked"]["feed_entries"] > 0
    # and no request failed on the server's side, none was refused that should not have been
    assert figures["errors_5xx"] == 0, figures["status_counts"]
    assert figures["network_errors"] == 0, figures["status_counts"]
    assert figures["unexpected_4xx"] == 0, figures["routes"]
    assert figures["task_errors"] == 0, figures["task_error_examples"]
    # (a handler starved past its timeout on a shared machine is retried by its pump; anything else is a defect)
    crashes = {error for error in figures["local_cloud_errors"] if not error.startswith(HANDLER_TIMEOUT)}
    assert not crashes, figures["local_cloud_first_traceback"]
    # and every count, list and feed agrees with itself and with the answered writes
    assert figures["count_mismatches"] == 0, figures["audit"]["mismatch_examples"]
