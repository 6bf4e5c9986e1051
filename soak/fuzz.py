"""API fuzzing at length: schemathesis against a fresh local cloud, as a signed-in user with real
objects: every case of the coverage phase (boundary values, type mutations, undeclared methods and content
types), then FUZZ_SOAK_EXAMPLES (default 100) generated requests per operation, valid and invalid, then
FUZZ_SOAK_SCENARIOS (default 300) stateful scenarios, every response judged by every schemathesis check and
API.md's error envelope.

Figures: operations covered, cases run (coverage cases by scenario, with their statuses), responses by
status, findings per check (each finding listed), valid requests refused for a rule the schema does not
state, duration. tests/e2e/test_api_fuzzing.py is the short version that `make test` runs."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("FUZZ_SOAK_EXAMPLES", "100"))
SCENARIOS = int(os.environ.get("FUZZ_SOAK_SCENARIOS", "300"))


def run() -> dict[str, Any]:
    sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "pinhole")]
    from local.server import BackgroundCloud
    from tests.support.fuzzing import World, fuzz_api

    cdk_out = Path(os.environ.get("PINHOLE_CDK_OUT", ROOT / "cdk.out"))
    background = BackgroundCloud.start(cdk_out)
    try:
        base_url = background.cloud.outputs["HttpApiUrl"]
        with httpx.Client(base_url=base_url, timeout=30) as http:
            world = World.build(http)
            report = fuzz_api(base_url, world, examples_per_operation=EXAMPLES, on_finding=print, scenarios=SCENARIOS)
    finally:
        background.stop()
    return {
        "template": str(cdk_out),
        "cpus": os.cpu_count(),
        "examples_per_operation_and_mode": EXAMPLES,
        "stateful_scenarios": SCENARIOS,
        **report.figures(),
    }
