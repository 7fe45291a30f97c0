"""The day page lists the day in time order (the drive, then a break taken on arriving, then
the visit) and hands each drive off to navigation, but not a move inside one building."""

from __future__ import annotations

from datetime import UTC, datetime

from web_support import PLAN_DAY

from scheduler import models

DAY = PLAN_DAY.isoformat()


def _at(hour: int, minute: int) -> datetime:
    """A time on PLAN_DAY in Kansas City (CDT) as UTC."""
    return datetime(2026, 3, 9, hour + 5, minute, tzinfo=UTC)


def _timeline(response) -> str:
    text = response.get_data(as_text=True)
    return text[text.index('<ol class="timeline">'):text.index("</ol>", text.index(
        '<ol class="timeline">'))]


def test_a_break_on_arriving_is_listed_after_the_drive_that_leads_there(
        web_runtime, theo_client, practice):
    # Stop 2: leave 12:33 (12 min), arrive 12:45, break 12:50–13:20, visit 13:30.
    with web_runtime.session() as s:
        plan = s.get(models.DayPlan, practice.plan_id)
        assert plan is not None
        plan.break_start_at, plan.break_end_at = _at(12, 50), _at(13, 20)
        second = next(stop for stop in plan.stops if stop.position == 1)
        second.start_at, second.end_at = _at(13, 30), _at(14, 30)
        s.commit()
    timeline = _timeline(theo_client.get(f"/day/{DAY}"))
    order = [timeline.index(words) for words in (
        "10:30–11:30", '<strong class="leave-by">12:33</strong>', "Break 12:50–13:20",
        "13:30–14:30")]
    assert order == sorted(order), order


def test_a_break_between_stops_comes_before_the_next_drive(theo_client, practice):
    # The hand-made plan: stop 1 ends 11:30, break 12:00–12:30, leave 12:33 for stop 2.
    timeline = _timeline(theo_client.get(f"/day/{DAY}"))
    order = [timeline.index(words) for words in (
        "10:30–11:30", "Break 12:00–12:30", '<strong class="leave-by">12:33</strong>',
        "12:50–13:50")]
    assert order == sorted(order), order


def test_no_navigation_for_a_move_inside_one_building(web_runtime, theo_client, practice):
    with web_runtime.session() as s:
        plan = s.get(models.DayPlan, practice.plan_id)
        assert plan is not None
        second = next(stop for stop in plan.stops if stop.position == 1)
        second.facility_id = practice.hospital_id
        second.drive_minutes, second.drive_km = 0.0, 0.0
        s.commit()
    timeline = _timeline(theo_client.get(f"/day/{DAY}"))
    # the drive from home and the drive home have their links; the move between stops none
    assert timeline.count('<li class="drive"') == 1
    for link in ("nav-google", "nav-apple", "nav-geo"):
        assert timeline.count(f'class="{link}"') == 2, link
    assert "Same building: no drive" in timeline
