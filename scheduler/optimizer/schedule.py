"""Timing one route: given a vehicle and an order of jobs, the earliest feasible schedule.

This is the optimizer's own definition of the rules; OR-Tools only proposes orders, and every
order it returns is re-timed here, so the figures in a solution always come from this module.

The rules (VROOM's, plus where VROOM is silent, ours):

* A job's *start* (after any waiting, before setup and service) must fall inside one of its
  windows; setup and service may run past the window's end.
* Setup is paid when the previous located step is at another location index (the vehicle's
  start counts; breaks do not, they have no place).
* The route leaves the start no earlier than the vehicle window's start and reaches the end no
  later than its end. Each break is taken once, in the order given, starting inside one of its
  windows, between two steps (before the first job and after the last one included), wherever
  the therapist is: at the previous stop, on the way, or while waiting at the next stop, never
  during a setup or a service.
* Along the route the jobs' ``order_class`` never decreases (infection control: every visit
  to protect before every ordinary one, every ordinary one before every isolation room).
  Breaks, the start and the end have no class. This rule ignores the clock, like skills.
* Waiting is always allowed, so for a given order and a given number of breaks taken so far, an
  earlier ready time is never worse. That makes the exact check a small dynamic programme over
  (stop, breaks taken) keeping the earliest time, see :func:`time_route`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .problem import Break, Job, Problem, TimeWindow, Vehicle

NO_END = 2**62
"""Stands for "no limit" on a vehicle with no working hours."""


def earliest_in(ready: int, windows: Sequence[TimeWindow]) -> int | None:
    """The earliest time ``>= ready`` inside one of ``windows`` (sorted); ``None`` if none."""
    if not windows:
        return ready
    for start, end in windows:
        if ready <= end:
            return max(ready, start)
    return None


def window_end_at(time: int, windows: Sequence[TimeWindow]) -> int:
    """The end of the window containing ``time`` (``time`` is known to be inside one)."""
    for start, end in windows:
        if start <= time <= end:
            return end
    return time if windows else NO_END


def through_gap(ready: int, travel: int, breaks: Sequence[Break]) -> tuple[int, list[int]] | None:
    """Drive ``travel`` seconds from ``ready``, taking ``breaks`` in order as early as possible.

    Returns the arrival time at the next stop and the start of each break, or ``None`` when a
    break has no window left. The drive can be split around a break, so the arrival is
    ``max(ready + travel + sum of breaks, end of the last break)``.
    """
    starts: list[int] = []
    clock = ready
    for pause in breaks:
        start = earliest_in(clock, pause.time_windows)
        if start is None:
            return None
        starts.append(start)
        clock = start + pause.service
    arrival = max(ready + travel + sum(b.service for b in breaks), clock)
    return arrival, starts


def vehicle_window(vehicle: Vehicle) -> TimeWindow:
    """Working hours, with "no limit" spelt as ``(0, NO_END)``."""
    return vehicle.time_window if vehicle.time_window is not None else (0, NO_END)


def setup_paid(previous_location: int | None, job: Job) -> int:
    """Setup seconds due on arriving at ``job`` from ``previous_location``."""
    return 0 if previous_location == job.location_index else job.setup


def in_class_order(jobs: Sequence[Job]) -> bool:
    """Whether the jobs' ``order_class`` never decreases along this order."""
    return all(a.order_class <= b.order_class for a, b in zip(jobs, jobs[1:], strict=False))


def class_slots(problem: Problem, route: Sequence[int], p: int) -> range:
    """The positions where job ``p`` may be inserted into ``route`` (job positions, in class
    order) without breaking the order: after every job of a lower class and before every job
    of a higher one. Inserting at position ``k`` puts ``p`` before ``route[k]``.

    In a route in class order these positions are consecutive; with every class equal they
    are all of them.
    """
    wanted = problem.jobs[p].order_class
    classes = [problem.jobs[q].order_class for q in route]
    first = sum(1 for c in classes if c < wanted)
    last = sum(1 for c in classes if c <= wanted)
    return range(first, last + 1)


