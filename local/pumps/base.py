"""A pump: a background thread that polls a source and stops promptly when asked."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

log = logging.getLogger("local.pumps")


class Wakeup:
    """Tells idle pumps that there may be work: every write that can feed a pump (an item written, a message
    sent, an object stored) names what it wrote (`local.pumps.write_targets`: a table, a queue, a bucket), and
    the pumps reading that source look at once instead of polling five times a second. Only those: when every
    write woke every pump (~15), most of their rounds under load found nothing: the pumps' polling was ~30% of
    the local cloud's CPU in the load soak (docs/LOCAL_CLOUD.md, "Where the time goes"). Armed only while
    writes are reported; writes that are not (a tester's script at moto's own endpoint, a message whose
    visibility timeout ran out, a record moto writes by itself) are still found by an idle pump's slow round,
    every `Pump.idle_s`."""

    def __init__(self) -> None:
        self.armed = False
        self._lock = threading.Lock()
        # Replaced whole under the lock, read without it: a bump never waits for a pump starting or stopping.
        self._every_pump: tuple[threading.Event, ...] = ()
        self._by_source: dict[str, tuple[threading.Event, ...]] = {}
        self._any_write: tuple[threading.Event, ...] = ()  # pumps that name no source: every write wakes them

    def listen(self, nudge: threading.Event, sources: frozenset[str]) -> None:
        """`nudge` is set by every bump of one of `sources` (of any source if there are none) and by `bump()`."""
        with self._lock:
            self._every_pump = (*self._every_pump, nudge)
            if not sources:
                self._any_write = (*self._any_write, nudge)
            by_source = dict(self._by_source)
            for source in sources:
                by_source[source] = (*by_source.get(source, ()), nudge)
            self._by_source = by_source

    def forget(self, nudge: threading.Event) -> None:
        with self._lock:
            self._every_pump = tuple(event for event in self._every_pump if event is not nudge)
            self._any_write = tuple(event for event in self._any_write if event is not nudge)
            self._by_source = {
                source: kept
                for source, events in self._by_source.items()
                if (kept := tuple(event for event in events if event is not nudge))
            }

    def bump(self, sources: Iterable[str] | None = None) -> None:
        """Work may be waiting for the pumps reading `sources`; for every pump if None."""
        if sources is None:
            for nudge in self._every_pump:
                nudge.set()
            return
        for nudge in self._any_write:
            nudge.set()
        by_source = self._by_source
        for source in sources:
            for nudge in by_source.get(source, ()):
                nudge.set()


wakeup = Wakeup()


class Pump(threading.Thread):
    # At most one round per interval: under load a pump polls no more often than this.
    interval_s = 0.2
    # How long an idle pump waits for a wakeup before it looks anyway.
    idle_s = 1.0
    # False for periodic work (schedules, TTL sweeps): there is no backlog to wait for.
    drains_a_backlog = True

    def __init__(self, name: str, sources: frozenset[str] = frozenset()) -> None:
        """`sources`: what the pump reads, as `local.pumps.write_targets` names writes (none: any write wakes it)."""
        super().__init__(name=name, daemon=True)
        self.sources = sources
        self._stopping = threading.Event()
        self._nudged = threading.Event()
        # time.monotonic() when the last round that handled something ended, and when the last round
        # that found nothing started: `settled` compares them across pumps.
        self.last_busy_round_ended = 0.0
        self.last_idle_round_started = 0.0
        self.in_round = False
        # Set by a round that knows it took everything its source held (fewer records than it asked for):
        # then the pump waits for the next write rather than polling once more to find nothing.
        self.took_all_there_was = False

    def poll_once(self) -> int:
        """Do one round of work; how many records/items were handled."""
        raise NotImplementedError

    def run(self) -> None:
        wakeup.listen(self._nudged, self.sources)
        try:
            self._run()
        finally:
            wakeup.forget(self._nudged)

    def _run(self) -> None:
        while not self._stopping.is_set():
            started = time.monotonic()
            self._nudged.clear()  # before the round: a write during it wakes the next one
            self.took_all_there_was = False
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
                if self.took_all_there_was:
                    # as after a round that found nothing: no poll just to find nothing, and no more than one
                    # round per interval_s, so a steady trickle of writes still reaches the function in batches
                    self._wait_for_work(started)
            else:
                self.last_idle_round_started = started
                self._wait_for_work(started)

    def _wait_for_work(self, started: float) -> None:
        if not (self.drains_a_backlog and wakeup.armed):
            self._stopping.wait(self.interval_s)
            return
        self._nudged.wait(self.idle_s)
        self._stopping.wait(max(0.0, started + self.interval_s - time.monotonic()))

    def stop(self) -> None:
        self._stopping.set()
        self._nudged.set()  # an idle pump waits on its nudge, not on `_stopping`

    def sleep(self, seconds: float) -> bool:
        """Wait, unless stopping; True if the pump should go on."""
        return not self._stopping.wait(seconds)


def settled(pumps: list[Pump]) -> bool:
    """Whether every pump has looked at its source, and found nothing, since the last work any pump did
    (work one pump does can feed another: a stream handler queues a notification)."""
    draining = [pump for pump in pumps if pump.drains_a_backlog and pump.is_alive()]
    last_work = max((pump.last_busy_round_ended for pump in draining), default=0.0)
    return all(not pump.in_round and pump.last_idle_round_started > last_work for pump in draining)
