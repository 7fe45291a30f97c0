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
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from web_support import (
    PHONE,
    PLAN_DAY,
    Clock,
    make_practice,
    make_runtime,
    serving,
    sign_in_browser,
    sign_in_by_keyboard,
)

from scheduler import models, planning
from scheduler.plans import record
from web import create_app

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
NOW = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)  # 09:00 in Kansas City, on PLAN_DAY

pytestmark = pytest.mark.browser


@pytest.fixture
def served(settings, sqlite_url, monkeypatch) -> Iterator[tuple[str, object, object]]:
    """The small practice on 127.0.0.1 (a free port) in a thread, "now" on the plan's
    morning; its base URL, the practice and the runtime (to read the records the browser
    changed)."""
    web = replace(settings.web, tile_url="")
    runtime = make_runtime(replace(settings, web=web), sqlite_url)
    practice = make_practice(runtime)
    monkeypatch.setattr("scheduler.clock.utcnow", lambda: NOW)
    app = create_app(runtime=runtime)
    try:
        with serving(app) as base:
            yield base, practice, runtime
    finally:
        runtime.close()


@pytest.fixture
def server(served) -> tuple[str, object]:
    """:func:`served` without the runtime."""
    base, practice, _ = served
    return base, practice


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
    sign_in_browser(page, base)
    assert PLAN_DAY.strftime("%d March %Y").lstrip("0") in page.inner_text("h1")

    # The map: a numbered marker per stop, the home base and the route line (Leaflet ran).
    page.wait_for_selector(".stop-marker")
    markers = page.locator(".leaflet-marker-icon.stop-marker")
    assert markers.count() == 3
    assert sorted(markers.all_inner_texts()) == ["1 ○", "2 ○", "⌂"]
    assert page.locator("path.route-line").count() == 1
    # The timeline: leave-by, arrival and times of both stops, precautions flagged.
    before = _timeline(page)
    assert len(before) == 2 and "Harriet Quimby" in before[0] and "Bessie Coleman" in before[1]
    assert page.locator(".leave-by").first.inner_text() == "09:50"
    assert page.locator(".flag.alert").first.is_visible()
    page.screenshot(path=str(ARTIFACTS / "day.png"), full_page=True)

    # Cancel Bessie's visit: it leaves the route at once (version 2); then re-plan the day.
    page.locator(f"#stop-{practice.stop_ids[1]} button.cancel-visit").click()
    page.wait_for_selector(".flash.success")
    assert "cancelled" in page.inner_text(".flashes")
    assert "Bessie Coleman" not in page.inner_text(".timeline")
    assert "version 2" in page.inner_text(".plan-status")
    page.click("#replan")
    page.wait_for_selector(".flash.success")
    after = _timeline(page)
    assert len(after) == 1 and "Harriet Quimby" in after[0]
    assert "Bessie Coleman" not in page.inner_text(".timeline")
    assert after[0] != before[0]  # the planner moved the remaining visit
    assert page.locator(".leaflet-marker-icon.stop-marker").count() == 2
    # the cancel planned the day already: pressing Re-plan at the same moment changes nothing
    assert "version 2" in page.inner_text(".plan-status")
    assert "nothing changed" in page.inner_text(".flashes")
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
    page = browser.new_page(viewport=PHONE)
    sign_in_by_keyboard(page, base)
    # The first Tab reaches the skip link; following it lands in the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the day page scrolls sideways on a phone ({width}px)"
    assert page.locator("li.stop").count() == 2
    page.screenshot(path=str(ARTIFACTS / "day-phone-keyboard.png"), full_page=True)


# ---------------------------------------------------------------------------------------------
# A day under way: what happened stays, a cancelled visit leaves at once, and the page says
# what changed.


@pytest.fixture
def day_under_way(settings, sqlite_url, monkeypatch):
    """Theo's Monday with four visits, planned and published by the planner at 06:00; the
    clock then stands five minutes after the second visit ends."""
    web = replace(settings.web, tile_url="")
    runtime = make_runtime(replace(settings, web=web), sqlite_url)
    practice = make_practice(runtime)
    early = datetime(2026, 3, 9, 11, 0, tzinfo=UTC)  # 06:00 in Kansas City
    with runtime.session() as session:
        session.delete(session.get(models.DayPlan, practice.plan_id))  # the hand-written one
        for first, last, facility, room in (("Clara", "Barton", practice.hospital_id, "6E-03"),
                                            ("Mary", "Seacole", practice.home_id, "220")):
            client = models.Client(first_name=first, last_name=last, facility_id=facility,
                                   room=room, precaution_flags=[],
                                   primary_therapist_id=practice.theo_id)
            session.add(client)
            session.flush()
            session.add(models.AppointmentSeries(
                client_id=client.id, therapist_id=practice.theo_id,
                rule="FREQ=WEEKLY;BYDAY=MO,WE", first_date=date(2026, 3, 2),
                duration_minutes=60, priority=50))
        session.flush()
        [plan] = planning.plan_days(session, runtime.settings, PLAN_DAY, [practice.theo_id],
                                    publish=True, now=early)
        stops = sorted(plan.stops, key=lambda s: s.start_at)
        assert len(stops) == 4, [s.client_id for s in stops]
        ids = [s.id for s in stops]
        clock = Clock(stops[1].end_at + timedelta(minutes=5))
        session.commit()
    monkeypatch.setattr("scheduler.clock.utcnow", clock)
    app = create_app(runtime=runtime)
    try:
        with serving(app) as base:
            yield base, ids, runtime
    finally:
        runtime.close()


