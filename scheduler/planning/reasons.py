"""Why a visit is left out, in a therapist's words.

From the allowed windows when there is no time for it at all, from the optimizer's typed
reason (:class:`~.answer.Why`) when the day is full: visits named by client initials and time
instead of job ids, daily limits by name, and when the visit could have started.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from scheduler.calendar.day import Visit
from scheduler.calendar.local_time import from_epoch
from scheduler.planning.answer import PlannedRoute, Why
from scheduler.planning.problem import Task

if TYPE_CHECKING:
    from scheduler.planning.gather import DayInput

_NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _count(n: int, one: str, many: str) -> str:
    word = _NUMBERS[n] if n < len(_NUMBERS) else str(n)
    return f"{word} {one if n == 1 else many}"


def clock_text(seconds: int, zone: ZoneInfo) -> str:
    return from_epoch(seconds, zone).strftime("%H:%M")


def _windows_text(task: Task, zone: ZoneInfo) -> str:
    parts = []
    for start, end in task.windows:
        parts.append(clock_text(start, zone) if start == end
                     else f"{clock_text(start, zone)}–{clock_text(end, zone)}")
    return ", ".join(parts)


def no_window_reason(visit: Visit) -> str:
    """Why a visit has no allowed time at all, from its availability's words.

    When some free time is left but too short, those stretches say it best; when none is
    left, the rules that took the day are named.
    """
    reasons = list(visit.availability.reasons)
    short = [r for r in reasons if r.startswith(("only free", "the fixed start"))]
    return "; ".join(short or reasons) or "no allowed time that day"


def no_time_left_reason(day_input: DayInput, candidates: tuple[int, ...]) -> str:
    replanning = [day_input.starts[i] for i in candidates
                  if i in day_input.starts and day_input.starts[i].replan_at is not None]
    if replanning:
        return (f"no working time is left after the re-plan at "
                f"{clock_text(replanning[0].not_before, day_input.zone)}")
    return "the therapist does not work that day"


def left_out_reason(why: Why, task: Task, routes: Mapping[int, PlannedRoute],
                     day_input: DayInput) -> str:
    """The optimizer's reason in a therapist's words: visits by client initials and time
    instead of job ids, daily limits by name, and when the visit could have started.

    A visit several therapists could take was offered to each in turn; the words say so and
    give the last one's reason: "the day is full for each of the 2 therapists who could take
    it; Joel: left out for three higher-priority visits (ER at 13:00, ...)".
    """
    when = f"it may start {_windows_text(task, day_input.zone)}"
    could = len(day_input.candidates.get(task.key, ()))
    last = day_input.names.get(why.tried[-1], "") if why.tried else ""
    shared = f" for each of the {could} therapists who could take it; {last}: " \
        if could > 1 and last else ": "
    limit = _limit_reached(task, why, routes, day_input)
    if limit:
        return f"the day is full{shared}{limit}; {when}"
    if why.kind == "full" and why.rivals:
        return f"the day is full{shared}{_rivals_text(why, task, routes, day_input)}; {when}"
    if why.kind == "full":
        return f"{why.text}; {when}"
    return f"cannot be fitted into the day even on its own{shared}{why.text}; {when}"


def _rivals_text(why: Why, task: Task, routes: Mapping[int, PlannedRoute],
                 day_input: DayInput) -> str:
    """ "left out for two higher-priority visits (CA at 11:00, LC at 12:02)" """
    total = len(why.rivals) + why.more
    higher = all(priority > task.priority for _, priority in why.rivals)
    kinds = (("higher-priority visit", "higher-priority visits") if higher else
             ("visit of equal or higher priority", "visits of equal or higher priority"))
    named = ", ".join(_describe_visit(key, routes, day_input) for key, _ in why.rivals)
    extra = f" and {why.more} more" if why.more else ""
    return f"left out for {_count(total, *kinds)} ({named}{extra})"


def _limit_reached(task: Task, why: Why, routes: Mapping[int, PlannedRoute],
                   day_input: DayInput) -> str:
    """The daily limit the last therapist who tried the visit has reached, in words."""
    workers = {w.therapist_id: w for w in day_input.workers}
    worker = workers.get(why.tried[-1]) if why.tried else None
    if worker is None:
        return ""
    route = routes.get(worker.therapist_id)
    legs = route.legs if route else ()
    if worker.max_visits is not None and len(legs) >= worker.max_visits:
        return f"the limit of {worker.max_visits} visits a day is reached"
    if worker.max_hands_on_minutes is not None and (
            sum(leg.task.minutes for leg in legs) + task.minutes > worker.max_hands_on_minutes):
        return (f"{task.minutes} more minutes would pass the limit of "
                f"{worker.max_hands_on_minutes} hands-on minutes a day")
    return ""


def _describe_visit(key: str, routes: Mapping[int, PlannedRoute], day_input: DayInput) -> str:
    visit = day_input.visits[key]
    for route in routes.values():
        for leg in route.legs:
            if leg.task.key == key:
                return f"{visit.client.initials} at {clock_text(leg.start, day_input.zone)}"
    return visit.client.initials
