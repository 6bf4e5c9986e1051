"""Where a load-soak request's CPU goes in the local cloud, layer by layer.

The soak's own workload (`soak/load.py`: the world seeded through the API, then `soak/locustfile.py` in a locust
process of its own, 80 % reads / 20 % writes), against a local cloud served from a thread of this process (with its
event pumps), so the cloud's CPU can be split without a profiler:

- every thread's CPU (`/proc/self/task/<tid>/stat`) over the locust phase, by kind of thread: the event loop
  (the HTTP and WebSocket gateways, uvicorn, JWT verification, building events), the Lambda worker threads (the
  handlers and what they call), the event pumps (polling their sources, building records, invoking consumers);
- inside those, `time.thread_time` around each invocation (by function) and around each botocore API call (by
  service and operation, and whether a handler or a pump made it): "AWS calls" is the whole call, the handler's
  botocore and moto answering it in process;
- divided by the requests locust made (the ledger), so the figures are CPU per soak request.

`--cprofile` adds a cProfile per thread timed by that thread's CPU clock (shares only: the profiler inflates
call-heavy code) and prints the top functions per kind of thread.

    .venv/bin/python -m benchmarks.soak_profile [--duration 60] [--users 20] [--wait 0,0] [--cprofile]

`--wait 0.1,0.5` gives the users think time (the soak's default until 2026-12-06; 0,0 now: closed-loop).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def thread_cpu_s() -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) of every live thread of this process, by native id, with its name."""
    names = {thread.native_id: thread.name for thread in threading.enumerate() if thread.native_id}
    figures: dict[int, tuple[str, float]] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tid = int(task.name)
        figures[tid] = (names.get(tid, "?"), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
    return figures


def kind_of_thread(name: str, loop_tid: int, tid: int) -> str:
    if tid == loop_tid:
        return "event loop (gateways)"
    if name.startswith("lambda"):
        return "lambda workers"
    if "->" in name or name.startswith(("ttl", "schedule", "s3")):
        return "event pumps"
    if tid == threading.main_thread().native_id:
        return "main (harness, idle)"
    return "handlers' own thread pools (feed-read, search, ...)"


class Meters:
    """thread_time accumulators: invocations by function, AWS calls by (who, service, operation)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.invocations: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        self.aws_calls: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0, 0.0])
        self.timed: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        self.local = threading.local()
        self.counting = False

    def add(self, table: dict[Any, list[float]], key: Any, seconds: float) -> None:
        if not self.counting:
            return
        with self.lock:
            entry = table[key]
            entry[0] += 1
            entry[1] += seconds


def instrument(meters: Meters) -> None:
    """Wraps the runner's invocation, botocore's API call and the gateway's steps with thread-CPU meters."""
    import botocore.client

    from local import http_gateway, lambda_runner
    from local.jwt_authorizer import JwtAuthorizer

    original_call = lambda_runner.LambdaRunner._call

    def timed_call(self: Any, function: Any, event: Any, started: Any) -> Any:
        meters.local.in_handler = True
        begun = time.thread_time()
        try:
            return original_call(self, function, event, started)
        finally:
            meters.local.in_handler = False
            meters.add(meters.invocations, function.logical_id, time.thread_time() - begun)

    lambda_runner.LambdaRunner._call = timed_call  # type: ignore[method-assign]

    original_api_call = botocore.client.BaseClient._make_api_call

    def timed_api_call(self: Any, operation_name: str, api_params: Any) -> Any:
        who = "handler" if getattr(meters.local, "in_handler", False) else threading.current_thread().name
        if who != "handler":
            who = "pump" if "->" in who or who.startswith(("ttl", "schedule", "s3")) else "handler pools/other"
        begun = time.thread_time()
        try:
            return original_api_call(self, operation_name, api_params)
        finally:
            service = self.meta.service_model.service_name
            meters.add(meters.aws_calls, (who, service, operation_name), time.thread_time() - begun)

    botocore.client.BaseClient._make_api_call = timed_api_call

    def timing(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            begun = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                meters.add(meters.timed, name, time.thread_time() - begun)

        return timed

    JwtAuthorizer.authorize = timing("gateway: JWT authorizer", JwtAuthorizer.authorize)  # type: ignore[method-assign]
    http_gateway.build_event = timing("gateway: build_event", http_gateway.build_event)
    http_gateway.build_response = timing("gateway: build_response", http_gateway.build_response)
    lambda_runner.check_request = timing("runner: check_request (event size)", lambda_runner.check_request)
    lambda_runner.check_response = timing("runner: check_response (result size)", lambda_runner.check_response)


class Window:
    """The measured stretch of a workload: every thread's CPU, the process's and the meters, from `begin` to `end`."""

    def __init__(self, meters: Meters, profiles: Any) -> None:
        self.meters = meters
        self.profiles = profiles

    def begin(self) -> None:
        self.load_before = os.getloadavg()[0]
        if self.profiles is not None:
            self.profiles.clear()
        self.cpu_before = thread_cpu_s()
        self.process_before = time.process_time()
        self.meters.counting = True
        self.started = time.monotonic()

    def end(self) -> None:
        self.wall_s = time.monotonic() - self.started
        self.meters.counting = False
        self.process_cpu_s = time.process_time() - self.process_before
        self.cpu_after = thread_cpu_s()
        self.load_after = os.getloadavg()[0]
        if self.profiles is not None:
            threading.setprofile(None)
            self.stats = self.profiles.merged({})


def soak(base_url: str, args: argparse.Namespace, window: Window) -> tuple[int, dict[str, Any]]:
    """The soak's world and its locust users; the requests they made and the soak's traffic figures."""
    from soak.load import LoadSettings, run_locust, traffic_figures
    from soak.load_world import seed

    settings = LoadSettings.from_env(
        {
            "SOAK_LOAD_DURATION_S": str(args.duration),
            "SOAK_LOAD_USERS": str(args.users),
            "SOAK_LOAD_WAIT_S": args.wait,
            "SOAK_LOAD_SEED": str(args.seed),
        }
    )
    with tempfile.TemporaryDirectory(prefix="pinhole-soak-profile-") as temporary:
        workdir = Path(temporary)
        rng = random.Random(settings.seed)
        seed(base_url, settings.accounts, settings.posts_each, settings.follows_each, rng).write(workdir / "world.json")
        window.begin()
        ledger = run_locust(settings, base_url, workdir)
        window.end()
    traffic = traffic_figures(ledger)
    return traffic["requests"], {
        key: traffic[key] for key in ("mean_rps", "errors_5xx", "network_errors", "unexpected_4xx")
    }


def direct_messages(outputs: dict[str, str], args: argparse.Namespace, window: Window) -> tuple[int, dict[str, Any]]:
    """benchmarks/messaging.py's throughput phase (50 clients, each sending its next message on its ack)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from benchmarks import messaging

    messaging.THROUGHPUT_MESSAGES = args.rounds
    with ThreadPoolExecutor(8) as pool:
        users = list(pool.map(lambda i: messaging._sign_up(outputs["HttpApiUrl"], i), range(messaging.CLIENTS)))

    async def measure() -> int:
        clients = [messaging.Client(user) for user in users]
        await asyncio.gather(*(client.open(outputs["WebSocketUrl"]) for client in clients))
        try:
            await messaging._latency([(clients[i], clients[i + 1]) for i in range(0, len(clients), 2)], messages=1)
            window.begin()
            delivered, _ = await messaging._throughput(clients)
            window.end()
            return delivered
        finally:
            await asyncio.gather(*(client.close() for client in clients))

    delivered = asyncio.run(measure())
    return delivered, {"messages_per_s": round(delivered / window.wall_s, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workload", choices=["soak", "messaging"], default="soak")
    parser.add_argument("--duration", type=int, default=60, help="soak: seconds of load")
    parser.add_argument("--users", type=int, default=20, help="soak: locust users")
    parser.add_argument("--wait", default="0,0", help="soak: think time min,max seconds (the soak's: 0,0)")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--rounds", type=int, default=30, help="messaging: messages each of the 50 clients sends")
    parser.add_argument("--cprofile", action="store_true", help="also a cProfile per thread (shares only)")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--out", type=Path, help="write the figures as JSON here too")
    parser.add_argument("--dump", help="with --cprofile: also write each kind of thread's stats to DUMP.<kind>.prof")
    args = parser.parse_args()

    sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "pinhole")]
    from local.server import BackgroundCloud

    meters = Meters()
    instrument(meters)
    profiles = None
    if args.cprofile:
        from benchmarks.messaging_profile import ThreadProfiles

        profiles = ThreadProfiles()
        profiles.install()
    window = Window(meters, profiles)
    cdk_out = Path(os.environ.get("PINHOLE_CDK_OUT", ROOT / "cdk.out"))
    # as each benchmark runs it: the soak with its pumps, benchmarks/messaging.py without
    background = BackgroundCloud.start(cdk_out, start_pumps=args.workload == "soak")
    loop_tid = background._thread.native_id or 0
    try:
        if args.workload == "soak":
            requests, traffic = soak(background.cloud.outputs["HttpApiUrl"], args, window)
        else:
            requests, traffic = direct_messages(background.cloud.outputs, args, window)
    finally:
        background.stop()
    cpu_before, cpu_after, process_cpu, wall = window.cpu_before, window.cpu_after, window.process_cpu_s, window.wall_s
    load_before, load_after = window.load_before, window.load_after
    by_kind: defaultdict[str, float] = defaultdict(float)
    for tid, (name, seconds) in cpu_after.items():
        by_kind[kind_of_thread(name, loop_tid, tid)] += seconds - cpu_before.get(tid, (name, 0.0))[1]

    def per_request_ms(seconds: float) -> float:
        return round(seconds * 1000 / requests, 2)

    aws_by_who: defaultdict[str, float] = defaultdict(float)
    aws_count_by_who: Counter[str] = Counter()
    for (who, _, _), (count, seconds) in meters.aws_calls.items():
        aws_by_who[who] += seconds
        aws_count_by_who[who] += int(count)
    invocation_s = sum(seconds for _, seconds in meters.invocations.values())
    figures = {
        "conditions": {
            **(
                {"duration_s": args.duration, "users": args.users, "think_time_s": args.wait}
                if args.workload == "soak"
                else {"clients": 50, "rounds": args.rounds}
            ),
            "seed": args.seed,
            "cprofile": args.cprofile,
            "loadavg_1m_before": round(load_before, 2),
            "loadavg_1m_after": round(load_after, 2),
            "tree": str(ROOT),
        },
        "workload": args.workload,
        "requests": requests,
        **traffic,
        "wall_s": round(wall, 1),
        "process_cpu_s": round(process_cpu, 2),
        "share_of_a_core": round(process_cpu / wall, 2),
        "cpu_ms_per_request": per_request_ms(process_cpu),
        "cpu_ms_per_request_by_thread_kind": {
            kind: per_request_ms(s) for kind, s in sorted(by_kind.items(), key=lambda item: -item[1])
        },
        "invocations_cpu_ms_per_request": per_request_ms(invocation_s),
        "aws_calls_cpu_ms_per_request_by_caller": {
            who: per_request_ms(s) for who, s in sorted(aws_by_who.items(), key=lambda item: -item[1])
        },
        "aws_calls_per_request_by_caller": {
            who: round(count / requests, 2) for who, count in aws_count_by_who.most_common()
        },
        "invocations": {
            name: {"count": int(count), "cpu_ms_each": round(seconds * 1000 / max(count, 1), 2)}
            for name, (count, seconds) in sorted(meters.invocations.items(), key=lambda item: -item[1][1])
        },
        "aws_calls": {
            f"{who} {service}.{operation}": {
                "count": int(count),
                "per_request": round(count / requests, 3),
                "cpu_ms_each": round(seconds * 1000 / max(count, 1), 3),
            }
            for (who, service, operation), (count, seconds) in sorted(
                meters.aws_calls.items(), key=lambda item: -item[1][1]
            )
        },
        "gateway_steps_cpu_ms_per_request": {name: per_request_ms(s) for name, (_, s) in meters.timed.items()},
    }
    text = json.dumps(figures, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    if profiles is not None:
        for kind, kind_stats in window.stats.items():
            if args.dump:
                kind_stats.dump_stats(f"{args.dump}.{kind}.prof")
            out = io.StringIO()
            kind_stats.stream = out
            kind_stats.sort_stats("tottime").print_stats(args.top)
            kind_stats.sort_stats("cumulative").print_stats(args.top)
            print(f"\n===== {kind} =====")
            print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:30000])


if __name__ == "__main__":
    main()
