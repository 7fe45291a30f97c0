"""E-mail sends the plan that is true now.

- A change to the records before the morning e-mail: the e-mail carries the day planned again
  (version 2), never the plan the change made wrong.
- If the day cannot be planned again, the e-mail still goes, with the stop the records now
  forbid marked DO NOT VISIT and the reason.
- A change after the morning e-mail went: exactly one update e-mail for the new version,
  however many worker processes run (on SQLite and on PostgreSQL, the runtime fixture's legs).

Every check of a planned stop is re-derived here from the treatment the test writes, not
read from the code that planned it.
"""

from __future__ import annotations

import email
import email.policy
from collections import Counter
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from icalendar import Calendar
from mail_fixtures import (
    CHICAGO,
    PATIENT_WORDS,
    DrivenClock,
    SmtpServer,
    add_plan,
    add_practice,
    local,
    smtp_settings,
    with_mail,
)
from sqlalchemy import select
from test_workers import finish, outbox_rows, spawn, write_instance

from scheduler import audit, models, planning
from scheduler.delivery import itineraries, outbox, senders
from scheduler.records import clients as client_records
from scheduler.runtime import Runtime

MONDAY = date(2026, 3, 9)
RADIATION_START, RADIATION_END = (8, 30), (11, 0)
RADIATION = {"kind": "radiation", "label": "Radiation", "rule": "FREQ=WEEKLY;BYDAY=MO",
             "first_date": "2026-03-02", "start_time": "08:30", "duration_minutes": 150,
             "policy": "avoid"}
"""Every Monday 08:30-11:00: the first client's 09:00 visit in the published plan now falls
inside it."""


@pytest.fixture
def practice(runtime: Runtime, smtp_server: SmtpServer) -> Runtime:
    """One therapist, two clients, Monday's plan v1 published: the first client at 09:00."""
    with runtime.session() as session:
        practice = add_practice(session, therapists=1, weekdays=(0, 1, 2, 3, 4))
        add_plan(session, practice, practice.therapist_ids[0], MONDAY)
        session.commit()
    return with_mail(runtime, **smtp_settings(smtp_server))


def _context(runtime: Runtime, name: str = "test") -> itineraries.WorkerContext:
    return itineraries.WorkerContext(runtime, senders.sender_from_settings(runtime.settings),
                                     name)


def _add_radiation(runtime: Runtime) -> None:
    """Through the one change path (as the API and the pages do): it marks Monday stale."""
    with runtime.session() as session:
        client = session.scalars(select(models.Client).order_by(models.Client.id)).first()
        assert client is not None
        client_records.create_treatment(session, audit.Actor(None, "test"), client, RADIATION)
        session.commit()


