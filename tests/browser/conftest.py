"""One browser per test process and one local cloud per module; each person a browser context."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.browser.support import DESKTOP, Person, launch, open_window
from tests.e2e.conftest import RunningLocalCloud, start_local_cloud

# As long as an action may wait (support.open_window): the machine may be busy with other tests.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = launch(playwright)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLocalCloud]:
    running = start_local_cloud(tmp_path_factory.mktemp("web-cloud"))
    yield running
    returncode, output = running.stop()
    assert returncode == 0, f"local cloud did not exit cleanly ({returncode}):\n{output}"


@pytest.fixture(scope="module")
def app_url(cloud: RunningLocalCloud) -> str:
    return cloud.outputs["HttpApiUrl"].rstrip("/") + "/app/"


@pytest.fixture
def window(browser: Browser, app_url: str) -> Iterator[Callable[..., Person]]:
    """Opens a window for one more person; at the end, no page broke its CSP or threw."""
    opened: list[Person] = []

    def open_one(viewport: dict[str, int] = DESKTOP) -> Person:
        person = open_window(browser, app_url, viewport)
        opened.append(person)
        return person

    yield open_one
    problems = [problem for person in opened for problem in person.problems]
    for person in opened:
        person.close()
    assert problems == []
