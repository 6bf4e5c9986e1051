"""A pump: a background thread that polls a source and stops promptly when asked."""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("local.pumps")


class Pump(threading.Thread):
    interval_s = 0.2
    # False for periodic work (schedules, TTL sweeps): there is no backlog to wait for.
    drains_a_backlog = True

    def __init__(self, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self._stopping = threading.Event()
        # time.monotonic() when the last round that handled something ended, and when the last round
        # that found nothing started: `settled` compares them across pumps.
        self.last_busy_round_ended = 0.0
        self.last_idle_round_started = 0.0
        self.in_round = False

    def poll_once(self) -> int:
        """Do one round of work; how many records/items were handled."""
        raise NotImplementedError

    def run(self) -> None:
        while not self._stopping.is_set():
            started = time.monotonic()
            self.in_round = True
            try:
                handled = self.poll_once()
            except Exception:
                if self._stopping.is_set():
                    return
                log.exception("%s: poll failed", self.name)
                handled = 0
            finally:
                self.in_round = False
            if handled:
                self.last_busy_round_ended = time.monotonic()
            else:
                self.last_idle_round_started = started
                self._stopping.wait(self.interval_s)

    def stop(self) -> None:
        self._stopping.set()

    def sleep(self, seconds: float) -> bool:
        """Wait, unless stopping; True if the pump should go on."""
        return not self._stopping.wait(seconds)


def settled(pumps: list[Pump]) -> bool:
    """Whether every pump has looked at its source, and found nothing, since the last work any pump did
    (work one pump does can feed another: a stream handler queues a notification)."""
    draining = [pump for pump in pumps if pump.drains_a_backlog and pump.is_alive()]
    last_work = max((pump.last_busy_round_ended for pump in draining), default=0.0)
    return all(not pump.in_round and pump.last_idle_round_started > last_work for pump in draining)
