"""`make screenshots`: the main screens of Pinhole Web, on a phone and a desktop, into docs/screenshots/.

Starts its own local cloud (state in a temporary directory), makes a small world through the API, and
photographs each screen as Ada sees it, in Debian's chromium."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.browser.support import DESKTOP, PHONE, REPO_ROOT, launch, open_window, settle
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
                        if screen == "thread":  # opening it marks the messages read
                            ada.page.locator('[data-badge="unread messages"]').wait_for(state="detached")
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
