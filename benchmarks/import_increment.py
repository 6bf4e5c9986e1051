"""What modules cost on top of an API handler's import: CPU time to import them in the same interpreter, after the
handler, in fresh interpreters (bytecode compiled as the layer ships it). A few milliseconds taken off a function's
cold start do not show in benchmarks/cold_start.py's ratios, which move by ±0.1 between runs as the machine's load
changes; this measures exactly what a change takes off (or would add): the modules a handler no longer imports,
imported after it.

    .venv/bin/python -m benchmarks.import_increment messaging pinhole.push.logic [module ...] [--runs 11]

Prints JSON: the median and spread of the increment, and which of the modules the handler had already loaded
(an increment of modules already loaded is ~0: that says the change did not take them off)."""

import argparse
import json
import statistics
import subprocess
import sys

from benchmarks.cold_start import ROOT, _compile_as_shipped, _compile_dependencies, _environment

PROBE = """
import sys, time
import functions.{context}.handler
already = [name for name in {modules!r} if name in sys.modules]
started = time.process_time()
{imports}
print((time.process_time() - started) * 1000, ",".join(already) or "-")
"""


def measure(context: str, modules: list[str], runs: int) -> dict[str, object]:
    env = _environment()
    _compile_as_shipped(ROOT)
    _compile_dependencies(env)
    code = PROBE.format(context=context, modules=modules, imports="\n".join(f"import {name}" for name in modules))
    increments, already = [], "-"
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=ROOT
        )
        value, already = result.stdout.strip().splitlines()[-1].split(" ")
        increments.append(float(value))
    return {
        "handler": f"functions.{context}.handler",
        "modules": modules,
        "runs": runs,
        "increment_cpu_ms_median": round(statistics.median(increments), 1),
        "increment_cpu_ms_range": [round(min(increments), 1), round(max(increments), 1)],
        "already_loaded_by_the_handler": [] if already == "-" else already.split(","),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.import_increment")
    parser.add_argument("context", help="functions/<context>/handler.py")
    parser.add_argument("modules", nargs="+")
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    print(json.dumps(measure(args.context, args.modules, args.runs), indent=2))


if __name__ == "__main__":
    main()
