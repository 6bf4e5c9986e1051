"""Before the state is saved, the pumps work off what is waiting: `settled` says when they have."""

import threading
import time

import pytest

from local.pumps.base import Pump, settled, wakeup

WAIT_S = 10


class Scripted(Pump):
    """Handles `rounds` batches, each held until `release` is set, then finds nothing."""

    interval_s = 0.01

    def __init__(self, name: str, rounds: int = 0) -> None:
        super().__init__(name=name)
        self.rounds = rounds
        self.release = threading.Event()

    def poll_once(self) -> int:
        if not self.rounds:
            return 0
        self.release.wait(WAIT_S)
        self.rounds -= 1
        return 1


class Periodic(Scripted):
    drains_a_backlog = False


def wait_until(condition) -> bool:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_pumps_are_not_settled_while_one_still_handles_records():
    # Given an idle pump and one in the middle of a batch
    idle, busy = Scripted("idle"), Scripted("busy", rounds=2)
    pumps = [idle, busy]
    for pump in pumps:
        pump.start()
    try:
        assert wait_until(lambda: busy.in_round and idle.last_idle_round_started > 0)
        # Then they are not settled
        assert not settled(pumps)
        # When the busy one finishes its batches
        busy.release.set()
        # Then they settle, once each has looked again and found nothing after that work
        assert wait_until(lambda: settled(pumps))
        assert idle.last_idle_round_started > busy.last_busy_round_ended
        assert busy.rounds == 0
    finally:
        for pump in pumps:
            pump.release.set()
            pump.stop()
            pump.join(WAIT_S)


def test_periodic_work_is_not_waited_for():
    # Given a periodic pump (a schedule, the TTL sweeper) stuck in a long round, beside an idle pump
    periodic, idle = Periodic("periodic", rounds=1), Scripted("idle")
    pumps = [periodic, idle]
    for pump in pumps:
        pump.start()
    try:
        assert wait_until(lambda: periodic.in_round)
        # Then the pumps count as settled all the same
        assert wait_until(lambda: settled(pumps))
    finally:
        for pump in pumps:
            pump.release.set()
            pump.stop()
            pump.join(WAIT_S)


class Counting(Pump):
    """Finds nothing, and counts how often it looked."""

    interval_s = 0.01
    idle_s = 30.0

    def __init__(self) -> None:
        super().__init__(name="counting")
        self.rounds = 0

    def poll_once(self) -> int:
        self.rounds += 1
        return 0


class Emptying(Counting):
    """Takes the one message waiting in its queue on its first round, and knows it took all there was."""

    def poll_once(self) -> int:
        self.rounds += 1
        if self.rounds > 1:
            return 0
        self.took_all_there_was = True
        return 1


@pytest.mark.parametrize("kind", [Counting, Emptying], ids=["found-nothing", "took-all-there-was"])
def test_an_idle_pump_waits_for_a_write_then_looks_at_once_and_stops_promptly(monkeypatch, kind):
    # Given a pump that found nothing, or took the one message waiting and knows it took all there was,
    # while the in-process transport reports writes
    monkeypatch.setattr(wakeup, "armed", True)
    pump = kind()
    pump.start()
    try:
        assert wait_until(lambda: pump.rounds >= 1)
        time.sleep(0.3)
        # Then it does not poll while nothing is written (30 interval_s's have passed), not even to find nothing
        assert pump.rounds == 1
        # When a write bumps the wakeup, Then it looks again at once (not after idle_s)
        wakeup.bump()
        assert wait_until(lambda: pump.rounds == 2)
    finally:
        # And when stopped it ends at once, though it waits on the wakeup
        stopped = time.monotonic()
        pump.stop()
        pump.join(WAIT_S)
    assert not pump.is_alive() and time.monotonic() - stopped < 5


class Reading(Counting):
    """An idle pump that reads one named source."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.sources = frozenset({source})


def test_a_write_wakes_only_the_pumps_reading_what_it_wrote(monkeypatch):
    # Given idle pumps reading two queues, and one that names no source
    monkeypatch.setattr(wakeup, "armed", True)
    orders, invoices, unnamed = Reading("sqs:orders"), Reading("sqs:invoices"), Counting()
    pumps = [orders, invoices, unnamed]
    for pump in pumps:
        pump.start()
    try:
        assert wait_until(lambda: all(pump.rounds == 1 for pump in pumps))
        # When a message is sent to the orders queue
        wakeup.bump({"sqs:orders"})
        # Then its pump looks again at once, and so does the one that names no source
        assert wait_until(lambda: orders.rounds == 2 and unnamed.rounds == 2)
        time.sleep(0.3)
        # And the invoices pump does not (its idle round is 30 s away)
        assert invoices.rounds == 1
        # When every pump is asked to look (settling before a snapshot)
        wakeup.bump()
        # Then all of them do
        assert wait_until(lambda: orders.rounds == 3 and invoices.rounds == 2 and unnamed.rounds == 3)
    finally:
        for pump in pumps:
            pump.stop()
            pump.join(WAIT_S)
    # And a stopped pump is no longer woken
    assert not any(pump.is_alive() for pump in pumps)
    wakeup.bump({"sqs:orders"})
    assert orders.rounds == 3
