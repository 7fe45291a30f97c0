"""The optimizer: orders visits into day routes, reading and writing VROOM's JSON.

A pure library: it imports nothing from the rest of Rounds (no database, no Flask, no
network). Public names, re-exported here on purpose:

* :func:`solve` -- ``solve(problem, *, time_limit=None, seed=0, settings=None,
  travel_model=None) -> Solution``; ``problem`` is the VROOM-style dict or a :class:`Problem`.
  ``time_limit`` is a bound on the whole call, used while the search still pays.
* :class:`Solution` -- ``to_json()``, ``is_feasible()``, ``cost()``, ``summary()``,
  ``objective()``, ``routes``, ``unassigned`` (each with a ``reason``), ``proved_optimal``.
* :class:`Reason` -- why a job is left out: ``kind``, ``rule``, ``text``, ``skills``,
  ``vehicles``, ``rivals``, ``more`` (see :mod:`.reasons`), so callers need not parse words.
* :func:`parse_problem` and :class:`ProblemError` -- checking a problem dict up front.
* :class:`Problem`, :class:`Job`, :class:`Vehicle`, :class:`Break` -- the typed problem.
* :class:`TravelModel` and :func:`travel_matrices` -- the geodesic travel model.
* :class:`SearchSettings` -- work limits (``solution_limit``) and OR-Tools' strategies: with
  them the same input and seed give the same answer under any load.
* :func:`time_route` -- the timing rules applied to one given order of jobs.

See ``docs/optimizer.md`` for the concepts (time window, setup, service, priority, the
objective) and how exactness is proved.
"""

from .errors import ProblemError
from .exact import MAX_EXACT_JOBS, solve_exact
from .json_io import parse_problem
from .problem import Break, Job, Problem, Vehicle
from .reasons import Reason
from .routing import SearchSettings
from .schedule import StepTime, TimedRoute, time_route
from .solution import Solution, Unassigned
from .solve import solve
from .travel_model import TravelModel, travel_matrices

__all__ = [
    "MAX_EXACT_JOBS",
    "Break",
    "Job",
    "Problem",
    "ProblemError",
    "Reason",
    "SearchSettings",
    "Solution",
    "StepTime",
    "TimedRoute",
    "TravelModel",
    "Unassigned",
    "Vehicle",
    "parse_problem",
    "solve",
    "solve_exact",
    "time_route",
    "travel_matrices",
]
