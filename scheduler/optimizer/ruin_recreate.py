"""Ruin and recreate after OR-Tools: remove strings of nearby visits, put them back greedily.

OR-Tools' guided local search moves one or two visits at a time and stalls on tightly
windowed days (Solomon's VRPTW instances: several per cent above the best known). This phase
follows SISR (Christiaens and Vanden Berghe, "Slack Induction by String Removals for Vehicle
Routing Problems", Transportation Science 2020): each iteration removes a few *strings* of
consecutive visits from routes that pass near a random visit, which opens slack in a region
of the map, then re-inserts every removed and every left-out visit at its cheapest feasible
position, in an order sorted by a randomly drawn criterion, skipping ("blinking" over) a
position now and then. One iteration in twenty removes a whole route instead (route
removal, from ALNS), which strings alone cannot do on a route longer than the longest string.
The result is accepted by simulated annealing on travel; a gain in
priority or in visits served always wins and a loss is never accepted, which is VROOM's
lexicographic objective. The best solution seen is returned.

Insertion checks are constant-time and exact (:mod:`.slack`), breaks included (O(breaks
cubed)); the loop over a route's positions is compiled where Rounds was installed with a C
compiler (:meth:`.slack.Tables.best`, the same answers as its Python definition), so some
8,000 iterations a CPU second run on a 100-visit day without breaks (2,500 in Python) and
several hundred on a practice day of ten therapists with lunches. Each route caches
the feasible positions of the visits left out, which are offered the same routes iteration
after iteration. Every returned route is re-timed by :func:`.schedule.time_route`; if one
failed or the objective were lower than the input's, the input would be returned unchanged.

:func:`chains` runs :data:`CHAINS` chains side by side (:mod:`.parallel`), one from the given
routes and one from ruin and recreate's own insertion of every job, each with its own seed
and the second hotter (:data:`CHAIN_SETTINGS`), and keeps the best answer: the same answer
forked or in turn.

The class order (``order_class`` never decreases along a route) needs nothing of its own
here: a removal keeps it, and a visit is only offered the run of positions its class may take
in each route (:attr:`.slack.Route.class_starts`), which the O(1) check confirms.

One module of some 500 lines: the ruin, the recreate and the acceptance of one search.
"""

from __future__ import annotations

import heapq
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

from .parallel import side_by_side
from .problem import Problem
from .schedule import time_route
from .slack import Route, Tables

Objective = tuple[int, int, int]


@dataclass(frozen=True)
class RuinSettings:
    """SISR's parameters (the paper's defaults where they carry over).

    ``mean_removed`` is the average number of visits removed per iteration (the paper's
    c-bar), ``max_string`` the longest string (L_max), ``split_rate`` the share of removals
    that keep a block of visits inside the string, ``blink_rate`` the chance of skipping a
    position. ``route_rate`` is the share of iterations that remove one whole route instead
    (not in SISR; see :meth:`_Search._ruin_route`). Temperatures are in units of the mean
    travel of one leg of the starting solution, so they suit any scale of the matrix.
    """

    mean_removed: float = 10.0
    max_string: int = 10
    split_rate: float = 0.5
    split_depth: float = 0.01
    blink_rate: float = 0.01
    start_temperature: float = 1.0
    end_temperature: float = 0.01
    neighbours: int = 100
    route_rate: float = 0.05
    orders: tuple[tuple[str, int], ...] = (
        ("random", 4),
        ("demand", 4),
        ("far", 2),
        ("close", 1),
        ("window", 2),
    )


def ruin_and_recreate(
    problem: Problem,
    routes: dict[int, list[int]],
    candidates: Sequence[Sequence[int]],
    *,
    seed: int = 0,
    deadline: float | None = None,
    iterations: int | None = None,
    settings: RuinSettings | None = None,
    cooling: tuple[float, float] = (0.0, 1.0),
) -> dict[int, list[int]]:
    """Improve ``routes`` (vehicle position -> job positions) until ``deadline`` or ``iterations``.

    ``candidates[p]`` lists the vehicles that may serve job ``p`` (skills and being possible
    alone, :func:`.reasons.candidate_vehicles`). The answer is never worse than ``routes`` on
    VROOM's objective and depends only on the inputs and ``seed`` when ``iterations`` stops
    the run. ``cooling`` is the part of the annealing's cooling this run covers (0: the start
    temperature, 1: the end one), so that a search may be run in rounds.
    """
    if deadline is None and iterations is None:
        raise ValueError("ruin_and_recreate needs a deadline or an iteration limit")
    if deadline is not None and time.perf_counter() >= deadline:
        return routes
    search = _Search(problem, candidates, settings or RuinSettings(), random.Random(seed))
    start = search.load(routes)
    if start is None:  # a route breaks a rule: nothing to improve from
        return routes
    best = search.run(start, deadline, iterations, cooling)
    return _verified(problem, routes, best)


