"""Why a visit is left out, in a therapist's words.

From the allowed windows when there is no time for it at all, from the optimizer's typed
reason (:class:`~.answer.Why`) when the day is full: visits named by client initials and time
instead of job ids, daily limits by name, and when the visit could have started.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from scheduler.calendar.day import Visit
from scheduler.calendar.local_time import from_epoch
from scheduler.planning.answer import PlannedRoute, Why
from scheduler.planning.problem import Task

if TYPE_CHECKING:
    from scheduler.planning.gather import DayInput, Start

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
    if why.kind == "full" and why.rule == "order":
        return f"{_order_text(why, task, routes, day_input)}; {when}"
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


def client_class_words(codes: Sequence[str], day_input: DayInput) -> str:
    """"neutropenic", "contact-isolation and droplet-isolation": the flags that give a client
    their infection-control class, as words."""
    flags = day_input.infection.class_flags(codes)
    return " and ".join(code.replace("_", "-") for code in flags) or "other"


def _order_text(why: Why, task: Task, routes: Mapping[int, PlannedRoute],
                day_input: DayInput) -> str:
    """The infection-control order in the way: "the neutropenic client can't be seen after
    the contact-isolation visit RA at 08:00, and no time before it fits"."""
    visit = day_input.visits[task.key]
    mine = client_class_words(visit.client.precaution_flags or (), day_input)
    rivals = sorted((key for key, _ in why.rivals), key=lambda key: _start_of(key, routes))
    named = [f"the {_class_of_visit(key, day_input)}visit "
             f"{_describe_visit(key, routes, day_input)}" for key in rivals]
    named_text = ", ".join(named) + (f" and {why.more} more" if why.more else "")
    them = "it" if len(rivals) + why.more == 1 else "them"
    if task.order_class == 0:
        return (f"the {mine} client can't be seen after {named_text} "
                f"(infection-control order), and no time before {them} fits")
    if task.order_class == 2:
        return (f"the {mine} client can't be seen before {named_text} "
                f"(infection-control order), and no time after {them} fits")
    return (f"this visit must come after the protected clients and before the isolation rooms "
            f"(infection-control order: {named_text}), and no time between them fits")


def _class_of_visit(key: str, day_input: DayInput) -> str:
    """"neutropenic " or "contact-isolation " (with the space), or "" for a visit of no class."""
    flags = day_input.infection.class_flags(day_input.visits[key].client.precaution_flags or ())
    return " and ".join(code.replace("_", "-") for code in flags) + " " if flags else ""


def _start_of(key: str, routes: Mapping[int, PlannedRoute]) -> int:
    return next((leg.start for route in routes.values() for leg in route.legs
                 if leg.task.key == key), 0)


def after_done_reason(visit: Visit, start: Start, day_input: DayInput) -> str:
    """A re-planned day has already seen a client of a higher class (an isolation room) than
    this visit's: it cannot come after it any more."""
    mine = client_class_words(visit.client.precaution_flags or (), day_input)
    done = start.floor_visit
    assert done is not None
    theirs = client_class_words(done.client.precaution_flags or (), day_input)
    at = done.start_at.astimezone(day_input.zone).strftime("%H:%M")
    return (f"the {mine} client can't be seen after the {theirs} visit at {at}, which is done "
            "(infection-control order)")


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
