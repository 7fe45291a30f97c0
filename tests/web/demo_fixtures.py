"""The demo practice as a web app, for tests that read its pages: its first week planned and
published, one missed e-mail in the outbox, an edit in the audit trail, the clock on the
Wednesday of that week. Test modules import the fixture by name."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask

from scheduler import audit, clock, models
from scheduler.delivery import outbox
from scheduler.demo.first_week import plan_days
from scheduler.demo.loader import load_demo
from scheduler.runtime import Runtime
from web import create_app

MONDAY = date(2026, 11, 30)
NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # Wednesday 09:00 in Kansas City
ADMIN = "marisol.vantreese@example.org"
THERAPIST = "devon.okafor-lind@example.org"
TIME_LIMIT = 0.15  # optimizer seconds a day: routes are still exact (see tests/planning)


@pytest.fixture
def demo_app(web_runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)
    with web_runtime.session() as session:
        load_demo(session, anchor=MONDAY, started_at=NOW - timedelta(days=3))
        plan_days(session, web_runtime.settings, MONDAY, MONDAY + timedelta(days=6), NOW,
                  time_limit=TIME_LIMIT)
        therapist = session.query(models.Therapist).filter_by(email=THERAPIST).one()
        therapist_id = therapist.id
        client = session.query(models.Client).first()
        assert client is not None
        # what an edit leaves in the audit trail: the names of the fields it changed
        audit.record(session, audit.Actor(therapist_id), "update", "client", client.id,
                     ["precaution_flags", "primary_therapist_id"], context="day_plan 1")
    outbox.record_missed(web_runtime.sessions, outbox.OutboxKey(therapist_id, MONDAY,
                                                                "itinerary"),
                         NOW, "no worker ran between the send time and the cut-off (11:00)")
    yield create_app(runtime=web_runtime, test_config={"TESTING": True})
