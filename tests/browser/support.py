"""Pinhole Web in a real browser: Debian's Chromium driven by Playwright for Python (its own browser
download does not work on these machines), the flags a closed network needs, and what every page of
the app is checked for (console errors, Content-Security-Policy violations, axe-core)."""

from __future__ import annotations

import io
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright

REPO_ROOT = Path(__file__).resolve().parents[2]
WEB_DIST = REPO_ROOT / "web" / "dist"
AXE_SOURCE = REPO_ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# Chromium's background services call Google's hosts; this machine's closed network refuses them.
CHROMIUM_FLAGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SERIOUS = {"serious", "critical"}
PASSWORD = "Correct-Horse-9"


def chromium_path() -> str:
    """Debian's chromium (`make browsers` installs it); PINHOLE_CHROMIUM names another. Missing: a skip
    that says so, or a failure under CI=true, where the browser tests must run."""
    found = os.environ.get("PINHOLE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    message = "no Chromium: `make browsers` installs Debian's chromium (or set PINHOLE_CHROMIUM)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def launch(playwright: Playwright) -> Browser:
    if not (WEB_DIST / "index.html").is_file():
        pytest.fail("web/dist is not built: run `make web`", pytrace=False)
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)


@dataclass
class Person:
    """One person at one browser window: a context of their own (own sessionStorage, own socket)."""

    context: BrowserContext
    page: Page
    problems: list[str] = field(default_factory=list)  # CSP violations and uncaught errors

    def close(self) -> None:
        self.context.close()


def open_window(browser: Browser, app_url: str, viewport: dict[str, int] = DESKTOP) -> Person:
    context = browser.new_context(viewport=viewport, base_url=app_url, service_workers="block")
    page = context.new_page()
    person = Person(context, page)

    def on_console(message: ConsoleMessage) -> None:
        # A 4xx the app shows to the person is logged by Chromium too; only CSP refusals are defects here.
        if "Content Security Policy" in message.text:
            person.problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: person.problems.append(f"uncaught: {error}"))
    page.set_default_timeout(15_000)
    return person


def violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations of the page as it is (axe from web/node_modules,
    evaluated through DevTools, which the page's CSP does not govern)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE.read_text())
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5], "help": v["help"]}
        for v in result["violations"]
        if v["impact"] in SERIOUS
    ]


def photo_file(directory: Path, name: str = "photo.jpg", size: tuple[int, int] = (1200, 900)) -> Path:
    """A JPEG on disk, as a person would pick from their camera roll."""
    image = Image.radial_gradient("L").resize(size).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    path = directory / name
    path.write_bytes(buffer.getvalue())
    return path


def sign_up(page: Page, username: str, display_name: str = "") -> None:
    """The sign-up form as a person fills it; ends on the home screen, signed in."""
    page.goto("./")
    page.get_by_role("link", name="Create an account").click()
    # the log-in screen has a "Username" too: fill in only once the sign-up screen has replaced it
    page.get_by_role("heading", name="Create your account").wait_for()
    page.get_by_label("Username").fill(username)
    if display_name:
        page.get_by_label("Name (optional)").fill(display_name)
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("heading", name="Home", exact=True).wait_for()


def settle(page: Page) -> None:
    """Waits until the screen has its title, its requests are answered, nothing says Loading and every
    image has arrived: what a person would call "loaded"."""
    page.locator("h1").first.wait_for()
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        "() => ![...document.querySelectorAll('[role=status]')].some(e => e.textContent.includes('Loading'))"
    )
    page.wait_for_function("() => [...document.images].every(image => image.complete)")
