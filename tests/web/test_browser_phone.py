"""The day on a phone, in a real browser: the page opens on the next stop's card.

At 390×844 the next stop's client, leave-by time and alert precautions are inside the viewport
on load, without scrolling; after the first stop is marked done the card shows the second.
On the demo's busiest day the header is one slim bar (the menu folded behind "Menu"), so the
card's Done and Skipped buttons are on the first screen too. At 1280×900 the header shows its
menu and the map and the timeline stay side by side. Screenshots of the busiest day are kept
in test-artifacts/ (day-phone.png, day-desktop.png).
"""

from __future__ import annotations

import pytest
from demo_fixtures import busiest_day
from test_browser import ARTIFACTS, browser, served, server  # noqa: F401  (fixtures, by name)
from web_support import PHONE, sign_in_browser

from scheduler.demo.loader import DEMO_PASSWORD

pytestmark = pytest.mark.browser



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
    sign_in_browser(page, base)
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

    # Done with the first visit (before its planned start: the page asks first).
    card.get_by_role("button", name="Done").click()
    page.click("#confirm-done")
    page.wait_for_url("**#stop-*")
    # The answer's address ends in the stop's anchor: let the page finish loading (and the
    # browser scroll to it) before scrolling back to the top, or a late scroll wins on a busy
    # machine.
    page.wait_for_load_state("load")
    card = page.locator("#next-stop")
    assert card.locator(".next-client").inner_text() == "Bessie Coleman"
    assert card.get_attribute("data-stop-number") == "2"
    page.evaluate("window.scrollTo(0, 0)")
    assert _in_view(page, card.locator(".next-client"))


def test_desktop_keeps_map_and_timeline_side_by_side(server, browser):  # noqa: F811
    base, _ = server
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in_browser(page, base)
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


def _busiest_day(page, demo_served) -> None:  # noqa: ANN001 - a Playwright page
    """Signed in as the therapist of the demo's busiest day, that day open, the map drawn."""
    base, _, runtime = demo_served
    email, day = busiest_day(runtime)
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: not url.endswith("/login"))
    page.goto(f"{base}/day/{day.isoformat()}")
    page.wait_for_selector("#map[data-map-ready]")


def test_phone_header_is_one_slim_bar_and_the_card_fits(demo_served, browser):  # noqa: F811
    page = browser.new_page(viewport=PHONE)
    _busiest_day(page, demo_served)
    assert page.evaluate("window.scrollY") == 0
    assert page.locator("li.stop").count() >= 7  # the busiest day, not an easy one

    # The header: one bar with the name and "Menu"; the menu's links open on a tap.
    header = page.locator("header.site").bounding_box()
    assert header["height"] <= 56, f"the header takes {header['height']}px on a phone"
    menu = page.locator("header.site details.menu")
    assert not menu.evaluate("menu => menu.open")
    assert not page.get_by_role("link", name="Week", exact=True).is_visible()
    page.get_by_text("Menu", exact=True).click()
    assert page.get_by_role("link", name="Week", exact=True).is_visible()
    assert page.get_by_role("button", name="Log out").is_visible()
    page.get_by_text("Menu", exact=True).click()
    assert not page.get_by_role("link", name="Week", exact=True).is_visible()
    page.get_by_text("Menu", exact=True).click()
    page.locator("#next-stop .stop-facts").click()  # a tap elsewhere folds it away
    assert not page.get_by_role("link", name="Week", exact=True).is_visible()

    # The next stop's card on the first screen: who, when to leave, every alert precaution,
    # and the buttons that say what happened.
    card = page.locator("#next-stop")
    alerts = card.locator(".flag.alert")
    client = card.locator(".next-client").inner_text()
    expected = page.locator("li.stop", has=page.locator(".client-name", has_text=client)).first
    assert alerts.count() >= 1, "the busiest day's next stop should show an alert precaution"
    assert alerts.all_text_contents() == expected.locator(".flag.alert").all_text_contents()
    parts = {"the client": card.locator(".next-client"),
             "the leave-by time": card.locator(".next-leave-by"),
             "Done": card.get_by_role("button", name="Done", exact=True),
             "Skipped": card.get_by_role("button", name="Skipped", exact=True)}
    parts.update({f"alert {n + 1}": alerts.nth(n) for n in range(alerts.count())})
    for name, part in parts.items():
        assert part.count() == 1, f"{name}: not on the card"
        assert _in_view(page, part), f"{name} is below the fold on a phone: {part.bounding_box()}"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the day page scrolls sideways on a phone ({width}px)"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "day-phone.png"))


def test_desktop_keeps_its_header(demo_served, browser):  # noqa: F811
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _busiest_day(page, demo_served)
    # the menu's links are in the header, no "Menu" button in the way
    assert page.get_by_role("link", name="Week", exact=True).is_visible()
    assert page.get_by_role("button", name="Log out").is_visible()
    assert not page.get_by_text("Menu", exact=True).is_visible()
    assert page.locator("header.site").bounding_box()["height"] <= 60
    card = page.locator("#next-stop")
    assert _in_view(page, card.get_by_role("button", name="Done", exact=True))
    map_box = page.locator("#map-panel").bounding_box()
    timeline_box = page.locator(".timeline-panel").bounding_box()
    assert map_box["x"] + map_box["width"] <= timeline_box["x"]  # map on the left
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "day-desktop.png"))
