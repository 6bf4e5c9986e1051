"""A pump: a background thread that polls a source and stops promptly when asked."""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("local.pumps")


class Wakeup:
    """Tells idle pumps that there may be work: the in-process transport bumps it on every write that can
    feed a pump (an item written, a message sent, an object stored), so an idle pump looks at once instead of
    polling five times a second. Armed only while such a transport reports writes; writes it cannot see (a
    tester's script at moto's own endpoint, a message whose visibility timeout ran out) are still found by
    an idle pump's slow round, every `Pump.idle_s`."""

    def __init__(self) -> None:
        self.armed = False
        self._generation = 0
        self._changed = threading.Condition()

    @property
    def generation(self) -> int:
        return self._generation

    def bump(self) -> None:
        with self._changed:
            self._generation += 1
            self._changed.notify_all()

    def wait(self, seen: int, timeout_s: float) -> None:
        """Until the generation moves past `seen`, or the timeout."""
        with self._changed:
            self._changed.wait_for(lambda: self._generation != seen, timeout_s)


wakeup = Wakeup()


class Pump(threading.Thread):
    # At most one round per interval: under load a pump polls no more often than this.
    interval_s = 0.2
    # How long an idle pump waits for a wakeup before it looks anyway.
    idle_s = 1.0
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
            seen = wakeup.generation  # before the round: a write during it wakes the next one
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
                self._wait_for_work(started, seen)

    def _wait_for_work(self, started: float, seen: int) -> None:
        if not (self.drains_a_backlog and wakeup.armed):
            self._stopping.wait(self.interval_s)
            return
        wakeup.wait(seen, self.idle_s)
        self._stopping.wait(max(0.0, started + self.interval_s - time.monotonic()))

    def stop(self) -> None:
        self._stopping.set()
        wakeup.bump()  # an idle pump waits on the wakeup, not on `_stopping`

    def sleep(self, seconds: float) -> bool:
        """Wait, unless stopping; True if the pump should go on."""
        return not self._stopping.wait(seconds)


def settled(pumps: list[Pump]) -> bool:
    """Whether every pump has looked at its source, and found nothing, since the last work any pump did
    (work one pump does can feed another: a stream handler queues a notification)."""
    draining = [pump for pump in pumps if pump.drains_a_backlog and pump.is_alive()]
    last_work = max((pump.last_busy_round_ended for pump in draining), default=0.0)
    return all(not pump.in_round and pump.last_idle_round_started > last_work for pump in draining)