CHAINS = 2
"""Ruin-and-recreate chains run side by side (:mod:`.parallel`), each with a seed of its own;
the best answer is kept. Fixed, not the number of cores, so the answer does not depend on
the machine: on one core the chains run in turn."""

ROUNDS = 2
"""The chains run in rounds: after each but the last, the first chain goes on from the best
answer so far and the others from their own, each with a new seed, the cooling going on
where it stopped. A chain settled in a poor basin is thereby not the only hope of its half
of the work. Measured at 30,000 iterations per chain on ten of Solomon's hardest instances,
six seeds each: mean gap 1.05 % in two rounds against 1.23 % in one (better in both halves
of the sample)."""


CHAIN_SETTINGS = (
    RuinSettings(),
    RuinSettings(start_temperature=3.0, end_temperature=0.03),
)
"""The settings of chain ``k`` (cycling): a portfolio, since no one cooling suits every day.
A hotter chain wanders further before it settles, which a day of few long routes with wide
windows needs (Solomon's RC204: 0.42 % mean gap over ten seeds, none above 0.9 %, where the
usual cooling gave 1.37 %, four of ten above 2 %, stuck in the same few basins), while on
days of many short, tightly windowed routes it wastes work (R112 1.69 % against 1.35 %).
With one chain of each (200,000 iterations in all, the work of a 10 s call on two cores):
RC204 and RC208 0.35 % over sixteen seeds, none above 2 %; twelve other hard instances,
two seeds each, 0.59 % against 0.63 % for two usual chains and 0.65 % for two hot ones."""


