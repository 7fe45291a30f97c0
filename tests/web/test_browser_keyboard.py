"""Keyboard only, in a real browser: Tab, typing, Enter, Space and Escape, never the mouse.

A therapist signs in, reaches the day, opens a stop's row, presses Done and confirms, and the
mark is in the records. On a phone the folded menu opens and closes from the keyboard. Every
element that Tab reaches on the busiest day of the demo shows that it has the focus (its
outline or shadow changes), and Tab reaches every control of the page in a sensible order: the
next stop's buttons before the day's rows, the rows before the map, and out of the map again
(its markers are not in the way: the timeline is the keyboard's path).
"""

from __future__ import annotations

import pytest
from demo_fixtures import busiest_day
from test_browser import browser, served  # noqa: F401  (fixtures, found by name)
from web_support import DESKTOP, PASSWORD, PHONE, sign_in_by_keyboard

from scheduler import models
from scheduler.demo.loader import DEMO_PASSWORD

pytestmark = pytest.mark.browser

MOST_TABS = 400  # more Tab presses than the busiest page has controls


def tab_to(page, selector: str) -> None:  # noqa: ANN001 - a Playwright page
    """Press Tab until the focus is on ``selector``; fail if Tab never gets there."""
    for _ in range(MOST_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    pytest.fail(f"Tab never reached {selector}")


def focused(page) -> str:  # noqa: ANN001
    return page.evaluate("() => document.activeElement.outerHTML.slice(0, 120)")


def test_sign_in_open_a_row_and_mark_done_by_keyboard(served, browser):  # noqa: F811
    base, practice, runtime = served
    page = browser.new_page(viewport=PHONE)
    sign_in_by_keyboard(page, base)

    # The second stop's row is closed on a phone: Enter opens it, Space closes it.
    stop_id = practice.stop_ids[1]
    row = page.locator(f"#stop-{stop_id} details.stop-row")
    assert not row.evaluate("row => row.open")
    tab_to(page, f"#stop-{stop_id} summary")
    page.keyboard.press("Enter")
    assert row.evaluate("row => row.open")
    page.keyboard.press("Space")
    assert not row.evaluate("row => row.open")
    page.keyboard.press("Enter")
    assert row.locator(".stop-facts").is_visible()

    # Done, in that row (after its Arrived): the visit starts later than now, so a page asks
    # first; its button is reached and pressed by keyboard too.
    tab_to(page, f"#stop-{stop_id} .stop-actions button:not(.link)")
    assert page.evaluate("document.activeElement.textContent") == "Arrived"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Done"
    page.keyboard.press("Enter")
    page.wait_for_selector("#confirm-done")
    tab_to(page, "#confirm-done")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#stop-{stop_id}.state-done")
    with runtime.session() as session:
        assert session.get(models.PlanStop, stop_id).state == models.StopState.DONE
        assert session.get(models.PlanStop, practice.stop_ids[0]).state == \
            models.StopState.PLANNED

    # Arrived, on the next stop's card, by keyboard: the card then says when.
    first = practice.stop_ids[0]
    tab_to(page, "#next-stop .stop-actions button:not(.link)")
    assert page.evaluate("document.activeElement.textContent") == "Arrived"
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#stop-{first}.state-arrived")
    assert page.locator("#next-stop .arrived-at").inner_text().startswith("Arrived at ")
    with runtime.session() as session:
        assert session.get(models.PlanStop, first).state == models.StopState.ARRIVED


def test_the_phone_menu_by_keyboard(served, browser):  # noqa: F811
    base, _, _ = served
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{base}/login")
    page.fill("#email", "theo@example.org")
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/")
    # The first Tab reaches the skip link, which leads into the page's main content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    week = page.get_by_role("link", name="Week", exact=True)
    tab_to(page, "header.site summary")
    assert not week.is_visible()
    page.keyboard.press("Enter")
    assert week.is_visible()
    tab_to(page, "header.site nav a[href='/week']")
    page.keyboard.press("Escape")  # closes the menu, the focus back on its button
    assert not week.is_visible()
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    page.keyboard.press("Enter")
    tab_to(page, "header.site .logout button")
    page.keyboard.press("Tab")  # leaving the menu folds it away
    assert not week.is_visible()
    # Enter on a link of the menu goes there.
    tab_to(page, "header.site summary")
    page.keyboard.press("Enter")
    tab_to(page, "header.site nav a[href='/week']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/week")


# Each element Tab reaches: what it is and how it looks with the focus and without.
WALK_STEP = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) { return null; }
  window.tabbed = window.tabbed || [];
  window.tabbed.push(el);
  const s = getComputedStyle(el);
  const within = el.parentElement && el.parentElement.closest('[id]');
  return {
    where: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
           (within ? ' in #' + within.id : '') + ' "' +
           (el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 40) + '"',
    look: [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow].join(' | '),
    ring: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) ||
          (s.boxShadow !== 'none'),
  };
}"""
UNFOCUSED = """() => window.tabbed.map(el => {
  const s = getComputedStyle(el);
  return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow].join(' | ');
})"""
# Every control a person could reach: shown (not in a closed row or menu), enabled, not taken
# out of the Tab order.
CONTROLS = """() => Array.from(document.querySelectorAll(
    'a[href], button, input, select, textarea, summary, [tabindex]'))
  .filter(el => el.tabIndex >= 0 && !el.disabled && el.type !== 'hidden'
          && el.checkVisibility({visibilityProperty: true}))
  .filter(el => !(window.tabbed || []).includes(el))
  .map(el => el.outerHTML.slice(0, 120))"""


def tab_through(page) -> list[dict]:  # noqa: ANN001 - a Playwright page
    """Tab from the top of the page until the focus leaves it; each element reached."""
    reached: list[dict] = []
    for _ in range(MOST_TABS):
        page.keyboard.press("Tab")
        step = page.evaluate(WALK_STEP)
        if step is None:
            return reached
        assert step["where"] not in [r["where"] for r in reached[:1]], "Tab went round"
        reached.append(step)
    pytest.fail(f"Tab did not leave the page after {MOST_TABS} presses (a trap?): "
                f"{[r['where'] for r in reached[-5:]]}")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_control_of_the_day_shows_the_focus(demo_served, browser, viewport):  # noqa: F811
    base, _, runtime = demo_served
    email, day = busiest_day(runtime)
    page = browser.new_page(viewport=viewport)
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: not url.endswith("/login"))
    page.goto(f"{base}/day/{day.isoformat()}")
    page.wait_for_selector("#map[data-map-ready]")

    reached = tab_through(page)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    unfocused = page.evaluate(UNFOCUSED)
    unseen = [r["where"] for r, before in zip(reached, unfocused, strict=True)
              if not r["ring"] or r["look"] == before]
    assert len(reached) > 40, [r["where"] for r in reached]
    assert unseen == [], f"no visible focus on: {unseen}"
    # Tab reached every control of the page (nothing skipped, no trap on the way).
    assert page.evaluate(CONTROLS) == []

    # A sensible order: skip link first; the next stop's Done, then Skipped; then the day's
    # rows; the map after them (the timeline is the keyboard's way through the day).
    order = [r["where"] for r in reached]

    def first(text: str) -> int:
        return next(n for n, where in enumerate(order) if text in where)

    assert "Skip to main content" in order[0]
    assert (first('in #next-stop "Done"') < first('in #next-stop "Skipped"')
            < first("summary in #stop-") < first("div#map"))
    assert page.locator(".leaflet-marker-icon[tabindex]").count() == 0