def fits_statically(problem: Problem, vehicle: Vehicle, jobs: Sequence[Job]) -> bool:
    """Skills, capacity, ``max_tasks``, ``max_travel_time`` and the class order: the rules that
    ignore the clock."""
    if vehicle.max_tasks is not None and len(jobs) > vehicle.max_tasks:
        return False
    if not in_class_order(jobs):
        return False
    if any(not vehicle.can_do(job) for job in jobs):
        return False
    if vehicle.capacity is not None:
        for dim, limit in enumerate(vehicle.capacity):
            if sum(job.delivery[dim] if job.delivery else 0 for job in jobs) > limit:
                return False
    if vehicle.max_travel_time is not None:
        return route_travel(problem, vehicle, jobs) <= vehicle.max_travel_time
    return True


def route_travel(problem: Problem, vehicle: Vehicle, jobs: Sequence[Job]) -> int:
    """Total travel seconds of the route start -> jobs -> end."""
    places = [vehicle.start_index, *(job.location_index for job in jobs), vehicle.end_index]
    return sum(problem.travel(a, b) for a, b in zip(places, places[1:], strict=False))


# ---------------------------------------------------------------------------------------------
# The timed route


@dataclass(frozen=True)
class StepTime:
    """One step of a timed route, in the solution's terms.

    ``travel`` is the driving done since the previous step (a break on the way splits a leg in
    two); ``arrival + waiting`` is when the task (or break) starts.
    """

    kind: str  # "start" | "job" | "break" | "end"
    index: int  # position of the job in problem.jobs / of the break in vehicle.breaks; -1
    arrival: int
    waiting: int
    setup: int
    service: int
    travel: int
    distance: int

    @property
    def start(self) -> int:
        return self.arrival + self.waiting

    @property
    def departure(self) -> int:
        return self.arrival + self.waiting + self.setup + self.service


@dataclass(frozen=True)
class TimedRoute:
    """A feasible route with all its times; figures are sums over ``steps``."""

    vehicle: int  # position in problem.vehicles
    jobs: tuple[int, ...]  # positions in problem.jobs, in visiting order
    steps: tuple[StepTime, ...]

    @property
    def travel(self) -> int:
        return sum(step.travel for step in self.steps)


def time_route(
    problem: Problem, vehicle_pos: int, job_positions: Sequence[int]
) -> TimedRoute | None:
    """The earliest feasible schedule of this order of jobs, or ``None`` if there is none.

    Checks every rule: skills, capacity, ``max_tasks``, ``max_travel_time``, the class order,
    windows, breaks and the vehicle's working hours.
    """
    vehicle = problem.vehicles[vehicle_pos]
    jobs = [problem.jobs[p] for p in job_positions]
    if not fits_statically(problem, vehicle, jobs):
        return None
    plan = _place_breaks(problem, vehicle, jobs)
    if plan is None:
        return None
    return _build_steps(problem, vehicle_pos, tuple(job_positions), plan)


def _place_breaks(problem: Problem, vehicle: Vehicle, jobs: list[Job]) -> list[int] | None:
    """For each gap between stops, how many breaks are taken in it (``None``: infeasible).

    Dynamic programme over (stop, breaks taken so far) keeping the earliest departure; see the
    module docstring for why the earliest time is enough.
    """
    breaks = vehicle.breaks
    count = len(breaks)
    tw_start, tw_end = vehicle_window(vehicle)
    places = [vehicle.start_index, *(job.location_index for job in jobs), vehicle.end_index]
    # ready[k] = earliest departure from the current stop having taken k breaks; parent links.
    ready: dict[int, int] = {0: tw_start}
    parents: list[dict[int, int]] = []
    for gap in range(len(jobs) + 1):
        travel = problem.travel(places[gap], places[gap + 1])
        arriving: dict[int, int] = {}
        parent: dict[int, int] = {}
        for taken, clock in ready.items():
            for until in range(taken, count + 1):
                passed = through_gap(clock, travel, breaks[taken:until])
                if passed is None:
                    break
                arrival = passed[0]
                if gap < len(jobs):
                    job = jobs[gap]
                    start = earliest_in(arrival, job.time_windows)
                    if start is None:
                        continue
                    done = start + setup_paid(places[gap], job) + job.service
                elif until != count or arrival > tw_end:
                    continue
                else:
                    done = arrival
                if done < arriving.get(until, NO_END * 2):
                    arriving[until], parent[until] = done, taken
        if not arriving:
            return None
        ready = arriving
        parents.append(parent)
    if count not in ready:
        return None
    per_gap = []
    taken = count
    for parent in reversed(parents):
        before = parent[taken]
        per_gap.append(taken - before)
        taken = before
    return per_gap[::-1]