def chains(
    problem: Problem,
    routes: dict[int, list[int]],
    candidates: Sequence[Sequence[int]],
    *,
    seed: int = 0,
    deadline: float | None = None,
    iterations: int | None = None,
    count: int = CHAINS,
    others: Sequence[dict[int, list[int]]] = (),
    rounds: int = ROUNDS,
) -> dict[int, list[int]]:
    """:func:`ruin_and_recreate` in ``count`` chains and ``rounds`` rounds, the best answer,
    never worse than ``routes``.

    In the first round chain ``k`` starts from ``routes`` (``k = 0``) or from
    ``others[k - 1]`` (cycling; an empty dict starts from ruin and recreate's own insertion of
    every job, a start unlike OR-Tools'); in each later round chain 0 starts from the best
    answer so far and chain ``k`` from its own last answer. Chain ``k`` always runs with
    ``CHAIN_SETTINGS[k % len(CHAIN_SETTINGS)]``. Round ``r`` seeds chain ``k`` with
    ``seed * 1_000_003 + r * count + k`` and covers the ``r``-th part of the cooling. Under a
    work limit each chain runs ``iterations // (count * rounds)`` iterations a round, so the
    work is the same as one chain's; under a clock every round ends at its share of the time
    left to ``deadline``, each chain on a core of its own. The first answer wins ties.
    """
    if deadline is not None and time.perf_counter() >= deadline:
        return routes
    per_chain = None if iterations is None else max(1, iterations // (count * rounds))
    starts = [routes, *others]
    current = [starts[k % len(starts)] for k in range(count)]
    best, best_value = routes, _value(problem, routes)

    def task(k: int, r: int):
        def run(stop: float | None) -> dict[int, list[int]]:
            return ruin_and_recreate(
                problem,
                {v: list(jobs) for v, jobs in current[k].items()},
                candidates,
                seed=seed * 1_000_003 + r * count + k,
                deadline=stop,
                iterations=per_chain,
                settings=CHAIN_SETTINGS[k % len(CHAIN_SETTINGS)],
                cooling=(r / rounds, (r + 1) / rounds),
            )

        return run

    for r in range(rounds):
        until = None
        if deadline is not None:
            now = time.perf_counter()
            until = now + max(0.0, deadline - now) / (rounds - r)
        answers = side_by_side([task(k, r) for k in range(count)], until)
        for k, answer in enumerate(answers):
            if answer is None:
                continue
            current[k] = answer
            value = _value(problem, answer)
            if value is not None and (best_value is None or value > best_value):
                best, best_value = answer, value
        current[0] = best
    return best


def _verified(
    problem: Problem, given: dict[int, list[int]], found: dict[int, list[int]]
) -> dict[int, list[int]]:
    """``found`` if :func:`.schedule.time_route` accepts it and it is no worse, else ``given``."""
    before, after = _value(problem, given), _value(problem, found)
    if after is None or (before is not None and after < before):
        return given
    return found


def _value(problem: Problem, routes: dict[int, list[int]]) -> Objective | None:
    """VROOM's objective of ``routes`` by the rules of :mod:`.schedule`; ``None`` if infeasible."""
    priority = served = travel = 0
    seen: set[int] = set()
    for v, jobs in routes.items():
        if not jobs:
            continue
        timed = time_route(problem, v, jobs)
        if timed is None or seen.intersection(jobs) or len(set(jobs)) != len(jobs):
            return None
        seen.update(jobs)
        priority += sum(problem.jobs[p].priority for p in jobs)
        served += len(jobs)
        travel += timed.travel
    return priority, served, -travel


@dataclass
class _State:
    """A solution: one route per vehicle (``None`` for a vehicle that can serve nothing)."""

    routes: list[Route | None]
    left_out: list[int]
    value: Objective

    @property
    def out_set(self) -> frozenset[int]:
        return frozenset(self.left_out)

    def as_dict(self) -> dict[int, list[int]]:
        return {r.vehicle: list(r.jobs) for r in self.routes if r is not None and r.jobs}


class _Search:
    """One run of the ruin-and-recreate loop over a fixed problem."""

    def __init__(
        self,
        problem: Problem,
        candidates: Sequence[Sequence[int]],
        settings: RuinSettings,
        rng: random.Random,
    ) -> None:
        self.tables = Tables(problem)
        self.settings = settings
        self.rng = rng
        self.candidates = [list(c) for c in candidates]
        self.possible = [p for p, c in enumerate(candidates) if c]
        self.neighbours = self._neighbour_lists()
        self.sort_keys = self._sort_keys(problem)
        self.order_names = [name for name, _ in settings.orders]
        self.order_weights = [weight for _, weight in settings.orders]
        self.iterations = 0

    # ----------------------------------------------------------------------- set-up

    def _neighbour_lists(self) -> list[list[int]]:
        """For each job, the closest other jobs (travel both ways), nearest first."""
        durations, place = self.tables.durations, self.tables.place
        lists: list[list[int]] = [[] for _ in place]
        for p in self.possible:
            out, here = durations[place[p]], place[p]
            ranked = heapq.nsmallest(
                self.settings.neighbours,
                ((out[place[q]] + durations[place[q]][here], q) for q in self.possible if q != p),
            )
            lists[p] = [q for _, q in ranked]
        return lists

    def _sort_keys(self, problem: Problem) -> dict[str, list[float]]:
        """Per-job keys of the insertion orders (smaller first)."""
        tables = self.tables
        depot = [v.start_index for v in problem.vehicles if v.start_index is not None]
        home = depot[0] if depot else tables.nowhere
        far = [float(tables.durations[home][tables.place[p]]) for p in range(len(problem.jobs))]
        window = [
            float(sum(b - a for a, b in job.time_windows)) if job.time_windows else math.inf
            for job in problem.jobs
        ]
        return {
            "demand": [-float(sum(d)) for d in tables.demand],
            "far": [-x for x in far],
            "close": far,
            "window": window,
        }

    def load(self, routes: dict[int, list[int]]) -> _State | None:
        """The starting state; ``None`` if a given route breaks a rule."""
        tables = self.tables
        built: list[Route | None] = []
        for v in range(len(tables.start)):
            route = tables.build(v, list(routes.get(v, [])))
            if route is None and routes.get(v):
                return None
            built.append(route)
        served = {p for jobs in routes.values() for p in jobs}
        left_out = [p for p in self.possible if p not in served]
        return _State(built, left_out, self._value(built))

    def _value(self, routes: list[Route | None]) -> Objective:
        priority = served = travel = 0
        weights = self.tables.priority
        for route in routes:
            if route is None or not route.jobs:
                continue
            priority += sum(weights[p] for p in route.jobs)
            served += len(route.jobs)
            travel += route.travel
        return priority, served, -travel

    # ----------------------------------------------------------------------- the loop

    def run(
        self,
        start: _State,
        deadline: float | None,
        iterations: int | None,
        cooling: tuple[float, float] = (0.0, 1.0),
    ) -> dict[int, list[int]]:
        """Simulated annealing over ruin-and-recreate moves; the best state's routes."""
        current = best = self._recreate(start.routes[:], list(start.left_out), deadline=deadline)
        if best.value < start.value:
            current = best = start
        legs = max(1, best.value[1] + sum(1 for r in best.routes if r is not None and r.jobs))
        scale = max(1.0, -best.value[2] / legs)
        hot = self.settings.start_temperature * scale
        cold = self.settings.end_temperature * scale
        began = time.perf_counter()
        rng = self.rng
        while True:
            if iterations is not None and self.iterations >= iterations:
                break
            now = time.perf_counter() if deadline is not None else 0.0
            if deadline is not None and now >= deadline:
                break
            if iterations is not None:
                progress = self.iterations / iterations
            else:
                progress = (now - began) / max(1e-9, deadline - began)  # type: ignore[operator]
            temperature = hot * (cold / hot) ** (cooling[0] + (cooling[1] - cooling[0]) * progress)
            self.iterations += 1
            trial = self._iterate(current, deadline)
            if trial is None:
                continue
            if self._accept(trial.value, current.value, temperature, rng):
                current = trial
                if trial.value > best.value:
                    best = trial
        return best.as_dict()

    @staticmethod
    def _accept(new: Objective, old: Objective, temperature: float, rng: random.Random) -> bool:
        """Lexicographic on (priority, served); annealing on travel when those are equal."""
        if new[:2] != old[:2]:
            return new[:2] > old[:2]
        return new[2] > old[2] + temperature * math.log(rng.random() or 1e-300)

    def _iterate(self, current: _State, deadline: float | None = None) -> _State | None:
        routes = current.routes[:]
        removed = self._ruin(routes)
        if removed is None:
            return None
        return self._recreate(routes, removed + current.left_out, current.out_set, deadline)

    # ----------------------------------------------------------------------- ruin

    def _ruin(self, routes: list[Route | None]) -> list[int] | None:
        """Remove strings from routes near a random served job, or now and then a whole route
        (:meth:`_ruin_route`); ``None`` if a route broke."""
        rng, settings = self.rng, self.settings
        if rng.random() < settings.route_rate:
            whole = self._ruin_route(routes)
            if whole is not None:
                return whole
        where: dict[int, int] = {}
        sizes = []
        for v, route in enumerate(routes):
            if route is not None and route.jobs:
                sizes.append(len(route.jobs))
                for p in route.jobs:
                    where[p] = v
        if not where:
            return []
        longest = min(settings.max_string, sum(sizes) / len(sizes))
        most_strings = 4 * settings.mean_removed / (1 + longest) - 1
        strings = int(rng.random() * most_strings) + 1
        served = list(where)
        seed = served[int(rng.random() * len(served))]
        removed: list[int] = []
        touched: set[int] = set()
        for p in [seed, *self.neighbours[seed]]:
            if len(touched) >= strings:
                break
            owner = where.get(p)
            if owner is None or owner in touched:
                continue
            touched.add(owner)
            route = routes[owner]
            assert route is not None
            size = int(rng.random() * min(len(route.jobs), longest)) + 1
            cut = self._string(route.jobs, route.jobs.index(p), size)
            shorter = self.tables.without(route, set(cut))
            if shorter is None:
                return None
            routes[owner] = shorter
            removed.extend(cut)
        return removed

    def _ruin_route(self, routes: list[Route | None]) -> list[int] | None:
        """Empty one route drawn at random; ``None`` when fewer than two routes serve jobs.

        Route removal (Pisinger and Ropke's ALNS has it) is not in SISR, whose strings are
        at most :attr:`RuinSettings.max_string` long: a route longer than that is never
        emptied, so a day of few long routes that settled early on one route too many
        (Solomon's RC208: four routes of 25 visits where the best known has three) keeps it
        to the end. Measured at 30,000 iterations on twelve of Solomon's hardest instances,
        three seeds each: mean gap 1.22 % with 5 % of iterations so, 1.47 % without (better
        on two seeds of three); RC208 3.0 / 2.0 / 0.2 % against 8.3 / 2.4 / 2.5 %. The cost
        per iteration barely changes (2,250-2,500 iterations a CPU second either way).
        """
        used = [v for v, route in enumerate(routes) if route is not None and route.jobs]
        if len(used) < 2:
            return None
        v = used[int(self.rng.random() * len(used))]
        route = routes[v]
        assert route is not None
        cut = list(route.jobs)
        emptied = self.tables.without(route, set(cut))
        if emptied is None:
            return None
        routes[v] = emptied
        return cut

    def _string(self, jobs: list[int], at: int, size: int) -> list[int]:
        """``size`` jobs in a row through position ``at``, or around a block kept in place."""
        rng, settings = self.rng, self.settings
        n = len(jobs)
        if size >= n or rng.random() >= settings.split_rate:
            first = self._start(at, size, n)
            return jobs[first : first + size]
        kept = 1
        while size + kept < n and rng.random() > settings.split_depth:
            kept += 1
        span = size + kept
        first = self._start(at, span, n)
        keep_from = first + int(rng.random() * (size + 1))
        return [
            jobs[i] for i in range(first, first + span) if not keep_from <= i < keep_from + kept
        ]

    def _start(self, at: int, size: int, n: int) -> int:
        low, high = max(0, at - size + 1), min(at, n - size)
        return low + int(self.rng.random() * (high - low + 1))

    # ----------------------------------------------------------------------- recreate

    def _recreate(
        self,
        routes: list[Route | None],
        pool: list[int],
        was_out: frozenset[int] = frozenset(),
        deadline: float | None = None,
    ) -> _State:
        """Insert the pool's jobs one by one at their cheapest feasible position (with blinks);
        ``was_out``: those of them that were left out before the ruin. Past ``deadline`` the
        jobs not yet inserted stay out (the first recreate of a large day from nothing takes
        a while).

        Only the positions the class order allows are tried (one run of consecutive stops per
        route), and each cheaper than the best so far by the exact O(1) check of :mod:`.slack`
        (O(breaks cubed) on a vehicle with breaks): :meth:`.slack.Tables.best`, compiled where
        it could be built. A visit that was left out reads each route's cached list of its
        feasible positions instead (:meth:`_insert_cached`): it is offered the same routes
        again and again.
        """
        rng, tables = self.rng, self.tables
        name = rng.choices(self.order_names, self.order_weights)[0]
        if name == "random":
            rng.shuffle(pool)
        else:
            keys = self.sort_keys[name]
            pool.sort(key=keys.__getitem__)
        priority = tables.priority
        pool.sort(key=lambda p: -priority[p])  # stable: priority first, then the criterion
        best, with_job, candidates = tables.best, tables.with_job, self.candidates
        random, blink = rng.random, self.settings.blink_rate
        left_out = []
        for k, p in enumerate(pool):
            if deadline is not None and time.perf_counter() >= deadline:
                left_out.extend(pool[k:])
                break
            if p in was_out:
                if not self._insert_cached(routes, p):
                    left_out.append(p)
                continue
            found = best(routes, candidates[p], p, random, blink)
            if found is None:
                left_out.append(p)
                continue
            v, at = found
            routes[v] = with_job(routes[v], p, at)  # type: ignore[arg-type]
        return _State(routes, left_out, self._value(routes))

    def _insert_cached(self, routes: list[Route | None], p: int) -> bool:
        """Put ``p`` at its cheapest feasible position (blinking) read from each route's
        cached list of them (:meth:`.slack.Tables.options`); ``False`` if none is found."""
        tables, rng, blink = self.tables, self.rng, self.settings.blink_rate
        best_cost, best_route, best_at = math.inf, None, -1
        for _, route in tables.offered(routes, self.candidates[p]):
            for cost, k in tables.options(route, p):
                if cost >= best_cost:
                    break
                if rng.random() >= blink:
                    best_cost, best_route, best_at = cost, route, k
                    break
        if best_route is None:
            return False
        routes[best_route.vehicle] = tables.with_job(best_route, p, best_at)
        return True
