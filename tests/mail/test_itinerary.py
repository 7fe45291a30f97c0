"""Rendering a day plan: the parts of the message, the variants, the calendar events."""

from __future__ import annotations

from datetime import UTC, date, datetime

import icalendar
import pytest
from mail_fixtures import CHICAGO, PATIENT_WORDS, add_plan, add_practice, local
from sqlalchemy.orm import Session

from scheduler import models
from scheduler.present.calendar_file import plan_events_ics
from scheduler.present.itinerary import (
    Variant,
    build_itinerary,
    itinerary_message,
    render_html,
    render_text,
    subject_line,
)
from scheduler.settings import Settings

DAY = date(2026, 3, 9)  # a Monday
NOW = datetime(2026, 3, 9, 11, 0, tzinfo=UTC)


def _therapist(session: Session, therapist_id: int) -> models.Therapist:
    therapist = session.get(models.Therapist, therapist_id)
    assert therapist is not None
    return therapist


def test_route_message_has_text_html_and_calendar_parts(sqlite_session: Session,
                                                        settings: Settings) -> None:
    practice = add_practice(sqlite_session)
    plan = add_plan(sqlite_session, practice, practice.therapist_ids[0], DAY)
    therapist = _therapist(sqlite_session, practice.therapist_ids[0])

    itinerary = build_itinerary(therapist, DAY, plan, settings)
    message = itinerary_message(itinerary, plan, settings, therapist.email, NOW)

    assert itinerary.variant is Variant.ROUTE
    assert message.get_content_type() == "multipart/mixed"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    # 09:00 and 11:00 in Kansas City, whatever the server's zone
    assert "1. 09:00-10:00  Saint Luke's Hospital" in text
    assert "2. 11:00-12:00" in text
    assert "room 412B, client MQ" in text
    assert "PICC L arm (alert)" in text and "Light pressure" in text
    assert "http://127.0.0.1:5000/day/2026-03-09" in text
    assert 'href="http://127.0.0.1:5000/day/2026-03-09"' in html
    attachments = list(message.iter_attachments())
    assert [a.get_content_type() for a in attachments] == ["text/calendar"]
    assert attachments[0].get_filename() == "rounds-2026-03-09.ics"
    raw = message.as_string()
    for word in PATIENT_WORDS:
        assert word not in raw
    assert "after dialysis" not in raw  # what bounds a window hints at a condition: full only


def test_html_uses_inline_styles_and_no_remote_resources(sqlite_session: Session,
                                                         settings: Settings) -> None:
    practice = add_practice(sqlite_session)
    plan = add_plan(sqlite_session, practice, practice.therapist_ids[0], DAY)
    html = render_html(build_itinerary(_therapist(sqlite_session, practice.therapist_ids[0]),
                                       DAY, plan, settings))
    assert "<img" not in html and "<link" not in html and "<style" not in html
    assert "<script" not in html and "src=" not in html
    assert 'style="' in html


def test_full_detail_adds_notes_but_never_names_or_diagnoses(sqlite_session: Session,
                                                             settings: Settings) -> None:
    practice = add_practice(sqlite_session)
    plan = add_plan(sqlite_session, practice, practice.therapist_ids[0], DAY)
    therapist = _therapist(sqlite_session, practice.therapist_ids[0])
    text = render_text(build_itinerary(therapist, DAY, plan, settings, detail="full"))
    assert "Daughter visits mornings" in text and "after dialysis + 60 min" in text
    for word in ("Marguerite", "Quimby", "Thaddeus", "Oyelaran", "carcinoma"):
        assert word not in text


