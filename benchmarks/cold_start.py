"""Cold import time of each API handler module against `import boto3` + a DynamoDB client — the floor
every Python Lambda pays — measured side by side in fresh interpreters, alternating, in one run. For
feed_read and the floor also import + first request (a GET /feed; one Query for the floor): Lambda's init
runs at full CPU and the first request pays whatever the import deferred, so that sum is the cold start.

The domain package is compiled to bytecode first, as the domain layer ships it (stacks/layer_bundling.py);
the function's own handler.py is not (its asset ships the source), as on Lambda."""

import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("COLD_START_RUNS", "15"))

BASELINE = "import boto3; client = boto3.client('dynamodb', region_name='us-east-1')"
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

FIRST_REQUESTS = {
    "boto3_dynamodb_client": (
        "",
        "answer = client.query(TableName='feeds', KeyConditionExpression='pk = :pk', "
        "ExpressionAttributeValues={':pk': {'S': 'user'}})",
        "answer['Count'] == 0",
    ),
    "feed_read": (
        "from tests.support.events import FakeLambdaContext, http_event\n"
        "from functions.feed_read import handler as module\n"
        "event = http_event('GET', '/feed', claims={'sub': 'user', 'username': 'ann'})",
        "answer = module.handler(event, FakeLambdaContext())",
        "answer['statusCode'] == 200",
    ),
}
"""Subject: (set-up, untimed; the first request, timed; what must hold of its answer). The AWS calls are
answered in process (benchmarks/stubbed_aws.py): an empty feed, so ranking and serialising posts are not in it."""

