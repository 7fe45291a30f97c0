"""Helpers and fixtures for the web tests: an app on a migrated database, a small
practice, signed-in clients and API tokens.

The practice (see :func:`make_practice`) has an admin (Ada), two therapists (Theo, Tess), two
facilities, three clients (two of Theo's, one of Tess's), a treatment, a weekly series per
client and, for Theo on PLAN_DAY (a Monday), a published two-stop day plan written directly
as rows, as the planner would.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from scheduler import models
from scheduler.accounts.passwords import hash_password
from scheduler.accounts.tokens import issue_token
from scheduler.clock import utcnow
from scheduler.db import make_engine, make_session_factory
from scheduler.runtime import Runtime
from scheduler.settings import Settings
from web import create_app

PASSWORD = "correct horse battery"
PLAN_DAY = date(2026, 3, 9)  # a Monday, the day after the clocks change in Chicago


def make_runtime(settings: Settings, url: str) -> Runtime:
    settings = replace(settings, database=replace(settings.database, url=url))
    engine = make_engine(url)
    return Runtime(settings=settings, engine=engine, sessions=make_session_factory(engine))


class Clock:
    """The app's "now" (:func:`scheduler.clock.utcnow`, patched by a test), moved by the test."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


PHONE = {"width": 390, "height": 844}
"""The browser tests' phone viewport (a mid-size phone, CSS pixels)."""

DESKTOP = {"width": 1280, "height": 900}


def sign_in_browser(page: Any, base: str, email: str = "theo@example.org") -> None:
    """Sign in through the form in a Playwright ``page``; returns on the day page."""
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def sign_in_by_keyboard(page: Any, base: str, email: str = "theo@example.org") -> None:
    """Sign in with the keyboard alone: the e-mail field has the focus as the page opens,
    Tab reaches the password, Enter sends the form."""
    page.goto(f"{base}/login")
    assert page.evaluate("document.activeElement.id") == "email"
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/")


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """``app`` served on 127.0.0.1 (a free port) in a thread, for a real browser; its base URL."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        httpd.server_close()


@pytest.fixture
def web_runtime(settings: Settings, sqlite_url: str) -> Iterator[Runtime]:
    """SQLite only: for tests whose subject is the web layer, not the database."""
    runtime = make_runtime(settings, sqlite_url)
    yield runtime
    runtime.close()


@pytest.fixture
def both_runtime(settings: Settings, db_url: str) -> Iterator[Runtime]:
    """Each backend in turn, for tests where the database's behaviour matters."""
    runtime = make_runtime(settings, db_url)
    yield runtime
    runtime.close()


@dataclass
class Practice:
    admin_id: int
    theo_id: int
    tess_id: int
    hospital_id: int
    home_id: int
    theo_clients: list[int]
    tess_client: int
    theo_series: list[int]
    tess_series: int
    treatment_id: int
    plan_id: int
    stop_ids: list[int]


_HASHES: dict[str, str] = {}


def password_hash() -> str:
    """Hashed once per test run: argon2 is slow on purpose."""
    if PASSWORD not in _HASHES:
        _HASHES[PASSWORD] = hash_password(PASSWORD)
    return _HASHES[PASSWORD]


def _therapist(name: str, email: str, role: models.Role, lat: float, lon: float,
               skills: list[str]) -> models.Therapist:
    return models.Therapist(
        name=name, email=email, role=role, password_hash=password_hash(),
        home_address="", home_lat=lat, home_lon=lon, skills=skills,
        break_start=time(11, 30), break_end=time(13, 30), break_minutes=30,
        shifts=[models.Shift(weekday=d, start=time(8, 0), end=time(16, 30)) for d in range(5)],
    )


