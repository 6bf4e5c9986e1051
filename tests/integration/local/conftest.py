"""A local cloud over the hand-written fixture assembly, served from a thread of the test process."""

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from local.server import BackgroundCloud

FIXTURE_CDK_OUT = Path(__file__).parent / "fixture_cdk_out"


@contextmanager
def isolated_process_state() -> Iterator[None]:
    """Undo what starting a local cloud does to this process, so later tests (other packages') are unaffected.

    The cloud points AWS_ENDPOINT_URL & co. at itself and imports handler and domain modules that read
    their settings at import; both must not leak into tests that run afterwards in the same process.
    """
    saved_environ, saved_modules = dict(os.environ), set(sys.modules)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved_environ)
        for name in set(sys.modules) - saved_modules:
            del sys.modules[name]


@pytest.fixture(scope="package")
def cloud() -> Iterator[BackgroundCloud]:
    with isolated_process_state():
        background = BackgroundCloud.start(FIXTURE_CDK_OUT)
        try:
            yield background
        finally:
            background.stop()


def wait_for(condition: Callable[[], object], timeout_s: float = 10.0, interval_s: float = 0.05) -> object:
    """Poll until condition() is truthy; its value, or AssertionError at the deadline."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"condition not met within {timeout_s} s")
