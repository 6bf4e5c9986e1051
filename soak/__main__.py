"""Runs every soak (or those named) and writes one JSON file per soak into soak/results/."""

import importlib
import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
SOAKS: list[str] = ["load", "fuzz", "hostile_media"]


def main(names: list[str]) -> None:
    RESULTS.mkdir(exist_ok=True)
    for name in names or SOAKS:
        print(f"== {name}", flush=True)
        figures = importlib.import_module(f"soak.{name}").run()
        text = json.dumps(figures, indent=2)
        (RESULTS / f"{name}.json").write_text(text + "\n")
        print(text, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
