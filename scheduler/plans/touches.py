"""Which planned days a change to the records touches (marked stale by
:mod:`scheduler.plans.stale`), and why, in words.

Every change saved through :mod:`scheduler.records` (and time off) calls
:func:`record_changed` in the same transaction. Days the change does not touch keep their plan
and version.

How a day knows its inputs: a saved plan names, in its stops and its left-out visits, every
visit of the therapist's day, with its client, series and building. A change to a client's
treatment therefore touches the planned days holding that client on a date the treatment (as
it was, or as it is now) takes place; a change to a series touches the days of its old and new
occurrences; time off, a practice closure or a therapist made inactive touch every therapist's
plan on those days (the open visits the absent therapist held go to the others). Nothing here
expands the whole calendar: a change costs a few indexed queries over the plans from today on.

Dates: rules are wall-clock dates, so touched days are found on the rules' own dates, with a
day on either side where an occurrence and its buffers can cross midnight, and "today" is
taken a day early (no zone is needed; the re-planner skips days already past in the
practice's zone). Marking a day too many costs one re-plan; missing one could cost a visit
inside a treatment.

One module, a little over 400 lines: one rule per kind of record (at the end, in
``_TOUCHES``), read side by side so that a kind without a rule stands out.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from scheduler import clock, models
from scheduler.calendar.expand import occurrence_dates
from scheduler.calendar.rules import RuleError
from scheduler.calendar.series import expand_series
from scheduler.calendar.words import describe_rule
from scheduler.plans.stale import Pair, mark


class Action(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


def snapshot(record: Any) -> dict[str, Any]:
    """What a record was before a change: its column values, and its weekly rows (a
    facility's visiting hours, a therapist's shifts) where it has them."""
    values = {column.key: getattr(record, column.key)
              for column in record.__mapper__.column_attrs}
    if isinstance(record, models.Facility):
        values["hours"] = _weekly(record.hours, "open", "close")
    if isinstance(record, models.Therapist):
        values["shifts"] = _weekly(record.shifts, "start", "end")
    if isinstance(record, models.Client):
        values["precaution_flags"] = list(record.precaution_flags or [])
    return values


def record_changed(session: Session, kind: str, record: Any, before: Mapping[str, Any] | None,
                   changed: Iterable[str], action: Action, now: datetime | None = None) -> int:
    """Mark the planned days a saved change touches; returns how many (therapist, day)."""
    touch = _TOUCHES.get(kind)
    if touch is None:
        return 0
    now = now or clock.utcnow()
    change = _Change(session, record, dict(before or {}), set(changed), action,
                     now.date() - timedelta(days=1))
    if action is Action.UPDATE and not change.changed:
        return 0
    found = touch(change)
    if found is None:
        return 0
    pairs, cause = found
    return mark(session, pairs, cause, now)


@dataclass
class _Change:
    session: Session
    record: Any
    before: dict[str, Any]
    changed: set[str]
    action: Action
    today: date

    def old(self, name: str) -> Any:
        return self.before.get(name, getattr(self.record, name, None))

    def versions(self) -> list[Any]:
        """The record as it was and as it is (one of them when created or deleted)."""
        now = self.record
        was = SimpleNamespace(**{**{k: getattr(now, k, None) for k in self.before},
                                 **self.before})
        if self.action is Action.CREATE:
            return [now]
        if self.action is Action.DELETE:
            return [was]
        return [was, now]

    def horizon(self) -> date:
        """The last planned day (nothing later needs marking)."""
        last = self.session.scalar(select(models.DayPlan.day).where(
            models.DayPlan.day >= self.today).order_by(models.DayPlan.day.desc()).limit(1))
        return last or self.today


def _planned(session: Session, today: date, *, client_ids: Iterable[int] = (),
             series_ids: Iterable[int] = (), facility_ids: Iterable[int] = (),
             therapist_ids: Iterable[int] = (), days: Iterable[date] | None = None) -> set[Pair]:
    """The planned (therapist, day) from ``today`` on holding one of these clients, series or
    buildings, in a stop or among the visits left out; or planned for one of these therapists;
    only on ``days`` when given."""
    clients, series, buildings = set(client_ids), set(series_ids), set(facility_ids)
    therapists = set(therapist_ids)
    wanted_days = set(days) if days is not None else None
    if wanted_days is not None and not wanted_days:
        return set()
    plan = models.DayPlan
    live = and_(plan.day >= today, plan.status != models.PlanStatus.SUPERSEDED)
    if wanted_days is not None:
        live = and_(live, plan.day.in_(wanted_days))
    found: set[Pair] = set()
    stop = models.PlanStop
    matches = []
    if clients:
        matches.append(stop.client_id.in_(clients))
    if series:
        matches.append(stop.series_id.in_(series))
    if buildings:
        matches.append(stop.facility_id.in_(buildings))
    if matches:
        found |= {(t, d) for t, d in session.execute(
            select(plan.therapist_id, plan.day).join(stop, stop.plan_id == plan.id)
            .where(live, or_(*matches)).distinct())}
    if therapists:
        found |= {(t, d) for t, d in session.execute(
            select(plan.therapist_id, plan.day).where(live, plan.therapist_id.in_(therapists)))}
    if clients or series or buildings:
        for therapist_id, day, entries in session.execute(
                select(plan.therapist_id, plan.day, plan.unplaced).where(live)):
            if any(e.get("client_id") in clients or e.get("series_id") in series
                   or e.get("facility_id") in buildings for e in entries or []):
                found.add((therapist_id, day))
    return found


def _everyone_on(session: Session, days: Iterable[date]) -> set[Pair]:
    """Every therapist planned on these days: the open visits one could no longer take are
    for the others to take."""
    wanted = set(days)
    if not wanted:
        return set()
    plan = models.DayPlan
    return {(t, d) for t, d in session.execute(
        select(plan.therapist_id, plan.day).where(
            plan.day.in_(wanted), plan.status != models.PlanStatus.SUPERSEDED).distinct())}


def _days(pairs: Iterable[Pair]) -> set[date]:
    return {day for _, day in pairs}


def _initials(client: Any) -> str:
    return getattr(client, "initials", "") or "a client"


def _first_name(therapist: Any) -> str:
    return (getattr(therapist, "name", "") or "the therapist").split()[0]


def _weekly(rows: Iterable[Any], start: str, end: str) -> list[tuple[int, time, time]]:
    return sorted((row.weekday, getattr(row, start), getattr(row, end)) for row in rows)


def _dates(rule: str | None, first: date | None, last: date | None, low: date,
           high: date) -> set[date]:
    if first is None or high < low:
        return set()
    try:
        return set(occurrence_dates(rule, first, (low, high), last))
    except (RuleError, ValueError, TypeError):
        return set()


def _around(days: Iterable[date], before: bool, after: bool) -> set[date]:
    found: set[date] = set()
    for day in days:
        found.add(day)
        if before:
            found.add(day - timedelta(days=1))
        if after:
            found.add(day + timedelta(days=1))
    return found


# --- each kind of record ---------------------------------------------------------------------

_TREATMENT_INPUTS = {"rule", "first_date", "last_date", "start_time", "duration_minutes",
                     "buffer_before_minutes", "buffer_after_minutes", "policy", "facility_id"}


def _treatment_days(treatment: Any, low: date, high: date) -> set[date]:
    """The days an occurrence of the treatment (buffers included) can touch."""
    start = treatment.start_time or time()
    minutes = start.hour * 60 + start.minute
    end = minutes + (treatment.duration_minutes or 0) + (treatment.buffer_after_minutes or 0)
    dates = _dates(treatment.rule, treatment.first_date, getattr(treatment, "last_date", None),
                   low - timedelta(days=1), high)
    for exception in getattr(treatment, "exceptions", None) or []:
        dates |= {d for d in (exception.original_date, exception.new_date) if d is not None}
    return _around(dates, minutes - (treatment.buffer_before_minutes or 0) < 0, end >= 24 * 60)


def _treatment(change: _Change) -> tuple[set[Pair], str] | None:
    if change.action is Action.UPDATE and not change.changed & _TREATMENT_INPUTS:
        return None
    treatment = change.record
    high = change.horizon()
    days: set[date] = set()
    for version in change.versions():
        days |= _treatment_days(version, change.today, high)
    pairs = _planned(change.session, change.today, client_ids=[treatment.client_id], days=days)
    name = (treatment.label or treatment.kind or "a treatment").strip()
    who = _initials(treatment.client)
    if change.action is Action.CREATE:
        cause = f"new treatment for {who}: {name} {describe_rule(treatment.rule)}"
    elif change.action is Action.DELETE:
        cause = f"{name} for {who} removed"
    else:
        parts = []
        if change.changed & {"rule", "first_date", "last_date"}:
            parts.append(f"now {describe_rule(treatment.rule, treatment.first_date)}"
                         + (f" until {treatment.last_date}" if treatment.last_date else ""))
        if change.changed & {"start_time", "duration_minutes"}:
            parts.append(f"now at {treatment.start_time:%H:%M} for "
                         f"{treatment.duration_minutes} min")
        if change.changed & {"buffer_before_minutes", "buffer_after_minutes"}:
            parts.append("buffers changed")
        if "policy" in change.changed:
            parts.append("visits now must be during it" if str(treatment.policy) == "during"
                         else "visits now must not overlap it")
        if "facility_id" in change.changed:
            parts.append("now at another place")
        cause = f"{name} for {who} " + ", ".join(parts)
    return pairs, cause


def _exception_days(change: _Change) -> set[date]:
    """The days a changed occurrence (of a treatment or a series) was and is on."""
    exception = change.record
    return {d for d in (change.old("original_date"), change.old("new_date"),
                        exception.original_date, exception.new_date) if d is not None}


def _treatment_exception(change: _Change) -> tuple[set[Pair], str] | None:
    exception = change.record
    treatment = exception.treatment
    days = _exception_days(change)
    days = _around(days, True, True)
    pairs = _planned(change.session, change.today, client_ids=[treatment.client_id], days=days)
    name = (treatment.label or treatment.kind or "a treatment").strip()
    what = {"cancel": "cancelled"}.get(str(getattr(exception.action, "value",
                                                   exception.action)), "moved")
    if change.action is Action.DELETE:
        what = "back as usual"
    return pairs, (f"{name} for {_initials(treatment.client)} on "
                   f"{exception.original_date:%b} {exception.original_date.day} {what}")


_SERIES_INPUTS = {"client_id", "therapist_id", "required_skills", "rule", "first_date",
                  "last_date", "duration_minutes", "preferred_windows", "priority",
                  "during_treatment_id", "active"}


def _series_days(series: Any, low: date, high: date) -> set[date]:
    try:
        occurrences = expand_series(series, low, high)
    except (RuleError, ValueError, TypeError):
        return set()
    return {o.date for o in occurrences} | {o.original_date for o in occurrences}


def _series(change: _Change) -> tuple[set[Pair], str] | None:
    if change.action is Action.UPDATE and not change.changed & _SERIES_INPUTS:
        return None
    series = change.record
    high = change.horizon()
    pairs = _planned(change.session, change.today, series_ids=[series.id])
    for version in change.versions():
        if not getattr(version, "active", True):
            continue
        if getattr(version, "exceptions", None) is None:
            version.exceptions = series.exceptions
        days = _series_days(version, change.today, high)
        if version.therapist_id is not None:
            pairs |= _planned(change.session, change.today, therapist_ids=[version.therapist_id],
                              days=days)
        else:
            pairs |= _everyone_on(change.session, days)
    who = _initials(series.client)
    if change.action is Action.CREATE:
        cause = f"new visits to {who}"
    elif change.action is Action.DELETE:
        cause = f"visits to {who} removed"
    elif "active" in change.changed and not series.active:
        cause = f"visits to {who} stopped"
    else:
        cause = f"visits to {who} changed ({_words(change.changed & _SERIES_INPUTS)})"
    return pairs, cause


def _series_exception(change: _Change) -> tuple[set[Pair], str] | None:
    exception = change.record
    series = exception.series
    days = _exception_days(change)
    pairs = _planned(change.session, change.today, series_ids=[series.id], days=days)
    if series.therapist_id is not None:
        pairs |= _planned(change.session, change.today, therapist_ids=[series.therapist_id],
                          days=days)
    else:
        pairs |= _everyone_on(change.session, days)
    day = exception.original_date
    what = {"cancel": "cancelled", "move": "moved", "resize": "of another length"}.get(
        str(getattr(exception.action, "value", exception.action)), "changed")
    if change.action is Action.DELETE:
        what = "back as usual"
    return pairs, f"visit to {_initials(series.client)} on {day:%b} {day.day} {what}"


def _client(change: _Change) -> tuple[set[Pair], str] | None:
    client = change.record
    relevant = {"active", "facility_id", "precaution_flags"}
    if change.action is Action.UPDATE and not change.changed & relevant:
        return None
    pairs = _planned(change.session, change.today, client_ids=[client.id])
    who = _initials(client)
    if "active" in change.changed and not client.active:
        cause = f"{who} is inactive"
    elif "facility_id" in change.changed:
        cause = f"{who} moved to another building"
    elif "precaution_flags" in change.changed:
        # A flag can change the client's infection-control class, hence the order of a day.
        cause = f"{who}'s precautions changed"
    else:
        cause = f"{who} changed"
    return pairs, cause


_THERAPIST_INPUTS = {"active", "shifts", "home_lat", "home_lon", "skills", "break_start",
                     "break_end", "break_minutes", "max_visits_per_day",
                     "max_hands_on_minutes"}


def _therapist(change: _Change) -> tuple[set[Pair], str] | None:
    if change.action is not Action.UPDATE or not change.changed & _THERAPIST_INPUTS:
        return None
    therapist = change.record
    mine = _planned(change.session, change.today, therapist_ids=[therapist.id])
    name = _first_name(therapist)
    if "shifts" in change.changed:
        weekdays = {row for row in set(change.old("shifts")) ^ set(
            _weekly(therapist.shifts, "start", "end"))}
        changed_days = {d for _, d in mine if d.weekday() in {w for w, _, _ in weekdays}}
        mine = {(t, d) for t, d in mine if d in changed_days}
    pairs = set(mine)
    if change.changed & {"active", "shifts", "skills"}:
        pairs |= _everyone_on(change.session, _days(mine))
    if "active" in change.changed and not therapist.active:
        cause = f"{name}'s account is inactive"
    else:
        cause = f"{name}'s {_words(change.changed & _THERAPIST_INPUTS)} changed"
    return pairs, cause


def _facility(change: _Change) -> tuple[set[Pair], str] | None:
    relevant = {"hours", "lat", "lon", "address", "overhead_minutes"}
    if change.action is not Action.UPDATE or not change.changed & relevant:
        return None
    facility = change.record
    pairs = _planned(change.session, change.today, facility_ids=[facility.id])
    if change.changed == {"hours"}:
        weekdays = {w for w, _, _ in set(change.old("hours")) ^ set(
            _weekly(facility.hours, "open", "close"))}
        pairs = {(t, d) for t, d in pairs if d.weekday() in weekdays}
    return pairs, f"{facility.name}: {_words(change.changed & relevant)} changed"


def _time_off(change: _Change) -> tuple[set[Pair], str] | None:
    entry = change.record
    first = max(entry.first_day, change.today)
    days = {first + timedelta(days=k) for k in range((entry.last_day - first).days + 1)}
    pairs = _everyone_on(change.session, days)
    if entry.therapist_id is None:
        words = f"practice closed: {entry.reason}" if entry.reason else "practice closed"
        cause = words if change.action is not Action.DELETE else "practice closure removed"
    else:
        name = _first_name(entry.therapist) if entry.therapist is not None else "the therapist"
        reason = f": {entry.reason}" if entry.reason else ""
        cause = (f"{name} is off{reason}" if change.action is not Action.DELETE
                 else f"{name}'s time off removed")
    return pairs, cause


_WORDS = {"home_lat": "home base", "home_lon": "home base", "shifts": "working hours",
          "break_start": "lunch break", "break_end": "lunch break", "break_minutes": "lunch break",
          "max_visits_per_day": "daily limits", "max_hands_on_minutes": "daily limits",
          "lat": "location", "lon": "location", "overhead_minutes": "check-in time",
          "hours": "visiting hours", "required_skills": "skills", "preferred_windows":
          "preferred times", "during_treatment_id": "treatment it goes with",
          "duration_minutes": "length", "first_date": "dates", "last_date": "dates",
          "rule": "days", "therapist_id": "therapist", "client_id": "client"}


def _words(names: Iterable[str]) -> str:
    """Field names as people say them: "working hours and lunch break"."""
    words = list(dict.fromkeys(_WORDS.get(name, name.replace("_", " ")) for name in
                               sorted(names)))
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


_TOUCHES = {
    "treatment": _treatment,
    "treatment_exception": _treatment_exception,
    "series": _series,
    "exception": _series_exception,
    "client": _client,
    "therapist": _therapist,
    "facility": _facility,
    "time_off": _time_off,
}
