"""The local runner's timeout counts only a function's own time, as Lambda's does: at most one handler per core
executes at once and the others wait before their start, uncharged; a cold start (Lambda's init phase) is not
charged either; a handler given up on at its timeout frees its slot. Under load, handlers used to time out for
time spent waiting on one another (504s in the load soak)."""

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from local import lambda_runner
from local.lambda_runner import ExecutionSlots, HandlerTimeout, LambdaRunner, LocalFunction

WAIT_S = 10


def function(name: str, handler: Callable[[Any, Any], Any], timeout_s: float) -> LocalFunction:
    made = LocalFunction(
        resource=cast(Any, None),
        name=name,
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        asset_dir=Path("."),
        handler_path="handler.handler",
        environment={},
        timeout_s=timeout_s,
        memory_mb=128,
        module_file=Path("handler.py"),
    )
    made._idle.append(handler)
    return made


@pytest.fixture
def one_slot() -> Iterator[LambdaRunner]:
    runner = LambdaRunner([], concurrent_executions=1)
    yield runner
    runner.shutdown()


def test_only_as_many_handlers_as_slots_execute_at_once() -> None:
    # Given two slots and three invocations of handlers that stay inside until released
    runner = LambdaRunner([], concurrent_executions=2)
    inside, release = threading.Semaphore(0), threading.Event()
    entered: list[str] = []

    def handler(event: Any, context: Any) -> str:
        entered.append(event)
        inside.release()
        release.wait(WAIT_S)
        return str(event)

    functions = [function(f"fn{n}", handler, timeout_s=WAIT_S) for n in range(3)]
    threads = [threading.Thread(target=runner.invoke, args=(functions[n], f"call-{n}")) for n in range(3)]
    for thread in threads:
        thread.start()

    # When two are inside
    assert inside.acquire(timeout=WAIT_S) and inside.acquire(timeout=WAIT_S)

    # Then the third has not started; once they finish, it runs
    assert not inside.acquire(timeout=0.5)
    assert len(entered) == 2
    release.set()
    for thread in threads:
        thread.join(WAIT_S)
    assert sorted(entered) == ["call-0", "call-1", "call-2"]
    runner.shutdown()


def test_waiting_for_a_slot_is_not_charged_to_the_timeout(one_slot: LambdaRunner) -> None:
    # Given the only slot held for 2.5 s by a long function, and a quick one with a 1-second timeout queued behind
    hold = threading.Event()
    long = function("long", lambda event, context: hold.wait(2.5), timeout_s=WAIT_S)
    quick = function("quick", lambda event, context: "done", timeout_s=1)
    holder = threading.Thread(target=one_slot.invoke, args=(long, {}))
    holder.start()

    # When the quick one is invoked, Then it answers after its wait, not a timeout
    assert one_slot.invoke(quick, {}) == "done"
    holder.join(WAIT_S)


def test_a_cold_start_is_not_charged_to_the_timeout(monkeypatch: pytest.MonkeyPatch, one_slot: LambdaRunner) -> None:
    # Given a function whose first environment takes 1.5 s to import (its init phase) and whose timeout is 1 s
    cold = function("cold", lambda event, context: "warm now", timeout_s=1)
    cold._idle.clear()
    slow_import = threading.Event()

    def import_slowly(fn: LocalFunction, instance: int = 1) -> Callable[[Any, Any], Any]:
        slow_import.wait(1.5)
        return lambda event, context: "warm now"

    monkeypatch.setattr(lambda_runner, "_load_handler", import_slowly)

    # Then the invocation answers: the timeout starts with the handler
    assert one_slot.invoke(cold, {}) == "warm now"


def test_a_timed_out_handler_gives_its_slot_back(one_slot: LambdaRunner) -> None:
    # Given the only slot taken by a handler that never returns within its 0.3-second timeout
    stuck = threading.Event()
    hung = function("hung", lambda event, context: stuck.wait(WAIT_S), timeout_s=0.3)
    with pytest.raises(HandlerTimeout):
        one_slot.invoke(hung, {})

    # When another function is invoked, Then it runs (the hung thread goes on, uncounted, as Lambda would kill it)
    try:
        assert one_slot.invoke(function("next", lambda event, context: "ran", timeout_s=WAIT_S), {}) == "ran"
    finally:
        stuck.set()


def _queued(slots: ExecutionSlots, count: int) -> None:
    for _ in range(1000):
        if slots.waiting == count:
            return
        time.sleep(0.005)
    raise AssertionError(f"{slots.waiting} waiting, not {count}")


def test_a_freed_slot_goes_to_the_longest_waiting_invocation_never_to_a_newcomer() -> None:
    # Given the only slot held, and two invocations queued for it, one after the other
    slots = ExecutionSlots(1)
    assert slots.acquire()
    order: list[str] = []

    def invocation(name: str) -> None:
        slots.acquire()
        order.append(name)
        slots.release()

    first, second = (threading.Thread(target=invocation, args=(name,)) for name in ("first", "second"))
    first.start()
    _queued(slots, 1)
    second.start()
    _queued(slots, 2)

    # When the slot is freed, Then a newcomer cannot take it (threading.Semaphore would let it)
    slots.release()
    assert not slots.acquire(blocking=False)

    # And the waiters get it in the order they came
    first.join(WAIT_S)
    second.join(WAIT_S)
    assert order == ["first", "second"]
    assert slots.acquire(blocking=False)  # and it is free again once they are done
