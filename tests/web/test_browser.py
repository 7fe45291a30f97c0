"""Real browser tests: Playwright drives Debian's Chromium against the app served on loopback.

Sign in, see the day's route (map markers, route line, timeline), cancel a visit, re-plan, see
the stop gone and the times changed, open the print view. A screenshot of the day and of the
print view is kept in test-artifacts/. The map has no tiles here (no tile server): the page
must read well without them.

Chromium missing is a failure, not a skip: CI installs it (.ci/run), and a browser test that
quietly does not run proves nothing.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from web_support import PASSWORD, PLAN_DAY, make_practice, make_runtime
from werkzeug.serving import make_server

from web import create_app

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
NOW = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)  # 09:00 in Kansas City, on PLAN_DAY

pytestmark = pytest.mark.browser


@pytest.fixture
def server(settings, sqlite_url, monkeypatch) -> Iterator[tuple[str, object]]:
    """The app on 127.0.0.1 (a free port) in a thread, with "now" on the plan's morning."""
    web = replace(settings.web, tile_url="")
    runtime = make_runtime(replace(settings, web=web), sqlite_url)
    practice = make_practice(runtime)
    monkeypatch.setattr("web.pages.day.utcnow", lambda: NOW)
    app = create_app(runtime=runtime)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}", practice
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        httpd.server_close()
        runtime.close()


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: install Debian's chromium "
                    "package (apt-get install chromium); .ci/run does this")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking"])
        try:
            yield browser
        finally:
            browser.close()


def _timeline(page) -> list[str]:
    return [text.strip() for text in page.locator("li.stop h3").all_inner_texts()]


def test_day_route_cancel_replan_and_print(server, browser):
    base, practice = server
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and
            "Content Security Policy" in m.text else None)
    page.on("dialog", lambda dialog: dialog.accept())

    # Sign in; the home page is today's route.
    page.goto(f"{base}/login")
    page.fill("#email", "theo@example.org")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    assert PLAN_DAY.strftime("%d March %Y").lstrip("0") in page.inner_text("h1")

    # The map: a numbered marker per stop, the home base and the route line (Leaflet ran).
    page.wait_for_selector(".stop-marker")
    markers = page.locator(".leaflet-marker-icon.stop-marker")
    assert markers.count() == 3
    assert sorted(markers.all_inner_texts()) == ["1", "2", "⌂"]
    assert page.locator("path.route-line").count() == 1
    # The timeline: leave-by, arrival and times of both stops, precautions flagged.
    before = _timeline(page)
    assert len(before) == 2 and "Harriet Quimby" in before[0] and "Bessie Coleman" in before[1]
    assert page.locator(".leave-by").first.inner_text() == "09:50"
    assert page.locator(".flag.alert").first.is_visible()
    page.screenshot(path=str(ARTIFACTS / "day.png"), full_page=True)

    # Cancel Bessie's visit, then re-plan the day.
    page.locator(f"#stop-{practice.stop_ids[1]} button.cancel-visit").click()
    page.wait_for_selector(".flash.success")
    assert "cancelled" in page.inner_text(".flashes")
    page.click("#replan")
    page.wait_for_selector(".flash.success")
    after = _timeline(page)
    assert len(after) == 1 and "Harriet Quimby" in after[0]
    assert "Bessie Coleman" not in page.inner_text(".timeline")
    assert after[0] != before[0]  # the planner moved the remaining visit
    assert page.locator(".leaflet-marker-icon.stop-marker").count() == 2
    assert "version 2" in page.inner_text(".plan-status")
    page.screenshot(path=str(ARTIFACTS / "day-replanned.png"), full_page=True)

    # The print view: one table, no navigation when printed.
    page.click("#print-link")
    page.wait_for_selector("table.print-table")
    assert page.locator("table.print-table tbody tr:not(.break)").count() == 1
    page.emulate_media(media="print")
    assert not page.locator("header.site").is_visible()
    page.screenshot(path=str(ARTIFACTS / "print.png"), full_page=True)
    page.pdf(path=str(ARTIFACTS / "print.pdf"))

    assert errors == [], errors


def test_phone_width_and_keyboard(server, browser):
    base, _ = server
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{base}/login")
    # Keyboard only: the e-mail field has the focus, Tab to the password, Enter signs in.
    assert page.evaluate("document.activeElement.id") == "email"
    page.keyboard.type("theo@example.org")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/")
    # The first Tab reaches the skip link; following it lands in the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the day page scrolls sideways on a phone ({width}px)"
    assert page.locator("li.stop").count() == 2
    page.screenshot(path=str(ARTIFACTS / "day-phone.png"), full_page=True)
