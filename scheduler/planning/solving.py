"""Steps 4 to 6 joined: a day's input turned into the optimizer's problem with its travel
times, solved (here, or in worker processes for a range of days), and the answer read back
with a reason in words for every visit left out.

:mod:`scheduler.planning.days` calls these; :mod:`scheduler.planning.strategy` (pure) owns
how a day is solved and within what time.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from typing import Any

from scheduler.planning.gather import DayInput, travel_between
from scheduler.planning.reasons import left_out_reason
from scheduler.planning.store import Outcome
from scheduler.planning.strategy import DaySolution, solve_day
from scheduler.settings import Settings
from scheduler.travel.from_settings import make_travel_times
from scheduler.travel.times import TravelTimes


def solve_all(problems: list[tuple[Any, ...]], processes: int | None) -> Iterator[DaySolution]:
    """solve_day on each problem, in order; in worker processes when there are several."""
    workers = min(processes or os.cpu_count() or 1, len(problems))
    if workers <= 1:
        return (solve_day(*problem) for problem in problems)
    # fork: the workers need only the pure problem values, and start in milliseconds.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return iter(list(pool.map(_solve_packed, problems)))


def _solve_packed(problem: tuple[Any, ...]) -> DaySolution:
    return solve_day(*problem)


def day_problem(day_input: DayInput, settings: Settings, time_limit: float | None,
             travel_times: TravelTimes | None) -> tuple[dict[str, Any], tuple[Any, ...] | None]:
    """The solver's figures so far, and solve_day's arguments (None: nothing to solve)."""
    limit = settings.planning.time_limit_seconds if time_limit is None else time_limit
    solver: dict[str, Any] = {"engine": "scheduler.optimizer", "time_limit_seconds": limit,
                              "therapists": len(day_input.workers),
                              "visits": len(day_input.tasks)}
    if not day_input.tasks or not day_input.workers:
        solver.update(seconds=0.0, proved_optimal=True, objective=None, note="nothing to solve")
        return solver, None
    model = travel_times if travel_times is not None else _travel_times(settings)
    travel, source = travel_between(day_input, model, settings.zone)
    solver["travel_source"] = source
    return solver, (day_input.workers, day_input.tasks, travel, day_input.candidates, limit)


def read_outcome(day_input: DayInput, solver: dict[str, Any],
             answer: DaySolution | None) -> Outcome:
    if answer is None:
        return Outcome(day_input, {}, {}, solver)
    # seconds: the optimizer's own time (travel matrices come from a cache, or in milliseconds)
    solver = dict(solver, **answer.figures)
    tasks = {task.key: task for task in day_input.tasks}
    reasons = {key: left_out_reason(why, tasks[key], answer.routes, day_input)
               for key, why in answer.left_out.items()}
    return Outcome(day_input, answer.routes, reasons, solver)


@lru_cache(maxsize=4)
def _travel_times(settings: Settings) -> TravelTimes:
    """One travel model per settings, kept for the process (its caches are the point)."""
    return make_travel_times(settings)
