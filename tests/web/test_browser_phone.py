"""The day on a phone, in a real browser: the page opens on the next stop's card.

At 390×844 the next stop's client, leave-by time and alert precautions are inside the viewport
on load, without scrolling; after the first stop is marked done the card shows the second.
At 1280×900 the map and the timeline stay side by side. Screenshots of both are kept in
test-artifacts/ (day-phone.png, day-desktop.png).
"""

from __future__ import annotations

import pytest
from test_browser import ARTIFACTS, browser, server  # noqa: F401  (fixtures, found by name)
from web_support import PASSWORD

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _sign_in(page, base: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", "theo@example.org")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def _in_view(page, locator) -> bool:
    """The element's whole box lies inside the viewport as the page is now (no scrolling)."""
    box = locator.bounding_box()
    size = page.viewport_size
    assert box is not None, "not rendered"
    return (box["y"] >= 0 and box["y"] + box["height"] <= size["height"]
            and box["x"] >= 0 and box["x"] + box["width"] <= size["width"])


def test_phone_opens_on_the_next_stop(server, browser):  # noqa: F811
    base, practice = server
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport=PHONE)
    _sign_in(page, base)
    assert page.evaluate("window.scrollY") == 0

    card = page.locator("#next-stop")
    assert card.locator(".next-client").inner_text() == "Harriet Quimby"
    assert card.locator(".next-leave-by").inner_text() == "09:50"
    alerts = card.locator(".flag.alert")
    assert alerts.count() >= 1
    # every alert precaution of the client is on the card, as on her timeline row
    row = page.locator(f"#stop-{practice.stop_ids[0]}")
    assert alerts.all_text_contents() == row.locator(".flag.alert").all_text_contents()
    # the day's rows are short on a phone: closed, the alert count showing; a tap opens one
    assert not row.locator(".stop-facts").is_visible()
    assert row.locator(".row-alerts").is_visible()
    row.locator("summary").click(position={"x": 5, "y": 5})
    assert row.locator(".stop-facts").is_visible()
    row.locator("summary").click(position={"x": 5, "y": 5})
    page.evaluate("window.scrollTo(0, 0)")
    for part in [card.locator(".next-client"), card.locator(".next-leave-by"),
                 *(alerts.nth(i) for i in range(alerts.count()))]:
        assert _in_view(page, part), f"{part} is below the fold on a phone"
    # the buttons have names, and the map is one tap away (below the day's rows)
    for name in ("Done", "Skipped", "Running late", "Map"):
        assert card.get_by_role("button" if name != "Map" else "link", name=name,
                                exact=True).count() == 1
    assert page.locator(".nav-google").first.is_visible()
    timeline_top = page.locator(".timeline-panel").bounding_box()["y"]
    assert page.locator("#map-panel").bounding_box()["y"] > timeline_top
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the day page scrolls sideways on a phone ({width}px)"
    page.screenshot(path=str(ARTIFACTS / "day-phone.png"))

    # Done with the first visit (before its planned start: the page asks first).
    card.get_by_role("button", name="Done").click()
    page.click("#confirm-done")
    page.wait_for_selector("#next-stop")
    card = page.locator("#next-stop")
    assert card.locator(".next-client").inner_text() == "Bessie Coleman"
    assert card.get_attribute("data-stop-number") == "2"
    page.evaluate("window.scrollTo(0, 0)")
    assert _in_view(page, card.locator(".next-client"))


def test_desktop_keeps_map_and_timeline_side_by_side(server, browser):  # noqa: F811
    base, _ = server
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, base)
    page.wait_for_selector(".stop-marker")
    map_box = page.locator("#map-panel").bounding_box()
    timeline_box = page.locator(".timeline-panel").bounding_box()
    assert map_box["x"] + map_box["width"] <= timeline_box["x"]  # map on the left
    assert abs(map_box["y"] - timeline_box["y"]) < 5  # on one row
    assert not page.locator("#next-stop .map-link").is_visible()  # the map is already there
    assert page.locator("details.stop-row").count() == 2
    assert page.locator("details.stop-row[open]").count() == 2  # every row open, as before
    assert page.locator(".stop-facts").last.is_visible()
    assert page.locator("#next-stop .next-client").inner_text() == "Harriet Quimby"
    page.screenshot(path=str(ARTIFACTS / "day-desktop.png"))
