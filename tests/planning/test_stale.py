"""Plans that stay true: a change to the records, made through the API as an admin would,
marks exactly the planned days it touches stale, with the cause in words; `rounds plan
--stale` plans them again; every stop of every plan of record then passes the re-derivation
from the records (plan_checks), and the days the change did not touch keep their version.

The demo practice's first week is planned and published once per module (Monday
2026-11-30 to Sunday), with the clock at 05:00 on that Monday; each test works on a copy.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest
from click.testing import CliRunner
from conftest import DEMO_ANCHOR, TIME_LIMIT, demo_engine
from plan_checks import check_plan
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import clock, models
from scheduler.accounts.tokens import issue_token
from scheduler.cli.base import RoundsGroup
from scheduler.cli.plan import plan_command
from scheduler.db import make_engine, make_session_factory
from scheduler.demo.loader import DEMO_PASSWORD
from scheduler.planning import plan_range
from scheduler.plans.record import plans_of_record
from scheduler.runtime import Runtime
from scheduler.settings import Settings
from web import create_app

WEEK = [DEMO_ANCHOR + timedelta(days=k) for k in range(7)]  # Mon 2026-11-30 .. Sun
MON, TUE, WED, THU, FRI, SAT = WEEK[:6]
NOW = datetime(2026, 11, 30, 11, 0, tzinfo=UTC)  # 05:00 in Kansas City, before any shift
API = "/api/v1"
rounds = RoundsGroup("rounds", commands={"plan": plan_command})


@pytest.fixture(scope="module")
def planned_week(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory,
                 module_settings: Settings) -> Path:
    """A SQLite file: the demo with its first week planned and published."""
    folder = tmp_path_factory.mktemp("week")
    engine = demo_engine(sqlite_template, folder, DEMO_ANCHOR)
    with make_session_factory(engine)() as session:
        plan_range(session, module_settings, MON, WEEK[-1], publish=True, now=NOW,
                   time_limit=TIME_LIMIT)
        session.commit()
    engine.dispose()
    return folder / "demo.sqlite3"


@dataclass
class Practice:
    runtime: Runtime
    client: Any  # Flask's test client
    headers: dict[str, str]

    def session(self) -> Session:
        return self.runtime.sessions()

    def versions(self) -> dict[tuple[int, date], int]:
        with self.session() as session:
            return {key: plan.version for key, plan in
                    plans_of_record(session, MON, WEEK[-1]).items()}

    def stale(self) -> dict[tuple[int, date], list[str]]:
        with self.session() as session:
            return {(row.therapist_id, row.day): list(row.causes)
                    for row in session.scalars(select(models.StaleDay))}

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.client.open(f"{API}{path}", method=method, json=body,
                                    headers=self.headers)
        assert response.status_code < 300, response.get_data(as_text=True)
        return response.json

    def replan(self) -> str:
        result = CliRunner().invoke(rounds, ["plan", "--stale", "--time-limit",
                                             str(TIME_LIMIT)], obj={"runtime": self.runtime})
        assert result.exit_code == 0, result.output
        return result.output


@pytest.fixture
def practice(planned_week: Path, tmp_path: Path, module_settings: Settings,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[Practice]:
    path = tmp_path / "demo.sqlite3"
    shutil.copyfile(planned_week, path)
    url = f"sqlite:///{path}"
    settings = replace(module_settings, database=replace(module_settings.database, url=url))
    engine = make_engine(url)
    runtime = Runtime(settings=settings, engine=engine, sessions=make_session_factory(engine))
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)
    with runtime.session() as session:
        admin = session.scalars(select(models.Therapist).where(
            models.Therapist.role == models.Role.ADMIN)).first()
        _, secret = issue_token(session, admin, "test", NOW)
    app = create_app(runtime, {"TESTING": True})
    yield Practice(runtime, app.test_client(), {"Authorization": f"Bearer {secret}"})
    engine.dispose()


# --- finding what a change should touch, from the plans themselves -------------------------


def holding(practice: Practice, *, client: int | None = None, series: int | None = None,
            facility: int | None = None, days: set[date] | None = None) -> set[tuple[int, date]]:
    """The (therapist, day) of the week whose plan of record holds the client, series or
    building, in a stop or among the visits left out."""
    found = set()
    with practice.session() as session:
        for (therapist_id, day), plan in plans_of_record(session, MON, WEEK[-1]).items():
            if days is not None and day not in days:
                continue
            stops = [(s.client_id, s.series_id, s.facility_id) for s in plan.stops]
            stops += [(e.client_id, e.series_id, e.facility_id) for e in plan.left_out]
            if any((client is None or c == client) and (series is None or s == series)
                   and (facility is None or f == facility) for c, s, f in stops):
                found.add((therapist_id, day))
    return found


def planned_on(practice: Practice, days: set[date]) -> set[tuple[int, date]]:
    return {key for key in practice.versions() if key[1] in days}


def find(practice: Practice, model: Any, **where: Any) -> Any:
    with practice.session() as session:
        return session.scalars(select(model).filter_by(**where)).first()


def client_named(practice: Practice, first: str) -> models.Client:
    return find(practice, models.Client, first_name=first)


def therapist_named(practice: Practice, first: str) -> models.Therapist:
    with practice.session() as session:
        return session.scalars(select(models.Therapist).where(
            models.Therapist.name.startswith(first))).one()


# --- the changes ------------------------------------------------------------------------------
# Each returns (the pairs it must touch, a word the cause must contain), making the change.

Change = Callable[[Practice], tuple[set[tuple[int, date]], str]]


def dialysis_moves_to_tue_thu_sat(practice: Practice) -> tuple[set[tuple[int, date]], str]:
    mabel = client_named(practice, "Mabel")  # chair-side during dialysis Mon/Wed/Fri
    dialysis = find(practice, models.Treatment, client_id=mabel.id, kind="dialysis")
    expected = holding(practice, client=mabel.id)
    practice.api("PATCH", f"/treatments/{dialysis.id}", {"rule": "FREQ=WEEKLY;BYDAY=TU,TH,SA"})
    return expected, "now Tue/Thu/Sat"


def one_dialysis_moves(practice: Practice) -> tuple[set[tuple[int, date]], str]:
    mabel = client_named(practice, "Mabel")
    dialysis = find(practice, models.Treatment, client_id=mabel.id, kind="dialysis")
    expected = holding(practice, client=mabel.id, days={WED})
    practice.api("POST", f"/treatments/{dialysis.id}/exceptions",
                 {"original_date": WED.isoformat(), "action": "move",
                  "new_start_time": "08:00", "reason": "chair time moved"})
    return expected, "Dec 2 moved"


def series_time_changes(practice: Practice) -> tuple[set[tuple[int, date]], str]:
    series = find(practice, models.AppointmentSeries, id=1)
    expected = holding(practice, series=series.id)
    if series.therapist_id is not None:
        expected |= {(series.therapist_id, d) for d in
                     {d for t, d in holding(practice, series=series.id)}}
    practice.api("PATCH", f"/series/{series.id}", {"preferred_windows": [["09:00", "11:00"]]})
    return expected, "preferred times"


def one_visit_cancelled(practice: Practice) -> tuple[set[tuple[int, date]], str]:
    mabel = client_named(practice, "Mabel")
    series = find(practice, models.AppointmentSeries, client_id=mabel.id)
    expected = holding(practice, series=series.id, days={WED}) | {(series.therapist_id, WED)}
    practice.api("POST", f"/series/{series.id}/exceptions",
                 {"original_date": WED.isoformat(), "action": "cancel"})
    return expected, "Dec 2 cancelled"


def client_made_inactive(practice: Practice) -> tuple[set[tuple[int, date]], str]:
    mabel = client_named(practice, "Mabel")
    expected = holding(practice, client=mabel.id)
    practice.api("PATCH", f"/clients/{mabel.id}", {"active": False})
    return expected, "is inactive"


def therapist_made_inactive(practice: Practice) -> tuple[set[tuple[int, date]], str]:
    priya = therapist_named(practice, "Priya")
    days = {d for t, d in practice.versions() if t == priya.id}
    practice.api("PATCH", f"/therapists/{priya.id}", {"active": False})
    return planned_on(practice, days), "account is inactive"


def sick_day(practice: Practice) -> tuple[set[tuple[int, date]], str]:
    priya = therapist_named(practice, "Priya")
    practice.api("POST", "/time-off", {"therapist_id": priya.id, "first_day": WED.isoformat(),
                                       "last_day": WED.isoformat(), "reason": "Sick"})
    return planned_on(practice, {WED}), "Priya is off: Sick"


def practice_closed(practice: Practice) -> tuple[set[tuple[int, date]], str]:
    practice.api("POST", "/time-off", {"first_day": THU.isoformat(), "last_day": THU.isoformat(),
                                       "reason": "Staff day"})
    return planned_on(practice, {THU}), "practice closed: Staff day"


def visiting_hours_change(practice: Practice) -> tuple[set[tuple[int, date]], str]:
    mabel = client_named(practice, "Mabel")
    facility = practice.api("GET", f"/facilities/{mabel.facility_id}")
    hours = dict(facility["hours"])
    hours["MO"] = ["09:00", "12:00"]
    practice.api("PATCH", f"/facilities/{mabel.facility_id}", {"hours": hours})
    return holding(practice, facility=mabel.facility_id, days={MON}), "visiting hours"


def facility_moves(practice: Practice) -> tuple[set[tuple[int, date]], str]:
    mabel = client_named(practice, "Mabel")
    expected = holding(practice, facility=mabel.facility_id)
    facility = practice.api("GET", f"/facilities/{mabel.facility_id}")
    practice.api("PATCH", f"/facilities/{mabel.facility_id}",
                 {"lat": facility["lat"] + 0.01, "lon": facility["lon"]})
    return expected, "location"


def shift_changes(practice: Practice) -> tuple[set[tuple[int, date]], str]:
    joel = therapist_named(practice, "Joel")
    shifts = practice.api("GET", f"/therapists/{joel.id}")["shifts"]
    shifts["TU"] = ["10:00", "14:00"]
    practice.api("PATCH", f"/therapists/{joel.id}", {"shifts": shifts})
    return planned_on(practice, {TUE}), "working hours"


def home_moves(practice: Practice) -> tuple[set[tuple[int, date]], str]:
    joel = therapist_named(practice, "Joel")
    days = {d for t, d in practice.versions() if t == joel.id}
    practice.api("PATCH", f"/therapists/{joel.id}",
                 {"home_lat": joel.home_lat + 0.02, "home_lon": joel.home_lon})
    return {(joel.id, d) for d in days}, "home base"


CHANGES: dict[str, Change] = {
    "a treatment's days": dialysis_moves_to_tue_thu_sat,
    "one treatment occurrence": one_dialysis_moves,
    "a visit series": series_time_changes,
    "one visit of a series": one_visit_cancelled,
    "a client made inactive": client_made_inactive,
    "a therapist made inactive": therapist_made_inactive,
    "time off": sick_day,
    "a practice closure": practice_closed,
    "visiting hours": visiting_hours_change,
    "a facility's address": facility_moves,
    "a therapist's shift": shift_changes,
    "a therapist's home": home_moves,
}


@pytest.mark.parametrize("name", list(CHANGES))
def test_a_change_marks_exactly_the_days_it_touches_and_they_are_planned_again(
        practice: Practice, name: str) -> None:
    before = practice.versions()
    expected, words = CHANGES[name](practice)
    stale = practice.stale()
    assert expected, "the change touches some planned day of the demo week"
    assert set(stale) == expected
    assert all(any(words in cause for cause in causes) for causes in stale.values()), stale

    output = practice.replan()
    assert practice.stale() == {}
    after = practice.versions()
    inactive = {t for t, _ in expected if not find(practice, models.Therapist, id=t).active}
    for key, version in before.items():
        if key[0] in inactive:  # an inactive therapist's days are no longer planned at all
            assert key not in after
        elif key in expected:
            # planned again (its mark is answered): a new version, or the same plan kept when
            # the change moved nothing on that day
            assert after.get(key, version) >= version
        else:
            assert after.get(key) == version, f"{key} was planned again untouched"
    assert any(after.get(key, 0) > before[key] for key in expected if key in before) \
        or inactive, "the change altered no plan"
    assert words.split(":")[0] in output
    with practice.session() as session:
        plans = plans_of_record(session, MON, WEEK[-1])
        problems = [f"{key}: {text}" for key, plan in plans.items()
                    for text in check_plan(plan, practice.runtime.settings.zone)]
        assert problems == []
        published = [plan for key, plan in plans.items() if key in expected]
        assert published
        assert all(plan.status == models.PlanStatus.PUBLISHED for plan in published)
        assert all(plan.replaces_version is not None for key, plan in plans.items()
                   if key in expected and after.get(key, 0) > before.get(key, 0))


def test_the_chair_side_visit_leaves_a_day_the_dialysis_moved_away(practice: Practice) -> None:
    """The issue's first failure: Mabel's chair-side visit stayed on Monday after her dialysis
    moved to Tue/Thu/Sat, and the e-mail sent it."""
    mabel = client_named(practice, "Mabel")
    series = find(practice, models.AppointmentSeries, client_id=mabel.id)
    dialysis_moves_to_tue_thu_sat(practice)
    with practice.session() as session:
        plan = plans_of_record(session, MON, MON)[(series.therapist_id, MON)]
        assert any(s.series_id == series.id for s in plan.stops)  # not yet re-planned ...
        from scheduler.plans.check import check_plan as domain_check

        problems = domain_check(session, plan, practice.runtime.settings)
        stop = next(s for s in plan.stops if s.series_id == series.id)
        assert "Hemodialysis" in problems[stop.id]  # ... but never followed blindly
        assert "does not take place" in problems[stop.id]
    practice.replan()
    with practice.session() as session:
        plan = plans_of_record(session, MON, MON)[(series.therapist_id, MON)]
        assert all(s.series_id != series.id for s in plan.stops)
        (entry,) = [e for e in plan.left_out if e.series_id == series.id]
        assert "Hemodialysis" in entry.reason
        assert {c["kind"] for c in plan.changes} >= {"dropped"}


def test_the_page_and_the_api_say_what_is_stale_unsafe_and_changed(practice: Practice) -> None:
    """Before the re-planning: the day page shows the banner with the cause, the stop marked
    "Do not visit" with its reason, and the API says ``stale`` with the ``problems``; after
    it, both list what the new version changed."""
    mabel = client_named(practice, "Mabel")
    series = find(practice, models.AppointmentSeries, client_id=mabel.id)
    therapist = find(practice, models.Therapist, id=series.therapist_id)
    dialysis_moves_to_tue_thu_sat(practice)

    [plan] = practice.api("GET", f"/day-plans?date={MON}&therapist_id={therapist.id}")["items"]
    assert plan["stale"] is True
    assert any("now Tue/Thu/Sat" in cause for cause in plan["stale_causes"])
    [problem] = plan["problems"]
    stop = next(s for s in plan["stops"] if s["id"] == problem["stop_id"])
    assert stop["series_id"] == series.id
    assert "does not take place" in problem["reason"] == stop["do_not_visit"]

    page = signed_in(practice, therapist.email).get(
        f"/day/{MON}?therapist={therapist.id}").get_data(as_text=True)
    assert 'id="stale"' in page and "now Tue/Thu/Sat" in page
    assert 'id="unsafe"' in page
    marked = page[page.index(f'id="stop-{problem["stop_id"]}"'):]
    marked = marked[:marked.index("</li>")]
    assert "Do not visit:" in marked and "does not take place" in marked

    practice.replan()
    plans = practice.api("GET", f"/day-plans?date={MON}&therapist_id={therapist.id}")["items"]
    assert [p["status"] for p in plans] == ["published", "superseded"]  # newest first
    plan = plans[0]
    assert plan["stale"] is False and plan["problems"] == []
    dropped = [c["words"] for c in plan["changes"] if c["kind"] == "dropped"]
    assert len(dropped) == 1 and "Hemodialysis" in dropped[0]
    page = signed_in(practice, therapist.email).get(
        f"/day/{MON}?therapist={therapist.id}").get_data(as_text=True)
    assert 'id="stale"' not in page and 'id="unsafe"' not in page
    assert "What changed since" in page and "Mabel" in page[page.index('id="changes"'):]


def test_the_calendar_feed_and_the_map_mark_what_the_records_now_forbid(
        practice: Practice) -> None:
    """The therapist's phone calendar and the map's GeoJSON show the published plans as the
    day page does: each chair-side visit on a day the dialysis moved away from says DO NOT
    VISIT (title and why) until its day is planned again, and no other stop does."""
    mabel = client_named(practice, "Mabel")
    series = find(practice, models.AppointmentSeries, client_id=mabel.id)
    therapist = find(practice, models.Therapist, id=series.therapist_id)
    token = "f" * 43
    with practice.runtime.session() as session:
        session.get(models.Therapist, therapist.id).calendar_token = token
        chair_side = {stop.start_at: (day, stop.id) for (who, day), plan
                      in plans_of_record(session, MON, WEEK[-1]).items() if who == therapist.id
                      for stop in plan.stops if stop.series_id == series.id}
    assert MON in {day for day, _ in chair_side.values()}
    dialysis_moves_to_tue_thu_sat(practice)

    def flagged_events() -> list[Any]:
        feed = practice.client.application.test_client().get(f"/feeds/calendar/{token}.ics")
        assert feed.status_code == 200
        events = icalendar.Calendar.from_ical(feed.data).walk("VEVENT")
        assert events
        return [e for e in events if str(e["summary"]).startswith("DO NOT VISIT")]

    flagged = flagged_events()
    assert sorted(e.decoded("dtstart") for e in flagged) == sorted(chair_side)
    for event in flagged:
        assert "does not take place" in str(event["description"])
        assert "Mabel" not in str(event["summary"]) + str(event["description"])

    browser = signed_in(practice, therapist.email)
    route = browser.get(f"/feeds/day/{MON}.geojson?therapist={therapist.id}").json
    marked = [f["properties"]["stop_id"] for f in route["features"]
              if f["properties"].get("do_not_visit")]
    assert marked == [stop for day, stop in chair_side.values() if day == MON]

    practice.replan()
    assert flagged_events() == []


def signed_in(practice: Practice, email: str) -> Any:
    """A browser-like client of the practice's app, signed in with the demo password."""
    client = practice.client.application.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD,
                                            "csrf_token": token.group(1)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def test_a_change_that_touches_nothing_planned_marks_nothing(practice: Practice) -> None:
    mabel = client_named(practice, "Mabel")
    practice.api("PATCH", f"/clients/{mabel.id}", {"room": "12B", "precaution_notes": "calm"})
    treatment = find(practice, models.Treatment, client_id=mabel.id, kind="dialysis")
    practice.api("PATCH", f"/treatments/{treatment.id}", {"label": "Hemodialysis (unit B)"})
    assert practice.stale() == {}


