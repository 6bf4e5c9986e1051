"""Per-user write limits, and the counters behind the log-in guard (pinhole.auth.login_guard) (API.md:
429 `rate_limited` with `Retry-After`). A fixed window per user and action, counted by one conditional
UpdateItem: cheap, exact under concurrency, and a refused write changes nothing. A burst at a window's edge
may reach twice the limit, which these limits tolerate. The windows are the UTC clock's (an hour's is 06:00 to
07:00, a day's midnight to midnight), not rolling, so the 429 says so and when the count starts again. An exact
rolling window would need the last `limit` moments of each user, which one UpdateItem cannot both check and
rotate (a list's SET and REMOVE paths may not overlap; a ring's next slot would have to be read first). The
limits are configuration (cdk.json `rate_limits`, read into `Settings.rate_limits`)."""

import math
import time
from collections.abc import Callable

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import UpdateError
from pynamodb.models import Model

from pinhole.shared.errors import RateLimited
from pinhole.shared.settings import DEFAULT_RATE_LIMITS, RateLimit, get_settings

_settings = get_settings()
EXPIRY_MARGIN_S = 60


class RateCounterModel(Model):
    class Meta:
        table_name = _settings.rate_limits_table_name
        region = _settings.region
        billing_mode = "PAY_PER_REQUEST"

    key = UnicodeAttribute(hash_key=True)  # <action>#<who>#<window number>, <action>#<who> (`spaced`), seen#<what>
    hits = NumberAttribute()  # in a window; for `spaced`, when the last one went through (epoch seconds)
    expires_at = NumberAttribute()  # TTL: shortly after the window ends


def limit_for(action: str) -> RateLimit:
    return get_settings().rate_limits.get(action) or DEFAULT_RATE_LIMITS[action]


def _window(who: str, action: str, now: float) -> tuple[RateLimit, str, int]:
    """The action's limit, the key of the counter of `who` in the window `now` falls in, and when it ends."""
    limit = limit_for(action)
    window = int(now // limit.per_seconds)
    return limit, f"{action}#{who}#{window}", (window + 1) * limit.per_seconds


def enforce(who: str, action: str, clock: Callable[[], float] = time.time) -> str:
    """Counts one `action` by `who` (a user id; for log-ins, an account and a source address), or raises
    RateLimited if the window's limit is reached. Returns the counter's key, for `refund`."""
    now = clock()
    limit, key, window_ends = _window(who, action, now)
    counter = RateCounterModel(key=key)
    try:
        counter.update(
            actions=[RateCounterModel.hits.add(1), RateCounterModel.expires_at.set(window_ends + EXPIRY_MARGIN_S)],
            condition=RateCounterModel.hits.does_not_exist() | (RateCounterModel.hits < limit.limit),
        )
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        raise RateLimited(
            f"Too many {counted(action)}: at most {limit.limit} in each {_period(limit.per_seconds)} "
            f"(the count starts again at {_utc_time_of_day(window_ends)}).",
            retry_after_s=max(1, math.ceil(window_ends - now)),
        ) from None
    return key


# What a limit counts, as its 429 names it to a person ("Too many password changes"), where the action's key
# would not read as words ("password_changes").
_COUNTED = {
    "story": "stories",
    "signup": "sign-ups from this network",
    "avatar": "profile photo uploads",
    "password_change": "password changes",
    "password_check": "password attempts",
    "password_forgot": "password reset requests",
    "password_forgot_source": "password reset requests from this network",
    "password_reset": "password reset attempts",
    "password_reset_source": "password reset attempts from this network",
    "verify_email": "e-mail verification attempts",
    "verify_email_send": "verification e-mails",
    "totp": "two-factor code attempts",
    "totp_source": "two-factor code attempts from this network",
    "recovery_login": "log-ins with a recovery code",
    "export": "data exports",
    "typing": "typing notices",
    "login_failures_per_source": "failed log-ins from this network",
    "login_failures_per_account": "failed log-ins",
    "login_pace_under_attack": "log-ins while this account is under attack",
}


def counted(action: str) -> str:
    """What `action`'s limit counts, in words: `reports`, `password changes`."""
    return _COUNTED.get(action) or f"{action.replace('_', ' ')}s"


_UNITS = ((86_400, "day"), (3600, "hour"), (60, "minute"), (1, "second"))


def _period(seconds: int) -> str:
    """`hour` of 3600 seconds, `15 minutes` of 900."""
    unit_seconds, unit = next((size, name) for size, name in _UNITS if seconds % size == 0)
    units = seconds // unit_seconds
    return unit if units == 1 else f"{units} {unit}s"


def _utc_time_of_day(epoch_s: int) -> str:
    """`07:00 UTC`, with the seconds when a window does not end on a minute."""
    return time.strftime("%H:%M:%S UTC" if epoch_s % 60 else "%H:%M UTC", time.gmtime(epoch_s))


def spaced(who: str, action: str, clock: Callable[[], float] = time.time) -> None:
    """Lets one `action` by `who` through if none did in the `per_seconds` before it (a limit of 1), or raises
    RateLimited: measured from the last one let through, not by fixed windows, so two in a row never both pass at
    a window's edge. One conditional UpdateItem, as `enforce`."""
    now = clock()
    limit = limit_for(action)
    marker = RateCounterModel(key=f"{action}#{who}")
    try:
        marker.update(
            actions=[RateCounterModel.hits.set(now), RateCounterModel.expires_at.set(int(now) + EXPIRY_MARGIN_S)],
            condition=RateCounterModel.hits.does_not_exist() | (RateCounterModel.hits <= now - limit.per_seconds),
        )
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        raise RateLimited(
            f"Too many {counted(action)}: at most one every {limit.per_seconds} seconds.",
            retry_after_s=limit.per_seconds,
        ) from None


def refund(counter_key: str) -> None:
    """Takes back one count that `enforce` made (in its own window: a window that has ended since is left
    alone), for an attempt that turned out not to count."""
    try:
        RateCounterModel(key=counter_key).update(
            actions=[RateCounterModel.hits.add(-1)], condition=RateCounterModel.hits > 0
        )
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise


def add(who: str, action: str, clock: Callable[[], float] = time.time) -> None:
    """Counts one `action` by `who` without any limit (a count other decisions read with `count`)."""
    _, key, window_ends = _window(who, action, clock())
    RateCounterModel(key=key).update(
        actions=[RateCounterModel.hits.add(1), RateCounterModel.expires_at.set(window_ends + EXPIRY_MARGIN_S)]
    )


def count(who: str, action: str, clock: Callable[[], float] = time.time) -> int:
    """How many `action`s by `who` the current window holds."""
    _, key, _ = _window(who, action, clock())
    try:
        return int(RateCounterModel.get(key, consistent_read=True).hits)
    except RateCounterModel.DoesNotExist:
        return 0


def remember(key: str, for_seconds: int, clock: Callable[[], float] = time.time) -> None:
    """Notes `key` for `for_seconds` (renewed by every call)."""
    RateCounterModel(key=f"seen#{key}", hits=1, expires_at=int(clock()) + for_seconds).save()


def remembered(key: str, clock: Callable[[], float] = time.time) -> bool:
    """Whether `key` was noted and its time has not run out (TTL deletes items late: the expiry is checked)."""
    try:
        return bool(RateCounterModel.get(f"seen#{key}", consistent_read=True).expires_at > clock())
    except RateCounterModel.DoesNotExist:
        return False
