"""The tracking page in a real headless Chromium (Debian's ``chromium``, driven by
Playwright from PyPI; never ``playwright install``): the timeline on a phone-sized
screen, a live update after a supplier mutation without reload, no console error, no
request leaving 127.0.0.1, readable contrast, and the page complete with JavaScript off.

A screenshot at phone width is written to ``test-artefacts/`` for review."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from server_support import Served, serve
from tracking_support import journey, path_of

from app.main import create_app
from app.settings import Settings
from conftest import FixedClock
from db.engine import Database

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts"
PHONE = {"width": 390, "height": 844}
WAIT_MS = 10_000

playwright_api = pytest.importorskip("playwright.async_api")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install -y chromium)"
)

# Text against the background it is painted on, per WCAG 2 (relative luminance).
CONTRAST = """() => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = (rgb) => {
    const [r, g, b] = rgb.slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = parse(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c;
    }
    return [255, 255, 255];
  };
  const low = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim();
    const el = walker.currentNode.parentElement;
    if (!text || !el.getClientRects().length) continue;
    const [a, b] = [lum(parse(getComputedStyle(el).color)), lum(background(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) low.push(text.slice(0, 40) + ": " + ratio.toFixed(2));
  }
  return low;
}"""


@pytest.fixture
async def served(settings: Settings, db: Database, clock: FixedClock) -> AsyncIterator[Served]:
    app = create_app(settings, db=db, clock=clock)
    async with serve(app) as found:
        yield found


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as p:
        launched = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            await launched.close()


class Watch:
    """Every request a page makes (anything not for 127.0.0.1 is also aborted), and
    every console error and uncaught exception."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []

    async def attach(self, context: Any, page: Any) -> None:
        async def only_loopback(route: Any) -> None:
            if urlparse(route.request.url).hostname == "127.0.0.1":
                await route.continue_()
            else:
                await route.abort()

        await context.route("**/*", only_loopback)
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def hosts(self) -> set[str | None]:
        return {urlparse(u).hostname for u in self.requests}


async def test_the_page_updates_live_on_a_phone_without_reload(
    served: Served, browser: Any
) -> None:
    expect = playwright_api.expect
    async with httpx.AsyncClient(base_url=served.base, timeout=10) as http:
        j = await journey(http, stage="DISPATCHED")
        await j.report("COURIER", "IN_TRANSIT", estimatedArrival="2026-03-04")
        path = path_of((await j.link())["url"])

        context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        page = await context.new_page()
        watch = Watch()
        await watch.attach(context, page)
        await page.goto(served.base + path)

        await expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {j.number}")
        steps = page.locator("ol.timeline > li")
        await expect(steps).to_have_count(5)
        await expect(page.locator('li[aria-current="step"]')).to_contain_text("Dispatched")
        for role in ("banner", "main", "contentinfo"):
            await expect(page.get_by_role(role)).to_have_count(1)
        await expect(page.locator("#live")).to_have_text(re.compile("^Live"), timeout=WAIT_MS)
        await page.evaluate("window.notReloaded = true")

        await j.report("OWN_DRIVER", "OUT_FOR_DELIVERY", estimatedArrival="2026-03-03")
        van = page.locator("article.shipment", has_text="Direct delivery")
        await expect(van).to_contain_text("Out for delivery", timeout=WAIT_MS)
        await expect(page.locator("#live")).to_have_text(re.compile("^Updated at"))
        assert await page.evaluate("window.notReloaded") is True

        ARTEFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTEFACTS / "tracking-page-phone.png"), full_page=True)
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert await page.evaluate(CONTRAST) == []
        assert await page.evaluate("document.documentElement.lang") == "en"
        await context.close()

    assert watch.errors == []
    assert watch.hosts() == {"127.0.0.1"}
    assert any(u.endswith("/events?after=" + u.rsplit("=", 1)[-1]) for u in watch.requests)


async def test_the_page_is_complete_with_javascript_off(served: Served, browser: Any) -> None:
    expect = playwright_api.expect
    async with httpx.AsyncClient(base_url=served.base, timeout=10) as http:
        j = await journey(http, stage="DISPATCHED")
        path = path_of((await j.link())["url"])
        context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
        page = await context.new_page()
        watch = Watch()
        await watch.attach(context, page)
        await page.goto(served.base + path)
        await expect(page.locator("ol.timeline > li")).to_have_count(5)
        await expect(page.locator("article.shipment")).to_have_count(2)
        await expect(page.get_by_role("table")).to_contain_text("BRKT-1001")
        await expect(page.get_by_role("link", name="Reload")).to_be_visible()
        await context.close()
    assert watch.errors == []
    assert watch.hosts() == {"127.0.0.1"}
    assert not [u for u in watch.requests if "/events" in u]


async def test_a_dead_link_shows_its_404_page_cleanly(served: Served, browser: Any) -> None:
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    watch = Watch()
    await watch.attach(context, page)
    response = await page.goto(served.base + "/track/no-such-token")
    assert response is not None
    assert response.status == 404
    await playwright_api.expect(page.get_by_role("heading", level=1)).to_have_text(
        "This link does not open an order"
    )
    await context.close()
    # Chromium reports the 404 of the document itself as a console error; nothing else.
    assert [e for e in watch.errors if "404" not in e] == []
    assert watch.hosts() == {"127.0.0.1"}