def make_practice(runtime: Runtime) -> Practice:
    with runtime.session() as s:
        admin = _therapist("Ada Admin", "ada@example.org", models.Role.ADMIN, 39.10, -94.58, [])
        theo = _therapist("Theo Therapist", "theo@example.org", models.Role.THERAPIST,
                          39.05, -94.60, ["oncology"])
        tess = _therapist("Tess Therapist", "tess@example.org", models.Role.THERAPIST,
                          39.00, -94.50, ["oncology"])
        hours = [models.VisitingHours(weekday=d, open=time(7, 0), close=time(20, 0))
                 for d in range(7)]
        hospital = models.Facility(
            name="Saint Luke's Hospital", kind=models.FacilityKind.HOSPITAL,
            address="4401 Wornall Rd, Kansas City, MO", lat=39.0464, lon=-94.5934,
            coordinate_source=models.CoordinateSource.DEMO, overhead_minutes=10,
            parking_notes="Garage B, level 2", infection_control="Gown in 5W", hours=hours)
        home = models.Facility(
            name="Brookside Nursing Home", kind=models.FacilityKind.NURSING_HOME,
            address="6300 Main St, Kansas City, MO", lat=39.0150, lon=-94.5930,
            coordinate_source=models.CoordinateSource.DEMO, overhead_minutes=5,
            hours=[models.VisitingHours(weekday=d, open=time(9, 0), close=time(17, 0))
                   for d in range(7)])
        s.add_all([admin, theo, tess, hospital, home])
        s.flush()
        c1 = models.Client(first_name="Harriet", last_name="Quimby", facility=hospital,
                           room="5W-12", precaution_flags=["picc_left_arm", "fall_risk"],
                           precaution_notes="Tires quickly", primary_therapist_id=theo.id)
        c2 = models.Client(first_name="Bessie", last_name="Coleman", facility=home,
                           room="118", precaution_flags=[], primary_therapist_id=theo.id)
        c3 = models.Client(first_name="Amelia", last_name="Earhart", facility=home,
                           room="204", precaution_flags=["light_pressure"],
                           primary_therapist_id=tess.id)
        s.add_all([c1, c2, c3])
        s.flush()
        treatment = models.Treatment(client=c1, kind="radiation", rule="FREQ=WEEKLY;BYDAY=MO",
                                     first_date=date(2026, 1, 5), start_time=time(9, 0),
                                     duration_minutes=30, buffer_after_minutes=60)
        s.add(treatment)
        series = []
        for client, therapist in ((c1, theo), (c2, theo), (c3, tess)):
            row = models.AppointmentSeries(
                client=client, therapist=therapist, rule="FREQ=WEEKLY;BYDAY=MO,WE",
                first_date=date(2026, 3, 2), duration_minutes=60, priority=50)
            s.add(row)
            series.append(row)
        s.flush()
        plan = models.DayPlan(
            therapist_id=theo.id, day=PLAN_DAY, version=1, status=models.PlanStatus.PUBLISHED,
            created_at=datetime(2026, 3, 9, 11, 0, tzinfo=UTC),
            published_at=datetime(2026, 3, 9, 11, 0, tzinfo=UTC),
            leave_home_at=_at(9, 50), back_home_at=_at(14, 20),
            break_start_at=_at(12, 0), break_end_at=_at(12, 30),
            total_drive_minutes=31.0, total_drive_km=18.5,
            unplaced=[{"series_id": series[2].id, "date": PLAN_DAY.isoformat(),
                       "client_id": c3.id, "reason": "no time left in the shift"}],
        )
        plan.stops = [
            models.PlanStop(position=0, series_id=series[0].id, occurrence_date=PLAN_DAY,
                            client_id=c1.id, facility_id=hospital.id, arrive_at=_at(10, 0),
                            start_at=_at(10, 30), end_at=_at(11, 30), drive_minutes=10.0,
                            drive_km=5.0, overhead_minutes=10,
                            window_note="after radiation + 60 min"),
            models.PlanStop(position=1, series_id=series[1].id, occurrence_date=PLAN_DAY,
                            client_id=c2.id, facility_id=home.id, arrive_at=_at(12, 45),
                            start_at=_at(12, 50), end_at=_at(13, 50), drive_minutes=12.0,
                            drive_km=6.0, overhead_minutes=5),
        ]
        s.add(plan)
        s.flush()
        return Practice(admin.id, theo.id, tess.id, hospital.id, home.id, [c1.id, c2.id],
                        c3.id, [series[0].id, series[1].id], series[2].id, treatment.id,
                        plan.id, [stop.id for stop in plan.stops])


def _at(hour: int, minute: int) -> datetime:
    """A time on PLAN_DAY in Chicago (CDT, UTC-5, after the change) as UTC."""
    return datetime(2026, 3, 9, hour + 5, minute, tzinfo=UTC)


@pytest.fixture
def app(web_runtime: Runtime) -> Flask:
    return create_app(runtime=web_runtime, test_config={"TESTING": True})


@pytest.fixture
def practice(web_runtime: Runtime) -> Practice:
    return make_practice(web_runtime)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path)
    match = CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({page.status_code})"
    return match.group(1)


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token})


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None,
         page: str = "/account", **kwargs: Any) -> Any:
    """POST a form the way a browser does: with the CSRF token of a page of the session."""
    payload = {"csrf_token": csrf_token(client, page), **(data or {})}
    return client.post(path, data=payload, **kwargs)


@pytest.fixture
def admin_client(app: Flask, practice: Practice) -> FlaskClient:
    c = app.test_client()
    assert login(c, "ada@example.org").status_code == 302
    return c


@pytest.fixture
def theo_client(app: Flask, practice: Practice) -> FlaskClient:
    c = app.test_client()
    assert login(c, "theo@example.org").status_code == 302
    return c


def api_token(runtime: Runtime, therapist_id: int) -> str:
    with runtime.session() as s:
        therapist = s.get(models.Therapist, therapist_id)
        _, secret = issue_token(s, therapist, "test", utcnow())
    return secret


@pytest.fixture
def admin_api(web_runtime: Runtime, practice: Practice) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(web_runtime, practice.admin_id)}"}


@pytest.fixture
def theo_api(web_runtime: Runtime, practice: Practice) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(web_runtime, practice.theo_id)}"}
