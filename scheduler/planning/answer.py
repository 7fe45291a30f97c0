"""Step 6 of the day-planning pipeline, first half: the optimizer's answer in our own terms.

:func:`read_solution` turns the typed solution back into :class:`PlannedRoute` values (which
visit, when, the drive that leads to it, the check-in paid) and :class:`Unserved` tasks;
:func:`explain` turns the optimizer's typed reason for a visit left out into a :class:`Why`
with our names (task keys, skill names), never by parsing its words. :mod:`.reasons` words
them for people. Pure functions of plain values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scheduler.optimizer.reasons import Reason
from scheduler.optimizer.schedule import TimedRoute
from scheduler.optimizer.solution import Solution
from scheduler.planning.problem import BuiltProblem, Pause, Task, pauses_sorted, whole_minutes


@dataclass(frozen=True)
class PlannedVisit:
    """A visit on a route, with the drive that leads to it."""

    task: Task
    arrive: int  # reaching the building (before any overhead)
    start: int  # the hands-on visit starts
    end: int
    drive_seconds: int
    drive_metres: int
    overhead: int  # paid on this arrival (0 after a visit in the same building)


@dataclass(frozen=True)
class Taken:
    """A break as planned: which pause, from when to when."""

    pause: Pause
    start: int
    end: int


@dataclass(frozen=True)
class PlannedRoute:
    """One therapist's planned day: leave, visits in order, breaks, back."""

    therapist_id: int
    leave: int
    back: int
    legs: tuple[PlannedVisit, ...]
    breaks: tuple[Taken, ...]
    home_drive_seconds: int  # the last leg, back to the end place
    home_drive_metres: int

    @property
    def drive_seconds(self) -> int:
        return sum(leg.drive_seconds for leg in self.legs) + self.home_drive_seconds

    @property
    def drive_metres(self) -> int:
        return sum(leg.drive_metres for leg in self.legs) + self.home_drive_metres


@dataclass(frozen=True)
class Unserved:
    """A task the optimizer did not place, with its reason (the optimizer's, typed)."""

    task: Task
    reason: Reason


def read_solution(built: BuiltProblem,
                  solution: Solution) -> tuple[list[PlannedRoute], list[Unserved]]:
    """The routes and left-out tasks of the optimizer's answer to ``built`` (a success).

    Drives are read from our matrices (without the overhead folded into the optimizer's
    durations), times from the solution, so the arrival at a building is the optimizer's
    arrival minus the overhead paid there.
    """
    if not solution.is_feasible() or solution.problem is None:
        raise ValueError(f"the optimizer failed: {solution.error or 'no error given'}")
    jobs = solution.problem.jobs
    routes = [_route(built, solution, timed) for timed in solution.routes]
    left_out = [Unserved(built.tasks[jobs[item.job].id], item.reason)
                for item in solution.unassigned]
    return routes, left_out


def _route(built: BuiltProblem, solution: Solution, timed: TimedRoute) -> PlannedRoute:
    assert solution.problem is not None
    vehicle = solution.problem.vehicles[timed.vehicle]
    jobs = solution.problem.jobs
    worker = built.workers[vehicle.id]
    pauses = pauses_sorted(worker)
    travel = built.travel
    here = worker.start
    legs: list[PlannedVisit] = []
    breaks: list[Taken] = []
    in_gap: list[Taken] = []  # breaks since the last visit
    leave = back = ready = 0
    for step in timed.steps:
        if step.kind == "start":
            leave = ready = step.arrival
        elif step.kind == "break":
            # break ids are 1, 2, ... in the order of pauses_sorted (see build_problem)
            taken = Taken(pauses[vehicle.breaks[step.index].id - 1], step.start,
                          step.start + step.service)
            breaks.append(taken)
            in_gap.append(taken)
        elif step.kind == "job":
            task = built.tasks[jobs[step.index].id]
            seconds, metres = travel.drive(here, task.place)
            arrive = arrival_time(ready, whole_minutes(seconds), in_gap)
            start = step.start + step.setup
            legs.append(PlannedVisit(task, arrive, start, start + step.service, seconds, metres,
                            travel.overhead(here, task.place)))
            here, ready, in_gap = task.place, start + step.service, []
        else:
            back = step.arrival
    home_seconds, home_metres = travel.drive(here, worker.end)
    return PlannedRoute(worker.therapist_id, leave, back, tuple(legs), tuple(breaks),
                 home_seconds, home_metres)


def arrival_time(ready: int, drive: int, breaks: Sequence[Taken]) -> int:
    """When the therapist reaches the next building: driving from ``ready`` as soon as
    possible, the drive interrupted by any break that starts before it would end.

    (The optimizer's own arrival counts the check-in as part of the leg, so with a break in
    the gap it is not simply the arrival minus the overhead.)
    """
    clock, left = ready, drive
    for pause in breaks:
        if pause.start >= clock + left:
            break
        left -= max(0, pause.start - clock)
        clock = pause.end
    return clock + left


@dataclass(frozen=True)
class Why:
    """The optimizer's reason for leaving a task out, with its ids turned into our names.

    ``kind`` is "full" (it lost to other visits, named in ``rivals`` as (task key, priority),
    ``more`` unnamed ones) or "impossible" (no room even alone; ``rule`` is the optimizer's
    code of the rule broken, ``skills`` the skill names it is about, ``text`` says it in
    words). ``tried`` lists the therapists whose problems left it out, last one last.
    """

    kind: str
    text: str
    rivals: tuple[tuple[str, int], ...] = ()
    more: int = 0
    tried: tuple[int, ...] = ()
    rule: str = ""
    skills: tuple[str, ...] = ()


def explain(built: BuiltProblem, reason: Reason, tried: tuple[int, ...]) -> Why:
    """One of the optimizer's reasons in our terms: job ids as task keys, skills by name.

    ``text`` is the reason's headline (for "full" without the rivals, which planning words
    itself; for "impossible" the rule broken without the ``impossible: `` prefix).
    """
    def skill_name(number: int) -> str:
        return built.skill_names.get(number, str(number))

    rivals = tuple((built.tasks[job].key, priority) for job, priority in reason.rivals
                   if job in built.tasks)
    return Why(reason.kind, reason.headline(skill_name), rivals, reason.more, tried,
               reason.rule, tuple(skill_name(n) for n in reason.skills))
