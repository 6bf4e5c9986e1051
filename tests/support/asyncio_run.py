"""`asyncio.run` for a test, whatever else the pytest worker runs: a test of another module sharing the worker
(under pytest-xdist) may hold an event loop open in the main thread (Playwright's sync API does, for the
lifetime of its module's browser), and `asyncio.run` refuses to start inside a running loop. A thread of its
own has none."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="asyncio-run") as pool:
        return pool.submit(asyncio.run, coroutine).result()
