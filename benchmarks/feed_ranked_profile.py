"""Where the ranked first page's CPU goes against the chronological one, in `benchmarks/feed_ranked.py`'s world
(a reader following 500 accounts, 100 of them celebrities; the recent-posts cache off), in process against the
local cloud: for each order, `--pages` first pages after two warm-up rounds, the process's CPU per page and each
layer's CPU (benchmarks/feed_page_profile.py's LayerClock: `time.thread_time` summed over the threads that run
it). With --cprofile N, the pages run again with the feed's thread pools made serial (the same calls, one after
the other) under cProfile timed by this thread's CPU, and the top N functions by own time are printed.

    .venv/bin/python -m benchmarks.feed_ranked_profile [--pages 15] [--cprofile 40] [--sort cumulative]
        [--output profile.json]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.feed_ranked_profile")
    parser.add_argument("--pages", type=int, default=15)
    parser.add_argument("--cprofile", type=int, default=0, help="also a serial cProfile, top N by own CPU time")
    parser.add_argument("--sort", default="tottime", help="the cProfile table's order: tottime (own) or cumulative")
    parser.add_argument("--output", type=Path, help="the JSON here (the handlers log to stdout)")
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "pinhole")]
    from benchmarks.feed import _reader_account
    from benchmarks.feed_page_profile import LayerClock, _top, emit
    from benchmarks.feed_ranked import SerialPool, _seed
    from local.server import BackgroundCloud

    clock = LayerClock(profile=False)
    clock.install()
    background = BackgroundCloud.start(Path(os.environ.get("PINHOLE_CDK_OUT", ROOT / "cdk.out")), start_pumps=False)
    try:
        cloud = background.cloud
        function = next(f for f in cloud.runner.functions.values() if "FEED_RANKING" in f.environment)
        os.environ.update(function.environment)
        from pinhole.feed import logic
        from pinhole.feed.models import FeedOrder
        from pinhole.feed.ranking_dal import RecentPostsStore
        from pinhole.shared import parallel
        from pinhole.shared.caller import Caller

        reader, _ = _reader_account(cloud)
        _seed(reader)
        stores = logic.default_stores()
        stores.recent = RecentPostsStore(cache_s=0)
        caller = Caller(user_id=reader, username="reader")
        orders = {"ranked_first": FeedOrder.RANKED, "chronological_first": FeedOrder.CHRONOLOGICAL}
        for _ in range(2):
            for order in orders.values():
                logic.read_feed(caller, 20, None, order, stores=stores)
        result: dict[str, Any] = {"pages": args.pages, "load_average": [round(x, 2) for x in os.getloadavg()]}
        for name, order in orders.items():
            clock.cpu_s.clear()
            clock.calls.clear()
            walls = []
            clock.recording = True
            cpu_before = time.process_time()
            for _ in range(args.pages):
                started = time.perf_counter()
                logic.read_feed(caller, 20, None, order, stores=stores)
                walls.append((time.perf_counter() - started) * 1000)
            cpu_ms = (time.process_time() - cpu_before) * 1000 / args.pages
            clock.recording = False
            result[name] = {
                "wall_p50_ms": round(statistics.median(walls), 1),
                "process_cpu_ms_per_page": round(cpu_ms, 1),
                "cpu_ms_per_page_by_layer": {
                    label: round(1000 * seconds / args.pages, 1)
                    for label, seconds in sorted(clock.cpu_s.items(), key=lambda item: -item[1])
                },
                "calls_per_page": {label: round(count / args.pages, 1) for label, count in clock.calls.items()},
            }
        if args.cprofile:
            logic._pool = parallel._pool = SerialPool()  # type: ignore[assignment]
            for name, order in orders.items():
                profiler = cProfile.Profile(time.thread_time)
                for _ in range(args.pages):
                    profiler.runcall(logic.read_feed, caller, 20, None, order, stores=stores)
                stats = pstats.Stats(profiler)
                result[f"cprofile: {name}"] = {
                    "cpu_s_profiled": round(stats.total_tt, 3),  # type: ignore[attr-defined]
                    args.sort: _top(stats, args.sort, args.cprofile),
                }
    finally:
        background.stop()
    emit(result, args.output)


if __name__ == "__main__":
    main()
