"""Direct-message delivery through the local cloud's WebSocket API, in one run, after a warm-up round
(one message per pair, so every execution environment has had its cold start):
- unloaded latency: one pair, 20 messages one after another, the other 48 clients connected and idle;
- loaded latency: 50 connected clients in 25 pairs, each sender sending 20 messages one after another
  (the next once its partner received the last), all pairs at once; time from the send frame to the
  recipient's `message` frame, p50/p99;
- throughput: all 50 clients sending 30 messages each, each client sending its next message as soon
  as its previous one is acknowledged (as an app does); messages per second until every recipient
  frame arrived;
- the handler's share: the `sendMessage` handler's own time (measured around each invocation in the
  runner) against the latency. Per-user load stays under the default limit of 60 messages a minute;
- the CPU the local cloud's process spent per message during the throughput phase (`time.process_time`:
  the cloud and its moto are one process), which a loaded machine disturbs far less than the wall clock;
  and the clients' own.
The clients run in a process of their own, as a tester's apps and scripts do against `make run`: until
2026-12-06 they shared the cloud's process, its GIL and its CPU figure (9% of a py-spy profile of the
whole benchmark was their event loop). $PINHOLE_BENCH_CLIENTS_IN_PROCESS=1 measures that way again.
Uses cdk.out (or $PINHOLE_CDK_OUT); prints JSON to stdout.
"""

import asyncio
import json
import multiprocessing
import os
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

from tests.support.api_client import from_own_address

