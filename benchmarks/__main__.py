"""`make bench` (`python -m benchmarks [NAME ...]`): every benchmark, or those named, each in a process of
its own, one JSON file each in benchmarks/results/, then one screen of every figure against its target.

A benchmark changes the process it runs in (moto's backends, os.environ, botocore hooks, a local cloud on a
port), so none may inherit another's: run after `feed` in the same interpreter, `messaging` found feed's
tables still there. A benchmark that fails is named in the summary and makes the exit code 1; the others
still run.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.targets import summary_lines

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = RESULTS.parent.parent
BENCHMARKS = [
    "cold_start",
    "gateway_overhead",
    "resize",
    "transcode",
    "feed",
    "feed_page",
    "feed_simulation",
    "feed_ranked",
    "feed_ranking",
    "messaging",
    "group_send",
    "search",
    "dynamodb",
    "local_state",
    "iam_enforcement",
    "push",
]
ONE = "--one"


def run_one(name: str) -> None:
    """In this process: one benchmark, its figures into results/<name>.json."""
    RESULTS.mkdir(exist_ok=True)
    figures = importlib.import_module(f"benchmarks.{name}").run()
    text = json.dumps(figures, indent=2)
    (RESULTS / f"{name}.json").write_text(text + "\n")
    print(text, flush=True)


def main(names: list[str]) -> int:
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {' '.join(unknown)}; known: {' '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    RESULTS.mkdir(exist_ok=True)
    results: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for name in names or BENCHMARKS:
        print(f"== {name}", flush=True)
        (RESULTS / f"{name}.json").unlink(missing_ok=True)
        code = subprocess.run([sys.executable, "-m", "benchmarks", ONE, name], cwd=ROOT, check=False).returncode
        result = RESULTS / f"{name}.json"
        if code == 0 and result.is_file():
            results[name] = json.loads(result.read_text())
        else:
            failed[name] = f"exit code {code}"
    print("\n== summary (figures from this run; targets: benchmarks/targets.py)")
    for line in summary_lines(results, failed):
        print(line)
    for name, reason in failed.items():
        print(f"{name}: FAILED ({reason}); its output is above")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == ONE:
        run_one(sys.argv[2])
    else:
        sys.exit(main(sys.argv[1:]))