def test_the_worker_job_plans_the_stale_days(practice: Practice) -> None:
    """The job `rounds worker` runs every half minute, bound as the worker binds it."""
    from scheduler.delivery import worker
    from scheduler.delivery.itineraries import WorkerContext
    from scheduler.delivery.senders import sender_from_settings

    expected, _ = sick_day(practice)
    context = WorkerContext(practice.runtime, sender_from_settings(practice.runtime.settings),
                            "test-worker")
    with worker.bound(context, None):
        worker.replan_job()
    assert practice.stale() == {}
    priya = therapist_named(practice, "Priya")
    with practice.session() as session:
        plans = plans_of_record(session, WED, WED)
        assert set(plans) >= expected
        assert plans[(priya.id, WED)].stops == []
        assert all(check_plan(plan, practice.runtime.settings.zone) == []
                   for plan in plans.values())


def test_a_day_that_cannot_be_planned_stays_marked_and_holds_back_no_other(
        practice: Practice, monkeypatch: pytest.MonkeyPatch) -> None:
    """Wednesday (Priya's sick day, the older change) fails to plan; Thursday (a closure) is
    still planned in the same run, and Wednesday goes back to the queue, marked and free."""
    from scheduler.planning import refresh

    sick_day(practice)
    closed, _ = practice_closed(practice)
    plan_stale_days = refresh.plan_stale_days

    def failing_on_wednesday(session: Session, settings: Settings,
                             days: dict[date, list[int]], *args: Any, **kwargs: Any) -> Any:
        if WED in days:
            raise RuntimeError("the optimizer is down")
        return plan_stale_days(session, settings, days, *args, **kwargs)

    monkeypatch.setattr(refresh, "plan_stale_days", failing_on_wednesday)
    done = refresh.replan_stale(practice.runtime.sessions, practice.runtime.settings, NOW,
                                "test-worker", time_limit=TIME_LIMIT)
    assert [r.day for r in done] == [THU]
    stale = practice.stale()
    assert {day for _, day in stale} == {WED}
    with practice.session() as session:
        rows = session.scalars(select(models.StaleDay)).all()
        assert all(row.lease_owner == "" and row.lease_until is None for row in rows)
    assert not any(key in stale for key in closed)
    # the next run, with the optimizer back, plans it
    monkeypatch.setattr(refresh, "plan_stale_days", plan_stale_days)
    again = refresh.replan_stale(practice.runtime.sessions, practice.runtime.settings, NOW,
                                 "test-worker", time_limit=TIME_LIMIT)
    assert [r.day for r in again] == [WED] and practice.stale() == {}