def _build_steps(
    problem: Problem, vehicle_pos: int, job_positions: tuple[int, ...], per_gap: list[int]
) -> TimedRoute:
    """Lay out the steps once the number of breaks in each gap is known."""
    vehicle = problem.vehicles[vehicle_pos]
    jobs = [problem.jobs[p] for p in job_positions]
    places = [vehicle.start_index, *(job.location_index for job in jobs), vehicle.end_index]
    depart = vehicle_window(vehicle)[0]
    if job_positions and per_gap[0] == 0:
        # Leave home as late as the first visit allows: waiting at home, not in a car park.
        arrival = depart + problem.travel(places[0], places[1])
        start = earliest_in(arrival, jobs[0].time_windows)
        assert start is not None
        depart += start - arrival
    steps = [StepTime("start", -1, depart, 0, 0, 0, 0, 0)]
    clock, next_break = depart, 0
    for gap in range(len(jobs) + 1):
        leg_travel = problem.travel(places[gap], places[gap + 1])
        leg_distance = problem.distance(places[gap], places[gap + 1])
        gap_breaks = list(range(next_break, next_break + per_gap[gap]))
        next_break += per_gap[gap]
        clock, remaining, used = _lay_breaks(
            vehicle, gap_breaks, clock, leg_travel, leg_distance, steps
        )
        arrival = clock + remaining
        if gap < len(jobs):
            job = jobs[gap]
            start = earliest_in(arrival, job.time_windows)
            assert start is not None
            setup = setup_paid(places[gap], job)
            steps.append(
                StepTime(
                    "job",
                    job_positions[gap],
                    arrival,
                    start - arrival,
                    setup,
                    job.service,
                    remaining,
                    leg_distance - used,
                )
            )
            clock = start + setup + job.service
        else:
            steps.append(StepTime("end", -1, arrival, 0, 0, 0, remaining, leg_distance - used))
    return TimedRoute(vehicle_pos, job_positions, tuple(steps))


def _lay_breaks(
    vehicle: Vehicle,
    gap_breaks: list[int],
    clock: int,
    travel: int,
    distance: int,
    steps: list[StepTime],
) -> tuple[int, int, int]:
    """Append the break steps of one gap; return (time after the breaks, drive left, metres done).

    Breaks start as early as possible, except that a lone break is pushed to after the drive
    (or as late as its window allows) when that costs nothing: a lunch at the next stop reads
    better than one on the roadside.
    """
    remaining, used = travel, 0
    for position in gap_breaks:
        pause = vehicle.breaks[position]
        start = earliest_in(clock, pause.time_windows)
        assert start is not None
        if len(gap_breaks) == 1:
            start = min(max(start, clock + remaining), window_end_at(start, pause.time_windows))
        drive = min(remaining, start - clock)
        remaining -= drive
        metres = distance if drive == travel and drive else 0  # the leg is done before it
        used += metres
        steps.append(
            StepTime(
                "break",
                position,
                clock + drive,
                start - clock - drive,
                0,
                pause.service,
                drive,
                metres,
            )
        )
        clock = start + pause.service
    return clock, remaining, used
