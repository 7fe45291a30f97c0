"""Planning around time off: a week skips the day a therapist is off, their own visits are left
out with the time off as the reason, and open visits go to whoever works."""

from __future__ import annotations

from datetime import date, timedelta

import factories as make
from conftest import TIME_LIMIT
from plan_checks import check_plan
from sqlalchemy.orm import Session

from scheduler import audit, models
from scheduler.planning import plan_days, plan_range
from scheduler.records import time_off as time_off_records
from scheduler.settings import Settings

MONDAY = make.MONDAY  # 2026-12-07
WEDNESDAY = MONDAY + timedelta(days=2)


def _off(session: Session, therapist: models.Therapist | None, first: date, last: date,
         reason: str) -> None:
    time_off_records.add(session, audit.Actor(None, "test"), therapist.id if therapist else None,
                 {"first_day": first.isoformat(), "last_day": last.isoformat(),
                  "reason": reason})
    session.flush()


def test_a_week_plan_skips_the_day_off_and_leaves_the_own_visits_out_with_the_reason(
    sqlite_session: Session, module_settings: Settings
) -> None:
    ada = make.therapist(sqlite_session, "Ada Pine")
    home = make.facility(sqlite_session, "Maple Court", make.MIDTOWN)
    series = make.series(sqlite_session, make.client(sqlite_session, home), ada)
    _off(sqlite_session, ada, WEDNESDAY, WEDNESDAY, "Vacation")
    plans = plan_range(sqlite_session, module_settings, MONDAY, MONDAY + timedelta(days=4),
                       time_limit=TIME_LIMIT, processes=1)
    by_day = {p.day: p for p in plans}
    assert sorted(by_day) == [MONDAY + timedelta(days=d) for d in range(5)]
    for day, plan in by_day.items():
        assert check_plan(plan, module_settings.zone) == []
        if day != WEDNESDAY:
            assert len(plan.stops) == 1 and plan.unplaced == []
    off_day = by_day[WEDNESDAY]
    assert off_day.stops == [] and off_day.leave_home_at is None
    (left_out,) = off_day.unplaced
    assert left_out["series_id"] == series.id and left_out["date"] == WEDNESDAY.isoformat()
    assert left_out["reason"] == "Ada is off: Vacation (Dec 9)"


def test_a_therapist_off_without_visits_of_their_own_gets_no_plan_and_open_visits_go_to_others(
    sqlite_session: Session, module_settings: Settings
) -> None:
    ada = make.therapist(sqlite_session, "Ada Pine", skills=["oncology"])
    ben = make.therapist(sqlite_session, "Ben Reed", skills=["oncology"])
    home = make.facility(sqlite_session, "Maple Court", make.MIDTOWN)
    make.series(sqlite_session, make.client(sqlite_session, home), None, skills=["oncology"])
    _off(sqlite_session, ada, MONDAY, MONDAY, "Sick")
    plans = plan_days(sqlite_session, module_settings, MONDAY, time_limit=TIME_LIMIT)
    assert [p.therapist_id for p in plans] == [ben.id]
    assert len(plans[0].stops) == 1 and plans[0].unplaced == []
    # only Ada asked for: no plan, nothing to do
    assert plan_days(sqlite_session, module_settings, MONDAY, [ada.id],
                     time_limit=TIME_LIMIT) == []


def test_a_practice_closure_leaves_every_visit_out_saying_the_practice_is_closed(
    sqlite_session: Session, module_settings: Settings
) -> None:
    ada = make.therapist(sqlite_session, "Ada Pine", skills=["oncology"])
    home = make.facility(sqlite_session, "Maple Court", make.MIDTOWN)
    make.series(sqlite_session, make.client(sqlite_session, home, "Bea"), ada)
    make.series(sqlite_session, make.client(sqlite_session, home, "Cal"), None,
                skills=["oncology"])
    _off(sqlite_session, None, MONDAY, MONDAY, "Staff day")
    (plan,) = plan_days(sqlite_session, module_settings, MONDAY, time_limit=TIME_LIMIT)
    assert plan.stops == []
    assert sorted(u["reason"] for u in plan.unplaced) == ["practice closed: Staff day"] * 2
