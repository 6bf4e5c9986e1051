"""Cold import time of each API handler module against `import boto3` + a DynamoDB client — the floor
every Python Lambda pays — measured side by side in fresh interpreters, alternating, in one run."""

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 15

BASELINE = "import boto3; boto3.client('dynamodb', region_name='us-east-1')"
API_FUNCTIONS = (
    "auth",
    "users",
    "meta",
    "upload",
    "feed_read",
    "social",
    "search",
    "notifications",
    "messaging",
)
"""Every function behind the HTTP API (functions/<context>/handler.py)."""
HANDLERS = {context: f"import functions.{context}.handler" for context in (*API_FUNCTIONS, "resize")}
TRACED = {f"{context}_traced": statement for context, statement in HANDLERS.items() if context == "feed_read"}
"""The same import as on AWS, where tracing is on (LAMBDA_TASK_ROOT set, POWERTOOLS_TRACE_DISABLED unset)."""
XRAY_START = (
    "import boto3; from pinhole.shared.observability import xray; xray.enabled = True; xray.patch_all(); "
    "xray.recorder()"
)
"""What the first traced call pays on AWS now that the X-Ray SDK is not imported at import: the SDK, its
recorder's two sampling clients and every patch (boto3 is imported first: the handler has it already)."""

PROBE = """
import sys, time
started, cpu_started = time.perf_counter(), time.process_time()
{statement}
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
heavy = sorted(m for m in ("PIL", "pillow_heif", "numpy", "moto", "aws_xray_sdk.core") if m in sys.modules)
print(elapsed, cpu, ",".join(heavy) or "-")
"""


def _environment() -> dict[str, str]:
    from pinhole.shared.settings import Settings

    settings = {
        field.alias: f"bench-{name}"
        for name, field in Settings.model_fields.items()
        if field.alias and field.is_required()
    }
    return {
        **os.environ,
        **settings,
        "PYTHONPATH": f"{ROOT / 'layers' / 'pinhole'}:{ROOT}",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "bench",
        "POWERTOOLS_METRICS_NAMESPACE": "Pinhole",
    }


def _on_aws(env: dict[str, str]) -> dict[str, str]:
    """Tracing on, as Powertools decides in a Lambda execution environment."""
    traced = {key: value for key, value in env.items() if key != "POWERTOOLS_TRACE_DISABLED"}
    return {**traced, "LAMBDA_TASK_ROOT": str(ROOT), "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR"}


def _import_time(statement: str, env: dict[str, str], setup: str = "") -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (the figure machine load disturbs least) and the heavy modules loaded."""
    result = subprocess.run(
        [sys.executable, "-c", setup + PROBE.format(statement=statement)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=env.get("COLD_START_CWD", ROOT),
    )
    seconds, cpu, heavy = result.stdout.strip().splitlines()[-1].split(" ")
    return float(seconds), float(cpu), "" if heavy == "-" else heavy


def _earlier_tree(env: dict[str, str]) -> dict[str, tuple[str, dict[str, str], str]]:
    """COLD_START_COMPARE_TREE=<dir holding another version's functions/ and layers/> (e.g. `git archive main
    functions layers | tar -x -C /tmp/main-src`): its API functions too, as `before:<context>`, in the same run."""
    tree = os.environ.get("COLD_START_COMPARE_TREE")
    if not tree:
        return {}
    # `python -c` puts the working directory first on sys.path: run the earlier tree's subjects from it.
    before = {**env, "PYTHONPATH": f"{tree}/layers/pinhole:{tree}", "COLD_START_CWD": tree}
    return {f"before:{context}": (f"import functions.{context}.handler", before, "") for context in API_FUNCTIONS}


def run() -> dict[str, object]:
    env = _environment()
    earlier = _earlier_tree(env)
    subjects = {
        "boto3_dynamodb_client": (BASELINE, env, ""),
        **{context: (statement, env, "") for context, statement in HANDLERS.items()},
        **{name: (statement, _on_aws(env), "") for name, statement in TRACED.items()},
        "xray_start_on_first_traced_call": (XRAY_START, _on_aws(env), "import boto3\n"),
        **earlier,
    }
    samples: dict[str, list[float]] = {name: [] for name in subjects}
    cpu_samples: dict[str, list[float]] = {name: [] for name in subjects}
    heavy_modules: dict[str, str] = {}
    for _ in range(RUNS):  # alternate, so drift in machine load falls on every subject alike
        for name, (statement, subject_env, setup) in subjects.items():
            seconds, cpu, heavy = _import_time(statement, subject_env, setup)
            samples[name].append(seconds)
            cpu_samples[name].append(cpu)
            heavy_modules[name] = heavy
    medians = {name: statistics.median(values) for name, values in samples.items()}
    cpu_medians = {name: statistics.median(values) for name, values in cpu_samples.items()}
    compared = [*HANDLERS, *TRACED, "xray_start_on_first_traced_call", *earlier]
    return {
        "runs": RUNS,
        "load_average_at_end": round(os.getloadavg()[0], 1),
        "median_ms": {name: round(value * 1000, 1) for name, value in medians.items()},
        "ratio_to_boto3_baseline": {
            name: round(medians[name] / medians["boto3_dynamodb_client"], 2) for name in compared
        },
        "median_cpu_ms": {name: round(value * 1000, 1) for name, value in cpu_medians.items()},
        "cpu_ratio_to_boto3_baseline": {
            name: round(cpu_medians[name] / cpu_medians["boto3_dynamodb_client"], 2) for name in compared
        },
        "heavy_modules_loaded": {
            name: heavy for name, heavy in heavy_modules.items() if name != "xray_start_on_first_traced_call"
        },
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
