"""Step 4 of the day-planning pipeline: tasks, workers and travel -> the optimizer's problem.

:mod:`.gather` reads the day (the calendar, pins, what is already done) into :class:`Task`,
:class:`Worker` and :class:`Travel` values; :func:`build_problem` turns them into the
optimizer's VROOM-style JSON. Pure functions of plain values: nothing here touches the
database, the clock or the network, so every rule is tested on hand-made values.

How our rules map onto VROOM's vocabulary:

- **who may do a visit**: VROOM's integer *skills*. Every therapist holds one token of their
  own (``therapist:<id>``) besides their skills; a visit of a fixed therapist asks for that
  token, an open visit asks for its series' skills. :func:`build_problem` numbers the names.
- **when**: a task's ``windows`` bound the start of the hands-on visit, in Unix seconds (the
  allowed windows of :mod:`scheduler.calendar.availability`, or the single instant of a pin).
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
- **infection-control order**: the client's class (protect, others, isolation; see
  :class:`scheduler.records.precautions.InfectionControl`) is the job's ``order_class``, which
  no route may go down in; with the practice's rule off the field is left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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
class Location:
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
    place: str  # a Location key
    service: int  # seconds of hands-on time
    windows: tuple[Interval, ...]  # allowed starts, Unix seconds, inclusive
    skills: frozenset[str]
    priority: int = 50
    # Infection-control order (0 protect, 1 others, 2 isolation), or None: no order at all.
    order_class: int | None = None

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
    start: str  # Location keys
    end: str
    window: Interval  # may leave ``start`` from window[0], must be back by window[1]
    skills: frozenset[str]
    pauses: tuple[Pause, ...] = ()
    max_visits: int | None = None
    max_hands_on_minutes: int | None = None


@dataclass(frozen=True)
class Travel:
    """Driving between the places, in the places' order: whole seconds and metres."""

    places: tuple[Location, ...]
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
        [whole_minutes(travel.seconds[i][j]) + (travel.places[j].overhead if i != j else 0)
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


def whole_minutes(seconds: int) -> int:
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
    if task.order_class is not None:
        job["order_class"] = task.order_class
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


# ---------------------------------------------------------------------------------------------
# Why a task was left out, in structured form (planning words it)


# ---------------------------------------------------------------------------------------------
# Solving a whole day


