"""Time off: the days a therapist is away, and the days the whole practice is closed.

One record kind (:class:`~scheduler.models.TimeOff`) serves both: with a therapist it is their
vacation, sick day or conference; without one, a practice closure (Thanksgiving). The calendar
(:mod:`scheduler.calendar`) reads the entries once with the rest of the practice and gives a
therapist who is off no working time that day, so planning, ``rounds visits``, the day page
and the morning e-mail all treat the day as they treat a weekday without a shift, and say why
in the words of :func:`describe`.

Adding and removing time off are changes to records: :mod:`scheduler.records.time_off`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from scheduler import models

# ---------------------------------------------------------------------------------------------
# In words


def _day(value: date) -> str:
    return f"{value:%b} {value.day}"


def span_words(entry: models.TimeOff) -> str:
    """"Dec 24–Dec 26", or "Nov 26" for a single day."""
    if entry.first_day == entry.last_day:
        return _day(entry.first_day)
    return f"{_day(entry.first_day)}–{_day(entry.last_day)}"


def describe(entry: models.TimeOff, therapist_name: str = "") -> str:
    """Why nobody (or this therapist) works: "Devon is off: Vacation (Dec 24–Dec 26)",
    "practice closed: Thanksgiving". Said on the day page, in planning's left-out visits and
    by ``rounds visits``; the reason is team words, never patient data."""
    if entry.therapist_id is None:
        return f"practice closed: {entry.reason}" if entry.reason else "practice closed"
    who = therapist_name.split()[0] if therapist_name.strip() else "the therapist"
    reason = f": {entry.reason}" if entry.reason else ""
    return f"{who} is off{reason} ({span_words(entry)})"


# ---------------------------------------------------------------------------------------------
# Who is off when


def covers(entry: models.TimeOff, day: date) -> bool:
    return entry.first_day <= day <= entry.last_day


def entry_on(entries: Iterable[models.TimeOff], therapist_id: int,
             day: date) -> models.TimeOff | None:
    """The entry that takes ``day`` from the therapist; a practice closure comes first, since
    it says more (nobody works) than a vacation that happens to fall on it."""
    mine = None
    for entry in entries:
        if not covers(entry, day):
            continue
        if entry.therapist_id is None:
            return entry
        if entry.therapist_id == therapist_id and mine is None:
            mine = entry
    return mine


def between(session: Session, first: date, last: date,
            therapist_id: int | None = None) -> list[models.TimeOff]:
    """Entries touching [first, last]: everyone's, or one therapist's and the closures."""
    query = (select(models.TimeOff)
             .where(models.TimeOff.first_day <= last, models.TimeOff.last_day >= first)
             .order_by(models.TimeOff.first_day, models.TimeOff.id))
    if therapist_id is not None:
        query = query.where(or_(models.TimeOff.therapist_id.is_(None),
                                models.TimeOff.therapist_id == therapist_id))
    return list(session.scalars(query))


def off_on(session: Session, therapist: models.Therapist, day: date) -> str | None:
    """Why the therapist does not work ``day``, in words, or None when they may."""
    entry = entry_on(between(session, day, day, therapist.id), therapist.id, day)
    return describe(entry, therapist.name) if entry is not None else None


def off_therapist_ids(session: Session, day: date, therapist_ids: Iterable[int]) -> set[int]:
    """Which of these therapists are off ``day`` (everyone, when the practice is closed)."""
    wanted = set(therapist_ids)
    entries = between(session, day, day)
    if any(e.therapist_id is None for e in entries):
        return wanted
    return {e.therapist_id for e in entries if e.therapist_id in wanted}


def listed(session: Session, therapist_id: int | None) -> list[models.TimeOff]:
    """A therapist's entries (None: the practice closures), latest first."""
    column = models.TimeOff.therapist_id
    condition = column.is_(None) if therapist_id is None else column == therapist_id
    return list(session.scalars(select(models.TimeOff).where(condition).order_by(
        models.TimeOff.first_day.desc(), models.TimeOff.id.desc())))


# ---------------------------------------------------------------------------------------------
# Changes


