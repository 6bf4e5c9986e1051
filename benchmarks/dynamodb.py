"""What DynamoDB costs the local cloud, per operation, on moto as it ran before and on the fast path,
side by side in one run: the workloads of benchmarks/dynamodb_profile.py (a feed page, direct messages,
people-search seeding and searches, the fan-out of one post to its followers), each in a fresh process
per DynamoDB, the two DynamoDBs one after the other for each workload, with every request moto serves
timed (parsing, the backend and its locks, serialising). Per workload: its own figure on each, moto's
over the fast path's, the requests, moto's total time and each operation's mean.

Sizes are those moto's engine finishes in minutes on 2 shared cores (at 10,000 followers and 5,000 users
the moto side did not finish within 25 minutes; at 2,000 followers its fan-out did not finish within 15 minutes
at load average ~15), and are stated in the result: BENCH_DYNAMODB_FOLLOWERS (default 500) followers for the
fan-out, BENCH_DYNAMODB_USERS (default 2,000) users for the search seeding; a workload still running after
BENCH_DYNAMODB_TIMEOUT_S (default 900) is reported as not finished. PINHOLE_BENCH_ENGINES=fast (or moto)
measures one side only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
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
FOLLOWERS = int(os.environ.get("BENCH_DYNAMODB_FOLLOWERS", "500"))
USERS = int(os.environ.get("BENCH_DYNAMODB_USERS", "2000"))
WORKLOAD_TIMEOUT_S = int(os.environ.get("BENCH_DYNAMODB_TIMEOUT_S", "900"))
SIZES = {
    "feed_read": "10 pages of 50 for a reader following 500 accounts, 20 of them celebrities (in process)",
    "messaging": "100 direct messages over HTTP, 10 pairs, one at a time",
    "search_seed": f"{USERS:,} users seeded into the search index, then 40 searches (in process)",
    "fan_out": f"one post to {FOLLOWERS:,} followers, from the publish to the last feed (pumps running)",
}


def _progress(message: str) -> None:
    print(f"[dynamodb] {message}", file=sys.stderr, flush=True)


def _measure(workload: str, engine: str, workdir: Path) -> dict[str, Any]:
    output = workdir / f"{workload}-{engine}.json"
    _progress(f"{workload} on '{engine}'")
    started = time.perf_counter()
    try:
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
            env={**os.environ, "PINHOLE_PROFILE_FOLLOWERS": str(FOLLOWERS), "PINHOLE_PROFILE_USERS": str(USERS)},
            timeout=WORKLOAD_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        _progress(f"{workload} on '{engine}' did not finish within {WORKLOAD_TIMEOUT_S} s")
        return {"did_not_finish_within_s": WORKLOAD_TIMEOUT_S}
    measured: dict[str, Any] = json.loads(output.read_text())
    _progress(f"{workload} on '{engine}': {measured.get(FIGURES[workload])} in {time.perf_counter() - started:.0f} s")
    return measured


def _ratio(moto: Any, fast: Any) -> float | None:
    if isinstance(moto, int | float) and isinstance(fast, int | float) and fast:
        return round(moto / fast, 1)
    return None


def compare(figures: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per workload measured on both: its figure, moto's total time and each operation's mean on each,
    with moto's over the fast path's."""
    summary: dict[str, Any] = {}
    for workload, by_engine in figures.items():
        moto, fast = by_engine.get("moto"), by_engine.get("fast")
        if moto is None or fast is None or "operations" not in moto or "operations" not in fast:
            continue
        key = FIGURES[workload]
        summary[workload] = {
            key: {"moto": moto.get(key), "fast": fast.get(key), "moto_over_fast": _ratio(moto.get(key), fast.get(key))},
            "moto_total_s": {
                "moto": moto["moto_total_s"],
                "fast": fast["moto_total_s"],
                "moto_over_fast": _ratio(moto["moto_total_s"], fast["moto_total_s"]),
            },
            "mean_ms_by_operation": {
                name: {
                    "moto": moto["operations"].get(name, {}).get("mean_ms"),
                    "fast": fast["operations"].get(name, {}).get("mean_ms"),
                    "moto_over_fast": _ratio(
                        moto["operations"].get(name, {}).get("mean_ms"),
                        fast["operations"].get(name, {}).get("mean_ms"),
                    ),
                }
                for name in sorted(set(moto["operations"]) | set(fast["operations"]))
            },
        }
    return summary


def run() -> dict[str, Any]:
    figures: dict[str, Any] = {}
    load_before = os.getloadavg()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        for workload in WORKLOADS:
            figures[workload] = {engine: _measure(workload, engine, Path(workdir)) for engine in engines()}
    return {
        "cpus": os.cpu_count(),
        "load_average_before": [round(load, 2) for load in load_before],
        "load_average_after": [round(load, 2) for load in os.getloadavg()],
        "wall_s": round(time.perf_counter() - started, 1),
        "sizes": SIZES,
        "summary": compare(figures),
        "workloads": figures,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
