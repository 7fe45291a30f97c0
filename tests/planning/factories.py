"""Small hand-made practices for planning tests whose answer can be worked out by hand."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from sqlalchemy.orm import Session

from scheduler import models

MONDAY = date(2026, 12, 7)
# Two points about 5 km apart in Kansas City, and a home between them.
MIDTOWN = (39.0500, -94.5900)
NORTH = (39.0950, -94.5800)
HOME = (39.0700, -94.5850)


def therapist(session: Session, name: str = "Ada Pine", *, skills: list[str] | None = None,
              shift: tuple[time, time] = (time(8), time(16)),
              lunch: tuple[time, time, int] | None = (time(11, 30), time(13, 30), 30),
              home: tuple[float, float] = HOME, **extra: Any) -> models.Therapist:
    """A therapist working ``shift`` every weekday (Monday to Friday)."""
    person = models.Therapist(
        name=name, email=f"{name.split()[0].lower()}@example.org", home_lat=home[0],
        home_lon=home[1], skills=skills or [],
        break_start=lunch[0] if lunch else None, break_end=lunch[1] if lunch else None,
        break_minutes=lunch[2] if lunch else 0,
        shifts=[models.Shift(weekday=d, start=shift[0], end=shift[1]) for d in range(5)],
        **extra,
    )
    session.add(person)
    session.flush()
    return person


def facility(session: Session, name: str, where: tuple[float, float], *, overhead: int = 0,
             hours: tuple[time, time] = (time(7), time(20))) -> models.Facility:
    place = models.Facility(
        name=name, kind=models.FacilityKind.NURSING_HOME, address=f"{name}, Kansas City",
        lat=where[0], lon=where[1], overhead_minutes=overhead,
        hours=[models.VisitingHours(weekday=d, open=hours[0], close=hours[1]) for d in range(7)],
    )
    session.add(place)
    session.flush()
    return place


def client(session: Session, place: models.Facility, first: str = "Bea",
           last: str = "Quill", room: str = "101") -> models.Client:
    person = models.Client(first_name=first, last_name=last, facility=place, room=room)
    session.add(person)
    session.flush()
    return person


def treatment(session: Session, person: models.Client, start: time, minutes: int, *,
              rule: str = "FREQ=DAILY", policy: str = "avoid", before: int = 0,
              after: int = 0, kind: str = "radiation") -> models.Treatment:
    item = models.Treatment(client=person, kind=kind, label=kind.capitalize(), rule=rule,
                            first_date=date(2026, 1, 5), start_time=start,
                            duration_minutes=minutes, buffer_before_minutes=before,
                            buffer_after_minutes=after, policy=models.TreatmentPolicy(policy))
    session.add(item)
    session.flush()
    return item


def series(session: Session, person: models.Client, who: models.Therapist | None, *,
           minutes: int = 45, windows: list[list[str]] | None = None, priority: int = 50,
           skills: list[str] | None = None, rule: str | None = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
           first: date = MONDAY, during: models.Treatment | None = None,
           ) -> models.AppointmentSeries:
    item = models.AppointmentSeries(
        client=person, therapist=who, required_skills=skills or [], rule=rule,
        first_date=first, duration_minutes=minutes, preferred_windows=windows or [],
        priority=priority, during_treatment=during,
    )
    session.add(item)
    session.flush()
    return item
