"""Where a direct message's CPU goes in the local cloud: benchmarks/messaging.py's throughput phase (50 clients,
each sending its next message on its ack) on a local cloud in this process, with a cProfile in every thread
timed by `time.thread_time` (so waiting for the GIL, a lock or a socket is not counted), merged per kind of
thread: the benchmark's own clients (the main thread), the gateway's event loop (WebSocket frames in and out,
`@connections` posts answered in process) and the Lambda threads (authorizer, handlers, moto answering in
process). Prints CPU per message per kind and the top functions by own and by cumulative time.

    .venv/bin/python -m benchmarks.messaging_profile [--rounds 10] [--top 40] [--sort tottime|cumulative]

cProfile slows everything it watches (several-fold on call-heavy code): the shares, not the milliseconds,
are the result.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class ThreadProfiles:
    """A cProfile per thread (timed by that thread's CPU clock), started in every thread created after
    `install()`, and in the calling thread."""

    def __init__(self) -> None:
        self.by_thread: dict[int, tuple[str, cProfile.Profile]] = {}
        self._lock = threading.Lock()

    def _start_here(self) -> None:
        profiler = cProfile.Profile(time.thread_time)
        with self._lock:
            self.by_thread[threading.get_ident()] = (threading.current_thread().name, profiler)
        profiler.enable()

    def install(self) -> None:
        def first_event(*_: Any) -> None:
            self._start_here()  # replaces this hook in the thread

        threading.setprofile(first_event)
        self._start_here()

    def clear(self) -> None:
        with self._lock:
            for _, profiler in self.by_thread.values():
                profiler.clear()

    def merged(self, kind_of: dict[int, str]) -> dict[str, pstats.Stats]:
        stats: dict[str, pstats.Stats] = {}
        with self._lock:
            threads = list(self.by_thread.items())
        for ident, (name, profiler) in threads:
            profiler.create_stats()
            if not profiler.stats:
                continue
            kind = kind_of.get(ident) or ("lambda" if name.startswith("lambda") else "other")
            if kind in stats:
                stats[kind].add(profiler)
            else:
                stats[kind] = pstats.Stats(profiler)
        return stats


# Calls that block (a thread waiting for work, a socket, a lock): cProfile charges them the thread's clock
# across the wait, which is not CPU this process spent on messages.
_WAITS = (
    "{method 'get' of '_queue.SimpleQueue' objects}",
    "{method 'poll' of 'select.poll' objects}",
    "{method 'poll' of 'select.epoll' objects}",
    "{method 'acquire' of '_thread.lock' objects}",
    "{method 'acquire' of '_thread.RLock' objects}",
)


def _cpu_s(stats: pstats.Stats) -> float:
    entries = stats.stats.items()  # type: ignore[attr-defined]
    return sum(entry[2] for (_, _, name), entry in entries if name not in _WAITS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="messages each of the 50 clients sends")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="tottime", choices=["tottime", "cumulative"])
    parser.add_argument("--dump", help="also write each kind's merged stats to DUMP.<kind>.prof")
    args = parser.parse_args()

    sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "pinhole")]
    from benchmarks import messaging
    from local.server import BackgroundCloud

    profiles = ThreadProfiles()
    profiles.install()
    cdk_out = Path(os.environ.get("PINHOLE_CDK_OUT", ROOT / "cdk.out"))
    background = BackgroundCloud.start(cdk_out, start_pumps=False)
    kind_of = {threading.get_ident(): "clients (the benchmark)", background._thread.ident or 0: "gateway event loop"}
    messaging.THROUGHPUT_MESSAGES = args.rounds
    try:
        cloud = background.cloud
        with ThreadPoolExecutor(8) as pool:
            users = list(
                pool.map(lambda i: messaging._sign_up(cloud.outputs["HttpApiUrl"], i), range(messaging.CLIENTS))
            )

        async def measure() -> tuple[int, float]:
            clients = [messaging.Client(user) for user in users]
            await asyncio.gather(*(client.open(cloud.outputs["WebSocketUrl"]) for client in clients))
            try:
                pairs = [(clients[i], clients[i + 1]) for i in range(0, len(clients), 2)]
                await messaging._latency(pairs, messages=1)  # every environment's cold start
                profiles.clear()
                return await messaging._throughput(clients)
            finally:
                await asyncio.gather(*(client.close() for client in clients))

        wall = time.perf_counter()
        delivered, elapsed_s = asyncio.run(measure())
        wall = time.perf_counter() - wall
        threading.setprofile(None)
        stats = profiles.merged(kind_of)
    finally:
        background.stop()

    print(f"{delivered} messages in {elapsed_s:.1f} s ({delivered / elapsed_s:.1f} msg/s under cProfile)")
    total = sum(_cpu_s(kind) for kind in stats.values())
    for kind, kind_stats in sorted(stats.items(), key=lambda item: -_cpu_s(item[1])):
        cpu = _cpu_s(kind_stats)
        print(f"  {kind:<28} {cpu * 1000 / delivered:7.2f} ms CPU per message ({cpu / total:.0%})")
    for kind, kind_stats in sorted(stats.items(), key=lambda item: -_cpu_s(item[1])):
        if args.dump:
            kind_stats.dump_stats(f"{args.dump}.{kind.split()[0]}.prof")
        out = io.StringIO()
        kind_stats.stream = out  # type: ignore[attr-defined]
        kind_stats.sort_stats(args.sort).print_stats(args.top)
        print(f"\n===== {kind} =====")
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:20000])


if __name__ == "__main__":
    main()
