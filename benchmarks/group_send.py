"""A 32-member group send against a one-to-one send, through the local cloud's HTTP API, in one run.

32 users sign up; the first creates a group with the 31 others. After a warm-up send of each kind, the
first user sends SENDS messages of each kind, alternating (one-to-one to the second user, then to the
group), one after another. Measured per kind: the HTTP round trip of `POST /messages` (p50/p99), the
messaging handler's own time around each invocation, and the size of the one TransactWriteItems each
send makes (items: DynamoDB allows 100). Nobody is connected, so no push is timed: the figures are the
store (every member's inbox and unread count, in one transaction) and the lookups before it; the push
per open connection is `benchmarks/messaging.py`'s. Uses cdk.out (or $PINHOLE_CDK_OUT); prints JSON.
"""

import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from benchmarks.messaging import HandlerClock, _percentile, _sign_up

ROOT = Path(__file__).resolve().parent.parent
MEMBERS, SENDS = 32, 30


class TransactionSizes:
    """The item count of every TransactWriteItems the process makes."""

    def __init__(self) -> None:
        from pynamodb.connection.base import Connection

        self.sizes: list[int] = []
        self._lock = threading.Lock()
        original = Connection.transact_write_items

        def counted(connection: Any, *args: Any, **kwargs: Any) -> Any:
            kinds = ("condition_check_items", "delete_items", "put_items", "update_items")
            with self._lock:
                self.sizes.append(sum(len(kwargs.get(kind) or []) for kind in kinds))
            return original(connection, *args, **kwargs)

        Connection.transact_write_items = counted  # type: ignore[method-assign]

    def take(self) -> list[int]:
        with self._lock:
            taken, self.sizes = self.sizes, []
        return taken


def _send(client: httpx.Client, body: dict[str, Any]) -> float:
    started = time.perf_counter()
    response = client.post("/messages", json=body)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 201, response.text
    return elapsed


def run() -> dict[str, object]:
    sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "pinhole")]
    from local.server import BackgroundCloud

    cdk_out = Path(os.environ.get("PINHOLE_CDK_OUT", ROOT / "cdk.out"))
    background = BackgroundCloud.start(cdk_out, start_pumps=False)
    try:
        cloud = background.cloud
        http_url = cloud.outputs["HttpApiUrl"]
        with ThreadPoolExecutor(8) as pool:
            users = list(pool.map(lambda i: _sign_up(http_url, i), range(MEMBERS)))
        sender = httpx.Client(base_url=http_url, timeout=60, headers={"authorization": f"Bearer {users[0]['token']}"})
        created = sender.post("/conversations", json={"members": [u["username"] for u in users[1:]]})
        assert created.status_code == 201, created.text
        kinds = {
            "direct": {"to": users[1]["username"]},
            "group": {"conversation_id": created.json()["conversation_id"]},
        }
        clock, transactions = HandlerClock(cloud.runner), TransactionSizes()
        for body in kinds.values():  # warm-up: not measured
            _send(sender, {**body, "text": "warm-up"})
        round_trips: dict[str, list[float]] = {kind: [] for kind in kinds}
        handler: dict[str, list[float]] = {kind: [] for kind in kinds}
        items: dict[str, list[int]] = {kind: [] for kind in kinds}
        for index in range(SENDS):
            for kind, body in kinds.items():
                clock.reset()
                transactions.take()
                round_trips[kind].append(_send(sender, {**body, "text": f"{kind} {index}"}))
                handler[kind] += clock.by_route.get("POST /messages", [])
                items[kind] += transactions.take()
    finally:
        background.stop()
    figures: dict[str, object] = {"template": str(cdk_out), "cpus": os.cpu_count(), "members": MEMBERS, "sends": SENDS}
    for kind in kinds:
        figures[f"{kind}_round_trip_p50_ms"] = round(statistics.median(round_trips[kind]), 2)
        figures[f"{kind}_round_trip_p99_ms"] = round(_percentile(round_trips[kind], 0.99), 2)
        figures[f"{kind}_handler_p50_ms"] = round(statistics.median(handler[kind]), 2)
        figures[f"{kind}_transaction_items"] = sorted(set(items[kind]))
    figures["group_vs_direct_round_trip_p50"] = round(
        statistics.median(round_trips["group"]) / statistics.median(round_trips["direct"]), 2
    )
    figures["group_vs_direct_handler_p50"] = round(
        statistics.median(handler["group"]) / statistics.median(handler["direct"]), 2
    )
    return figures
