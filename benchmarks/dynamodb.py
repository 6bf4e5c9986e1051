"""What DynamoDB costs the local cloud, per operation, on moto as it ran before and on the fast path,
side by side in one run: the workloads of benchmarks/dynamodb_profile.py (a feed page, direct messages,
the fan-out of one post to 10,000 followers, people-search seeding and searches), each in a fresh
process per DynamoDB, with every request moto serves timed (parsing, the backend and its locks,
serialising). Per workload: its own figure, the requests, moto's total time and each operation's mean.
PINHOLE_PROFILE_USERS sizes the search seeding (default 5,000 users); PINHOLE_BENCH_ENGINES one side."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.engines import engines

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = ["feed_read", "messaging", "search_seed", "fan_out"]
FIGURES = {
    "feed_read": "page_ms_median",
    "messaging": "seconds",
    "search_seed": "seconds",
    "fan_out": "seconds_to_last_feed",
}


def _measure(workload: str, engine: str, workdir: Path) -> dict[str, Any]:
    output = workdir / f"{workload}-{engine}.json"
    print(f"[dynamodb] {workload} on '{engine}'", file=sys.stderr, flush=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.dynamodb_profile",
            workload,
            "--dynamodb",
            engine,
            "--output",
            str(output),
        ],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,  # the handlers' logs; the figures come back in the file
    )
    measured: dict[str, Any] = json.loads(output.read_text())
    return measured


def run() -> dict[str, Any]:
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as workdir:
        for workload in WORKLOADS:
            figures[workload] = {engine: _measure(workload, engine, Path(workdir)) for engine in engines()}
    summary = {}
    for workload, by_engine in figures.items():
        if set(by_engine) >= {"moto", "fast"}:
            moto, fast = by_engine["moto"], by_engine["fast"]
            key = FIGURES[workload]
            summary[workload] = {
                key: {"moto": moto.get(key), "fast": fast.get(key)},
                "moto_total_s": {"moto": moto["moto_total_s"], "fast": fast["moto_total_s"]},
                "mean_ms_by_operation": {
                    name: {
                        "moto": moto["operations"].get(name, {}).get("mean_ms"),
                        "fast": fast["operations"].get(name, {}).get("mean_ms"),
                    }
                    for name in sorted(set(moto["operations"]) | set(fast["operations"]))
                },
            }
    return {"cpus": os.cpu_count(), "summary": summary, "workloads": figures}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