PROBE = """
import sys, time
started, cpu_started = time.perf_counter(), time.process_time()
{statement}
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
heavy = sorted(m for m in ("PIL", "pillow_heif", "numpy", "moto", "aws_xray_sdk.core") if m in sys.modules)
request_elapsed = request_cpu = 0.0
{first_request}
print(elapsed, cpu, ",".join(heavy) or "-", request_elapsed, request_cpu)
"""
FIRST_REQUEST = """
sys.path.append({root!r})  # the stub and the test events, for an earlier tree's subject too
from benchmarks import stubbed_aws
stubbed_aws.install()
{setup}
started, cpu_started = time.perf_counter(), time.process_time()
{call}
request_elapsed, request_cpu = time.perf_counter() - started, time.process_time() - cpu_started
assert {check}, (answer, stubbed_aws.CALLS)
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
        "AWS_ACCESS_KEY_ID": "bench",  # Lambda's environment carries the role's credentials: the first request signs
        "AWS_SECRET_ACCESS_KEY": "bench",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "bench",
        "POWERTOOLS_METRICS_NAMESPACE": "Pinhole",
    }


def _on_aws(env: dict[str, str]) -> dict[str, str]:
    """Tracing on, as Powertools decides in a Lambda execution environment."""
    traced = {key: value for key, value in env.items() if key != "POWERTOOLS_TRACE_DISABLED"}
    return {**traced, "LAMBDA_TASK_ROOT": str(ROOT), "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR"}


def _import_time(
    statement: str, env: dict[str, str], setup: str = "", first_request: str = ""
) -> tuple[float, float, str, float, float]:
    """Wall seconds, CPU seconds (the figure machine load disturbs least), the heavy modules loaded, and the
    first request's wall and CPU seconds (0 without one)."""
    result = subprocess.run(
        [sys.executable, "-c", setup + PROBE.format(statement=statement, first_request=first_request)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=env.get("COLD_START_CWD", ROOT),
    )
    seconds, cpu, heavy, request_seconds, request_cpu = result.stdout.strip().splitlines()[-1].split(" ")
    return float(seconds), float(cpu), "" if heavy == "-" else heavy, float(request_seconds), float(request_cpu)


def _first_request(name: str) -> str:
    if name.removeprefix("before:") not in FIRST_REQUESTS:
        return ""
    setup, call, check = FIRST_REQUESTS[name.removeprefix("before:")]
    return FIRST_REQUEST.format(root=str(ROOT), setup=setup, call=call, check=check)


def _compile_as_shipped(tree: Path) -> None:
    """Bytecode for the domain package, as the layer ships it (timestamp-checked here: sources change)."""
    compileall.compile_dir(tree / "layers" / "pinhole" / "pinhole", quiet=1)


SITE_MODULES = """
import importlib, json, sys, sysconfig
import boto3, aws_xray_sdk.core
for context in {contexts!r}:
    importlib.import_module(f"functions.{{context}}.handler")
site = sysconfig.get_paths()["purelib"]
print(json.dumps(sorted({{name.split(".")[0] for name, module in list(sys.modules.items())
                          if (getattr(module, "__file__", None) or "").startswith(site)}})))
"""


def _compile_dependencies(env: dict[str, str]) -> None:
    """Bytecode for every installed package the subjects import (all of it: a first request or a first traced
    call imports more of them), as the layer (and the runtime's boto3) ships it. An environment that installs
    packages without it (`pip --no-compile`, PYTHONDONTWRITEBYTECODE=1) would otherwise compile them from source
    in every fresh interpreter: measured so, every function came out at 2.2-2.7 times the floor."""
    found = subprocess.run(
        [sys.executable, "-c", SITE_MODULES.format(contexts=list(HANDLERS))],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=ROOT,
    )
    site = Path(sysconfig.get_paths()["purelib"])
    for name in json.loads(found.stdout.strip().splitlines()[-1]):
        for path in (site / name, *site.glob(f"{name}.py")):
            if path.is_dir():
                compileall.compile_dir(path, quiet=1)
            elif path.is_file():
                compileall.compile_file(path, quiet=1)


RUNTIME_PROVIDED = ("boto3", "s3transfer")
"""Lambda's python3.12 runtime brings its own boto3 and s3transfer, with their bytecode; the layer's botocore
shadows the runtime's (layers come first on sys.path)."""
LAYER_MODULES = """
import json, sys, sysconfig
import functions.feed_read.handler
site = sysconfig.get_paths()["purelib"]
print(json.dumps(sorted({name.split(".")[0] for name, module in list(sys.modules.items())
                         if (getattr(module, "__file__", None) or "").startswith(site)})))
"""


def _layer_without_bytecode(env: dict[str, str], directory: Path) -> dict[str, tuple[str, dict[str, str], str]]:
    """The floor and feed_read as a layer without bytecode for the runtime's Python made them on AWS (before
    stacks/layer_bundling.py compiled it): every package feed_read imports from the layer, copied without its
    bytecode, compiled from source by every cold start."""
    found = subprocess.run(
        [sys.executable, "-c", LAYER_MODULES], capture_output=True, text=True, check=True, env=env, cwd=ROOT
    )
    site = Path(sysconfig.get_paths()["purelib"])
    for name in json.loads(found.stdout.strip().splitlines()[-1]):
        if name in RUNTIME_PROVIDED:
            continue
        for path in (site / name, *site.glob(f"{name}.*py"), *site.glob(f"{name}.*.so")):
            if path.is_dir():
                shutil.copytree(path, directory / path.name, ignore=shutil.ignore_patterns("__pycache__"))
            elif path.is_file():
                shutil.copy2(path, directory / path.name)
    shutil.copytree(
        ROOT / "layers" / "pinhole" / "pinhole", directory / "pinhole", ignore=shutil.ignore_patterns("__pycache__")
    )
    from_source = {**env, "PYTHONPATH": f"{directory}:{ROOT}", "PYTHONDONTWRITEBYTECODE": "1"}
    return {
        "layer_without_bytecode:boto3_dynamodb_client": (BASELINE, from_source, ""),
        "layer_without_bytecode:feed_read": (HANDLERS["feed_read"], from_source, ""),
    }


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
    _compile_as_shipped(ROOT)
    _compile_dependencies(env)
    if earlier:
        _compile_as_shipped(Path(os.environ["COLD_START_COMPARE_TREE"]))
    with tempfile.TemporaryDirectory(prefix="cold-start-layer-") as directory:
        from_source = _layer_without_bytecode(env, Path(directory))
        subjects = {
            "boto3_dynamodb_client": (BASELINE, env, ""),
            **{context: (statement, env, "") for context, statement in HANDLERS.items()},
            **{name: (statement, _on_aws(env), "") for name, statement in TRACED.items()},
            "xray_start_on_first_traced_call": (XRAY_START, _on_aws(env), "import boto3\n"),
            **from_source,
            **earlier,
        }
        return _measure(subjects, [*from_source, *earlier])


def _measure(subjects: dict[str, tuple[str, dict[str, str], str]], also_compared: list[str]) -> dict[str, object]:
    samples: dict[str, list[float]] = {name: [] for name in subjects}
    cpu_samples: dict[str, list[float]] = {name: [] for name in subjects}
    requested = [name for name in subjects if _first_request(name)]
    with_request: dict[str, list[float]] = {name: [] for name in requested}
    cpu_with_request: dict[str, list[float]] = {name: [] for name in requested}
    heavy_modules: dict[str, str] = {}
    for _ in range(RUNS):  # alternate, so drift in machine load falls on every subject alike
        for name, (statement, subject_env, setup) in subjects.items():
            seconds, cpu, heavy, request_seconds, request_cpu = _import_time(
                statement, subject_env, setup, _first_request(name)
            )
            samples[name].append(seconds)
            cpu_samples[name].append(cpu)
            heavy_modules[name] = heavy
            if name in with_request:
                with_request[name].append(seconds + request_seconds)
                cpu_with_request[name].append(cpu + request_cpu)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    cpu_medians = {name: statistics.median(values) for name, values in cpu_samples.items()}
    compared = [*HANDLERS, *TRACED, "xray_start_on_first_traced_call", *also_compared]
    request_cpu_medians = {name: statistics.median(values) for name, values in cpu_with_request.items()}
    floor = "boto3_dynamodb_client"
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
        "import_and_first_request": {
            "median_ms": {name: round(statistics.median(values) * 1000, 1) for name, values in with_request.items()},
            "median_cpu_ms": {name: round(value * 1000, 1) for name, value in request_cpu_medians.items()},
            "cpu_ratio_to_boto3_baseline": {
                name: round(value / request_cpu_medians[floor], 2)
                for name, value in request_cpu_medians.items()
                if name != floor
            },
        },
        "heavy_modules_loaded": {
            name: heavy for name, heavy in heavy_modules.items() if name != "xray_start_on_first_traced_call"
        },
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
