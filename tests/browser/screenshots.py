"""`make screenshots`: the main screens of Pinhole Web, on a phone and a desktop, into docs/screenshots/.

Starts its own local cloud (state in a temporary directory), makes a small world through the API, and
photographs each screen as Ada sees it, in Debian's chromium; then the screens that need an account of
their own (two-factor on, or deleted), taken with another account of Ada's."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pyotp
from playwright.sync_api import Browser, sync_playwright

from tests.browser.support import DESKTOP, PASSWORD, PHONE, REPO_ROOT, launch, open_window, settle
from tests.browser.world import SCREENS, Account, World, account, build_world, session_script, sign_in_script
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


def with_two_factor(base_url: str) -> Account:
    """Another account of Ada's, with two-factor on (its authenticator: pyotp)."""
    ada = account(base_url, "ada", "Ada Lovelace")
    totp = pyotp.TOTP(ada.http.post("/me/mfa/totp").json()["secret"])
    assert ada.http.post("/me/mfa/totp/verify", json={"code": totp.now(), "password": PASSWORD}).status_code == 204
    return ada


def shoot_account_screens(browser: Browser, app_url: str, base_url: str, world: World, viewport_name: str) -> None:
    """The group's members panel (rename, add people), recovery codes, the log-in with a recovery code, and the
    screen after deleting an account (which can keep it)."""
    viewport = VIEWPORTS[viewport_name]
    ada = open_window(browser, app_url, viewport)
    ada.context.add_init_script(sign_in_script(world))
    ada.page.goto(f"./#{SCREENS['group-thread'](world)}")
    settle(ada.page)
    ada.page.locator(".group-members summary").click()
    ada.page.screenshot(path=OUT / f"group-members-{viewport_name}.png")
    ada.close()

    guarded = with_two_factor(base_url)
    person = open_window(browser, app_url, viewport)
    person.context.add_init_script(session_script(guarded.refresh_token))
    person.page.goto("./#/settings/security")
    settle(person.page)
    person.page.get_by_label("Your password").fill(PASSWORD)
    person.page.get_by_role("button", name="Make new recovery codes").click()
    person.page.get_by_test_id("recovery-codes").wait_for()
    person.page.locator('[aria-labelledby="recovery-title"]').evaluate("section => section.scrollIntoView()")
    person.page.screenshot(path=OUT / f"recovery-codes-{viewport_name}.png")
    person.close()

    visitor = open_window(browser, app_url, viewport)
    visitor.page.goto("./#/login")
    visitor.page.get_by_label("Username").fill(guarded.username)
    visitor.page.get_by_label("Password").fill(PASSWORD)
    visitor.page.get_by_role("button", name="Log in").click()
    visitor.page.get_by_role("button", name="Lost your phone? Use a recovery code").click()
    settle(visitor.page)
    visitor.page.screenshot(path=OUT / f"recovery-login-{viewport_name}.png")
    visitor.close()

    leaving = account(base_url, "ada", "Ada Lovelace")
    person = open_window(browser, app_url, viewport)
    person.context.add_init_script(session_script(leaving.refresh_token))
    person.page.goto("./#/settings/account")
    settle(person.page)
    person.page.get_by_label("Your password").fill(PASSWORD)
    person.page.once("dialog", lambda dialog: dialog.accept())
    person.page.get_by_role("button", name="Delete my account").click()
    person.page.get_by_role("heading", name="Your account is deleted").wait_for()
    person.page.screenshot(path=OUT / f"account-deleted-{viewport_name}.png")
    person.close()


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
                        if screen == "thread":  # opening it marks its messages read (the group's stay unread)
                            with ada.page.expect_response(lambda answer: answer.url.endswith("/read")):
                                ada.page.goto(f"./#{SCREENS[screen](world)}")
                        else:
                            ada.page.goto(f"./#{SCREENS[screen](world)}")
                        settle(ada.page)
                        if screen == "story":
                            time.sleep(1.5)  # the progress bar under way
                        ada.page.screenshot(path=OUT / f"{screen}-{viewport_name}.png")
                        if screen == "story":
                            ada.page.keyboard.press("Escape")
                    ada.close()
                    shoot_account_screens(browser, app_url, cloud.outputs["HttpApiUrl"], world, viewport_name)
                browser.close()
        finally:
            code, output = cloud.stop()
            if code != 0:
                print(output, file=sys.stderr)
    print(f"wrote {len(list(OUT.glob('*.png')))} screenshots to {OUT.relative_to(REPO_ROOT)}/")
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