def test_lunch_survives_a_mid_day_replan(practice: Practice) -> None:
    """Break window 11:00-13:30 for 30 min, no lunch taken yet: re-planned at 11:30 or at
    12:00, lunch is still planned in what is left of the window (the part already past is not
    a time it could have been taken)."""
    from scheduler.planning import replan_from
    from scheduler.plans.record import current_plan

    for hour, minute in ((11, 30), (12, 0)):
        with practice.session() as session:
            devon = session.scalars(select(models.Therapist).where(
                models.Therapist.name.startswith("Devon"))).one()
            devon.break_start, devon.break_end, devon.break_minutes = time(11), time(13, 30), 30
            base = current_plan(session, devon.id, TUE)
            assert base is not None
            base.break_start_at = base.break_end_at = None  # not taken yet
            at = datetime(2026, 12, 1, hour + 6, minute, tzinfo=UTC)  # Tuesday, CST
            plan = replan_from(session, practice.runtime.settings, devon.id, TUE, at,
                               time_limit=TIME_LIMIT)
            assert plan.break_start_at is not None, f"no lunch after a re-plan at {at}"
            assert plan.break_start_at >= at
            assert plan.break_end_at <= datetime(2026, 12, 1, 19, 30, tzinfo=UTC)
            session.rollback()
