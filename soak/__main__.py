"""Runs every soak (or those named) and writes one JSON file per soak into soak/results/.

Several soaks run one after another, each in a process of its own: a soak sets up the process it runs
in (the hostile-media soak sets the domain's test settings, the fuzz soak runs an in-process local
cloud, locust patches the interpreter), and none may inherit another's."""

import importlib
import json
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
SOAKS: list[str] = ["load", "fuzz", "hostile_media", "dynamodb_differential"]


def run_one(name: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    print(f"== {name}", flush=True)
    figures = importlib.import_module(f"soak.{name}").run()
    text = json.dumps(figures, indent=2)
    (RESULTS / f"{name}.json").write_text(text + "\n")
    print(text, flush=True)


def main(names: list[str]) -> int:
    names = names or SOAKS
    if len(names) == 1:
        run_one(names[0])
        return 0
    soak_in_own_process = [[sys.executable, "-m", "soak", name] for name in names]
    failed = [
        argv[-1]
        for argv in soak_in_own_process
        if subprocess.run(argv, check=False).returncode  # noqa: S603 - our own interpreter and module
    ]
    if failed:
        print(f"failed: {' '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
