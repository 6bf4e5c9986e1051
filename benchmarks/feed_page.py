"""The feed page through the local cloud over HTTP, the fast DynamoDB against moto's engine, side by side in
one run: two local clouds, one per DynamoDB (moto's classes are patched per process, so each runs in a process
of its own), each seeded with benchmarks/feed.py's reader (500 followed, 20 of them celebrities, 5 posts
each), both idle but for this benchmark's requests, which alternate between them (the order switching every
round), so that both meet the same machine load. `GET /feed?limit=50` in both orders: ranked (the default,
what a tester sees first) and chronological. Per cloud: wall p50/p99 and its process's CPU per page
(/proc/<pid>/stat, which load inflates least), and moto's over the fast path's. With both engines, a third cloud:
the local cloud as issue 19 found it (`as_found`: moto's engine, handlers reaching moto's server over HTTP; the
later changes that are not switchable — botocore's user agent memoised, moto's dispatch without its class walk —
make it faster than it was, so its ratio understates the change); PINHOLE_BENCH_AS_FOUND=0 leaves it out.

    .venv/bin/python -m benchmarks feed_page      (or make bench ARGS=feed_page)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.engines import ENGINE_VARIABLE, MOTO, engines, side_by_side
from local.in_process import TRANSPORT_VARIABLE

ROOT = Path(__file__).resolve().parent.parent
ORDERS = ("ranked", "chronological")
READS = int(os.environ.get("FEED_PAGE_BENCH_READS", "30"))
WARMUP = 3
PAGE = 50
AS_FOUND = "as_found"
READY_TIMEOUT_S = 600


def _progress(message: str) -> None:
    print(f"[feed_page] {message}", file=sys.stderr, flush=True)


def serve(ready_file: Path) -> None:
    """In a process of its own: a seeded local cloud until stdin closes; its URL and the reader's token
    go to `ready_file` when it is ready."""
    sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "pinhole")]
    from benchmarks.feed import _reader_account, _seed_reader
    from local.server import BackgroundCloud

    background = BackgroundCloud.start(Path(os.environ.get("PINHOLE_CDK_OUT", ROOT / "cdk.out")), start_pumps=False)
    try:
        cloud = background.cloud
        os.environ.update(next(iter(cloud.runner.functions.values())).environment)  # table names etc.
        reader, token = _reader_account(cloud)
        _seed_reader(reader)
        ready_file.write_text(json.dumps({"url": cloud.outputs["HttpApiUrl"], "token": token}))
        sys.stdin.read()  # until the benchmark closes it
    finally:
        background.stop()


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _summary(samples: list[float], cpu_s: float) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1),
        "cpu_ms_per_page": round(1000 * cpu_s / len(samples), 1),
    }


def _environment(cloud: str) -> dict[str, str]:
    if cloud == AS_FOUND:
        return {ENGINE_VARIABLE: MOTO, TRANSPORT_VARIABLE: "http"}
    return {ENGINE_VARIABLE: cloud}


def run() -> dict[str, Any]:
    chosen = engines()
    if len(chosen) > 1 and os.environ.get("PINHOLE_BENCH_AS_FOUND", "1") != "0":
        chosen.append(AS_FOUND)
    load_before = os.getloadavg()
    workdir = Path(tempfile.gettempdir())
    clouds: dict[str, subprocess.Popen[str]] = {}
    ready: dict[str, Path] = {}
    try:
        for engine in chosen:
            ready[engine] = workdir / f"pinhole-feed-page-{os.getpid()}-{engine}.json"
            ready[engine].unlink(missing_ok=True)
            _progress(f"starting and seeding a local cloud: '{engine}'")
            clouds[engine] = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.feed_page", "serve", str(ready[engine])],
                cwd=ROOT,
                env={**os.environ, **_environment(engine)},
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,  # the handlers' logs
                text=True,
            )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not all(path.is_file() and path.stat().st_size for path in ready.values()):
            if time.monotonic() > deadline or any(cloud.poll() is not None for cloud in clouds.values()):
                raise RuntimeError("a local cloud did not start and seed its reader")
            time.sleep(0.2)
        targets = {engine: json.loads(path.read_text()) for engine, path in ready.items()}
        clients = {
            engine: httpx.Client(
                base_url=target["url"], headers={"authorization": f"Bearer {target['token']}"}, timeout=120
            )
            for engine, target in targets.items()
        }
        samples: dict[str, dict[str, list[float]]] = {engine: {order: [] for order in ORDERS} for engine in chosen}
        cpu: dict[str, dict[str, float]] = {engine: dict.fromkeys(ORDERS, 0.0) for engine in chosen}
        _progress(f"{READS} pages of each order from each cloud, alternating")
        for round_index in range(WARMUP + READS):
            for order in ORDERS:
                turn = chosen if round_index % 2 == 0 else list(reversed(chosen))
                for engine in turn:
                    cpu_before = _cpu_s(clouds[engine].pid)
                    started = time.perf_counter()
                    response = clients[engine].get("/feed", params={"limit": PAGE, "order": order})
                    elapsed = (time.perf_counter() - started) * 1000
                    cpu_used = _cpu_s(clouds[engine].pid) - cpu_before
                    assert response.status_code == 200, response.text[:300]
                    assert len(response.json()["items"]) == PAGE, response.text[:300]
                    if round_index >= WARMUP:
                        samples[engine][order].append(elapsed)
                        cpu[engine][order] += cpu_used
        for client in clients.values():
            client.close()
    finally:
        for cloud in clouds.values():
            if cloud.stdin:
                cloud.stdin.close()
        for cloud in clouds.values():
            try:
                cloud.wait(timeout=30)
            except subprocess.TimeoutExpired:
                cloud.kill()
        for path in ready.values():
            path.unlink(missing_ok=True)
    figures: dict[str, Any] = {
        engine: {order: _summary(samples[engine][order], cpu[engine][order]) for order in ORDERS} for engine in chosen
    }
    result: dict[str, Any] = {
        "page_size": PAGE,
        "reads_per_order_and_cloud": READS,
        "load_average_before": [round(load, 2) for load in load_before],
        "load_average_after": [round(load, 2) for load in os.getloadavg()],
        "cpus": os.cpu_count(),
        **figures,
    }
    measures = {
        f"{order}_{measure}": (order, measure)
        for order in ORDERS
        for measure in ("p50_ms", "p99_ms", "cpu_ms_per_page")
    }
    result["moto_over_fast"] = side_by_side(figures, measures)
    result["as_found_over_fast"] = side_by_side(figures, measures, before=AS_FOUND)
    return result


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        serve(Path(sys.argv[2]))
    else:
        print(json.dumps(run(), indent=2))
