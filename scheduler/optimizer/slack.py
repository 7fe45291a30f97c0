"""Routes that know their slack: an exact O(1) insertion check, with breaks too.

:func:`.schedule.time_route` re-times a whole route, which is the right definition but far
too slow to test every position of every route thousands of times a second. Waiting is
allowed, so a route is feasible iff its *earliest* schedule is, and each stop has a *latest
departure* after which the rest of the route can no longer be done in time. Keeping both per
stop (forward earliest departures, backward latest departures) lets
:meth:`Tables.insertion_fits` decide in O(1) whether a job fits between two stops: only the
new job and its successor need re-timing, because the successor's latest departure does not
depend on what precedes it.

Every rule of :mod:`.schedule` is handled exactly: several windows per job (a start is the
earliest window point after arrival; a latest start is the latest window point before the
deadline), setups (paid only when the previous stop is at another place, so the successor's
setup is re-derived from the inserted job), vehicle working hours, open starts and ends (a
place ``nowhere`` at zero distance from everything, which is never a job's place, so the first
job pays its setup as :func:`.schedule.setup_paid` says), capacity in every dimension,
``max_tasks`` and ``max_travel_time``, and the class order (``order_class`` never decreases
along a route): a route knows where each class starts (:attr:`Route.class_starts`), so the
places a job may go form one run of consecutive positions (:meth:`Tables.class_range`), and
:meth:`Tables.insertion_fits` checks the jobs on either side.

Breaks: a vehicle with breaks keeps the same tables *per number of breaks taken*
(:attr:`Route.early`, :attr:`Route.late`): the earliest departure from each stop having taken
``b`` breaks (the dynamic programme of :func:`.schedule.time_route`, kept per stop), and the
latest departure from each stop, having taken ``b``, that still lets the rest of the day with
the breaks left finish in time (worked back through the break windows: a drive taking breaks
arrives at ``max(ready + travel + pauses, end of the last break)``, so the latest ready time
is a chain of latest break starts). An insertion tries each way of taking the breaks before
the stop, in the gap before the new job, in the gap after it, or later: O(breaks cubed).
The break-free tables are still computed first and filter in O(1) (breaks only delay).

Routes are rebuilt or updated into new objects, never patched, so the same object always
holds the same jobs in the same order; :meth:`Tables.options` caches on it the feasible
positions of the jobs asked about (the visits left out, offered the same routes again and
again). :meth:`Tables.with_job` updates the tables of a vehicle without breaks instead of
rebuilding them. Callers still verify final routes with :func:`.schedule.time_route`, the
single definition of feasibility.

The hottest of these loops have a compiled twin (``_insertion.c``, built by ``setup.py`` when
a C compiler is there): :meth:`Tables.best`, :meth:`Tables.with_job`
and :meth:`Tables._relaxed` use it for vehicles without breaks, and their ``python_*``
definitions here are what it is tested equal to, random draws included.

One module of some 800 lines: the tables, their updates and the insertion check must agree
line by line, so they are read together.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence

from .problem import ORDER_CLASSES, Problem
from .schedule import NO_END, vehicle_window

try:  # the compiled insertion loop (setup.py builds it; optional)
    from . import _insertion
except ImportError:  # pragma: no cover - a machine without a C compiler
    _insertion = None  # type: ignore[assignment]

NEVER = -(2**62)
"""A ready time before any time of the problem (a job without windows)."""

KERNEL_VERSION = 1
"""The version of ``_insertion.c`` this module was written against: a compiled module of
another version (built from an older checkout) is not used."""


def kernel_available() -> bool:
    """Whether the compiled insertion loop is built and of this version."""
    return _insertion is not None and _insertion.KERNEL_VERSION == KERNEL_VERSION


def latest_in(time: int, windows: Sequence[tuple[int, int]]) -> int | None:
    """The latest time ``<= time`` inside one of ``windows`` (sorted); ``None`` if none."""
    if not windows:
        return time
    for start, end in reversed(windows):
        if time >= start:
            return min(time, end)
    return None


def earliest_in(time: int, windows: Sequence[tuple[int, int]]) -> int | None:
    """The earliest time ``>= time`` inside one of ``windows`` (sorted); ``None`` if none."""
    for start, end in windows:
        if time <= end:
            return start if time < start else time
    return None


class Route:
    """One vehicle's jobs with their earliest and latest departures; rebuilt, never patched.

    ``places[k]`` is the place of stop ``k``: 0 is the vehicle's start, ``1..n`` the jobs and
    ``n + 1`` the end. ``departs[k]`` is the earliest departure from stop ``k`` (``k <= n``);
    ``latest[k]`` the latest departure from job ``k`` (``1 <= k <= n``) that still lets the
    rest of the route finish in time. For a vehicle with breaks these are the break-free
    bounds (a relaxation), and ``options`` caches :meth:`Tables.options` per job.
    ``class_starts[c]`` is the number of jobs of a class below ``c`` (``c`` from 0 to one past
    the highest class), so a job of class ``c`` may go after stop ``k`` for ``k`` from
    ``class_starts[c]`` to ``class_starts[c + 1]``.
    """

    __slots__ = (
        "vehicle", "jobs", "places", "departs", "latest", "load", "travel", "class_starts",
        "early", "late", "options", "legs",
    )  # fmt: skip

    def __init__(
        self,
        vehicle: int,
        jobs: list[int],
        places: list[int],
        departs: list[int],
        latest: list[int],
        load: list[int],
        travel: int,
        class_starts: list[int],
        legs: list[int],
    ) -> None:
        self.vehicle = vehicle
        self.jobs = jobs
        self.places = places
        self.departs = departs
        self.latest = latest
        self.load = load
        self.travel = travel
        self.class_starts = class_starts
        self.early: list[list[int]] = []
        self.late: list[list[int]] = []
        self.options: dict[int, list[tuple[int, int]]] = {}
        self.legs = legs
        """``legs[k]``: the travel from stop ``k`` to stop ``k + 1``."""


class Tables:
    """The problem as flat per-job and per-vehicle lists, and routes built over them."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.timed = [bool(v.breaks) for v in problem.vehicles]
        """Whether a vehicle has breaks: its routes also keep the tables per breaks taken."""
        size = len(problem.durations)
        self.nowhere = size
        self.durations = [list(row) + [0] for row in problem.durations] + [[0] * (size + 1)]
        self.into = [list(column) for column in zip(*self.durations, strict=True)]
        """``into[b][a]`` is ``durations[a][b]``: the travel into each place, by origin."""
        jobs = problem.jobs
        dims = max(
            [len(job.delivery) for job in jobs]
            + [len(v.capacity) for v in problem.vehicles if v.capacity is not None]
            + [0]
        )
        self.dims = dims
        self.place = [job.location_index for job in jobs]
        self.setup = [job.setup for job in jobs]
        self.service = [job.service for job in jobs]
        self.priority = [job.priority for job in jobs]
        self.windows = [tuple(job.time_windows) for job in jobs]
        self.several = [len(job.time_windows) > 1 for job in jobs]
        self.ready = [job.time_windows[0][0] if job.time_windows else NEVER for job in jobs]
        self.due = [job.time_windows[0][1] if job.time_windows else NO_END for job in jobs]
        self.last_due = [job.time_windows[-1][1] if job.time_windows else NO_END for job in jobs]
        self.demand = [list(job.delivery) + [0] * (dims - len(job.delivery)) for job in jobs]
        self.order = [job.order_class for job in jobs]
        self.class_count = len(ORDER_CLASSES)
        self.one_class = self.order[0] if len(set(self.order)) == 1 else None
        """The class of every job when they share one (the default), else ``None``."""
        vehicles = problem.vehicles
        self.start = [size if v.start_index is None else v.start_index for v in vehicles]
        self.end = [size if v.end_index is None else v.end_index for v in vehicles]
        self.opens = [vehicle_window(v)[0] for v in vehicles]
        self.closes = [vehicle_window(v)[1] for v in vehicles]
        self.capacity = [
            None if v.capacity is None else list(v.capacity) + [0] * (dims - len(v.capacity))
            for v in vehicles
        ]
        self.max_tasks = [len(jobs) + 1 if v.max_tasks is None else v.max_tasks for v in vehicles]
        self.max_travel = [
            NO_END if v.max_travel_time is None else v.max_travel_time for v in vehicles
        ]
        self.breaks = [
            [(tuple(b.time_windows) or ((NEVER, NO_END),), b.service) for b in v.breaks]
            for v in vehicles
        ]
        """Per vehicle, each break's windows (none: any time) and duration, in order."""
        self.kind = self._kinds(problem)
        """Per vehicle, the first vehicle of its kind: two empty vehicles of one kind offer
        the same insertions, so only one of them need be tried."""
        self.kernel = self._kernel() if kernel_available() else None
        """The tables as C arrays for the compiled loop (``None``: the Python one)."""

    @staticmethod
    def _kinds(problem: Problem) -> list[int]:
        first: dict[tuple, int] = {}
        return [
            first.setdefault(
                (
                    v.start_index,
                    v.end_index,
                    v.time_window,
                    v.breaks,
                    v.skills,
                    v.capacity,
                    v.max_tasks,
                    v.max_travel_time,
                ),
                position,
            )
            for position, v in enumerate(problem.vehicles)
        ]

    def _kernel(self) -> _insertion.Kernel | None:
        """The compiled loop's copy of the tables; ``None`` if a time exceeds 64 bits."""
        window_from, windows = [0], []
        for job_windows in self.windows:
            for start, end in job_windows:
                windows += [start, end]
            window_from.append(len(windows) // 2)
        try:
            return _insertion.Kernel(
                [t for row in self.durations for t in row],
                len(self.durations),
                self.place,
                self.ready,
                self.due,
                self.last_due,
                self.setup,
                self.service,
                self.order,
                [int(x) for x in self.several],
                window_from,
                windows,
                self.closes,
                self.dims,
                [amount for demand in self.demand for amount in demand],
                [a for c in self.capacity for a in (c if c is not None else [0] * self.dims)],
                [int(c is not None) for c in self.capacity],
                self.max_tasks,
                self.max_travel,
                [int(t) for t in self.timed],
                self.kind,
                self.start,
                self.end,
                self.opens,
            )
        except OverflowError:
            return None

    # -----------------------------------------------------------------------------------------

    def build(self, vehicle: int, jobs: list[int]) -> Route | None:
        """The route of ``jobs`` in this order on ``vehicle``, or ``None`` if a rule breaks.

        On a vehicle with breaks the break-free tables only filter; :func:`.schedule.time_route`
        decides.
        """
        route = self._relaxed(vehicle, jobs)
        if route is not None and self.timed[vehicle]:
            early = self._forward_breaks(vehicle, jobs, route.places)
            if early is None:
                return None
            route.early = early
            route.late = self._backward_breaks(vehicle, jobs, route.places)
        return route

    def _relaxed(self, vehicle: int, jobs: list[int]) -> Route | None:
        """The route and its break-free tables; ``None`` if it breaks a rule even without breaks."""
        if self.kernel is None or self.one_class is None:
            return self.python_relaxed(vehicle, jobs)
        made = self.kernel.relaxed(vehicle, jobs)
        if made is None:
            return None
        places, departs, latest, legs, travel, load = made
        starts = self._one_class_starts(len(jobs))
        return Route(vehicle, jobs, places, departs, latest, load, travel, starts, legs)

    def python_relaxed(self, vehicle: int, jobs: list[int]) -> Route | None:
        """:meth:`_relaxed` in Python: the definition the compiled tables are tested against,
        and the one used on a day of several classes."""
        if len(jobs) > self.max_tasks[vehicle]:
            return None
        load = [0] * self.dims
        for p in jobs:
            for dim, amount in enumerate(self.demand[p]):
                load[dim] += amount
        capacity = self.capacity[vehicle]
        if capacity is not None and any(a > c for a, c in zip(load, capacity, strict=True)):
            return None
        if self.one_class is not None:  # every job of one class: nothing to check
            class_starts = self._one_class_starts(len(jobs))
        else:
            found = self._class_starts(jobs)
            if found is None:
                return None
            class_starts = found
        durations, place = self.durations, self.place
        places = [self.start[vehicle], *(place[p] for p in jobs), self.end[vehicle]]
        legs = [durations[a][b] for a, b in zip(places, places[1:], strict=False)]
        travel = sum(legs)
        if travel > self.max_travel[vehicle]:
            return None
        departs = self._forward(vehicle, jobs, places)
        if departs is None:
            return None
        latest = self._backward(vehicle, jobs, places)
        return Route(vehicle, jobs, places, departs, latest, load, travel, class_starts, legs)

    def _class_starts(self, jobs: list[int]) -> list[int] | None:
        """:attr:`Route.class_starts` of ``jobs``; ``None`` if their classes ever decrease."""
        order = self.order
        starts = [0] * (self.class_count + 1)
        previous = 0
        for k, p in enumerate(jobs):
            c = order[p]
            if c < previous:
                return None
            for later in range(previous + 1, c + 1):
                starts[later] = k
            previous = c
        for later in range(previous + 1, self.class_count + 1):
            starts[later] = len(jobs)
        return starts

    def class_range(self, route: Route, p: int, done_by: int | None = None) -> range:
        """The stops ``k`` after which job ``p`` may go in ``route`` by the class order.

        With ``done_by`` (the earliest ``p`` could be done), the stops whose successor must
        leave before then are skipped too: latest departures only grow along a route, so
        they are the first ones, found by bisection.
        """
        c = self.order[p]
        first, last = route.class_starts[c], route.class_starts[c + 1]
        if done_by is not None and done_by > NEVER // 2 and first < last:
            first = bisect_left(route.latest, done_by, first + 1, last + 1) - 1
        return range(first, last + 1)

    def _forward(self, vehicle: int, jobs: list[int], places: list[int]) -> list[int] | None:
        """Earliest departure from the start and from each job; ``None`` if a window is missed."""
        durations = self.durations
        clock = self.opens[vehicle]
        departs = [clock]
        for k, p in enumerate(jobs, 1):
            here, before = places[k], places[k - 1]
            arrival = clock + durations[before][here]
            if self.several[p]:
                start = earliest_in(arrival, self.windows[p])
                if start is None:
                    return None
            else:
                start = arrival if arrival > self.ready[p] else self.ready[p]
                if start > self.due[p]:
                    return None
            clock = start + (self.setup[p] if here != before else 0) + self.service[p]
            departs.append(clock)
        if clock + durations[places[-2]][places[-1]] > self.closes[vehicle]:
            return None
        return departs

    def _backward(self, vehicle: int, jobs: list[int], places: list[int]) -> list[int]:
        """Latest departure from each job that still lets the rest of a feasible route finish."""
        durations = self.durations
        n = len(jobs)
        latest = [0] * (n + 1)
        leave = self.closes[vehicle] - durations[places[n]][places[n + 1]]
        for k in range(n, 0, -1):
            latest[k] = leave
            p, here, before = jobs[k - 1], places[k], places[k - 1]
            start = leave - self.service[p] - (self.setup[p] if here != before else 0)
            if self.several[p]:
                found = latest_in(start, self.windows[p])
                start = NEVER if found is None else found
            elif start > self.due[p]:
                start = self.due[p]
            leave = start - durations[before][here]
        latest[0] = leave
        return latest

    # -----------------------------------------------------------------------------------------

    def room_for(self, route: Route, p: int) -> bool:
        """Whether ``max_tasks`` and capacity leave room for job ``p`` somewhere in ``route``."""
        vehicle = route.vehicle
        if len(route.jobs) >= self.max_tasks[vehicle]:
            return False
        capacity = self.capacity[vehicle]
        if capacity is None:
            return True
        demand, load = self.demand[p], route.load
        for dim in range(self.dims):
            if load[dim] + demand[dim] > capacity[dim]:
                return False
        return True

    def insertion_fits(self, route: Route, p: int, k: int) -> bool:
        """Whether the clock allows job ``p`` between stop ``k`` and stop ``k + 1`` (O(1)).

        Capacity, ``max_tasks`` and ``max_travel_time`` are the caller's (:meth:`room_for` and
        the travel delta); only the times of ``p`` and of its successor are re-derived. The
        start-in-window step is written out here as in :meth:`_forward` rather than called:
        this is the innermost loop of ruin and recreate, where a call per check costs.
        """
        starts, c = route.class_starts, self.order[p]
        if k < starts[c] or k > starts[c + 1]:
            return False
        places = route.places
        durations = self.durations
        before, here = places[k], self.place[p]
        arrival = route.departs[k] + durations[before][here]
        if self.several[p]:
            start = earliest_in(arrival, self.windows[p])
            if start is None:
                return False
        else:
            start = arrival if arrival > self.ready[p] else self.ready[p]
            if start > self.due[p]:
                return False
        clock = start + (self.setup[p] if here != before else 0) + self.service[p]
        after = places[k + 1]
        arrival = clock + durations[here][after]
        if k == len(route.jobs):
            if arrival > self.closes[route.vehicle]:
                return False
            return not self.timed[route.vehicle] or self._fits_with_breaks(route, p, k)
        q = route.jobs[k]
        if self.several[q]:
            start = earliest_in(arrival, self.windows[q])
            if start is None:
                return False
        else:
            start = arrival if arrival > self.ready[q] else self.ready[q]
            if start > self.due[q]:
                return False
        done = start + (self.setup[q] if after != here else 0) + self.service[q]
        if done > route.latest[k + 1]:
            return False
        return not self.timed[route.vehicle] or self._fits_with_breaks(route, p, k)

    def best(
        self,
        routes: Sequence[Route | None],
        vehicles: list[int],
        p: int,
        random: Callable[[], float],
        blink: float,
    ) -> tuple[int, int] | None:
        """The cheapest feasible insertion of job ``p`` into the routes of ``vehicles``:
        ``(vehicle, after stop)``, or ``None``.

        Each route with :meth:`room_for` ``p`` is searched by :meth:`python_cheapest` within its
        vehicle's travel limit, the best so far carried from route to route; of the empty
        vehicles only the first of each :attr:`kind` is tried. The compiled loop does the
        same (vehicles with breaks through :meth:`python_cheapest`).
        """
        if self.kernel is not None:
            return self.kernel.best(routes, vehicles, p, random, blink, self.python_cheapest)
        return self.python_best(routes, vehicles, p, random, blink)

    def python_best(
        self,
        routes: Sequence[Route | None],
        vehicles: list[int],
        p: int,
        random: Callable[[], float],
        blink: float,
    ) -> tuple[int, int] | None:
        """:meth:`best` in Python, the definition the compiled loop is tested against."""
        best_cost: float = math.inf
        found = None
        for v, route in self.offered(routes, vehicles):
            if not self.room_for(route, p):
                continue
            budget = self.max_travel[v] - route.travel
            option = self.python_cheapest(route, p, best_cost, budget, random, blink)
            if option is not None:
                best_cost, found = option[0], (v, option[1])
        return found

    def offered(
        self, routes: Sequence[Route | None], vehicles: list[int]
    ) -> Iterator[tuple[int, Route]]:
        """The routes of ``vehicles`` an insertion tries: every route serving jobs, and of
        the empty ones only the first of each :attr:`kind`."""
        kind, tried = self.kind, set()
        for v in vehicles:
            route = routes[v]
            if route is None:
                continue
            if not route.jobs:
                if kind[v] in tried:
                    continue
                tried.add(kind[v])
            yield v, route

    def python_cheapest(
        self,
        route: Route,
        p: int,
        best_cost: float,
        budget: int,
        random: Callable[[], float],
        blink: float,
    ) -> tuple[int, int] | None:
        """The cheapest feasible position of job ``p`` in ``route`` costing less than
        ``best_cost`` and at most ``budget`` more travel: ``(added travel, after stop)``, or
        ``None``.

        Positions are tried in route order where the class order allows, from the first
        whose successor can still leave after ``p`` could be done; each one cheaper than the
        best so far is skipped with probability ``blink`` (a draw of ``random``) or checked by
        :meth:`insertion_fits`. The compiled loop (``Kernel.cheapest``, ``Kernel.best``) does
        the same for a vehicle without breaks and calls this one for a vehicle with breaks.
        """
        here, last_due, fits = self.place[p], self.last_due[p], self.insertion_fits
        from_here, into = self.durations[here], self.into[here]
        places, departs, legs = route.places, route.departs, route.legs
        found = None
        for k in self.class_range(route, p, self.ready[p] + self.service[p]):
            if departs[k] > last_due:  # departures only grow along a route
                break
            cost = into[places[k]] + from_here[places[k + 1]] - legs[k]
            if cost >= best_cost or cost > budget:
                continue
            if random() < blink or not fits(route, p, k):
                continue
            best_cost, found = cost, (cost, k)
        return found

    # ------------------------------------------------------------------------- breaks

    def _through(self, vehicle: int, ready: int, travel: int, first: int, until: int) -> int | None:
        """:func:`.schedule.through_gap`'s arrival: drive ``travel`` from ``ready`` taking
        breaks ``first`` to ``until - 1`` as early as possible; ``None`` if one cannot be."""
        clock, paused = ready, 0
        for windows, service in self.breaks[vehicle][first:until]:
            start = earliest_in(clock, windows)
            if start is None:
                return None
            clock = start + service
            paused += service
        arrival = ready + travel + paused
        return arrival if arrival > clock else clock

    def _latest_ready(
        self, vehicle: int, arrive_by: int, travel: int, first: int, until: int
    ) -> int | None:
        """The latest ``ready`` from which :meth:`_through` arrives by ``arrive_by``.

        The arrival is ``max(ready + travel + pauses, end of the last break)`` and each break
        starts at the earliest window point after the previous one ends, so it is enough that
        ``ready + travel + pauses <= arrive_by`` and ``ready`` is no later than the latest
        start of the first break in a chain of latest starts worked back from ``arrive_by``.
        """
        latest = arrive_by - travel
        clock = arrive_by
        for windows, service in reversed(self.breaks[vehicle][first:until]):
            latest -= service
            found = latest_in(clock - service, windows)
            if found is None:
                return None
            clock = found
        return latest if latest < clock else clock

    def _start_at(self, p: int, arrival: int) -> int | None:
        """Job ``p``'s start on arriving at ``arrival``; ``None`` if its windows are past."""
        if self.several[p]:
            return earliest_in(arrival, self.windows[p])
        start = arrival if arrival > self.ready[p] else self.ready[p]
        return None if start > self.due[p] else start

    def _forward_breaks(
        self, vehicle: int, jobs: list[int], places: list[int]
    ) -> list[list[int]] | None:
        """``early[k][b]``: the earliest departure from stop ``k`` having taken ``b`` breaks
        (:data:`NO_END` when impossible); ``None`` if the route cannot be done. The dynamic
        programme of :func:`.schedule.time_route`, kept per stop."""
        durations, count = self.durations, len(self.breaks[vehicle])
        row = [NO_END] * (count + 1)
        row[0] = self.opens[vehicle]
        early = [row]
        for k, p in enumerate(jobs, 1):
            before, here = places[k - 1], places[k]
            travel, extra = durations[before][here], self.setup[p] if here != before else 0
            extra += self.service[p]
            following = [NO_END] * (count + 1)
            for taken, ready in enumerate(row):
                if ready >= NO_END:
                    continue
                for until in range(taken, count + 1):
                    arrival = self._through(vehicle, ready, travel, taken, until)
                    if arrival is None:
                        break
                    start = self._start_at(p, arrival)
                    if start is not None and start + extra < following[until]:
                        following[until] = start + extra
            if all(t >= NO_END for t in following):
                return None
            early.append(following)
            row = following
        travel = durations[places[-2]][places[-1]]
        closes = self.closes[vehicle]
        for taken, ready in enumerate(row):
            if ready < NO_END:
                arrival = self._through(vehicle, ready, travel, taken, count)
                if arrival is not None and arrival <= closes:
                    return early
        return None

    def _backward_breaks(self, vehicle: int, jobs: list[int], places: list[int]) -> list[list[int]]:
        """``late[k][b]``: the latest departure from stop ``k`` having taken ``b`` breaks that
        still lets the rest of the route, with the breaks left, finish in time (:data:`NEVER`
        when none does)."""
        durations, count = self.durations, len(self.breaks[vehicle])
        n = len(jobs)
        travel = durations[places[n]][places[n + 1]]
        row = [
            self._or_never(self._latest_ready(vehicle, self.closes[vehicle], travel, b, count))
            for b in range(count + 1)
        ]
        late = [row]
        for k in range(n, 0, -1):
            p, here, before = jobs[k - 1], places[k], places[k - 1]
            travel = durations[before][here]
            extra = (self.setup[p] if here != before else 0) + self.service[p]
            previous = [NEVER] * (count + 1)
            for until, leave in enumerate(row):
                if leave <= NEVER:
                    continue
                start = self._latest_start(p, leave - extra)
                if start is None:
                    continue
                for taken in range(until, -1, -1):
                    ready = self._latest_ready(vehicle, start, travel, taken, until)
                    if ready is not None and ready > previous[taken]:
                        previous[taken] = ready
            late.append(previous)
            row = previous
        late.reverse()
        return late

    def _latest_start(self, p: int, start: int) -> int | None:
        """The latest start of job ``p`` no later than ``start``; ``None`` if none."""
        if self.several[p]:
            return latest_in(start, self.windows[p])
        if start < self.ready[p]:
            return None
        return start if start < self.due[p] else self.due[p]

    @staticmethod
    def _or_never(time: int | None) -> int:
        return NEVER if time is None else time

    def _fits_with_breaks(self, route: Route, p: int, k: int) -> bool:
        """Whether job ``p`` fits between stop ``k`` and stop ``k + 1`` with the vehicle's breaks.

        Exact: each way of taking the breaks before stop ``k`` (its earliest departure per
        number taken), in the gap before ``p``, in the gap after it, or later (the successor's
        latest departure per number taken) is tried: O(breaks cubed), not the whole route.
        """
        vehicle = route.vehicle
        count = len(self.breaks[vehicle])
        durations, places = self.durations, route.places
        before, here, after = places[k], self.place[p], places[k + 1]
        to_p, from_p = durations[before][here], durations[here][after]
        extra_p = (self.setup[p] if here != before else 0) + self.service[p]
        last = k == len(route.jobs)
        if not last:
            q = route.jobs[k]
            extra_q = (self.setup[q] if after != here else 0) + self.service[q]
            late = route.late[k + 1]
        closes = self.closes[vehicle]
        for taken, ready in enumerate(route.early[k]):
            if ready >= NO_END:
                continue
            for middle in range(taken, count + 1):
                arrival = self._through(vehicle, ready, to_p, taken, middle)
                if arrival is None:
                    break
                start = self._start_at(p, arrival)
                if start is None:
                    continue
                done = start + extra_p
                if last:
                    arrival = self._through(vehicle, done, from_p, middle, count)
                    if arrival is not None and arrival <= closes:
                        return True
                    continue
                for until in range(middle, count + 1):
                    arrival = self._through(vehicle, done, from_p, middle, until)
                    if arrival is None:
                        break
                    start = self._start_at(q, arrival)
                    if start is not None and start + extra_q <= late[until]:
                        return True
        return False

    def without(self, route: Route, removed: set[int]) -> Route | None:
        """The route minus some jobs (``None`` when a setup or a detour now breaks a rule)."""
        return self.build(route.vehicle, [p for p in route.jobs if p not in removed])

    def options(self, route: Route, p: int) -> list[tuple[int, int]]:
        """(added travel, after stop) of every feasible position of job ``p`` in ``route``,
        cheapest first.

        Cached on the route: routes are rebuilt, never patched, so the same object always
        holds the same jobs in the same order. Ruin and recreate asks it about the visits
        left out, which are offered the same unchanged routes iteration after iteration.
        """
        known = route.options.get(p)
        if known is not None:
            return known
        found: list[tuple[int, int]] = []
        if self.room_for(route, p):
            durations, last_due = self.durations, self.last_due[p]
            here = self.place[p]
            from_here = durations[here]
            budget = self.max_travel[route.vehicle] - route.travel
            places, departs = route.places, route.departs
            for k in self.class_range(route, p, self.ready[p] + self.service[p]):
                if departs[k] > last_due:  # departures only grow along a route
                    break
                row = durations[places[k]]
                cost = row[here] + from_here[places[k + 1]] - row[places[k + 1]]
                if cost <= budget and self.insertion_fits(route, p, k):
                    found.append((cost, k))
            found.sort()
        route.options[p] = found
        return found

    def with_job(self, route: Route, p: int, k: int) -> Route:
        """The route with job ``p`` after stop ``k``; the caller has checked with
        :meth:`insertion_fits` (and :meth:`room_for` and the travel limit), which are exact.

        On a vehicle without breaks, on a day of one class, the tables are updated rather than
        rebuilt: earliest departures change only from the new job on, and only until one
        equals the old one; latest departures only from it back, until one equals the old.
        """
        if self.timed[route.vehicle] or self.one_class is None:
            built = self.build(route.vehicle, route.jobs[:k] + [p] + route.jobs[k:])
            assert built is not None, "insertion_fits and build disagree"
            return built
        if self.kernel is None:
            return self.python_with_job(route, p, k)
        jobs, places, departs, latest, load, travel, legs = self.kernel.with_job(route, p, k)
        starts = self._one_class_starts(len(jobs))
        return Route(route.vehicle, jobs, places, departs, latest, load, travel, starts, legs)

    def _one_class_starts(self, n: int) -> list[int]:
        """:attr:`Route.class_starts` of ``n`` jobs of the day's one class."""
        assert self.one_class is not None
        return [0] * (self.one_class + 1) + [n] * (self.class_count - self.one_class)

    def python_with_job(self, route: Route, p: int, k: int) -> Route:
        """:meth:`with_job`'s update of the tables in Python (a vehicle without breaks, a day
        of one class): the definition the compiled update is tested against."""
        durations, setup, service = self.durations, self.setup, self.service
        jobs = route.jobs[:k] + [p] + route.jobs[k:]
        n = len(jobs)
        here, old_places = self.place[p], route.places
        places = old_places[: k + 1] + [here] + old_places[k + 1 :]
        before, after = old_places[k], old_places[k + 1]
        travel = route.travel + durations[before][here] + durations[here][after]
        travel -= durations[before][after]
        load = [a + b for a, b in zip(route.load, self.demand[p], strict=True)]
        old = route.departs
        departs = old[: k + 1]
        clock = departs[k]
        for i in range(k + 1, n + 1):
            q, at, came_from = jobs[i - 1], places[i], places[i - 1]
            start = self._start_at(q, clock + durations[came_from][at])
            assert start is not None, "insertion_fits and with_job disagree"
            clock = start + (setup[q] if at != came_from else 0) + service[q]
            if i > k + 1 and clock == old[i - 1]:
                departs.append(clock)
                departs.extend(old[i:])
                break
            departs.append(clock)
        old = route.latest
        latest = [0] * (k + 2) + old[k + 1 :]
        if k + 1 == n:
            leave = self.closes[route.vehicle] - durations[here][places[n + 1]]
        else:
            q, at = jobs[k + 1], places[k + 2]
            start = latest[k + 2] - service[q] - (setup[q] if at != here else 0)
            leave = self._latest_start_or_never(q, start) - durations[here][at]
        for i in range(k + 1, 0, -1):
            latest[i] = leave
            q, at, came_from = jobs[i - 1], places[i], places[i - 1]
            start = leave - service[q] - (setup[q] if at != came_from else 0)
            leave = self._latest_start_or_never(q, start) - durations[came_from][at]
            if i - 1 <= k and leave == old[i - 1]:
                latest[: i - 1] = old[: i - 1]
                break
        latest[i - 1] = leave
        starts = self._one_class_starts(n)
        legs = route.legs[:k] + [durations[before][here], durations[here][after]]
        legs += route.legs[k + 1 :]
        return Route(route.vehicle, jobs, places, departs, latest, load, travel, starts, legs)

    def _latest_start_or_never(self, p: int, start: int) -> int:
        """:meth:`_backward`'s latest start of job ``p`` no later than ``start``."""
        if self.several[p]:
            found = latest_in(start, self.windows[p])
            return NEVER if found is None else found
        return self.due[p] if start > self.due[p] else start