def _stop_times(page) -> dict[str, str]:
    """Each timeline stop's client name: its start-end text."""
    stops = page.locator("li.stop")
    return {stops.nth(n).locator("a.client").inner_text():
            stops.nth(n).locator(".start-end").inner_text() for n in range(stops.count())}


def test_done_visits_stay_and_a_cancelled_one_leaves_the_route(day_under_way, browser):
    base, stop_ids, runtime = day_under_way
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in_browser(page, base)
    page.wait_for_selector(".stop-marker")
    before = _stop_times(page)
    assert len(before) == 4
    names = [page.locator(f"#stop-{stop_id} a.client").inner_text() for stop_id in stop_ids]

    # The first two visits happened: Done, each (after their start, so no question asked).
    for stop_id in stop_ids[:2]:
        page.locator(f"#stop-{stop_id} button", has_text="Done").click()
        page.wait_for_selector(f"#stop-{stop_id}.state-done")
        # what happened can be undone, not cancelled
        assert page.locator(f"#stop-{stop_id} button.cancel-visit").count() == 0
    # The third is cancelled: it leaves the route at once, and the page says so.
    page.locator(f"#stop-{stop_ids[2]} button.cancel-visit").click()
    page.wait_for_selector(".flash.success")
    assert "planned again without it" in page.inner_text(".flashes")
    changes = page.inner_text("#changes")
    assert "What changed since" in changes
    cancelled = page.locator("#changes li.dropped").inner_text()
    assert names[2] in cancelled and "no longer on the calendar" in cancelled

    # Re-plan the day: what happened keeps its times; the cancelled visit stays gone.
    page.click("#replan")
    page.wait_for_selector(".flash.success")
    after = _stop_times(page)
    assert names[2] not in after and names[2] not in page.inner_text(".timeline")
    assert [after[name] for name in names[:2]] == [before[name] for name in names[:2]]
    assert page.locator("li.stop.state-done").count() == 2
    assert names[3] in after
    assert names[2] in page.locator("#changes li.dropped").inner_text()  # still said
    # stops in one building share a marker, each stop in its own state ("1 ✓ · 2 ✓")
    assert page.locator(".leaflet-marker-icon.stop-marker").count() == 3
    parts = page.locator(".stop-marker .part").all_inner_texts()
    assert sorted(parts) == ["1 ✓", "2 ✓", "3 ○", "⌂"]
    page.screenshot(path=str(ARTIFACTS / "day-under-way.png"), full_page=True)

    # From the records, not the page: the plan of record holds no stop of the cancelled
    # occurrence, and the done stops are the ones pressed, at the times they had.
    with runtime.session() as session:
        plan = record.current_plan(session, _theo(session), PLAN_DAY)
        assert plan is not None
        cancelled_stop = session.get(models.PlanStop, stop_ids[2])
        assert (cancelled_stop.series_id, cancelled_stop.occurrence_date) not in {
            (s.series_id, s.occurrence_date) for s in plan.stops}
        done = sorted(s.start_at for s in plan.stops if s.state == models.StopState.DONE)
        pressed = sorted(session.get(models.PlanStop, i).start_at for i in stop_ids[:2])
        assert done == pressed
    assert errors == [], errors


def _theo(session) -> int:
    return session.scalar(select(models.Therapist.id).where(
        models.Therapist.email == "theo@example.org"))


# ---------------------------------------------------------------------------------------------
# The map: a marker per building with each stop's state; buildings a few metres apart both
# seen and tapped.


