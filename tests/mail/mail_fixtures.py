"""Helpers for the morning e-mail tests: a real SMTP server (aiosmtpd) and a small practice.

The practice's patients have unusual names on purpose: a test that finds "Quimby" or
"Oyelaran" in a message, a subject, a log line or an .eml file has found a leak.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session

from scheduler import models
from scheduler.runtime import Runtime

CHICAGO = ZoneInfo("America/Chicago")
# Everything here that is patient data; none of it may leave in an e-mail, subject or log.
PATIENT_WORDS = ("Marguerite", "Quimby", "Thaddeus", "Oyelaran", "carcinoma", "neuropathy")
DST_DAYS = (date(2026, 3, 8), date(2026, 11, 1), date(2027, 3, 14), date(2027, 11, 7))


def local(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """An aware instant at a wall-clock time in Kansas City."""
    return datetime.combine(day, time(hour, minute, second), tzinfo=CHICAGO)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- SMTP ------------------------------------------------------------------------------------


class RecordingHandler:
    """Accepts messages, or answers DATA with the queued ``replies`` first (e.g. 451, 550)."""

    def __init__(self) -> None:
        self.replies: list[str] = []
        self.received: list[bytes] = []
        self.data_commands = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.data_commands += 1
            if self.replies:
                return self.replies.pop(0)
            self.received.append(envelope.original_content or envelope.content)
        return "250 2.0.0 Accepted"

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            raw = list(self.received)
        return [email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[misc]
                for data in raw]


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: RecordingHandler
    controller: Controller = field(repr=False)


def start_smtp(**controller_options: Any) -> SmtpServer:
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **controller_options)
    controller.start()
    return SmtpServer("127.0.0.1", controller.port, handler, controller)


def with_mail(runtime: Runtime, **mail: Any) -> Runtime:
    """The same database with other [mail] settings."""
    settings = replace(runtime.settings, mail=replace(runtime.settings.mail, **mail))
    return replace(runtime, settings=settings)


def smtp_settings(server: SmtpServer, **extra: Any) -> dict[str, Any]:
    return {"backend": "smtp", "smtp_host": server.host, "smtp_port": server.port,
            "smtp_security": "none", **extra}


# --- A small practice ------------------------------------------------------------------------


@dataclass
class Practice:
    therapist_ids: list[int]
    facility_id: int
    client_ids: list[int]
    series_ids: list[int]


def add_practice(session: Session, *, therapists: int = 1, weekdays: tuple[int, ...] = tuple(
        range(7)), email_time: time | None = None) -> Practice:
    """Therapists working ``weekdays`` 08:00-17:00, one hospital open 07:00-20:00 every day,
    two clients, two daily series open to any therapist."""
    facility = models.Facility(
        name="Saint Luke's Hospital", kind=models.FacilityKind.HOSPITAL,
        address="4401 Wornall Rd, Kansas City, MO 64111", lat=39.0455, lon=-94.5894,
        overhead_minutes=10,
        # Open every day: the hand-made plans below must follow from the records, or the
        # morning e-mail (rightly) re-plans them before sending (scheduler.plans.check).
        hours=[models.VisitingHours(weekday=d, open=time(7), close=time(20)) for d in range(7)],
    )
    session.add(facility)
    session.flush()
    people = []
    for number in range(1, therapists + 1):
        therapist = models.Therapist(
            name=f"Therapist {number}", email=f"therapist{number}@example.org",
            home_lat=39.05, home_lon=-94.6, email_time=email_time,
            shifts=[models.Shift(weekday=d, start=time(8), end=time(17)) for d in weekdays],
        )
        session.add(therapist)
        people.append(therapist)
    clients = [
        models.Client(first_name="Marguerite", last_name="Quimby", facility_id=facility.id,
                      room="412B", precaution_flags=["picc_left_arm", "fall_risk"],
                      precaution_notes="Daughter visits mornings; neuropathy in both feet",
                      diagnosis="Metastatic breast carcinoma"),
        models.Client(first_name="Thaddeus", last_name="Oyelaran", facility_id=facility.id,
                      room="518", precaution_flags=["light_pressure"],
                      diagnosis="Stage IV carcinoma"),
    ]
    session.add_all(clients)
    session.flush()
    series = [models.AppointmentSeries(client_id=c.id, rule="FREQ=DAILY",
                                       first_date=date(2026, 1, 1), duration_minutes=60)
              for c in clients]
    session.add_all(series)
    session.flush()
    return Practice([t.id for t in people], facility.id, [c.id for c in clients],
                    [s.id for s in series])


def add_plan(session: Session, practice: Practice, therapist_id: int, day: date, *,
             stops: int = 2, unplaced: int = 0, version: int = 1,
             status: models.PlanStatus = models.PlanStatus.PUBLISHED,
             first_start: tuple[int, int] = (9, 0)) -> models.DayPlan:
    """A plan with ``stops`` one-hour visits two hours apart, from ``first_start`` local."""
    start = local(day, *first_start)
    plan = models.DayPlan(
        therapist_id=therapist_id, day=day, version=version, status=status,
        created_at=start - timedelta(hours=12), published_at=start - timedelta(hours=11),
        leave_home_at=start - timedelta(minutes=30) if stops else None,
        back_home_at=start + timedelta(hours=2 * stops) if stops else None,
        total_drive_minutes=25.0 * stops, total_drive_km=12.5 * stops,
        unplaced=[{"series_id": practice.series_ids[0], "date": day.isoformat(),
                   "client_id": practice.client_ids[0], "reason": "the day is full"}] * unplaced,
    )
    for position in range(stops):
        visit_start = start + timedelta(hours=2 * position)
        plan.stops.append(models.PlanStop(
            position=position, series_id=practice.series_ids[position % 2],
            occurrence_date=day, client_id=practice.client_ids[position % 2],
            facility_id=practice.facility_id, arrive_at=visit_start - timedelta(minutes=10),
            start_at=visit_start, end_at=visit_start + timedelta(hours=1), drive_minutes=20.0,
            drive_km=9.0, window_note="after dialysis + 60 min",
        ))
    session.add(plan)
    session.flush()
    return plan


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# --- Time ------------------------------------------------------------------------------------


class DrivenClock:
    """The one clock of a test: :func:`scheduler.clock.utcnow` and APScheduler's "now".

    APScheduler 3 reads ``datetime.now(tz)`` in ``apscheduler.schedulers.base`` and offers no
    way to give it a clock, so :meth:`install` replaces that module's ``datetime`` with a
    subclass whose ``now`` reads this clock. Nothing else in APScheduler asks for the time
    (executors only do for ``misfire_grace_time``, which Rounds leaves unset).
    """

    def __init__(self, start: datetime) -> None:
        self.now = start.astimezone(UTC)  # UTC: adding a timedelta is then elapsed time

    def utcnow(self) -> datetime:
        return self.now

    def set(self, instant: datetime) -> None:
        self.now = instant.astimezone(UTC)

    def datetime_class(self) -> type[datetime]:
        driven = self

        class DrivenDatetime(datetime):
            @classmethod
            def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
                return driven.now.astimezone(tz) if tz is not None else driven.now

        return DrivenDatetime

    def install(self, setattr_: Any) -> None:
        """``setattr_``: ``monkeypatch.setattr`` in a test, plain ``setattr`` in a subprocess."""
        import apscheduler.schedulers.base

        from scheduler import clock

        setattr_(clock, "utcnow", self.utcnow)
        setattr_(apscheduler.schedulers.base, "datetime", self.datetime_class())
