"""A new database does not record e-mails as missed from before it existed, but still records
a send time missed after it existed."""

from __future__ import annotations

from datetime import date, timedelta

from mail_fixtures import add_practice, local
from sqlalchemy import select

from scheduler import database_start, models
from scheduler.delivery import itineraries, senders
from scheduler.runtime import Runtime

MONDAY = date(2026, 3, 9)


def _missed(runtime: Runtime) -> list[tuple[int, date]]:
    """Every outbox row as (therapist, day); each must be a recorded miss."""
    with runtime.session() as session:
        rows = session.scalars(select(models.OutboxMessage).order_by(
            models.OutboxMessage.day, models.OutboxMessage.therapist_id)).all()
        assert all(row.state == models.OutboxState.MISSED for row in rows)
        return [(row.therapist_id, row.day) for row in rows]


def test_the_first_catch_up_records_no_miss_from_before_the_database_existed(
        runtime: Runtime) -> None:
    with runtime.session() as session:
        practice = add_practice(session, therapists=2)  # every day, send time 06:00
        # the database began at noon on Monday, after that day's send time and cut-off (11:00)
        database_start.record_start(session, local(MONDAY, 12))
    context = itineraries.WorkerContext(
        runtime, senders.sender_from_settings(runtime.settings), "test")

    itineraries.catch_up(context, local(MONDAY, 12, 5))
    assert _missed(runtime) == []
    # the next morning before 06:00, Monday's send time is still the due one: still no miss
    itineraries.catch_up(context, local(MONDAY + timedelta(days=1), 5))
    assert _missed(runtime) == []

    # Tuesday's 06:00 passed while no worker ran, after the database existed: recorded
    tuesday = MONDAY + timedelta(days=1)
    itineraries.catch_up(context, local(tuesday, 11, 30))
    assert _missed(runtime) == [(t, tuesday) for t in practice.therapist_ids]
    assert not runtime.settings.outbox_path.exists()  # nothing was sent


def test_without_a_start_moment_every_miss_is_recorded(runtime: Runtime) -> None:
    """A database made before start moments existed keeps the old behaviour."""
    with runtime.session() as session:
        practice = add_practice(session, therapists=1)
        assert database_start.started_at(session) is None
    context = itineraries.WorkerContext(
        runtime, senders.sender_from_settings(runtime.settings), "test")
    itineraries.catch_up(context, local(MONDAY, 12))
    assert _missed(runtime) == [(practice.therapist_ids[0], MONDAY)]


def test_the_start_moment_is_kept_as_an_aware_instant(runtime: Runtime) -> None:
    with runtime.session() as session:
        database_start.record_start(session, local(MONDAY, 12))
        database_start.record_start(session, local(MONDAY, 13))  # replaced, not added
    with runtime.session() as session:
        assert database_start.started_at(session) == local(MONDAY, 13)
        assert database_start.before_start(session, local(MONDAY, 12, 59))
        assert not database_start.before_start(session, local(MONDAY, 13))
