"""Secrets, fetched once per container and cached, never put in environment variables where anyone who may read a
function's configuration would see them.

The cache is what Powertools' `get_secret(..., max_age=3600)` gave before: a value read at most once an hour per
process (so a rotated key is picked up within the hour), errors not cached. Powertools' parameters package imports
boto3 (every provider's module does, at import) and nothing else on an API function's cold path needs it: ~15 ms
of CPU per cold start (docs/BENCHMARKS.md)."""

import time
from collections.abc import Callable
from typing import Any

from pinhole.shared import aws_clients
from pinhole.shared.settings import get_settings

MAX_AGE_S = 3600


class CursorKey:
    """The key page cursors are sealed with (pinhole.shared.cursor derives its cipher's key from it), from Secrets
    Manager."""

    def __init__(
        self, client: Any = None, max_age_s: float = MAX_AGE_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._client = client
        self._max_age_s = max_age_s
        self._clock = clock
        self._cached: tuple[bytes, float] | None = None  # the key, and until when it may be used

    @property
    def client(self) -> Any:
        if self._client is None:  # made on the first read, not at import
            self._client = aws_clients.client("secretsmanager", region_name=get_settings().region)
        return self._client

    def value(self) -> bytes:
        now = self._clock()
        if self._cached is None or now >= self._cached[1]:
            secret = self.client.get_secret_value(SecretId=get_settings().cursor_secret_arn)["SecretString"]
            self._cached = (str(secret).encode(), now + self._max_age_s)
        return self._cached[0]


cursor_key = CursorKey()


def cursor_secret() -> bytes:
    """The cursor key, read from Secrets Manager at most once per MAX_AGE_S in this process."""
    return cursor_key.value()