@pytest.mark.parametrize(
    ("stops", "unplaced", "failed", "variant", "subject_start"),
    [
        (2, 0, False, Variant.ROUTE, "Your itinerary for Monday 9 March 2026: 2 visits"),
        (2, 1, False, Variant.ROUTE, "Your itinerary for Monday 9 March 2026: 2 visits"),
        (0, 0, False, Variant.NO_VISITS, "No visits on Monday 9 March 2026"),
        (0, 3, False, Variant.COULD_NOT_PLAN, "Action needed for Monday 9 March 2026: 3 visits"),
        (0, 0, True, Variant.COULD_NOT_PLAN, "Action needed for Monday 9 March 2026: the day"),
    ],
)
def test_variants(sqlite_session: Session, settings: Settings, stops: int, unplaced: int,
                  failed: bool, variant: Variant, subject_start: str) -> None:
    practice = add_practice(sqlite_session)
    plan = None if failed else add_plan(sqlite_session, practice, practice.therapist_ids[0], DAY,
                                        stops=stops, unplaced=unplaced)
    therapist = _therapist(sqlite_session, practice.therapist_ids[0])
    itinerary = build_itinerary(therapist, DAY, plan, settings, planning_failed=failed)
    message = itinerary_message(itinerary, plan, settings, therapist.email, NOW)

    assert itinerary.variant is variant
    assert subject_line(itinerary).startswith(subject_start)
    text = message.get_body(("plain",)).get_content()
    has_calendar = any(True for _ in message.iter_attachments())
    assert has_calendar == (stops > 0)
    if variant is Variant.COULD_NOT_PLAN:
        assert "Could not plan" in text
        if unplaced:
            assert "3 visits need attention" in text
    if variant is Variant.NO_VISITS:
        assert "no visits planned for you today" in text
    if unplaced and stops:
        assert "1 visit could not be placed and needs attention" in text


def test_calendar_events_are_stable_across_replans_and_in_the_practice_zone(
        sqlite_session: Session, settings: Settings) -> None:
    practice = add_practice(sqlite_session)
    therapist_id = practice.therapist_ids[0]
    day = date(2026, 3, 8)  # clocks go forward at 02:00: 09:00 is CDT (UTC-5)
    first = add_plan(sqlite_session, practice, therapist_id, day)
    second = add_plan(sqlite_session, practice, therapist_id, day, version=2,
                      first_start=(10, 0))

    def events(plan: models.DayPlan) -> list[icalendar.Event]:
        calendar = icalendar.Calendar.from_ical(plan_events_ics([plan], settings))
        assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["America/Chicago"]
        return list(calendar.walk("VEVENT"))

    before, after = events(first), events(second)
    assert len(before) == 2
    assert [e["UID"] for e in before] == [e["UID"] for e in after]
    assert len({e["UID"] for e in before}) == 2
    start = before[0].decoded("DTSTART")
    assert start == local(day, 9) and start.utcoffset().total_seconds() == -5 * 3600
    assert str(start.tzinfo) == "America/Chicago" or start.tzinfo.key == CHICAGO.key
    assert after[0].decoded("DTSTART") == local(day, 10)
    assert int(after[0]["SEQUENCE"]) == 2
    assert [str(e["SUMMARY"]) for e in before] == ["Visit MQ at Saint Luke's Hospital",
                                                    "Visit TO at Saint Luke's Hospital"]


def test_one_calendar_for_several_days_serves_the_feed(sqlite_session: Session,
                                                        settings: Settings) -> None:
    practice = add_practice(sqlite_session)
    plans = [add_plan(sqlite_session, practice, practice.therapist_ids[0], day)
             for day in (date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2))]
    calendar = icalendar.Calendar.from_ical(plan_events_ics(plans, settings, detail="minimal"))
    starts = sorted(e.decoded("DTSTART") for e in calendar.walk("VEVENT"))
    assert len(starts) == 6
    # 09:00 local each day, on both sides of the change back to CST
    assert [s.astimezone(CHICAGO).strftime("%H:%M") for s in starts[::2]] == ["09:00"] * 3
    assert [s.utcoffset().total_seconds() / 3600 for s in starts[::2]] == [-5, -6, -6]
