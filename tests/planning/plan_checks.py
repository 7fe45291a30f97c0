"""Rules every saved day plan must keep, checked from the records, not from the planner's
own intermediate results.

Treatments (with their last date and their cancelled and moved occurrences), visiting hours,
shifts and preferred windows are recomputed here from the model rows with dateutil's RFC 5545
expansion and zoneinfo, independently of ``scheduler.calendar``: a mistake there would
otherwise be copied into the very check meant to catch it. Each check returns a list of
violations in words (empty when the plan keeps the rule), so a failing test shows all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from scheduler import models
from scheduler.models import DayPlan, PlanStop, StopState, TreatmentPolicy

Span = tuple[datetime, datetime]  # aware, UTC


def local(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """A wall-clock time on ``day`` as an aware UTC instant (zoneinfo's reading: a time in the
    spring gap is read with the offset before the gap)."""
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def treatment_spans(treatment: models.Treatment, day: date, zone: ZoneInfo,
                    buffers: bool = True) -> list[Span]:
    """Occurrences of ``treatment`` that touch ``day`` (one that starts the day before may reach
    into it), as UTC spans, buffers included when ``buffers``.

    The treatment's last date and its changed occurrences apply, read from the rows here: an
    occurrence after ``last_date`` does not happen; a cancelled one is gone; a moved one
    happens at its new date, start and length (an exception on a date the rule does not give
    changes nothing).
    """
    rule = rrulestr(treatment.rule, dtstart=datetime.combine(treatment.first_date,
                                                             treatment.start_time))
    last = treatment.last_date
    changes = {e.original_date: e for e in treatment.exceptions}
    wanted: list[tuple[date, time, int]] = []  # where, start, minutes
    for naive in rule.between(datetime.combine(day - timedelta(days=1), time()),
                              datetime.combine(day + timedelta(days=1), time(23, 59)), inc=True):
        if (last is None or naive.date() <= last) and naive.date() not in changes:
            wanted.append((naive.date(), treatment.start_time, treatment.duration_minutes))
    for original, change in changes.items():
        action = str(getattr(change.action, "value", change.action))
        gives = rule.between(datetime.combine(original, time()),
                             datetime.combine(original, time(23, 59, 59)), inc=True)
        if action == "cancel" or not gives or (last is not None and original > last):
            continue
        wanted.append((change.new_date or original, change.new_start_time or treatment.start_time,
                       change.new_duration_minutes or treatment.duration_minutes))
    before = timedelta(minutes=treatment.buffer_before_minutes if buffers else 0)
    after = timedelta(minutes=treatment.buffer_after_minutes if buffers else 0)
    spans = []
    for where, start, minutes in wanted:
        begin = local(where, start, zone)
        spans.append((begin - before, begin + timedelta(minutes=minutes) + after))
    day_start = local(day, time(), zone)
    day_end = local(day + timedelta(days=1), time(), zone)
    return sorted((a, b) for a, b in spans if a < day_end and b > day_start)


def weekly_spans(rows: Iterable[object], day: date, zone: ZoneInfo, start: str,
                 end: str) -> list[Span]:
    """Shift or visiting-hours rows of ``day``'s weekday as UTC spans."""
    return [(local(day, getattr(r, start), zone), local(day, getattr(r, end), zone))
            for r in rows if r.weekday == day.weekday()]


def inside(span: Span, spans: Sequence[Span]) -> bool:
    return any(a <= span[0] and span[1] <= b for a, b in spans)


def overlaps(span: Span, other: Span) -> bool:
    return span[0] < other[1] and other[0] < span[1]


def _visit(stop: PlanStop) -> str:
    return f"stop {stop.position} (series {stop.series_id}) on {stop.occurrence_date}"


# ---------------------------------------------------------------------------------------------


def check_plan(plan: DayPlan, zone: ZoneInfo) -> list[str]:
    """Every rule one therapist's saved plan must keep."""
    problems: list[str] = []
    # A skipped visit keeps its planned times as a record but takes no time: others may be
    # planned over it. Its own rules (treatments, hours) still held when it was planned.
    stops = sorted((s for s in plan.stops if s.state != StopState.SKIPPED),
                   key=lambda s: s.position)
    therapist = plan.therapist
    shift = weekly_spans(therapist.shifts, plan.day, zone, "start", "end")
    for stop in plan.stops:
        problems += check_stop(stop, plan.day, zone, shift)
    problems += check_records(plan)
    problems += check_sequence(plan, stops, shift)
    problems += check_break(plan, stops, zone, shift)
    problems += check_limits(plan, stops)
    problems += check_infection_order(plan)
    for entry in plan.unplaced or []:
        reason = entry.get("reason")
        if not isinstance(reason, str) or len(reason) < 15:
            problems.append(f"unplaced series {entry.get('series_id')}: no reason in words")
        elif "(priority" in reason or "job" in reason:
            problems.append(f"unplaced series {entry.get('series_id')}: optimizer terms in "
                            f"{reason!r}")
    return problems