@pytest.fixture
def close_buildings(settings, sqlite_url, monkeypatch):
    """Theo's hand-made day rearranged: stops 1 (done) and 2 (to do) in the hospital, stop 3 in
    an annex five metres away, stop 4 at the nursing home."""
    web = replace(settings.web, tile_url="")
    runtime = make_runtime(replace(settings, web=web), sqlite_url)
    practice = make_practice(runtime)
    with runtime.session() as session:
        annex = models.Facility(
            name="Saint Luke's Annex", kind=models.FacilityKind.HOSPITAL,
            address="4405 Wornall Rd, Kansas City, MO", lat=39.04644, lon=-94.59336,
            coordinate_source=models.CoordinateSource.DEMO,
            hours=[models.VisitingHours(weekday=d, open=time(7, 0), close=time(20, 0))
                   for d in range(7)])
        session.add(annex)
        session.flush()
        plan = session.get(models.DayPlan, practice.plan_id)
        first, last = sorted(plan.stops, key=lambda stop: stop.position)
        first.state = models.StopState.DONE
        last.position = 3
        for position, (name, facility, start, drive) in enumerate(
                (("Clara", practice.hospital_id, datetime(2026, 3, 9, 16, 35, tzinfo=UTC), 0.0),
                 ("Mary", annex.id, datetime(2026, 3, 9, 17, 50, tzinfo=UTC), 2.0)), start=1):
            client = models.Client(first_name=name, last_name="Test", facility_id=facility,
                                   room="1", precaution_flags=[],
                                   primary_therapist_id=practice.theo_id)
            session.add(client)
            session.flush()
            series = models.AppointmentSeries(
                client_id=client.id, therapist_id=practice.theo_id,
                rule="FREQ=WEEKLY;BYDAY=MO,WE", first_date=date(2026, 3, 2),
                duration_minutes=60, priority=50)
            session.add(series)
            session.flush()
            plan.stops.append(models.PlanStop(
                position=position, series_id=series.id, occurrence_date=PLAN_DAY,
                client_id=client.id, facility_id=facility, arrive_at=start, start_at=start,
                end_at=start + timedelta(minutes=25 if drive == 0 else 60),
                drive_minutes=drive, drive_km=drive / 2))
        last.arrive_at = datetime(2026, 3, 9, 19, 15, tzinfo=UTC)
        last.start_at = datetime(2026, 3, 9, 19, 20, tzinfo=UTC)
        last.end_at = datetime(2026, 3, 9, 20, 20, tzinfo=UTC)
        plan.back_home_at = datetime(2026, 3, 9, 20, 40, tzinfo=UTC)
        session.commit()
        stop_ids = [stop.id for stop in sorted(plan.stops, key=lambda stop: stop.position)]
    monkeypatch.setattr("scheduler.clock.utcnow", lambda: NOW)
    app = create_app(runtime=runtime)
    try:
        with serving(app) as base:
            yield base, stop_ids
    finally:
        runtime.close()


def _boxes_meet(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900},
                                      {"width": 390, "height": 844}])
def test_map_one_marker_per_building_and_close_buildings_apart(close_buildings, browser,
                                                               viewport):
    from playwright.sync_api import expect

    base, stop_ids = close_buildings
    page = browser.new_page(viewport=viewport)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in_browser(page, base)
    page.wait_for_selector("#map[data-map-ready]")

    markers = page.locator(".leaflet-marker-icon.stop-marker")
    # home, the hospital (stops 1 and 2), the annex (3), the nursing home (4)
    assert markers.count() == 4
    hospital = markers.filter(has=page.locator(".part", has_text="1 ✓"))
    assert hospital.count() == 1
    # one marker, both stops, each in its own state: done and still to do
    assert hospital.locator(".part.state-done").inner_text() == "1 ✓"
    assert hospital.locator(".part.state-planned").inner_text() == "2 ○"
    colours = hospital.locator(".part").evaluate_all(
        "parts => parts.map(p => getComputedStyle(p).backgroundColor)")
    assert colours[0] != colours[1], colours
    # both halves are on screen, side by side inside the marker
    outer = hospital.bounding_box()
    halves = [hospital.locator(".part").nth(n).bounding_box() for n in range(2)]
    right, bottom = outer["x"] + outer["width"], outer["y"] + outer["height"]
    for half in halves:
        assert half["width"] >= 20 and half["height"] >= 20, half
        assert outer["x"] <= half["x"] and half["x"] + half["width"] <= right
        assert outer["y"] <= half["y"] and half["y"] + half["height"] <= bottom
    assert halves[0]["x"] + halves[0]["width"] <= halves[1]["x"] + 1
    assert "stop 1 done, stop 2 to do" in hospital.get_attribute("title")

    # The annex, five metres from the hospital, is drawn apart from it: both seen, none
    # covering another.
    annex = markers.filter(has=page.locator(".part", has_text="3 ○"))
    assert annex.count() == 1
    boxes = [markers.nth(n).bounding_box() for n in range(markers.count())]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not _boxes_meet(a, b), (a, b)
    assert page.locator("path.marker-leader").count() >= 2  # lines to where they really are

    # Both can be tapped (Playwright clicks only what receives the pointer there): each opens
    # its own stop.
    annex.click()
    expect(page.locator(f"#stop-{stop_ids[2]}")).to_be_in_viewport()
    hospital.click()
    expect(page.locator(f"#stop-{stop_ids[0]}")).to_be_in_viewport()
    if viewport["width"] > 400:
        page.screenshot(path=str(ARTIFACTS / "day-map-buildings.png"), full_page=True)
    assert errors == [], errors
