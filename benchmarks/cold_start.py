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
API_CONTEXTS = ("auth", "users", "meta", "upload")
HANDLERS = {context: f"import functions.{context}.handler" for context in (*API_CONTEXTS, "resize")}

PROBE = """
import sys, time
started = time.perf_counter()
{statement}
elapsed = time.perf_counter() - started
heavy = sorted(m for m in ("PIL", "pillow_heif", "numpy", "moto") if m in sys.modules)
print(elapsed, ",".join(heavy))
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


def _import_time(statement: str, env: dict[str, str]) -> tuple[float, str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(statement=statement)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=ROOT,
    )
    seconds, heavy = result.stdout.strip().split(" ") if " " in result.stdout.strip() else (result.stdout, "")
    return float(seconds), heavy


def run() -> dict[str, object]:
    env = _environment()
    samples: dict[str, list[float]] = {name: [] for name in ["boto3_dynamodb_client", *HANDLERS]}
    heavy_modules: dict[str, str] = {}
    for _ in range(RUNS):  # alternate, so drift in machine load falls on every subject alike
        samples["boto3_dynamodb_client"].append(_import_time(BASELINE, env)[0])
        for context, statement in HANDLERS.items():
            seconds, heavy = _import_time(statement, env)
            samples[context].append(seconds)
            heavy_modules[context] = heavy
    medians = {name: statistics.median(values) for name, values in samples.items()}
    baseline = medians["boto3_dynamodb_client"]
    return {
        "runs": RUNS,
        "median_ms": {name: round(value * 1000, 1) for name, value in medians.items()},
        "ratio_to_boto3_baseline": {name: round(medians[name] / baseline, 2) for name in HANDLERS},
        "heavy_modules_loaded": heavy_modules,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
