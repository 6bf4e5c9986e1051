"""Per-user write limits, and log-in attempts per account (API.md: 429 `rate_limited` with
`Retry-After`). A fixed window per user and action, counted by one conditional UpdateItem: cheap,
exact under concurrency, and a refused write changes nothing. A burst at a window's edge may reach
twice the limit, which these limits tolerate. The limits are configuration (cdk.json `rate_limits`,
read into `Settings.rate_limits`)."""

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

    key = UnicodeAttribute(hash_key=True)  # <action>#<user_id>#<window number>
    hits = NumberAttribute()
    expires_at = NumberAttribute()  # TTL: shortly after the window ends


def limit_for(action: str) -> RateLimit:
    return get_settings().rate_limits.get(action) or DEFAULT_RATE_LIMITS[action]


def enforce(who: str, action: str, clock: Callable[[], float] = time.time) -> None:
    """Counts one `action` by `who` (a user id; for log-ins, the account being logged into), or raises
    RateLimited if the window's limit is reached."""
    limit = limit_for(action)
    now = clock()
    window = int(now // limit.per_seconds)
    window_ends = (window + 1) * limit.per_seconds
    counter = RateCounterModel(key=f"{action}#{who}#{window}")
    try:
        counter.update(
            actions=[RateCounterModel.hits.add(1), RateCounterModel.expires_at.set(window_ends + EXPIRY_MARGIN_S)],
            condition=RateCounterModel.hits.does_not_exist() | (RateCounterModel.hits < limit.limit),
        )
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        raise RateLimited(
            f"Too many {action}s: at most {limit.limit} every {limit.per_seconds} seconds.",
            retry_after_s=max(1, math.ceil(window_ends - now)),
        ) from None