ROOT = Path(__file__).resolve().parent.parent
CLIENTS, LATENCY_MESSAGES, THROUGHPUT_MESSAGES = 50, 20, 30
CLIENTS_IN_PROCESS = "PINHOLE_BENCH_CLIENTS_IN_PROCESS"  # set: the clients share the cloud's process, as before
CLIENTS_TIMEOUT_S = 300
PASSWORD = "Correct-Horse-9"  # noqa: S105 - benchmark users of the throwaway local cloud


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class HandlerClock:
    """Time spent inside each route's handler, recorded around every invocation of the runner."""

    def __init__(self, runner: Any) -> None:
        self.by_route: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        original = runner._call

        def timed(function: Any, event: Any, *rest: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(function, event, *rest)
            finally:
                route = (event.get("requestContext") or {}).get("routeKey", "?") if isinstance(event, dict) else "?"
                with self._lock:
                    self.by_route.setdefault(route, []).append((time.perf_counter() - started) * 1000)

        runner._call = timed

    def reset(self) -> None:
        with self._lock:
            self.by_route.clear()


def _sign_up(http_url: str, index: int) -> dict[str, str]:
    username = f"bench{index}_{uuid.uuid4().hex[:6]}"
    with httpx.Client(base_url=http_url, timeout=30) as client:
        body = {"username": username, "password": PASSWORD, "email": f"{username}@example.com"}
        created = client.post("/auth/signup", json=body, headers=from_own_address())
        assert created.status_code == 201, created.text
        tokens = client.post("/auth/login", json={"username": username, "password": PASSWORD}).json()
    return {"username": username, "token": tokens["access_token"]}


class Client:
    """One connected user; records when each message (by its text) arrived."""

    def __init__(self, user: dict[str, str]) -> None:
        self.user = user
        self.arrived: dict[str, float] = {}
        self.waiters: dict[str, asyncio.Future[float]] = {}
        self.acks: dict[str, asyncio.Future[None]] = {}

    async def open(self, websocket_url: str) -> None:
        from websockets.asyncio.client import connect

        self.connection = await connect(f"{websocket_url}?token={self.user['token']}", max_queue=None)
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.connection:
            frame = json.loads(raw)
            if frame.get("type") == "ack":
                ack = self.acks.pop(frame["client_id"], None)
                if ack is not None and not ack.done():
                    ack.set_result(None)
            elif frame.get("type") == "error":
                ack = self.acks.pop(str(frame.get("client_id")), None)
                if ack is not None and not ack.done():
                    ack.set_exception(AssertionError(f"send refused: {frame}"))
            elif frame.get("type") == "message":
                text = frame["message"]["text"]
                self.arrived[text] = time.perf_counter()
                waiter = self.waiters.pop(text, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(self.arrived[text])

    async def send(self, to: str, text: str) -> asyncio.Future[None]:
        """Sends; the returned future completes with the ack."""
        client_id = text[-32:]
        ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.acks[client_id] = ack
        await self.connection.send(
            json.dumps({"action": "sendMessage", "to": to, "text": text, "client_id": client_id})
        )
        return ack

    def expect(self, text: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        if text in self.arrived:
            future.set_result(self.arrived[text])
        else:
            self.waiters[text] = future
        return future

    async def close(self) -> None:
        await self.connection.close()
        self.reader.cancel()


async def _latency(pairs: list[tuple[Client, Client]], messages: int = LATENCY_MESSAGES) -> list[float]:
    samples: list[float] = []

    async def conversation(sender: Client, recipient: Client) -> None:
        for _ in range(messages):
            text = f"latency {uuid.uuid4().hex}"
            arrival = recipient.expect(text)
            sent = time.perf_counter()
            await sender.send(recipient.user["username"], text)
            samples.append((await asyncio.wait_for(arrival, 30) - sent) * 1000)

    await asyncio.gather(*(conversation(sender, recipient) for sender, recipient in pairs))
    return samples


async def _throughput(clients: list[Client]) -> tuple[int, float]:
    expected: list[asyncio.Future[float]] = []

    async def keep_sending(index: int, sender: Client) -> None:
        for round_ in range(THROUGHPUT_MESSAGES):
            recipient = clients[(index + 1 + round_ % (len(clients) - 1)) % len(clients)]  # never the sender
            text = f"load {uuid.uuid4().hex}"
            expected.append(recipient.expect(text))
            await asyncio.wait_for(await sender.send(recipient.user["username"], text), 60)

    started = time.perf_counter()
    await asyncio.gather(*(keep_sending(index, sender) for index, sender in enumerate(clients)))
    await asyncio.wait_for(asyncio.gather(*expected), 120)
    return len(expected), time.perf_counter() - started


class Phases:
    """The cloud's side of the clients' phases: at each mark the handler times and the process's CPU so far are
    taken, before the clients go on."""

    def __init__(self, clock: HandlerClock) -> None:
        self.clock = clock
        self.handler_ms: dict[str, list[float]] = {}
        self.cpu_s: dict[str, float] = {}
        self._phase: str | None = None
        self._cpu_started = 0.0

    def mark(self, phase: str) -> None:
        if self._phase is not None:
            self.handler_ms[self._phase] = list(self.clock.by_route.get("sendMessage", []))
            self.cpu_s[self._phase] = time.process_time() - self._cpu_started
        self.clock.reset()
        self._phase, self._cpu_started = phase, time.process_time()


async def _measure(websocket_url: str, users: list[dict[str, str]], mark: Callable[[str], None]) -> dict[str, Any]:
    """The clients' side: every phase, each begun and ended with a `mark`; the samples and the clients' CPU."""
    clients = [Client(user) for user in users]
    await asyncio.gather(*(client.open(websocket_url) for client in clients))
    try:
        pairs = [(clients[i], clients[i + 1]) for i in range(0, len(clients), 2)]
        await _latency(pairs, messages=1)  # warm-up: not measured
        mark("unloaded")
        unloaded = await _latency([(clients[1], clients[0])])
        mark("loaded")
        latencies = await _latency(pairs)
        mark("throughput")
        cpu_started = time.process_time()
        delivered, elapsed_s = await _throughput(clients)
        clients_cpu_s = time.process_time() - cpu_started
        mark("end")
    finally:
        await asyncio.gather(*(client.close() for client in clients))
    return {
        "unloaded": unloaded,
        "latencies": latencies,
        "delivered": delivered,
        "elapsed_s": elapsed_s,
        "clients_cpu_s": clients_cpu_s,
    }


def _clients_process(websocket_url: str, users: list[dict[str, str]], cloud: Connection) -> None:
    """The clients, in a process of their own: each mark waits for the cloud's side to take its figures."""

    def mark(phase: str) -> None:
        cloud.send(("mark", phase))
        cloud.recv()

    cloud.send(("done", asyncio.run(_measure(websocket_url, users, mark))))


def _measured_by_clients_apart(websocket_url: str, users: list[dict[str, str]], phases: Phases) -> dict[str, Any]:
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=_clients_process, args=(websocket_url, users, theirs), daemon=True
    )
    process.start()
    try:
        while True:
            silent_since = time.monotonic()
            while not ours.poll(1):
                if not process.is_alive():
                    raise RuntimeError(f"the clients' process ended (exit code {process.exitcode}): see its traceback")
                if time.monotonic() - silent_since > CLIENTS_TIMEOUT_S:
                    raise TimeoutError(f"the clients' process said nothing for {CLIENTS_TIMEOUT_S} s")
            kind, value = ours.recv()
            if kind == "done":
                return value
            phases.mark(value)
            ours.send("go on")
    finally:
        process.join(10)
        process.kill()


def _figures(samples: dict[str, Any], phases: Phases) -> dict[str, Any]:
    unloaded, latencies = samples["unloaded"], samples["latencies"]
    delivered, elapsed_s = samples["delivered"], samples["elapsed_s"]
    unloaded_handler_ms, handler_ms = phases.handler_ms["unloaded"], phases.handler_ms["loaded"]
    load_handler_ms, cpu_s = phases.handler_ms["throughput"], phases.cpu_s["throughput"]
    latency_p50 = statistics.median(latencies)
    return {
        "unloaded_latency_p50_ms": round(statistics.median(unloaded), 2),
        "unloaded_latency_p99_ms": round(_percentile(unloaded, 0.99), 2),
        "unloaded_send_handler_p50_ms": round(statistics.median(unloaded_handler_ms), 2),
        "unloaded_handler_share_of_latency_p50": round(
            statistics.median(unloaded_handler_ms) / statistics.median(unloaded), 3
        ),
        "latency_messages": len(latencies),
        "latency_p50_ms": round(latency_p50, 2),
        "latency_p99_ms": round(_percentile(latencies, 0.99), 2),
        "send_handler_p50_ms": round(statistics.median(handler_ms), 2),
        "handler_share_of_latency_p50": round(statistics.median(handler_ms) / latency_p50, 3),
        "throughput_messages": delivered,
        "throughput_messages_per_s": round(delivered / elapsed_s, 1),
        "throughput_process_cpu_ms_per_message": round(cpu_s * 1000 / delivered, 2),
        "throughput_process_cpu_share_of_wall": round(cpu_s / elapsed_s, 2),
        "throughput_send_handler_p50_ms": round(statistics.median(load_handler_ms), 2),
        "throughput_handler_busy_share": round(sum(load_handler_ms) / 1000 / elapsed_s, 3),
    }


def _clients_cpu(samples: dict[str, Any]) -> dict[str, float]:
    """The clients' own CPU per message, when they ran apart (in this process it is in the process's figure)."""
    return {"throughput_clients_cpu_ms_per_message": round(samples["clients_cpu_s"] * 1000 / samples["delivered"], 2)}


def run() -> dict[str, object]:
    sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "pinhole")]
    from local.server import BackgroundCloud

    cdk_out = Path(os.environ.get("PINHOLE_CDK_OUT", ROOT / "cdk.out"))
    background = BackgroundCloud.start(cdk_out, start_pumps=False)
    try:
        cloud = background.cloud
        clock = HandlerClock(cloud.runner)
        with ThreadPoolExecutor(8) as pool:
            users = list(pool.map(lambda i: _sign_up(cloud.outputs["HttpApiUrl"], i), range(CLIENTS)))
        phases = Phases(clock)
        websocket_url = cloud.outputs["WebSocketUrl"]
        if os.environ.get(CLIENTS_IN_PROCESS):
            samples = asyncio.run(_measure(websocket_url, users, phases.mark))
        else:
            samples = _measured_by_clients_apart(websocket_url, users, phases)
    finally:
        background.stop()
    apart = not os.environ.get(CLIENTS_IN_PROCESS)
    return {
        "template": str(cdk_out),
        "cpus": os.cpu_count(),
        "clients": CLIENTS,
        "clients_run_in": "their own process" if apart else "this process",
        **_figures(samples, phases),
        **(_clients_cpu(samples) if apart else {}),
    }
