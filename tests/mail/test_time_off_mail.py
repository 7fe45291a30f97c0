"""No itinerary e-mail on a day off: neither the job, nor catch-up, nor the default send list."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from click.testing import CliRunner, Result
from mail_fixtures import DrivenClock, add_plan, add_practice, local
from sqlalchemy import select

from scheduler import audit, models
from scheduler.cli.base import RoundsGroup
from scheduler.cli.mail import send_itineraries_command
from scheduler.delivery import itineraries, senders
from scheduler.delivery.outbox import Outcome
from scheduler.records import time_off as time_off_records
from scheduler.runtime import Runtime

MONDAY = date(2026, 3, 9)
rounds = RoundsGroup("rounds", commands={"send-itineraries": send_itineraries_command})


@pytest.fixture
def practice(runtime: Runtime) -> Runtime:
    with runtime.session() as session:
        practice = add_practice(session, therapists=2, weekdays=(0, 1, 2, 3, 4))
        for therapist_id in practice.therapist_ids:
            add_plan(session, practice, therapist_id, MONDAY)
    return runtime


def _off(runtime: Runtime, therapist_id: int | None, first: date, last: date) -> None:
    with runtime.session() as session:
        time_off_records.add(session, audit.Actor(None, "test"), therapist_id,
                     {"first_day": first.isoformat(), "last_day": last.isoformat(),
                      "reason": "Vacation"})
        session.commit()


def _outbox(runtime: Runtime) -> list[tuple[int, date]]:
    with runtime.session() as session:
        return [(r.therapist_id, r.day) for r in session.scalars(
            select(models.OutboxMessage).order_by(models.OutboxMessage.therapist_id))]


def _context(runtime: Runtime) -> itineraries.WorkerContext:
    return itineraries.WorkerContext(
        runtime, senders.sender_from_settings(runtime.settings), "test")


def test_the_morning_job_sends_nothing_to_a_therapist_who_is_off(practice: Runtime) -> None:
    _off(practice, 1, MONDAY - timedelta(days=2), MONDAY)
    context = _context(practice)
    assert itineraries.settle_therapist(context, 1, local(MONDAY, 6, 1)) is None
    assert itineraries.settle_therapist(context, 2, local(MONDAY, 6, 1)) == Outcome.SENT
    # past the cut-off a day off is not "missed" either: nothing was due
    assert itineraries.settle_therapist(context, 1, local(MONDAY, 11, 30)) is None
    assert _outbox(practice) == [(2, MONDAY)]
    assert len(list(practice.settings.outbox_path.glob("*.eml"))) == 1
    # the day after the time off, the e-mail goes out again
    tuesday = MONDAY + timedelta(days=1)
    assert itineraries.settle_therapist(context, 1, local(tuesday, 6, 1)) == Outcome.SENT


def test_catch_up_skips_everyone_when_the_practice_is_closed(practice: Runtime) -> None:
    _off(practice, None, MONDAY, MONDAY)
    itineraries.catch_up(_context(practice), local(MONDAY, 6, 30))
    assert _outbox(practice) == []
    assert not practice.settings.outbox_path.exists()


def test_catch_up_still_sends_to_those_who_work(practice: Runtime) -> None:
    _off(practice, 2, MONDAY, MONDAY)
    itineraries.catch_up(_context(practice), local(MONDAY, 6, 30))
    assert _outbox(practice) == [(1, MONDAY)]


def _run(runtime: Runtime, *args: str) -> Result:
    return CliRunner().invoke(rounds, list(args), obj={"runtime": runtime})


def test_send_itineraries_leaves_out_who_is_off_unless_named(
    practice: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    DrivenClock(local(MONDAY, 14)).install(monkeypatch.setattr)
    _off(practice, 1, MONDAY, MONDAY)
    result = _run(practice, "send-itineraries", "--date", MONDAY.isoformat(), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "therapist1@example.org" not in result.output
    assert "therapist2@example.org" in result.output
    _off(practice, None, MONDAY, MONDAY)
    closed = _run(practice, "send-itineraries", "--date", MONDAY.isoformat())
    assert closed.exit_code == 0 and "nothing to send" in closed.output
    assert _outbox(practice) == []
