"""Steps 4 and 5 of the day-planning pipeline: visits, therapists and travel -> optimizer
problems -> timed routes. Pure functions of plain values.

:mod:`scheduler.planning` gathers the day (the calendar, pins, what is already done) into
:class:`Task`, :class:`Worker` and :class:`Travel` values; :func:`build_problem` turns them into
the optimizer's VROOM-style JSON, :func:`read_solution` turns its typed answer back into
:class:`Route` values in our own terms (which visit, when, which leg, which overhead; why a
visit is left out, from the optimizer's typed reasons, never by parsing its words), and
:func:`solve_day` is how a whole day is solved (see there). Nothing here touches the
database, the clock or the network, so every rule is tested on hand-made values.

How our rules map onto VROOM's vocabulary:

- **who may do a visit**: VROOM's integer *skills*. Every therapist holds one token of their
  own (``therapist:<id>``) besides their skills; a visit of a fixed therapist asks for that
  token, an open visit asks for its series' skills. :func:`build_problem` numbers the names.
- **when**: a task's ``windows`` bound the start of the hands-on visit, in Unix seconds (the
  allowed windows of :mod:`scheduler.availability`, or the single instant of a pin).
- **facility overhead** (parking, badge, check-in) is paid once per building: each facility is
  *one* location, and the overhead is added to the travel time of every leg that *arrives* at
  that location from another one. Two clients in one nursing home: one check-in, and the leg
  between them costs nothing. We do not use VROOM's ``setup`` for it, though it means the same,
  because VROOM's time windows bound the start of the *setup*: a visit that follows another in
  the same building (no setup paid) could then start up to one overhead earlier than its window
  allows, i.e. inside a treatment's buffer. With the overhead on the leg the windows bound the
  visit itself, exactly, whichever visit comes before. The price: the optimizer's travel cost
  counts check-ins as driving, which only makes it favour fewer buildings.
- **lunch**: a VROOM break with one window (start from the break window's start until its end
  minus the break's length). A split shift's gap is a break too, with a single start instant,
  so nothing is planned in it.
- **whole minutes**: drive times are rounded *up* to whole minutes before they reach the
  optimizer. Windows, visits and breaks are whole minutes already, so every time of a plan is
  a whole minute (an itinerary says 10:02, not 10:01:23), at the cost of under a minute of
  slack per leg.
- **daily limits**: ``max_visits_per_day`` is ``max_tasks``; ``max_hands_on_minutes`` is a
  one-dimensional ``capacity`` that each visit's minutes are delivered from.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from scheduler.optimizer import Reason, Solution, TimedRoute, solve

Interval = tuple[int, int]
Point = tuple[float, float]  # (latitude, longitude)

NO_LIMIT_MINUTES = 100_000
"""Hands-on capacity of a therapist without a limit, when another therapist has one."""


def therapist_token(therapist_id: int) -> str:
    """The skill only this therapist holds: fixed-therapist visits ask for it."""
    return f"therapist:{therapist_id}"


# ---------------------------------------------------------------------------------------------
# What goes in


@dataclass(frozen=True)
class Place:
    """A location of the problem: a facility, a home, or where the therapist is now.

    ``overhead`` (seconds) is paid on arriving here from any other place.
    """

    key: str
    point: Point
    overhead: int = 0


@dataclass(frozen=True)
class Task:
    """One visit to plan: where, how long, when it may start, who may do it, how much it matters."""

    key: str  # the visit's key, "series_id:original_date"
    place: str  # a Place key
    service: int  # seconds of hands-on time
    windows: tuple[Interval, ...]  # allowed starts, Unix seconds, inclusive
    skills: frozenset[str]
    priority: int = 50

    @property
    def minutes(self) -> int:
        return -(-self.service // 60)


@dataclass(frozen=True)
class Pause:
    """A break that must start inside ``windows`` and lasts ``seconds``."""

    name: str  # "lunch" or "shift gap"
    windows: tuple[Interval, ...]
    seconds: int


@dataclass(frozen=True)
class Worker:
    """One therapist's day as the optimizer sees it."""

    therapist_id: int
    start: str  # Place keys
    end: str
    window: Interval  # may leave ``start`` from window[0], must be back by window[1]
    skills: frozenset[str]
    pauses: tuple[Pause, ...] = ()
    max_visits: int | None = None
    max_hands_on_minutes: int | None = None


