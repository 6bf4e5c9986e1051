"""EventBridge schedules (`rate(...)` rules) → their Lambda targets, with the Scheduled Event shape."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from local.lambda_runner import ASYNC, LambdaRunner, LocalFunction
from local.pumps.base import Pump
from local.template import ACCOUNT_ID, REGION

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> float | None:
    """Seconds between runs of a `rate(...)` expression; None for `cron(...)`, which is not emulated."""
    match = _RATE.match(expression.strip())
    return int(match.group(1)) * _SECONDS[match.group(2).rstrip("s")] if match else None


def scheduled_event(rule_arn: str, now: datetime) -> dict[str, object]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [rule_arn],
        "detail": {},
    }


class SchedulePump(Pump):
    interval_s = 1.0
    drains_a_backlog = False

    def __init__(
        self,
        function: LocalFunction,
        runner: LambdaRunner,
        rule_arn: str,
        every_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(name=f"schedule->{function.logical_id}")
        self.function = function
        self.runner = runner
        self.rule_arn = rule_arn
        self.every_s = every_s
        self.clock = clock
        self._next_run = clock() + every_s

    def poll_once(self) -> int:
        if self.clock() < self._next_run:
            return 0
        self._next_run = self.clock() + self.every_s
        self.runner.invoke(self.function, scheduled_event(self.rule_arn, datetime.now(UTC)), invocation_type=ASYNC)
        return 0
