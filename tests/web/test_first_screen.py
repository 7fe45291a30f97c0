"""The first screen is a route: the app opens on today, or, when today has no plan (a first
run on a weekend, a day off), on the next day of the coming week that has one."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from demo_fixtures import THERAPIST, TIME_LIMIT
from flask import Flask
from web_support import login

from scheduler import clock
from scheduler.demo.first_week import plan_days
from scheduler.demo.loader import DEMO_PASSWORD
from scheduler.runtime import Runtime

SUNDAY = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)
NEXT_MONDAY, NEXT_TUESDAY = date(2026, 12, 7), date(2026, 12, 8)  # the therapist works Tue-Sat


def test_a_working_day_opens_on_its_own_route(demo_app: Flask) -> None:
    client = demo_app.test_client()
    assert login(client, THERAPIST, DEMO_PASSWORD).status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "No plan for this day yet" not in text and "Leave by" in text


def test_a_day_without_a_plan_opens_on_the_next_planned_day(
        demo_app: Flask, web_runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    with web_runtime.session() as session:
        plan_days(session, web_runtime.settings, NEXT_MONDAY, NEXT_TUESDAY, SUNDAY,
                  time_limit=TIME_LIMIT)
    monkeypatch.setattr(clock, "utcnow", lambda: SUNDAY)
    client = demo_app.test_client()
    assert login(client, THERAPIST, DEMO_PASSWORD).status_code == 302
    home = client.get("/")
    assert home.status_code == 302 and home.location.endswith("/day/2026-12-08")
    text = client.get(home.location).get_data(as_text=True)
    assert "No plan for this day yet" not in text and "Leave by" in text
    # nothing planned in the coming week: today, as before
    monkeypatch.setattr(clock, "utcnow", lambda: datetime(2026, 12, 19, 15, 0, tzinfo=UTC))
    assert client.get("/").status_code == 200
