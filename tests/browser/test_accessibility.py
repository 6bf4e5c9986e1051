"""Every main screen on a phone and a desktop: axe-core finds no serious or critical violation, the
keyboard reaches everything, images come from the renditions' srcsets, and the first load is small."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Response, expect

from tests.browser.support import DESKTOP, PHONE, open_window, settle, violations
from tests.browser.world import SCREENS, World, build_world, sign_in_script
from tests.e2e.conftest import RunningLocalCloud

pytestmark = pytest.mark.e2e

FIRST_LOAD_BUDGET_BYTES = 150 * 1024  # JS + CSS, compressed (issue 18)
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}
SIGNED_OUT_SCREENS = (("/login", "Log in"), ("/signup", "Create your account"), ("/forgot", "Reset your password"))


@pytest.fixture(scope="module")
def world(cloud: RunningLocalCloud) -> World:
    return build_world(cloud.outputs["HttpApiUrl"])


@pytest.fixture(scope="module", params=sorted(VIEWPORTS))
def ada(request: pytest.FixtureRequest, browser: Browser, app_url: str, world: World) -> Iterator[Page]:
    """Ada signed in, one tab for the whole module (the app keeps its session per tab)."""
    person = open_window(browser, app_url, VIEWPORTS[request.param])
    person.context.add_init_script(sign_in_script(world))
    person.page.goto("./")
    person.page.get_by_role("heading", name="Home", exact=True).wait_for()
    yield person.page
    problems = person.problems
    person.close()
    assert problems == [], problems


def show(page: Page, path: str) -> None:
    page.goto(f"./#{path}")
    settle(page)


@pytest.mark.parametrize("screen", sorted(SCREENS))
def test_screen_has_no_serious_accessibility_violation(ada: Page, world: World, screen: str) -> None:
    # Given one of the app's screens, with Ada's world in it
    show(ada, SCREENS[screen](world))

    # When axe-core checks it
    found = violations(ada)

    # Then nothing serious or critical is found
    assert found == []
    if screen == "story":
        ada.keyboard.press("Escape")


def test_signed_out_screens_have_no_serious_accessibility_violation(browser: Browser, app_url: str) -> None:
    for viewport in VIEWPORTS.values():
        visitor = open_window(browser, app_url, viewport)
        for path, title in SIGNED_OUT_SCREENS:
            visitor.page.goto(f"./#{path}")
            visitor.page.get_by_role("heading", name=title).wait_for()
            assert violations(visitor.page) == [], (viewport, path)
        visitor.close()


def test_keyboard_alone_reaches_the_navigation_and_likes_a_post(browser: Browser, app_url: str, world: World) -> None:
    # Given Ada at a desktop, with only a keyboard
    person = open_window(browser, app_url, DESKTOP)
    person.context.add_init_script(sign_in_script(world))
    page = person.page
    page.goto("./")
    settle(page)  # the feed is there to tab through

    # When she tabs from the top: the first stop is the skip link, which moves focus to the screen
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to content")
    page.keyboard.press("Enter")
    expect(page.locator(":focus")).to_have_text("Home")

    # When she tabs to the first Like button and presses Space, the post is liked
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.matches('button.like')"):
            break
    else:
        pytest.fail("no Like button reachable by Tab")
    page.keyboard.press("Space")
    expect(page.locator("button.like:focus")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Space")  # and unliked again: the world stays as it was
    expect(page.locator("button.like:focus")).to_have_attribute("aria-pressed", "false")

    # And every control on the way showed where the focus was (a visible outline)
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    person.close()


def test_pictures_use_the_renditions_srcset_webp_first_sized_and_lazy(ada: Page, cloud: RunningLocalCloud) -> None:
    # Given Ada's feed
    show(ada, "/")
    pictures = ada.locator("article.post picture")
    expect(pictures.first).to_be_visible()

    for index in range(pictures.count()):
        picture = pictures.nth(index)
        source, image = picture.locator("source").first, picture.locator("img")
        # Then WebP is offered first, with every width, and the JPEG srcset after it
        assert source.get_attribute("type") == "image/webp"
        assert re.fullmatch(r"(\S+ \d+w)(, \S+ \d+w)+", source.get_attribute("srcset") or "")
        assert re.fullmatch(r"(\S+ \d+w)(, \S+ \d+w)+", image.get_attribute("srcset") or "")
        urls = [part.split()[0] for part in (source.get_attribute("srcset") or "").split(", ")]
        assert all(url.startswith(cloud.outputs["MediaBaseUrl"] + "/") for url in urls)
        # And its size is set before it loads (no layout shift); below the first post it loads lazily
        assert int(image.get_attribute("width") or 0) > 0 and int(image.get_attribute("height") or 0) > 0
        assert image.get_attribute("loading") == ("eager" if index == 0 else "lazy")


def test_first_load_sends_at_most_150_kb_of_js_and_css_compressed(browser: Browser, app_url: str) -> None:
    # Given a first visit, with nothing cached
    visitor = open_window(browser, app_url, PHONE)
    sent: list[Response] = []
    visitor.page.on("response", lambda response: sent.append(response))
    visitor.page.goto("./")
    visitor.page.get_by_role("heading", name="Log in").wait_for()
    visitor.page.wait_for_load_state("networkidle")

    # When the scripts and stylesheets it loaded are compressed as CloudFront would (gzip)
    code = [r for r in sent if r.request.resource_type in ("script", "stylesheet")]
    compressed = sum(len(gzip.compress(response.body())) for response in code)
    visitor.close()

    # Then they are within the budget (and there are some: the count is not vacuous)
    assert {r.request.resource_type for r in code} == {"script", "stylesheet"}
    print(f"first load: {len(code)} files, {compressed} bytes of JS+CSS gzip-compressed")
    assert compressed <= FIRST_LOAD_BUDGET_BYTES
