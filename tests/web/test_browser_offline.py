"""The day without signal, in a real browser on a phone-sized screen (390×844).

The service worker keeps today's day page (and tomorrow's) on the phone: offline it opens with
the next stop and its precautions under "Offline — showing the copy saved at HH:MM". Arrived
and Done pressed offline wait on the phone ("Offline — 1 change waiting"; the server has
nothing) and reach the server, in order, when the connection returns. A mark the day no
longer fits (the visit was cancelled meanwhile) is shown with the server's words until
dismissed. Logging out warns about marks not sent and leaves nothing of the day on the phone;
a copy past the end of its sign-in is not served. 127.0.0.1 is a secure context, so the worker
runs on plain HTTP here.

Screenshots are kept in test-artifacts/: the offline day (day-phone-offline.png) and a mark
refused (day-phone-mark-refused.png).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from test_browser import ARTIFACTS, NOW, browser, served  # noqa: F401  (fixtures, by name)
from web_support import PHONE, PLAN_DAY, sign_in_browser
from werkzeug.exceptions import ServiceUnavailable

from scheduler import audit, models, records
from scheduler.planning import marks
from scheduler.planning.refresh import replan_day_now
from scheduler.plans.record import current_plan

pytestmark = pytest.mark.browser

TRIES = 300  # polls of a condition, 0.1 s apart at least: a bound, not a wait
SESSION_HOURS = 12  # config/default.toml web.session_max_hours


@pytest.fixture
def phone(browser) -> Iterator[object]:  # noqa: F811
    context = browser.new_context(viewport=PHONE)
    try:
        yield context
    finally:
        context.close()


def _sign_in(page, base: str) -> None:
    sign_in_browser(page, base)
    # the worker has kept this page (and fetched tomorrow's)
    page.wait_for_selector("html[data-offline-saved]")


def _csp_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and
            "Content Security Policy" in m.text else None)
    return errors


def _wait_until(page, condition, what: str) -> None:
    for _ in range(TRIES):
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"not so after {TRIES} tries: {what}")


def _shown(page) -> None:
    """Wait until the page shows what the phone holds (offline.js marks the page when its
    notices are drawn: they come from IndexedDB, after the page has loaded)."""
    page.wait_for_selector("html[data-marks-shown]", state="attached")


def _state(runtime, stop_id: int) -> tuple[models.StopState, object]:
    with runtime.session() as s:
        stop = s.get(models.PlanStop, stop_id)
        return stop.state, stop.state_at


KEPT = """async () => {
  const found = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const copy = await cache.match(request);
      found.push({name, url: new URL(request.url).pathname,
                  ends: copy.headers.get("Rounds-Session-Ends"),
                  text: (copy.headers.get("Content-Type") || "").startsWith("text/html")
                    ? await copy.text() : ""});
    }
  }
  return found;
}"""

MARKS = """async () => {
  const names = (await indexedDB.databases()).map(d => d.name);
  if (!names.includes("rounds-offline")) { return {names, marks: []}; }
  const db = await new Promise((ok, no) => {
    const r = indexedDB.open("rounds-offline"); r.onsuccess = () => ok(r.result);
    r.onerror = () => no(r.error); });
  if (!db.objectStoreNames.contains("marks")) { db.close(); return {names, marks: []}; }
  const marks = await new Promise(ok => {
    const r = db.transaction("marks").objectStore("marks").getAll();
    r.onsuccess = () => ok(r.result); });
  db.close();
  return {names, marks};
}"""


def test_the_day_opens_offline_and_a_mark_waits_for_signal(served, phone):  # noqa: F811
    base, practice, runtime = served
    ARTIFACTS.mkdir(exist_ok=True)
    page = phone.new_page()
    errors = _csp_errors(page)
    page.on("dialog", lambda dialog: dialog.accept())
    _sign_in(page, base)
    first = practice.stop_ids[0]

    # What the phone keeps: today (under / and its own address) and tomorrow, each with the
    # end of the sign-in; nothing else with patient data.
    kept = page.evaluate(KEPT)
    pages = {entry["url"] for entry in kept if entry["name"] == "rounds-pages"}
    assert pages == {"/", f"/day/{PLAN_DAY.isoformat()}", "/day/2026-03-10"}
    for entry in kept:
        if entry["name"] == "rounds-pages":
            left = int(entry["ends"]) - time.time()
            assert SESSION_HOURS * 3600 - 600 < left <= SESSION_HOURS * 3600, entry["url"]
    assert all(entry["url"].startswith(("/static/", "/vendor/", "/manifest"))
               for entry in kept if entry["name"] != "rounds-pages")

    phone.set_offline(True)
    page.reload()
    banner = page.locator("#offline-copy")
    assert re.fullmatch(r"Offline — showing the copy saved at \d\d:\d\d", banner.inner_text())
    card = page.locator("#next-stop")
    assert card.locator(".next-client").inner_text() == "Harriet Quimby"
    assert card.locator(".flag.alert").count() >= 1  # her precautions, alerts first
    assert card.locator(".precaution-notes").inner_text() == "Tires quickly"
    assert page.locator("#not-saved").count() == 0

    # Arrived, then Done, without signal: they wait on the phone, and the server has nothing
    # yet.
    card.get_by_role("button", name="Arrived").click()
    waiting = page.locator("#offline-waiting")
    waiting.wait_for()
    assert waiting.inner_text() == "Offline — 1 change waiting"
    assert card.locator(".pending-mark").inner_text() == "Arrived — waiting to be sent"
    card.get_by_role("button", name="Done").click()
    expect(waiting).to_have_text("Offline — 2 changes waiting")
    assert card.locator(".pending-mark").inner_text() == "Done — waiting to be sent"
    assert page.locator(f"#stop-{first} .pending-mark").count() == 1
    assert _state(runtime, first) == (models.StopState.PLANNED, None)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / "day-phone-offline.png"))

    # A second mark: two waiting, in the order made.
    page.locator(f"#stop-{practice.stop_ids[1]} summary").click(position={"x": 5, "y": 5})
    page.locator(f"#stop-{practice.stop_ids[1]}").get_by_role("button", name="Skipped").click()
    expect(page.locator("#offline-waiting")).to_have_text("Offline — 3 changes waiting")
    assert _state(runtime, practice.stop_ids[1])[0] == models.StopState.PLANNED

    # Tomorrow was fetched ahead: readable offline too.
    page.goto(f"{base}/day/2026-03-10")
    _shown(page)
    assert page.locator("#offline-copy").is_visible()
    assert page.locator("#offline-waiting").inner_text() == "Offline — 3 changes waiting"
    page.goto(f"{base}/")

    # The connection returns: all three reach the server, in order, with when they were made.
    phone.set_offline(False)
    _wait_until(page, lambda: _state(runtime, practice.stop_ids[1])[0]
                == models.StopState.SKIPPED, "the marks reached the server")
    state, at = _state(runtime, first)
    assert state == models.StopState.DONE
    assert at is not None and NOW.timestamp() - 600 < at.timestamp() <= NOW.timestamp()
    with runtime.session() as s:  # the arrival, made first, is kept with the done visit
        arrived = s.get(models.PlanStop, first).arrived_at
    assert arrived is not None and NOW.timestamp() - 600 < arrived.timestamp() <= at.timestamp()
    page.wait_for_selector("#offline-waiting", state="detached")
    page.wait_for_selector(f"#stop-{first}.state-done")
    _shown(page)
    assert page.locator("#offline-copy").count() == 0  # the day as the server has it
    assert page.locator(".pending-mark").count() == 0
    # Sent marks stay a moment ("sent": a page fetched while they were sent loads again); a
    # page that shows them forgets them.
    _wait_until(page, lambda: page.evaluate(MARKS)["marks"] == [], "the sent marks forgotten")
    assert errors == []


def test_a_mark_the_day_no_longer_fits_is_shown_until_dismissed(served, phone):  # noqa: F811
    base, practice, runtime = served
    page = phone.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    _sign_in(page, base)
    first = practice.stop_ids[0]

    phone.set_offline(True)
    page.reload()
    page.locator("#next-stop").get_by_role("button", name="Done").click()
    page.locator("#offline-waiting").wait_for()

    # Meanwhile the office cancels that visit, and the day is planned again without it.
    with runtime.session() as s:
        series = s.get(models.AppointmentSeries, practice.theo_series[0])
        records.cancel_occurrence(s, audit.Actor(practice.admin_id, "web"), series, PLAN_DAY,
                                  "family visiting")
        replan_day_now(s, runtime.settings, PLAN_DAY, NOW)
        s.commit()

    phone.set_offline(False)
    refused = page.locator(".mark-refused")
    refused.wait_for()
    assert re.fullmatch(
        r"Done at \d\d:\d\d for stop 1 was not saved: the visit was cancelled \(family "
        r"visiting\); the day was planned again at 09:00\. Dismiss", refused.inner_text())
    assert refused.get_attribute("role") == "alert"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / "day-phone-mark-refused.png"))
    assert page.locator("#offline-waiting").count() == 0  # answered: not waiting any more
    assert _state(runtime, first) == (models.StopState.PLANNED, None)
    with runtime.session() as s:
        plan = current_plan(s, practice.theo_id, PLAN_DAY)
        assert plan.version == 2
        assert [stop.state for stop in plan.stops] == [models.StopState.PLANNED]

    # It stays across pages and loads, until the therapist dismisses it.
    page.reload()
    _shown(page)
    assert page.locator(".mark-refused").count() == 1
    page.locator(".mark-refused").get_by_role("button", name="Dismiss").click()
    page.wait_for_selector(".mark-refused", state="detached")
    page.reload()
    _shown(page)
    assert page.locator(".mark-refused").count() == 0
    assert page.evaluate(MARKS)["marks"] == []


def _unavailable(*_args, **_kwargs):
    raise ServiceUnavailable()


def _without_clear_site_data(route) -> None:
    """The logout answer as a browser that ignores Clear-Site-Data sees it."""
    response = route.fetch(max_redirects=0)
    headers = {name: value for name, value in response.headers.items()
               if name.lower() != "clear-site-data"}
    route.fulfill(response=response, headers=headers)


@pytest.mark.parametrize("header", [True, False], ids=["clear-site-data", "page-only"])
def test_logging_out_warns_of_marks_not_sent_and_leaves_nothing_of_the_day(served, phone,  # noqa: F811
                                                                           header,
                                                                           monkeypatch):
    """The page clears the phone itself before logging out, and the server's answer asks the
    browser to as well: either alone leaves nothing (browsers differ in the header)."""
    base, practice, runtime = served
    if not header:
        phone.route("**/logout", _without_clear_site_data)
    page = phone.new_page()
    _sign_in(page, base)
    kept = page.evaluate(KEPT)
    assert any("Harriet Quimby" in entry["text"] and "Tires quickly" in entry["text"]
               for entry in kept)

    # A mark made offline that the server cannot take yet (whether the page or the worker's
    # Background Sync sends it): it keeps waiting on the phone.
    monkeypatch.setattr(marks, "mark_stop", _unavailable)
    phone.set_offline(True)
    page.reload()
    page.locator("#next-stop").get_by_role("button", name="Done").click()
    page.locator("#offline-waiting").wait_for()
    phone.set_offline(False)
    expect(page.locator("#offline-waiting")).to_have_text("1 change waiting to be sent")

    # Log out: the phone asks first. "No" keeps the sign-in and the mark.
    asked: list[str] = []

    def answer(dialog, accept: bool) -> None:
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    _press_log_out(page)
    _wait_until(page, lambda: len(asked) == 1, "the question before logging out")
    assert asked[0] == "1 change not sent yet. Log out anyway? It is lost if you do."
    assert page.url.startswith(f"{base}/") and "/login" not in page.url
    assert len(page.evaluate(MARKS)["marks"]) == 1

    page.once("dialog", lambda dialog: answer(dialog, True))
    _press_log_out(page)
    page.wait_for_url(re.compile(r".*/login$"))
    assert len(asked) == 2
    left = page.evaluate(KEPT)
    text = " ".join(entry["url"] + entry["text"] for entry in left)
    for trace in ("Quimby", "Coleman", "H.Q.", "Tires quickly", "Garage B", "/day/"):
        assert trace not in text, trace
    assert not [entry for entry in left if entry["name"] == "rounds-pages"]
    assert page.evaluate(MARKS)["marks"] == []
    assert _state(runtime, practice.stop_ids[0])[0] == models.StopState.PLANNED


def _press_log_out(page) -> None:
    """Press Log out; on a phone it sits in the folded menu, opened first when closed."""
    button = page.get_by_role("button", name="Log out")
    if not button.is_visible():
        page.locator("header.site summary").click()
    button.click()


def test_a_copy_past_the_end_of_its_sign_in_is_not_served(served, phone):  # noqa: F811
    base, _practice, _runtime = served
    page = phone.new_page()
    _sign_in(page, base)
    # The sign-in the copies belong to ends (here: their end is set a minute ago).
    page.evaluate("""async () => {
      const cache = await caches.open("rounds-pages");
      for (const request of await cache.keys()) {
        const copy = await cache.match(request);
        const headers = new Headers(copy.headers);
        headers.set("Rounds-Session-Ends", String(Math.floor(Date.now() / 1000) - 60));
        await cache.put(request, new Response(await copy.blob(), {headers}));
      }
    }""")
    phone.set_offline(True)
    page.reload()
    assert page.locator("#not-saved").inner_text().startswith(
        "Offline — this day is not saved on this phone.")
    assert "Harriet Quimby" not in page.content()
    # and the expired copy is gone from the phone
    urls = {entry["url"] for entry in page.evaluate(KEPT) if entry["name"] == "rounds-pages"}
    assert "/" not in urls


def test_a_page_older_than_a_sent_mark_loads_again(served, phone):  # noqa: F811
    """A page fetched while the worker was sending may show the day before a mark: the marks
    sent are kept a moment with when the server answered, and a page whose request left
    before that answer loads again; a later page forgets them (so it never loops)."""
    base, _practice, _runtime = served
    page = phone.new_page()
    _sign_in(page, base)
    answers = page.evaluate("""async () => {
      await RoundsMarks.put({user: "someone", status: "sent", answeredAt: 2000, stopId: 1});
      const older = await RoundsMarks.settle("someone", 1000);
      const kept = (await RoundsMarks.list("someone")).length;
      const later = await RoundsMarks.settle("someone", 3000);
      const left = (await RoundsMarks.list("someone")).length;
      return [older, kept, later, left];
    }""")
    assert answers == [True, 1, False, 0]
