"""`make screenshots`: the main screens of Pinhole Web, on a phone and a desktop, into docs/screenshots/.

Starts its own local cloud (state in a temporary directory), makes a small world through the API, and
photographs each screen as Ada sees it, in Debian's chromium."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tests.browser.support import DESKTOP, PHONE, REPO_ROOT, launch, open_window
from tests.browser.world import SCREENS, build_world, sign_in_script
from tests.e2e.conftest import start_local_cloud

OUT = REPO_ROOT / "docs" / "screenshots"
MAIN_SCREENS = (
    "home",
    "post",
    "new-post",
    "profile",
    "search",
    "thread",
    "messages",
    "notifications",
    "story",
    "settings",
)
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}


def settle(page: Page) -> None:
    page.locator("h1").first.wait_for()
    page.wait_for_function(
        "() => ![...document.querySelectorAll('[role=status]')].some(e => e.textContent.includes('Loading'))"
    )
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => [...document.images].every(image => image.complete)")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as workdir:
        cloud = start_local_cloud(Path(workdir))
        try:
            world = build_world(cloud.outputs["HttpApiUrl"])
            app_url = cloud.outputs["WebAppUrl"]
            with sync_playwright() as playwright:
                browser = launch(playwright)
                for viewport_name, viewport in VIEWPORTS.items():
                    visitor = open_window(browser, app_url, viewport)
                    visitor.page.goto("./#/login")
                    settle(visitor.page)
                    visitor.page.screenshot(path=OUT / f"login-{viewport_name}.png")
                    visitor.close()
                    ada = open_window(browser, app_url, viewport)
                    ada.context.add_init_script(sign_in_script(world))
                    ada.page.goto("./")
                    for screen in MAIN_SCREENS:
                        ada.page.goto(f"./#{SCREENS[screen](world)}")
                        settle(ada.page)
                        if screen == "story":
                            time.sleep(1.5)  # the progress bar under way
                        ada.page.screenshot(path=OUT / f"{screen}-{viewport_name}.png")
                        if screen == "story":
                            ada.page.keyboard.press("Escape")
                    ada.close()
                browser.close()
        finally:
            code, output = cloud.stop()
            if code != 0:
                print(output, file=sys.stderr)
    print(f"wrote {len(list(OUT.glob('*.png')))} screenshots to {OUT.relative_to(REPO_ROOT)}/")
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