def check_stop(stop: PlanStop, day: date, zone: ZoneInfo, shift: Sequence[Span]) -> list[str]:
    """Treatments (avoid and during), visiting hours, shift, preferred windows, length."""
    problems = []
    span = (stop.start_at, stop.end_at)
    series = stop.series
    what = _visit(stop)
    if stop.end_at - stop.start_at != timedelta(minutes=_length(series, stop)):
        problems.append(f"{what}: lasts {stop.end_at - stop.start_at}, not the series' length")
    for treatment in stop.client.treatments:
        if treatment.policy == TreatmentPolicy.AVOID:
            for block in treatment_spans(treatment, day, zone):
                if overlaps(span, block):
                    problems.append(f"{what}: overlaps {treatment.kind} {block[0]:%H:%M}–"
                                    f"{block[1]:%H:%M} UTC (buffers included)")
    if series.during_treatment is not None:
        spans = treatment_spans(series.during_treatment, day, zone, buffers=False)
        if not inside(span, spans):
            problems.append(f"{what}: not inside its {series.during_treatment.kind}")
    hours = weekly_spans(stop.facility.hours, day, zone, "open", "close")
    if not inside(span, hours):
        problems.append(f"{what}: outside the facility's visiting hours")
    if not inside(span, shift):
        problems.append(f"{what}: outside the therapist's shift")
    if series.preferred_windows:
        wanted = [(local(day, time.fromisoformat(a), zone), local(day, time.fromisoformat(b), zone))
                  for a, b in series.preferred_windows]
        if not inside(span, wanted):
            problems.append(f"{what}: outside its preferred windows")
    if series.therapist_id is not None and series.therapist_id != stop.plan.therapist_id:
        problems.append(f"{what}: belongs to therapist {series.therapist_id}")
    if not set(series.required_skills or []) <= set(stop.plan.therapist.skills or []):
        problems.append(f"{what}: the therapist lacks {series.required_skills}")
    return problems


def check_records(plan: DayPlan) -> list[str]:
    """Each visit still to be made is one the records hold today: the therapist, the client
    and the series active; the series' rule gives the occurrence (within its dates), no
    exception cancels it and it happens on this day (or was moved to it); the therapist is not
    off and the practice not closed. Read from the rows with dateutil, not the calendar code.
    """
    from sqlalchemy import or_, select
    from sqlalchemy.orm import object_session

    problems = []
    todo = [s for s in plan.stops if s.state == StopState.PLANNED]
    if not todo:
        return []
    if not plan.therapist.active:
        problems.append("the therapist is inactive")
    session = object_session(plan)
    assert session is not None
    away = session.scalars(select(models.TimeOff).where(
        models.TimeOff.first_day <= plan.day, models.TimeOff.last_day >= plan.day,
        or_(models.TimeOff.therapist_id.is_(None),
            models.TimeOff.therapist_id == plan.therapist_id))).all()
    if away:
        problems.append(f"visits on a day off: {[entry.reason for entry in away]}")
    for stop in todo:
        series, what = stop.series, _visit(stop)
        if not series.active or not stop.client.active:
            problems.append(f"{what}: the series or its client is inactive")
        changed = {e.original_date: e for e in series.exceptions}.get(stop.occurrence_date)
        action = str(getattr(changed.action, "value", changed.action)) if changed else ""
        if action == "cancel":
            problems.append(f"{what}: the occurrence is cancelled")
        happens_on = (changed.new_date or stop.occurrence_date) if action == "move" \
            else stop.occurrence_date
        if happens_on != plan.day:
            problems.append(f"{what}: happens on {happens_on}, not {plan.day}")
        if not _rule_gives(series, stop.occurrence_date):
            problems.append(f"{what}: the series gives no occurrence on {stop.occurrence_date}")
    return problems


def _rule_gives(series: models.AppointmentSeries, day: date) -> bool:
    if day < series.first_date or (series.last_date is not None and day > series.last_date):
        return False
    if series.rule is None:
        return day == series.first_date
    rule = rrulestr(series.rule, dtstart=datetime.combine(series.first_date, time()))
    return bool(rule.between(datetime.combine(day, time()), datetime.combine(day, time(23, 59)),
                             inc=True))


def _length(series: models.AppointmentSeries, stop: PlanStop) -> int:
    for exception in series.exceptions:
        if exception.original_date == stop.occurrence_date and exception.new_duration_minutes:
            return exception.new_duration_minutes
    return series.duration_minutes


