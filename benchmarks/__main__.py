"""Runs every benchmark and writes one JSON file per benchmark into benchmarks/results/."""

import importlib
import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
BENCHMARKS = [
    "cold_start",
    "gateway_overhead",
    "resize",
    "feed",
    "feed_simulation",
    "messaging",
    "group_send",
    "search",
    "local_state",
    "iam_enforcement",
]


def main(names: list[str]) -> None:
    RESULTS.mkdir(exist_ok=True)
    for name in names or BENCHMARKS:
        print(f"== {name}", flush=True)
        figures = importlib.import_module(f"benchmarks.{name}").run()
        text = json.dumps(figures, indent=2)
        (RESULTS / f"{name}.json").write_text(text + "\n")
        print(text, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
