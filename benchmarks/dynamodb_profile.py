"""Where the local cloud's DynamoDB time goes, per workload: every DynamoDB (and Streams) request moto
serves is timed (wall time in moto's request handler, lock waits included) and, with `--cprofile`,
profiled with cProfile in the thread that serves it, the profiles merged into one table.

    .venv/bin/python -m benchmarks.dynamodb_profile feed_read [--dynamodb moto|fast] [--cprofile 30]

Workloads (each on a local cloud of its own, in this process):
- feed_read: the reader of benchmarks/feed.py (500 followees, 20 celebrities), 10 first pages of `read_feed`
  in its default order (ranked, as `GET /feed`);
- fan_out: one post to PINHOLE_PROFILE_FOLLOWERS followers (default 10,000) through the stream and
  chunk-queue pumps, to the last feed;
- messaging: 10 pairs of users, 10 direct messages each over HTTP (`POST /messages`);
- search_seed: benchmarks/search.py's seeding through the indexer (BatchWriteItem) for PINHOLE_PROFILE_USERS
  users (default 5,000), then 40 searches in process.
Prints JSON: the workload's own figure, then per operation the count and moto's time (total, mean),
and with --cprofile the top functions by cumulative and by own time inside moto's request handling.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class MotoClock:
    """Time (and optionally a cProfile) of every request moto's DynamoDB and Streams handlers serve: parsing,
    the backend (and its lock), serializing."""

    def __init__(self, profile: bool) -> None:
        self.profile = profile
        self.seconds: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        self._stats: pstats.Stats | None = None
        self._pending: list[cProfile.Profile] = []
        self.recording = False

    def install(self) -> None:
        from moto.dynamodb.responses import DynamoHandler
        from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

        for handler in (DynamoHandler, DynamoDBStreamsHandler):
            self._wrap(handler)

    def _wrap(self, handler: Any) -> None:
        original = handler._dispatch
        clock = self

        def dispatch(response: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            if not clock.recording:
                return original(response, request, *args, **kwargs)
            target = request.headers.get("X-Amz-Target") or request.headers.get("x-amz-target") or "?"
            operation = target.rsplit(".", 1)[-1]
            profiler = cProfile.Profile() if clock.profile else None
            started = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            try:
                return original(response, request, *args, **kwargs)
            finally:
                if profiler is not None:
                    profiler.disable()
                elapsed = time.perf_counter() - started
                with clock._lock:
                    clock.seconds[operation] += elapsed
                    clock.counts[operation] += 1
                    if profiler is not None:
                        clock._pending.append(profiler)
                        if len(clock._pending) >= 200:
                            clock._merge()

        handler._dispatch = dispatch

    def _merge(self) -> None:
        for profiler in self._pending:
            if self._stats is None:
                self._stats = pstats.Stats(profiler)
            else:
                self._stats.add(profiler)
        self._pending.clear()

    def report(self, top: int) -> dict[str, Any]:
        with self._lock:
            self._merge()
        operations = {
            name: {
                "count": self.counts[name],
                "total_s": round(self.seconds[name], 2),
                "mean_ms": round(1000 * self.seconds[name] / self.counts[name], 2),
            }
            for name in sorted(self.seconds, key=lambda name: -self.seconds[name])
        }
        figures: dict[str, Any] = {
            "moto_total_s": round(sum(self.seconds.values()), 2),
            "requests": sum(self.counts.values()),
            "operations": operations,
        }
        if self._stats is not None:
            figures["cumulative"] = _table(self._stats, "cumulative", top)
            figures["own_time"] = _table(self._stats, "tottime", top)
        return figures


def _table(stats: pstats.Stats, key: str, top: int) -> list[str]:
    stream = io.StringIO()
    stats.stream = stream  # type: ignore[attr-defined]
    stats.sort_stats(key).print_stats(top)
    lines = stream.getvalue().splitlines()
    start = next(index for index, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    site = str(ROOT / ".venv" / "lib")
    return [line.replace(site, "").rstrip() for line in lines[start:] if line.strip()]


def _feed_read(cloud: Any, clock: MotoClock) -> dict[str, Any]:
    from benchmarks.feed import _reader_account, _seed_reader
    from pinhole.feed.logic import read_feed
    from pinhole.shared.caller import Caller

    reader, _ = _reader_account(cloud)
    _seed_reader(reader)
    caller = Caller(user_id=reader, username="reader")
    read_feed(caller, 50, None)  # warm: clients, secrets
    clock.recording = True
    samples = []
    for _ in range(10):
        started = time.perf_counter()
        page = read_feed(caller, 50, None)  # the first page of the default (ranked) order, as GET /feed
        samples.append((time.perf_counter() - started) * 1000)
        assert len(page.items) == 50
    return {"pages": len(samples), "page_ms_median": round(sorted(samples)[len(samples) // 2], 1)}


def _fan_out(cloud: Any, clock: MotoClock) -> dict[str, Any]:
    from benchmarks.feed import CallLog, _fanout_figures

    log = CallLog()
    log.install()  # the fan-out's BatchWriteItem requests, counted as benchmarks/feed.py counts them
    clock.recording = True
    return dict(_fanout_figures(cloud, log, int(os.environ.get("PINHOLE_PROFILE_FOLLOWERS", "10000"))))


def _messaging(cloud: Any, clock: MotoClock) -> dict[str, Any]:
    import httpx

    from benchmarks.messaging import _sign_up

    url = cloud.outputs["HttpApiUrl"]
    users = [_sign_up(url, index) for index in range(20)]
    clock.recording = True
    started = time.perf_counter()
    sent = 0
    with httpx.Client(base_url=url, timeout=60) as client:
        for _ in range(10):
            for sender, recipient in zip(users[::2], users[1::2], strict=True):
                response = client.post(
                    "/messages",
                    json={"to": recipient["username"], "text": "hello"},
                    headers={"authorization": f"Bearer {sender['token']}"},
                )
                assert response.status_code in (200, 201), response.text[:300]
                sent += 1
    return {"messages": sent, "seconds": round(time.perf_counter() - started, 2)}


def _search_seed(cloud: Any, clock: MotoClock) -> dict[str, Any]:
    import random

    import benchmarks.search as search

    rng = random.Random(20261122)
    people = search.make_people(rng, int(os.environ.get("PINHOLE_PROFILE_USERS", "5000")))
    clock.recording = True
    seeded = search.seed_through_indexer(people)
    from pinhole.search.logic import search_users
    from pinhole.shared.caller import Caller

    caller = Caller(user_id="searcher-sub", username="searcher")
    started = time.perf_counter()
    try:
        for text in ["a", "m", "jo", "alv", "José", "maria gar", "zzqx", "s"] * 5:
            search_users(caller, text, 20)
    except Exception as error:
        return {**seeded, "search_error": f"{type(error).__name__}: {str(error)[:200]}"}
    return {**seeded, "searches": 40, "search_seconds": round(time.perf_counter() - started, 2)}


WORKLOADS = {"feed_read": _feed_read, "fan_out": _fan_out, "messaging": _messaging, "search_seed": _search_seed}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dynamodb_profile")
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("--dynamodb", choices=["moto", "fast"], default=os.environ.get("PINHOLE_DYNAMODB", "fast"))
    parser.add_argument("--cprofile", type=int, default=0, help="also print the top N functions")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    os.environ["PINHOLE_DYNAMODB"] = args.dynamodb
    sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "pinhole")]
    from local.server import BackgroundCloud

    clock = MotoClock(profile=bool(args.cprofile))
    clock.install()
    background = BackgroundCloud.start(
        Path(os.environ.get("PINHOLE_CDK_OUT", ROOT / "cdk.out")), start_pumps=args.workload == "fan_out"
    )
    try:
        cloud = background.cloud
        os.environ.update(next(iter(cloud.runner.functions.values())).environment)
        started = time.perf_counter()
        figure = WORKLOADS[args.workload](cloud, clock)
        wall = time.perf_counter() - started
        clock.recording = False
    finally:
        background.stop()
    result = {
        "workload": args.workload,
        "dynamodb": args.dynamodb,
        "wall_s": round(wall, 2),
        **figure,
        **clock.report(args.cprofile),
    }
    text = json.dumps(result, indent=2)
    if args.output:
        args.output.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
