"""The demo practice as a web app, for tests that read its pages: its first week planned and
published, one missed e-mail in the outbox, an edit in the audit trail, the clock on the
Wednesday of that week. Test modules import the fixtures by name: ``demo_app`` for Flask's
test client, ``demo_served`` for a real browser."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from web_support import make_runtime, serving

from scheduler import audit, clock, models
from scheduler.delivery import outbox
from scheduler.demo.first_week import plan_days
from scheduler.demo.loader import load_demo
from scheduler.records.precautions import FLAGS
from scheduler.runtime import Runtime
from scheduler.settings import Settings
from web import create_app

MONDAY = date(2026, 11, 30)
NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # Wednesday 09:00 in Kansas City
ADMIN = "marisol.vantreese@example.org"
THERAPIST = "devon.okafor-lind@example.org"
TIME_LIMIT = 30.0  # a cap only: plans stop on work limits, whatever the load (see tests/planning)


def load_demo_week(runtime: Runtime) -> None:
    """The demo loaded into ``runtime``'s database, its first week planned and published, with
    an edit in the audit trail and a missed e-mail in the outbox."""
    with runtime.session() as session:
        load_demo(session, anchor=MONDAY, started_at=NOW - timedelta(days=3))
        plan_days(session, runtime.settings, MONDAY, MONDAY + timedelta(days=6), NOW,
                  time_limit=TIME_LIMIT)
        therapist = session.query(models.Therapist).filter_by(email=THERAPIST).one()
        therapist_id = therapist.id
        client = session.query(models.Client).first()
        assert client is not None
        # what an edit leaves in the audit trail: the names of the fields it changed
        audit.record(session, audit.Actor(therapist_id), "update", "client", client.id,
                     ["precaution_flags", "primary_therapist_id"], context="day_plan 1")
    outbox.record_missed(runtime.sessions, outbox.OutboxKey(therapist_id, MONDAY,
                                                            "itinerary"),
                         NOW, "no worker ran between the send time and the cut-off (11:00)")


def busiest_day(runtime: Runtime) -> tuple[str, date]:
    """The demo's fullest day: the published plan with the most stops (of those, the one whose
    next stop has the most alert precautions: the tallest card); its therapist's e-mail and
    its day."""
    def alerts(plan: models.DayPlan) -> int:
        coming = min((stop for stop in plan.stops if stop.state == models.StopState.PLANNED),
                     key=lambda stop: stop.position)
        client = session.get(models.Client, coming.client_id)
        assert client is not None
        return sum(1 for code in client.precaution_flags
                   if code in FLAGS and FLAGS[code].severity == "alert")

    with runtime.session() as session:
        plans = session.scalars(select(models.DayPlan).where(
            models.DayPlan.status == models.PlanStatus.PUBLISHED)).all()
        plan = max(plans, key=lambda plan: (len(plan.stops), alerts(plan),
                                            -plan.day.toordinal()))
        therapist = session.get(models.Therapist, plan.therapist_id)
        assert therapist is not None
        return therapist.email, plan.day


@pytest.fixture
def demo_app(web_runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)
    load_demo_week(web_runtime)
    yield create_app(runtime=web_runtime, test_config={"TESTING": True})


@pytest.fixture
def demo_served(settings: Settings, sqlite_url: str,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Flask, Runtime]]:
    """The demo week served on 127.0.0.1 for a real browser (no tile server: nothing is
    fetched from outside), the clock on the Wednesday; its base URL, app and runtime."""
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)
    runtime = make_runtime(replace(settings, web=replace(settings.web, tile_url="")),
                           sqlite_url)
    try:
        load_demo_week(runtime)
        app = create_app(runtime=runtime)
        with serving(app) as base:
            yield base, app, runtime
    finally:
        runtime.close()
