"""Password guessing, slowed without handing anyone a way to lock the owner out (docs/SECURITY.md, "Log-in
guessing"). Only failed log-ins count, and they count against the source that made them:

- **per account and source address** (an IPv6 address counts as its /64): after `login_failures_per_source`
  failures in its window, that source may not try that account again until the window ends (429). Another
  source, the owner's, is not affected. A success takes its own attempt back (the count is reserved before
  the password is checked, so concurrent guesses cannot overshoot, and refunded unless the password was
  wrong).
- **per account, from anywhere**: past `login_failures_per_account` failures in its window the account is
  under attack, and every source it has never been logged into from (in the last `FAMILIAR_FOR_S`) is
  slowed to `login_pace_under_attack` — slowed, never locked: the owner at a new address can still try,
  a guess a minute. Sources the account was logged into from are not slowed at all.

Refused attempts never reach Cognito, so they neither tell the attacker anything nor feed Cognito's own
lockout."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pinhole.shared import rate_limits
from pinhole.shared.errors import InvalidCredentials, RateLimited
from pinhole.shared.network import source_network

FAMILIAR_FOR_S = 30 * 24 * 3600
PER_SOURCE = "login_failures_per_source"
PER_ACCOUNT = "login_failures_per_account"
PACE_UNDER_ATTACK = "login_pace_under_attack"


class LoginGuard:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock

    @contextmanager
    def attempt(self, account: str, source_address: str) -> Iterator[None]:
        """Around one password check of `account` from `source_address`: refuses it (RateLimited) before the
        check when this source has failed too often, or when the account is under attack and the source is
        unfamiliar; counts it as failed if the body raises InvalidCredentials."""
        source = source_network(source_address)
        who = f"{account}|{source}"
        if self._under_attack(account) and not rate_limits.remembered(f"login|{who}", self.clock):
            self._refuse_politely(lambda: rate_limits.enforce(who, PACE_UNDER_ATTACK, self.clock))
        reservation = self._refuse_politely(lambda: rate_limits.enforce(who, PER_SOURCE, self.clock))
        try:
            yield
        except InvalidCredentials:
            rate_limits.add(account, PER_ACCOUNT, self.clock)
            raise
        except BaseException:
            rate_limits.refund(reservation)  # not a guess: Cognito throttled, the function timed out...
            raise
        rate_limits.refund(reservation)
        rate_limits.remember(f"login|{who}", FAMILIAR_FOR_S, self.clock)

    def _under_attack(self, account: str) -> bool:
        return rate_limits.count(account, PER_ACCOUNT, self.clock) >= rate_limits.limit_for(PER_ACCOUNT).limit

    @staticmethod
    def _refuse_politely(count: Callable[[], str]) -> str:
        try:
            return count()
        except RateLimited as refused:
            raise RateLimited(
                f"Too many failed log-ins: try again in {refused.retry_after_s} seconds.", refused.retry_after_s
            ) from None
