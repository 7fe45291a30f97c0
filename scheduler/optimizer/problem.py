"""The typed problem: frozen dataclasses mirroring the subset of VROOM's input we use.

The JSON side lives in :mod:`scheduler.optimizer.json_io`; these classes hold only checked
values, so the solver and the checkers never re-validate. Times are integer seconds on any
origin (Rounds passes Unix epoch seconds); Python integers do not overflow, and the OR-Tools
model shifts them to a day-relative origin before handing them over (see :mod:`.integers`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

TimeWindow = tuple[int, int]
"""``(earliest, latest)``, both inclusive, in integer seconds."""

Coordinates = tuple[float, float]
"""``(lon, lat)`` as VROOM orders them."""


@dataclass(frozen=True)
class Break:
    """A pause of ``service`` seconds a vehicle must take once, starting inside a window.

    A break has no place of its own: it is taken wherever the therapist is between two stops,
    at the previous stop, on the way, or while waiting at the next stop (never during a
    visit's setup or service).
    """

    id: int
    time_windows: tuple[TimeWindow, ...]
    service: int = 0
    description: str | None = None


ORDER_CLASSES = (0, 1, 2)
"""The values of :attr:`Job.order_class`: 0 must come first (a client to protect, e.g.
neutropenic), 1 is the default middle, 2 must come last (an isolation room)."""

DEFAULT_ORDER_CLASS = 1
"""A job without ``order_class`` is in the middle class, so a problem without the field is
unconstrained by it."""


@dataclass(frozen=True)
class Job:
    """One visit: where, how long, when it may start, who may do it and how much it matters.

    ``time_windows`` bound the *start* of the task (after any waiting, before setup and
    service, as VROOM defines it); empty means any time. ``setup`` is paid only when the
    previous stop was at another location index. ``order_class`` (our extension of VROOM's
    contract, infection control): along one route the classes of the jobs never decrease, so
    every class-0 job comes before every class-1 job, which come before every class-2 job.
    """

    id: int
    location_index: int
    location: Coordinates | None = None
    setup: int = 0
    service: int = 0
    time_windows: tuple[TimeWindow, ...] = ()
    skills: frozenset[int] = frozenset()
    priority: int = 0
    delivery: tuple[int, ...] = ()
    description: str | None = None
    order_class: int = DEFAULT_ORDER_CLASS


@dataclass(frozen=True)
class Vehicle:
    """One therapist's day: where it starts and ends, working hours, breaks and limits.

    ``start_index``/``end_index`` may be ``None`` (an open route, as in VROOM), but not both.
    ``time_window`` ``None`` means no limit on working hours.
    """

    id: int
    start_index: int | None
    end_index: int | None
    start: Coordinates | None = None
    end: Coordinates | None = None
    time_window: TimeWindow | None = None
    breaks: tuple[Break, ...] = ()
    skills: frozenset[int] = frozenset()
    capacity: tuple[int, ...] | None = None
    max_tasks: int | None = None
    max_travel_time: int | None = None
    description: str | None = None

    def can_do(self, job: Job) -> bool:
        """VROOM's skills rule: a vehicle serves a job iff it holds all of the job's skills."""
        return job.skills <= self.skills


@dataclass(frozen=True)
class Problem:
    """Jobs, vehicles and the square travel matrices they index into.

    ``durations[i][j]`` is the travel time in seconds from location ``i`` to ``j``;
    ``distances`` (metres) is optional and only reported, never optimised. ``indices_given`` is
    false when the matrices were built from coordinates (the indices are then internal and not
    echoed in the solution).
    """

    jobs: tuple[Job, ...]
    vehicles: tuple[Vehicle, ...]
    durations: tuple[tuple[int, ...], ...]
    distances: tuple[tuple[int, ...], ...] | None = None
    indices_given: bool = True
    job_position: dict[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "job_position", {job.id: k for k, job in enumerate(self.jobs)})

    def travel(self, origin: int | None, destination: int | None) -> int:
        """Travel seconds between two location indices; ``None`` (an open end) costs nothing."""
        if origin is None or destination is None:
            return 0
        return self.durations[origin][destination]

    def distance(self, origin: int | None, destination: int | None) -> int:
        """Metres between two location indices, 0 when unknown or an open end."""
        if origin is None or destination is None or self.distances is None:
            return 0
        return self.distances[origin][destination]