def check_sequence(plan: DayPlan, stops: Sequence[PlanStop], shift: Sequence[Span]) -> list[str]:
    """Stops one after another with time to drive; leave and return inside the shift; the
    building overhead paid once per arrival from elsewhere."""
    problems = []
    if stops and plan.leave_home_at is not None and plan.back_home_at is not None:
        if not inside((plan.leave_home_at, plan.back_home_at), shift):
            problems.append("leaving and coming home are not inside the shift")
    previous: PlanStop | None = None
    for stop in stops:
        what = _visit(stop)
        if stop.start_at < stop.arrive_at + timedelta(minutes=stop.overhead_minutes):
            problems.append(f"{what}: starts before arriving and checking in")
        if previous is not None:
            if stop.arrive_at < previous.end_at:
                problems.append(f"{what}: arrives before the previous visit ends")
            if stop.arrive_at - previous.end_at < timedelta(minutes=stop.drive_minutes - 1):
                problems.append(f"{what}: less time than the {stop.drive_minutes} min drive")
            same = previous.facility_id == stop.facility_id
            if same and (stop.overhead_minutes or stop.drive_km):
                problems.append(f"{what}: pays a check-in or drives within one building")
        if (previous is None or previous.facility_id != stop.facility_id) \
                and stop.overhead_minutes != stop.facility.overhead_minutes:
            problems.append(f"{what}: overhead {stop.overhead_minutes} min, the building's is "
                            f"{stop.facility.overhead_minutes}")
        previous = stop
    return problems


def check_break(plan: DayPlan, stops: Sequence[PlanStop], zone: ZoneInfo,
                shift: Sequence[Span]) -> list[str]:
    """The break is taken inside its window and the shift, touching no visit, unless the
    day has no visits or the break fits outside the working hours (after a short shift)."""
    therapist = plan.therapist
    minutes = therapist.break_minutes or 0
    if not stops or minutes == 0 or therapist.break_start is None:
        return []
    opens = local(plan.day, therapist.break_start, zone)
    closes = local(plan.day, therapist.break_end, zone)
    length = timedelta(minutes=minutes)
    if plan.break_start_at is None:
        work = (min(a for a, _ in shift), max(b for _, b in shift))
        outside = max(timedelta(0), min(closes, work[0]) - opens) + \
            max(timedelta(0), closes - max(opens, work[1]))
        if plan.replanned_at is None and outside < length:
            return ["no break planned although the shift covers the break window"]
        return []
    taken = (plan.break_start_at, plan.break_end_at)
    problems = []
    if taken[1] - taken[0] != length:
        problems.append(f"the break lasts {taken[1] - taken[0]}, not {minutes} min")
    if taken[0] < opens or taken[1] > closes:
        problems.append("the break is outside its window")
    if not inside(taken, shift):
        problems.append("the break is outside the shift")
    for stop in stops:
        if overlaps(taken, (stop.start_at, stop.end_at)):
            problems.append(f"the break overlaps {_visit(stop)}")
    return problems


PROTECT_FLAGS = frozenset({"neutropenic"})
ISOLATION_FLAGS = frozenset({"contact_isolation", "droplet_isolation", "airborne_isolation",
                             "enteric_contact_isolation"})


def check_infection_order(plan: DayPlan, protect: frozenset[str] = PROTECT_FLAGS,
                          isolation: frozenset[str] = ISOLATION_FLAGS) -> list[str]:
    """No client to be shielded (``protect`` flags) after one of no class, and no client of
    no class after one who may carry something (``isolation`` flags; a client with both kinds
    counts as isolation), over the visits actually made or to be made (not skipped), in time
    order. Written from the rule, with the flag lists given here, not the settings' code."""
    def rank(stop: PlanStop) -> int:
        flags = set(stop.client.precaution_flags or [])
        return 2 if flags & isolation else 0 if flags & protect else 1

    problems = []
    seen: PlanStop | None = None
    for stop in sorted((s for s in plan.stops if s.state != StopState.SKIPPED),
                       key=lambda s: s.start_at):
        if seen is not None and rank(stop) < rank(seen):
            problems.append(f"{_visit(stop)} (class {rank(stop)}) after {_visit(seen)} "
                            f"(class {rank(seen)})")
        if seen is None or rank(stop) > rank(seen):
            seen = stop
    return problems


def check_limits(plan: DayPlan, stops: Sequence[PlanStop]) -> list[str]:
    therapist = plan.therapist
    problems = []
    if therapist.max_visits_per_day is not None and len(stops) > therapist.max_visits_per_day:
        problems.append(f"{len(stops)} visits, more than the limit")
    minutes = sum((s.end_at - s.start_at).total_seconds() / 60 for s in stops)
    if therapist.max_hands_on_minutes is not None and minutes > therapist.max_hands_on_minutes:
        problems.append(f"{minutes:.0f} hands-on minutes, more than the limit")
    return problems