def _messages(server: SmtpServer) -> list[EmailMessage]:
    return [email.message_from_bytes(m.as_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for m in server.handler.messages()]


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def _events(message: EmailMessage) -> list[tuple[str, int]]:
    """(UID, SEQUENCE) of each event of the attached .ics."""
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    calendar = Calendar.from_ical(part.get_content())
    return [(str(event["UID"]), int(event["SEQUENCE"])) for event in calendar.walk("VEVENT")]


def _radiation_overlaps(runtime: Runtime, version: int) -> list[tuple[datetime, datetime]]:
    """The first client's visits in ``version`` of Monday's plan that overlap the radiation,
    computed from the treatment as written above."""
    start, end = local(MONDAY, *RADIATION_START), local(MONDAY, *RADIATION_END)
    with runtime.session() as session:
        first_client = min(session.scalars(select(models.Client.id)))
        plan = session.scalar(select(models.DayPlan).where(
            models.DayPlan.day == MONDAY, models.DayPlan.version == version))
        assert plan is not None, f"no version {version}"
        return [(s.start_at, s.end_at) for s in plan.stops
                if s.client_id == first_client
                and s.start_at < end and s.end_at > start]


def test_a_stale_day_is_planned_again_before_the_morning_email(
        practice: Runtime, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    DrivenClock(local(MONDAY, 5, 30)).install(monkeypatch.setattr)
    assert _radiation_overlaps(practice, 1), "the published plan must start out wrong"
    _add_radiation(practice)

    outcome = itineraries.settle_therapist(_context(practice), 1, local(MONDAY, 6))

    assert outcome == outbox.Outcome.SENT
    [message] = _messages(smtp_server)
    assert message[outbox.PLAN_VERSION_HEADER] == "2"
    assert [r.plan_version for r in outbox_rows(practice.settings.database_url)] == [2]
    assert _radiation_overlaps(practice, 2) == []
    text = _text(message)
    assert "DO NOT VISIT" not in text
    assert "2 visits" in message["Subject"]  # the visit moved; nobody was dropped
    assert not any(word in message.as_string() for word in PATIENT_WORDS)


def test_a_day_that_cannot_be_planned_again_goes_out_with_do_not_visit(
        practice: Runtime, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    DrivenClock(local(MONDAY, 5, 30)).install(monkeypatch.setattr)
    _add_radiation(practice)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the optimizer is down")

    monkeypatch.setattr(planning, "plan_days", broken)
    outcome = itineraries.settle_therapist(_context(practice), 1, local(MONDAY, 6))

    assert outcome == outbox.Outcome.SENT
    [message] = _messages(smtp_server)
    assert message[outbox.PLAN_VERSION_HEADER] == "1"  # the only plan there is
    text = _text(message)
    first, second = text.index("09:00-10:00"), text.index("11:00-12:00")
    assert text.count("DO NOT VISIT:") == 1
    marked = text.index("DO NOT VISIT:")
    assert first < marked < second, "the mark belongs to the 09:00 visit, not the 11:00 one"
    assert "radiation" in text[marked:second].lower()
    assert "a stop marked DO NOT VISIT must not be made as planned" in text
    html = message.get_body(preferencelist=("html",))
    assert html is not None and "DO NOT VISIT" in str(html.get_content())


def test_a_change_after_the_morning_email_brings_one_update_whatever_the_workers(
        practice: Runtime, smtp_server: SmtpServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, drop_job_table: None) -> None:
    """The morning e-mail (v1) goes at 06:00; radiation is added at 06:40; three worker
    processes then run from 06:45 to 06:50 together, each re-planning stale days and sending
    updates every 30 s (simulated): one new version, one update e-mail, sent once."""
    clock = DrivenClock(local(MONDAY, 6))
    clock.install(monkeypatch.setattr)
    assert itineraries.settle_therapist(_context(practice), 1, local(MONDAY, 6)) == \
        outbox.Outcome.SENT
    clock.set(local(MONDAY, 6, 40))
    _add_radiation(practice)

    instance = write_instance(tmp_path / "instance", practice.settings.database_url,
                              smtp_server)
    go = tmp_path / "go"
    workers = [spawn(instance, local(MONDAY, 6, 45), local(MONDAY, 6, 50), go)
               for _ in range(3)]
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    go.touch()
    finish(workers)

    messages = _messages(smtp_server)
    # A subject of 70-77 characters is folded whole onto its second line; Python's parser
    # then keeps the fold's space (mail clients drop it), hence the strip().
    subjects = Counter(m["Subject"].strip().split(" ")[0] for m in messages)
    assert subjects == {"Your": 1, "Updated:": 1}, subjects
    update = next(m for m in messages if m["Subject"].strip().startswith("Updated: "))
    assert update[outbox.PLAN_VERSION_HEADER] == "2"
    assert "Your day changed: MQ moved 09:00 → " in _text(update)  # initials only
    morning = next(m for m in messages if m is not update)
    # the same events (UIDs) with a higher SEQUENCE: calendar apps update them in place
    assert {uid for uid, _ in _events(update)} == {uid for uid, _ in _events(morning)}
    assert {seq for _, seq in _events(morning)} == {1}
    assert {seq for _, seq in _events(update)} == {2}
    rows = outbox_rows(practice.settings.database_url)
    assert [(r.kind, r.state, r.attempts, r.plan_version) for r in rows] == [
        (itineraries.KIND, models.OutboxState.SENT, 1, 1),
        ("update-v2", models.OutboxState.SENT, 1, 2)]
    with practice.session() as session:
        versions = sorted(session.scalars(select(models.DayPlan.version)
                                          .where(models.DayPlan.day == MONDAY)))
        assert versions == [1, 2]  # three workers, one new version
        assert session.scalars(select(models.StaleDay)).all() == []
    assert _radiation_overlaps(practice, 2) == []
    sent_at = rows[1].sent_at
    assert sent_at is not None
    # Each process drives its own clock, so which of them sent it, and at which of its ticks,
    # depends on how the processes interleave; only the window is certain.
    assert local(MONDAY, 6, 45) <= sent_at.astimezone(CHICAGO) <= local(MONDAY, 6, 50)
