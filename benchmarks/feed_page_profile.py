"""Where a feed page's CPU goes in the local cloud, layer by layer: `GET /feed?limit=50` over HTTP on a local
cloud in this process (benchmarks/feed.py's reader), each layer's CPU time (`time.thread_time`, so waiting for
the GIL or a lock is not counted) summed over the threads that run it, per page; with --cprofile N, also a
cProfile of every in-process moto request and every botocore parse, merged, top N functions.

    .venv/bin/python -m benchmarks.feed_page_profile [--pages 20] [--cprofile 40] [--output profile.json]
    (PINHOLE_DYNAMODB=moto runs it on moto's engine)

Layers (nested ones are inside the one above them): botocore's whole call (`BaseClient._make_api_call`); of
it, moto answering in process (`InProcessMoto.__call__`: dispatch, the DynamoDB handler, serialising) with
the DynamoDB handler's BatchGetItem and Query apart; botocore parsing the response; building the request.
PynamoDB turning raw items into models (`Model.from_raw_data`) is outside botocore's call.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class LayerClock:
    def __init__(self, profile: bool) -> None:
        self.cpu_s: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.stats: dict[str, pstats.Stats] = {}
        self.profile = profile
        self.recording = False
        self._lock = threading.Lock()
        self._depth = threading.local()

    def timed(self, label: str, original: Callable[..., Any], profiled: bool = False) -> Callable[..., Any]:
        clock = self

        def layer(*args: Any, **kwargs: Any) -> Any:
            depth = getattr(clock._depth, label, 0)
            if not clock.recording or depth:
                return original(*args, **kwargs)
            setattr(clock._depth, label, 1)
            profiler = cProfile.Profile() if profiled and clock.profile else None
            started = time.thread_time()
            if profiler is not None:
                profiler.enable()
            try:
                return original(*args, **kwargs)
            finally:
                if profiler is not None:
                    profiler.disable()
                used = time.thread_time() - started
                setattr(clock._depth, label, 0)
                with clock._lock:
                    clock.cpu_s[label] += used
                    clock.calls[label] += 1
                    if profiler is not None:
                        if label in clock.stats:
                            clock.stats[label].add(profiler)
                        else:
                            clock.stats[label] = pstats.Stats(profiler)

        return layer

    def install(self) -> None:
        import botocore.client
        import botocore.endpoint
        import botocore.parsers
        import moto.dynamodb.responses
        import pynamodb.models

        import local.in_process

        botocore.client.BaseClient._make_api_call = self.timed(  # type: ignore[method-assign]
            "botocore call (all of it)", botocore.client.BaseClient._make_api_call
        )
        botocore.endpoint.Endpoint.create_request = self.timed(  # type: ignore[method-assign]
            "botocore building the request", botocore.endpoint.Endpoint.create_request
        )
        botocore.parsers.ResponseParser.parse = self.timed(  # type: ignore[method-assign]
            "botocore parsing the response", botocore.parsers.ResponseParser.parse, profiled=True
        )
        local.in_process.InProcessMoto.__call__ = self.timed(  # type: ignore[method-assign]
            "moto answering in process", local.in_process.InProcessMoto.__call__, profiled=True
        )
        handler = moto.dynamodb.responses.DynamoHandler
        handler.batch_get_item = self.timed("moto's BatchGetItem handler", handler.batch_get_item)  # type: ignore[method-assign]
        handler.query = self.timed("moto's Query handler", handler.query)  # type: ignore[method-assign]
        from_raw = pynamodb.models.Model.from_raw_data.__func__  # type: ignore[attr-defined]
        timed_from_raw = self.timed("PynamoDB models from raw items", from_raw)
        pynamodb.models.Model.from_raw_data = classmethod(timed_from_raw)  # type: ignore[assignment,method-assign]


def _top(stats: pstats.Stats, key: str, top: int) -> list[str]:
    stream = io.StringIO()
    stats.stream = stream  # type: ignore[attr-defined]
    stats.sort_stats(key).print_stats(top)
    lines = stream.getvalue().splitlines()
    start = next(index for index, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    site = str(ROOT / ".venv" / "lib")
    return [line.replace(site, "").rstrip() for line in lines[start:] if line.strip()]


def emit(result: dict[str, Any], output: Path | None) -> None:
    """The figures on stdout, and in `output` if given (the handlers log to stdout too)."""
    text = json.dumps(result, indent=2)
    if output:
        output.write_text(text + "\n")
    print(text)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.feed_page_profile")
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--cprofile", type=int, default=0, help="also the top N functions of moto and the parse")
    parser.add_argument("--output", type=Path, help="the JSON here (the handlers log to stdout)")
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "pinhole")]
    import httpx

    from benchmarks.feed import _reader_account, _seed_reader
    from local.server import BackgroundCloud

    clock = LayerClock(profile=bool(args.cprofile))
    clock.install()
    background = BackgroundCloud.start(Path(os.environ.get("PINHOLE_CDK_OUT", ROOT / "cdk.out")), start_pumps=False)
    try:
        cloud = background.cloud
        os.environ.update(next(iter(cloud.runner.functions.values())).environment)
        reader, token = _reader_account(cloud)
        _seed_reader(reader)
        url, headers = cloud.outputs["HttpApiUrl"], {"authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
            for _ in range(3):
                client.get("/feed", params={"limit": 50})
            samples = []
            clock.recording = True
            cpu_before = time.process_time()
            for _ in range(args.pages):
                started = time.perf_counter()
                response = client.get("/feed", params={"limit": 50})
                samples.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text[:300]
            cpu_used = time.process_time() - cpu_before
            clock.recording = False
    finally:
        background.stop()
    pages = args.pages
    result: dict[str, Any] = {
        "dynamodb": os.environ.get("PINHOLE_DYNAMODB", "fast"),
        "pages": pages,
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "wall_p50_ms": round(statistics.median(samples), 1),
        "process_cpu_ms_per_page": round(1000 * cpu_used / pages, 1),
        "cpu_ms_per_page_by_layer": {
            label: round(1000 * seconds / pages, 1)
            for label, seconds in sorted(clock.cpu_s.items(), key=lambda item: -item[1])
        },
        "calls_per_page": {label: round(count / pages, 1) for label, count in clock.calls.items()},
    }
    for label, stats in clock.stats.items():
        result[f"cprofile: {label}"] = {
            "cumulative": _top(stats, "cumulative", args.cprofile),
            "own_time": _top(stats, "tottime", args.cprofile),
        }
    emit(result, args.output)


if __name__ == "__main__":
    main()
