"""Is a saved plan still safe to follow? Each stop checked against the records as they are now.

A plan is made from the records of its time; the records change. Before a plan is shown as
current or sent (the day page and its map, the API, the calendar feed, the morning e-mail and
any update), :func:`check_plan` re-derives each stop still to be made from today's records,
with the calendar's own rules (:mod:`scheduler.calendar`): every ``avoid`` treatment with its
buffers, a ``during`` visit inside its occurrence (as moved or cancelled), the visiting hours,
the therapist's shift and time off and practice closures, the client, series and therapist
still active and the visit still theirs, its length, and the infection-control order of the
day. A stop that fails is
named with the reason in words ("do not visit: …"); visits already done or skipped are past.
A visit the therapist has arrived at is still to be made (the session has not begun): it is
checked too, so a treatment moved onto it meanwhile still warns them in the room.

The re-planner answers stale days within a minute; this check is what keeps a plan that has
not been re-planned yet (or cannot be) from being followed blindly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from scheduler.calendar.day import (
    DayCalendar,
    PracticeSnapshot,
    TherapistDay,
    Visit,
    day_calendar,
    load_practice,
)
from scheduler.calendar.local_time import to_epoch
from scheduler.models import TO_MAKE, DayPlan, PlanStop, StopState
from scheduler.records.precautions import InfectionControl
from scheduler.settings import Settings

GONE = ("the visit is no longer on the calendar: cancelled, moved to another day, or its "
        "client or series is no longer active")


def check_plan(session: Session, plan: DayPlan, settings: Settings) -> dict[int, str]:
    """Stop id -> why the stop must not be made now, for each stop still to be made that the
    records as they are now forbid; empty when the plan is still safe to follow."""
    calendar = day_calendar(snapshot_for(session, [plan]), plan.day, settings.zone)
    return stop_problems(plan, calendar, settings.infection_control.rule())


def snapshot_for(session: Session, plans: Sequence[DayPlan]) -> PracticeSnapshot:
    """The records ``plans`` are checked against: their therapists and their stops' series
    (with clients, treatments and buildings), and the time off; not the whole practice."""
    return load_practice(session, {plan.therapist_id for plan in plans},
                         {stop.series_id for plan in plans for stop in plan.stops})


def stop_problems(plan: DayPlan, calendar: DayCalendar,
                  infection: InfectionControl) -> dict[int, str]:
    """:func:`check_plan` on a calendar already computed (a pure function of both)."""
    todo = sorted((s for s in plan.stops if s.state in TO_MAKE),
                  key=lambda s: s.start_at)
    if not todo:
        return {}
    therapist_day = next((t for t in calendar.therapists
                          if t.therapist.id == plan.therapist_id), None)
    if therapist_day is None:
        return {stop.id: "the therapist's account is no longer active" for stop in todo}
    visits: dict[str, Visit] = {v.key: v for v in therapist_day.visits}
    visits.update({v.key: v for v in calendar.open_visits})
    problems: dict[int, str] = {}
    for stop in todo:
        words = _stop_problem(stop, visits.get(_key(stop)), therapist_day, calendar)
        if words:
            problems[stop.id] = words
    for stop, words in _order_problems(plan, infection, calendar.zone).items():
        problems.setdefault(stop.id, words)
    return problems


def _key(stop: PlanStop) -> str:
    return f"{stop.series_id}:{stop.occurrence_date.isoformat()}"


def _stop_problem(stop: PlanStop, visit: Visit | None, therapist_day: TherapistDay,
                  calendar: DayCalendar) -> str:
    if visit is None:
        return GONE
    therapist = therapist_day.therapist
    if visit.therapist_id is not None and visit.therapist_id != therapist.id:
        return "the visit now belongs to another therapist"
    if visit.therapist_id is None and not set(visit.series.required_skills or []) <= set(
            therapist.skills or []):
        return "the therapist no longer has the skills this open visit needs"
    length = round((stop.end_at - stop.start_at) / timedelta(minutes=1))
    if length != visit.duration_minutes:
        return (f"the visit now lasts {visit.duration_minutes} min, not the {length} min "
                "planned")
    start, end = to_epoch(stop.start_at), to_epoch(stop.end_at)
    if not visit.availability.fits(start):
        return "; ".join(visit.availability.why_not(start)) or "its time is no longer allowed"
    if visit.therapist_id is None:  # an open visit's windows leave the shift to the vehicle
        shift = therapist_day.shift
        if not any(f.start <= start and end <= f.end for f in shift.free):
            off = therapist_day.off
            return off or "outside the therapist's working time that day"
    return ""


def _order_problems(plan: DayPlan, infection: InfectionControl,
                    zone: ZoneInfo) -> Mapping[PlanStop, str]:
    """Stops the infection-control order forbids where they are: after a visit of a higher
    class (a done one included: the therapist has been in that room)."""
    problems: dict[PlanStop, str] = {}
    made = sorted((s for s in plan.stops if s.state != StopState.SKIPPED),
                  key=lambda s: s.start_at)
    highest: tuple[int, PlanStop] | None = None
    for stop in made:
        order = infection.order_class(stop.client.precaution_flags or ())
        if order is None:
            return {}
        if highest is not None and order < highest[0] and stop.state in TO_MAKE:
            mine = _class_words(stop, infection)
            theirs = _class_words(highest[1], infection)
            at = highest[1].start_at.astimezone(zone)
            problems[stop] = (f"the {mine} client can't be seen after the {theirs} visit "
                              f"at {at:%H:%M} (infection-control order)")
        if highest is None or order > highest[0]:
            highest = (order, stop)
    return problems


def _class_words(stop: PlanStop, infection: InfectionControl) -> str:
    flags = infection.class_flags(stop.client.precaution_flags or ())
    return " and ".join(code.replace("_", "-") for code in flags) or "other"