@dataclass(frozen=True)
class Travel:
    """Driving between the places, in the places' order: whole seconds and metres."""

    places: tuple[Place, ...]
    seconds: tuple[tuple[int, ...], ...]
    metres: tuple[tuple[int, ...], ...]
    index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        size = len(self.places)
        if len(self.seconds) != size or len(self.metres) != size or any(
            len(row) != size for grid in (self.seconds, self.metres) for row in grid
        ):
            raise ValueError("travel: the matrices must be square, one row per place")
        index = {place.key: k for k, place in enumerate(self.places)}
        if len(index) != size:
            raise ValueError("travel: place keys must be unique")
        object.__setattr__(self, "index", index)

    def drive(self, origin: str, destination: str) -> tuple[int, int]:
        """(seconds, metres) of driving from one place to another."""
        i, j = self.index[origin], self.index[destination]
        return self.seconds[i][j], self.metres[i][j]

    def overhead(self, origin: str, destination: str) -> int:
        """Overhead due on arriving at ``destination`` from ``origin`` (none within a building)."""
        if origin == destination:
            return 0
        return self.places[self.index[destination]].overhead

    def subset(self, keys: Iterable[str]) -> Travel:
        """The same travel between fewer places (in this travel's order)."""
        wanted = set(keys)
        rows = [k for k, place in enumerate(self.places) if place.key in wanted]
        return Travel(tuple(self.places[k] for k in rows),
                      tuple(tuple(self.seconds[i][j] for j in rows) for i in rows),
                      tuple(tuple(self.metres[i][j] for j in rows) for i in rows))


# ---------------------------------------------------------------------------------------------
# The problem


@dataclass(frozen=True)
class BuiltProblem:
    """The optimizer's input, and what its ids stand for."""

    problem: dict[str, Any]
    tasks: dict[int, Task]  # job id -> task
    workers: dict[int, Worker]  # vehicle id (the therapist id) -> worker
    skill_names: dict[int, str]  # skill number -> name
    travel: Travel


def build_problem(workers: Sequence[Worker], tasks: Sequence[Task], travel: Travel) -> BuiltProblem:
    """The VROOM-style problem for ``workers`` and ``tasks``.

    Job ids are 1, 2, ... in the order of ``tasks``; vehicle ids are the therapist ids; break
    ids are 1, 2, ... per vehicle in the order of its pauses (sorted by their first window).
    Raises ValueError when a task or worker names a place ``travel`` does not have.
    """
    if len({w.therapist_id for w in workers}) != len(workers):
        raise ValueError("workers: each therapist may appear once")
    skill_numbers = _number_skills([w.skills for w in workers] + [t.skills for t in tasks])
    hands_on = any(w.max_hands_on_minutes is not None for w in workers)
    jobs = [_job(k + 1, task, travel, skill_numbers, hands_on) for k, task in enumerate(tasks)]
    vehicles = [_vehicle(worker, travel, skill_numbers, hands_on) for worker in workers]
    size = len(travel.places)
    durations = [
        [_whole_minutes(travel.seconds[i][j]) + (travel.places[j].overhead if i != j else 0)
         for j in range(size)]
        for i in range(size)
    ]
    problem = {
        "vehicles": vehicles,
        "jobs": jobs,
        "matrices": {"car": {"durations": durations,
                             "distances": [list(row) for row in travel.metres]}},
    }
    return BuiltProblem(
        problem=problem,
        tasks={k + 1: task for k, task in enumerate(tasks)},
        workers={w.therapist_id: w for w in workers},
        skill_names={number: name for name, number in skill_numbers.items()},
        travel=travel,
    )


def _whole_minutes(seconds: int) -> int:
    return -(-seconds // 60) * 60


def _number_skills(groups: Iterable[frozenset[str]]) -> dict[str, int]:
    names = sorted(set().union(*groups)) if groups else []
    return {name: k + 1 for k, name in enumerate(names)}


def _place_index(travel: Travel, key: str, where: str) -> int:
    try:
        return travel.index[key]
    except KeyError:
        raise ValueError(f"{where}: unknown place {key!r}") from None


def _job(job_id: int, task: Task, travel: Travel, skills: Mapping[str, int],
         hands_on: bool) -> dict[str, Any]:
    if task.service <= 0:
        raise ValueError(f"task {task.key}: the visit's length must be positive")
    job: dict[str, Any] = {
        "id": job_id,
        "description": task.key,
        "location_index": _place_index(travel, task.place, f"task {task.key}"),
        "service": task.service,
        "priority": task.priority,
        "skills": sorted(skills[name] for name in task.skills),
        "time_windows": [list(w) for w in sorted(task.windows)],
    }
    if hands_on:
        job["delivery"] = [task.minutes]
    return job


def _vehicle(worker: Worker, travel: Travel, skills: Mapping[str, int],
             hands_on: bool) -> dict[str, Any]:
    where = f"therapist {worker.therapist_id}"
    pauses = sorted(worker.pauses, key=lambda p: min(p.windows))
    vehicle: dict[str, Any] = {
        "id": worker.therapist_id,
        "start_index": _place_index(travel, worker.start, where),
        "end_index": _place_index(travel, worker.end, where),
        "time_window": list(worker.window),
        "skills": sorted(skills[name] for name in worker.skills),
        "breaks": [{"id": k + 1, "description": pause.name, "service": pause.seconds,
                    "time_windows": [list(w) for w in sorted(pause.windows)]}
                   for k, pause in enumerate(pauses)],
    }
    if worker.max_visits is not None:
        vehicle["max_tasks"] = worker.max_visits
    if hands_on:
        limit = worker.max_hands_on_minutes
        vehicle["capacity"] = [NO_LIMIT_MINUTES if limit is None else limit]
    return vehicle


def pauses_sorted(worker: Worker) -> list[Pause]:
    """The worker's pauses in break-id order (id k+1 is the k-th of this list)."""
    return sorted(worker.pauses, key=lambda p: min(p.windows))


# ---------------------------------------------------------------------------------------------
# The solution, back in our terms


@dataclass(frozen=True)
class Leg:
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
class Route:
    """One therapist's planned day: leave, visits in order, breaks, back."""

    therapist_id: int
    leave: int
    back: int
    legs: tuple[Leg, ...]
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
class LeftOut:
    """A task the optimizer did not place, with its reason (the optimizer's, typed)."""

    task: Task
    reason: Reason


def read_solution(built: BuiltProblem, solution: Solution) -> tuple[list[Route], list[LeftOut]]:
    """The routes and left-out tasks of the optimizer's answer to ``built`` (a success).

    Drives are read from our matrices (without the overhead folded into the optimizer's
    durations), times from the solution, so the arrival at a building is the optimizer's
    arrival minus the overhead paid there.
    """
    if not solution.is_feasible() or solution.problem is None:
        raise ValueError(f"the optimizer failed: {solution.error or 'no error given'}")
    jobs = solution.problem.jobs
    routes = [_route(built, solution, timed) for timed in solution.routes]
    left_out = [LeftOut(built.tasks[jobs[item.job].id], item.reason)
                for item in solution.unassigned]
    return routes, left_out


def _route(built: BuiltProblem, solution: Solution, timed: TimedRoute) -> Route:
    assert solution.problem is not None
    vehicle = solution.problem.vehicles[timed.vehicle]
    jobs = solution.problem.jobs
    worker = built.workers[vehicle.id]
    pauses = pauses_sorted(worker)
    travel = built.travel
    here = worker.start
    legs: list[Leg] = []
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
            arrive = arrival_time(ready, _whole_minutes(seconds), in_gap)
            start = step.start + step.setup
            legs.append(Leg(task, arrive, start, start + step.service, seconds, metres,
                            travel.overhead(here, task.place)))
            here, ready, in_gap = task.place, start + step.service, []
        else:
            back = step.arrival
    home_seconds, home_metres = travel.drive(here, worker.end)
    return Route(worker.therapist_id, leave, back, tuple(legs), tuple(breaks),
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


# ---------------------------------------------------------------------------------------------
# Why a task was left out, in structured form (planning words it)


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


# ---------------------------------------------------------------------------------------------
# Solving a whole day

MAX_VEHICLES_PER_PROBLEM = 8
"""Therapists in one multi-vehicle problem; a larger day is split into groups of neighbours."""

ROUTE_TIME_LIMIT = 0.2
"""Seconds of OR-Tools search in each therapist's own route solve: the optimizer only needs a
quick starting point there before its exact method (which this does not bound) proves the
best route."""

ASSIGN_SHARE = 0.5
"""Part of the day's time budget given to assigning the shared visits; the rest to offers."""

MAX_OFFERED = 3
"""Visits left out elsewhere offered to one therapist's route solve (nearest first)."""

MAX_ROUTE_POOL = 10
"""Visits in one route solve with offers: the optimizer's exact method (up to 12 visits)
grows steeply with the number of visits; at 12 it took seconds on demo days."""


@dataclass(frozen=True)
class DaySolution:
    """Each therapist's route, why each task left out is out, and the solver's figures."""

    routes: dict[int, Route]
    left_out: dict[str, Why]
    figures: dict[str, Any]


def solve_day(workers: Sequence[Worker], tasks: Sequence[Task], travel: Travel,
              candidates: Mapping[str, Sequence[int]], time_limit: float) -> DaySolution:
    """Plan every worker's day: who takes the shared visits, then each route on its own.

    1. *Assign*: when some task could go to more than one worker (an open visit), one
       multi-vehicle problem per group of at most :data:`MAX_VEHICLES_PER_PROBLEM` neighbouring
       workers decides who takes what; the groups share :data:`ASSIGN_SHARE` of
       ``time_limit``.
    2. *Each route*: every worker's route is solved again alone, over the tasks it was given
       and up to :data:`MAX_OFFERED` tasks still left out that it could take (highest priority
       first, then nearest to where it starts). A one-vehicle problem of up to a dozen visits
       is solved exactly by the optimizer, so each route is the best for what it was given,
       and proved so (``figures["routes_proved_optimal"]``); a visit left out by one worker
       is offered to the next who could take it. Offers stop once ``time_limit`` seconds have
       passed since the start (each route is still solved): proving that an offered visit does
       not fit is what costs time in the exact method.

    ``candidates`` maps a task key to the workers who may take it (its skills already say so;
    this tells own visits from shared ones without decoding skills).
    """
    started = time.perf_counter()
    deadline = started + time_limit
    by_key = {task.key: task for task in tasks}
    order = {task.key: k for k, task in enumerate(tasks)}
    assigned: dict[int, list[str]] = {w.therapist_id: [] for w in workers}
    left_out: dict[str, Why] = {}
    figures: dict[str, Any] = {"assign": [], "routes": []}
    shared = any(len(candidates[t.key]) > 1 for t in tasks)
    if shared and len(workers) > 1:
        groups = _groups(workers, travel)
        for group, group_tasks in _split(groups, tasks, candidates):
            if not group_tasks:
                continue
            routes, out, seconds = _solve_once(group, group_tasks, travel,
                                               time_limit * ASSIGN_SHARE / len(groups))
            for route in routes:
                assigned[route.therapist_id] = [leg.task.key for leg in route.legs]
            left_out.update(out)
            figures["assign"].append({"therapists": len(group), "visits": len(group_tasks),
                                      "seconds": seconds["seconds"]})
    else:
        for task in tasks:
            assigned[candidates[task.key][0]].append(task.key)
    final: dict[int, Route] = {}
    proved = True
    for worker in workers:
        mine = assigned[worker.therapist_id]
        offered = (_offers(worker, mine, left_out, by_key, candidates, travel, order)
                   if time.perf_counter() < deadline else [])
        pool = [by_key[k] for k in mine + offered]
        if not pool:
            continue
        routes, out, seconds = _solve_once([worker], pool, travel, ROUTE_TIME_LIMIT)
        proved = proved and seconds["proved_optimal"]
        for key in [k for k in mine + offered if k not in out]:
            left_out.pop(key, None)
        for key, why in out.items():
            earlier = left_out.get(key)
            tried = (earlier.tried if earlier else ()) + (worker.therapist_id,)
            left_out[key] = replace(why, tried=tried)
        if routes:
            final[worker.therapist_id] = routes[0]
        figures["routes"].append({"therapist": worker.therapist_id, "visits": len(pool),
                                  "seconds": seconds["seconds"],
                                  "proved_optimal": seconds["proved_optimal"]})
    served = [leg.task for route in final.values() for leg in route.legs]
    figures.update(
        seconds=round(time.perf_counter() - started, 3),
        # The whole day is proved best only when no assignment between workers was searched.
        proved_optimal=proved and not figures["assign"],
        routes_proved_optimal=proved,
        objective={"priority": sum(t.priority for t in served), "visits": len(served),
                   "travel_seconds": sum(r.drive_seconds for r in final.values())},
    )
    return DaySolution(final, left_out, figures)


def _offers(worker: Worker, mine: list[str], left_out: Mapping[str, Why],
            tasks: Mapping[str, Task], candidates: Mapping[str, Sequence[int]], travel: Travel,
            order: Mapping[str, int]) -> list[str]:
    """The left-out tasks offered to ``worker``: highest priority, then nearest, first."""
    room = min(MAX_OFFERED, MAX_ROUTE_POOL - len(mine))
    if room <= 0:
        return []
    able = [k for k in left_out if worker.therapist_id in candidates[k] and k not in mine]
    able.sort(key=lambda k: (-tasks[k].priority, travel.drive(worker.start, tasks[k].place)[0],
                             order[k]))
    return able[:room]


def _solve_once(workers: Sequence[Worker], tasks: Sequence[Task], travel: Travel,
                time_limit: float) -> tuple[list[Route], dict[str, Why], dict[str, Any]]:
    """One optimizer run over ``workers`` and ``tasks``, on the places they use."""
    started = time.perf_counter()
    used = {t.place for t in tasks} | {w.start for w in workers} | {w.end for w in workers}
    built = build_problem(workers, tasks, travel.subset(used))
    solution = solve(built.problem, time_limit=time_limit)
    routes, out = read_solution(built, solution)
    tried = tuple(w.therapist_id for w in workers)
    whys = {item.task.key: explain(built, item.reason, tried) for item in out}
    figures = {"seconds": round(time.perf_counter() - started, 3),
               "proved_optimal": solution.proved_optimal}
    return routes, whys, figures


def _groups(workers: Sequence[Worker], travel: Travel) -> list[list[Worker]]:
    """Workers in groups of at most MAX_VEHICLES_PER_PROBLEM neighbours: sectors around the
    centre of their starting points, so each group covers one part of the metro."""
    if len(workers) <= MAX_VEHICLES_PER_PROBLEM:
        return [list(workers)]
    points = [travel.places[travel.index[w.start]].point for w in workers]
    lat = sum(p[0] for p in points) / len(points)
    lon = sum(p[1] for p in points) / len(points)
    ordered = sorted(zip(workers, points, strict=True),
                     key=lambda wp: (math.atan2(wp[1][0] - lat, wp[1][1] - lon),
                                     wp[0].therapist_id))
    count = math.ceil(len(workers) / MAX_VEHICLES_PER_PROBLEM)
    size = math.ceil(len(workers) / count)
    return [[w for w, _ in ordered[k:k + size]] for k in range(0, len(ordered), size)]


def _split(groups: list[list[Worker]], tasks: Sequence[Task],
           candidates: Mapping[str, Sequence[int]]) -> list[tuple[list[Worker], list[Task]]]:
    """Each task goes to the group holding most of its candidates (the first on a tie)."""
    member = {w.therapist_id: g for g, group in enumerate(groups) for w in group}
    shares: list[list[Task]] = [[] for _ in groups]
    for task in tasks:
        counts = [0] * len(groups)
        for therapist_id in candidates[task.key]:
            if therapist_id in member:
                counts[member[therapist_id]] += 1
        shares[counts.index(max(counts))].append(task)
    return list(zip(groups, shares, strict=True))
