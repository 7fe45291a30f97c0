"""Solomon VRPTW benchmark: the optimizer beside VROOM and PyVRP on the 56 classic instances.

Usage::

    .venv/bin/python benchmarks/solomon.py [SOLOMON_DIR] [--instances R101,RC101]
        [--time-limit 10] [--no-vroom] [--no-pyvrp] [--csv FILE]

Each instance is converted to the optimizer's JSON contract (VROOM's), solved with a time
limit, checked by the independent checker of the tests, re-measured in double precision and
compared with the best-known solution (conventions in ``../shared/benchmarks/README.md``).

The integer rule: Euclidean distances and times are multiplied by :data:`SCALE` and travel
times rounded *up* (``scheduler.optimizer.integers.scale_up``), so any schedule feasible in
integers is feasible in real numbers; distances are then re-measured in double precision from
the coordinates. The objective is VROOM's (least total travel, fleet free up to 25 vehicles),
so the reference is the best known *distance-only* solution in double precision: the CVRPLIB
routes re-measured; for the 8 instances where those routes are infeasible in double precision
only a lower bound is known (the truncated-arc optimum), so the gap printed there (marked
``*``) overstates the true gap. ``bksV`` is the fleet of the hierarchical best known.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Python puts this script's folder first on sys.path; another benchmark there is named
# calendar.py and would shadow the standard library's calendar module. Drop that entry.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import csv  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import timedelta  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "optimizer"))

from optimizer_checker import check_solution  # noqa: E402

from scheduler.optimizer import solve  # noqa: E402
from scheduler.optimizer.integers import scale_up  # noqa: E402

SCALE = 100
DEFAULT_DIR = ROOT.parent / "shared" / "benchmarks" / "solomon"


@dataclass(frozen=True)
class Instance:
    """One Solomon instance as read from its text file (node 0 is the depot)."""

    name: str
    vehicles: int
    capacity: int
    coords: list[tuple[int, int]]
    demand: list[int]
    ready: list[int]
    due: list[int]
    service: list[int]

    def distance(self, i: int, j: int) -> float:
        return math.dist(self.coords[i], self.coords[j])


def read_instance(path: Path) -> Instance:
    """Parse the Solomon text format (see the README of the data folder)."""
    lines = [line.split() for line in path.read_text().splitlines()]
    name = lines[0][0]
    numbers = [row for row in lines if row and all(_is_int(x) for x in row)]
    vehicles, capacity = map(int, numbers[0])
    rows = [list(map(int, row)) for row in numbers[1:]]
    return Instance(
        name=name,
        vehicles=vehicles,
        capacity=capacity,
        coords=[(r[1], r[2]) for r in rows],
        demand=[r[3] for r in rows],
        ready=[r[4] for r in rows],
        due=[r[5] for r in rows],
        service=[r[6] for r in rows],
    )


def to_problem(inst: Instance) -> dict[str, Any]:
    """The instance in the optimizer's JSON contract (integers: see the module docstring)."""
    size = len(inst.coords)
    durations = [[scale_up(inst.distance(i, j), SCALE) for j in range(size)] for i in range(size)]
    return {
        "vehicles": [
            {
                "id": k,
                "start_index": 0,
                "end_index": 0,
                "capacity": [inst.capacity],
                "time_window": [inst.ready[0] * SCALE, inst.due[0] * SCALE],
            }
            for k in range(inst.vehicles)
        ],
        "jobs": [
            {
                "id": i,
                "location_index": i,
                "service": inst.service[i] * SCALE,
                "delivery": [inst.demand[i]],
                "time_windows": [[inst.ready[i] * SCALE, inst.due[i] * SCALE]],
            }
            for i in range(1, size)
        ],
        "matrices": {"car": {"durations": durations}},
    }


def check_double(inst: Instance, routes: list[list[int]]) -> tuple[bool, float]:
    """Feasibility and length of routes (customer numbers) in double precision."""
    served = sorted(c for route in routes for c in route)
    ok = served == list(range(1, len(inst.coords)))
    total = 0.0
    for route in routes:
        clock, place, load = float(inst.ready[0]), 0, 0
        for c in route:
            clock = max(clock + inst.distance(place, c), inst.ready[c])
            ok &= clock <= inst.due[c] + 1e-9
            clock += inst.service[c]
            total += inst.distance(place, c)
            place, load = c, load + inst.demand[c]
        total += inst.distance(place, 0)
        ok &= clock + inst.distance(place, 0) <= inst.due[0] + 1e-9
        ok &= load <= inst.capacity
    ok &= len(routes) <= inst.vehicles
    return ok, total


# ---------------------------------------------------------------------------------------------
# Solvers: each returns (routes as customer numbers, seconds)


def run_ours(problem: dict[str, Any], time_limit: float) -> tuple[list[list[int]], float, dict]:
    started = time.perf_counter()
    solution = solve(problem, time_limit=time_limit)  # what a user calling solve() gets
    elapsed = time.perf_counter() - started
    answer = solution.to_json()
    check_solution(problem, answer)  # raises on any broken rule or wrong figure
    routes = [[s["id"] for s in r["steps"] if s["type"] == "job"] for r in answer["routes"]]
    return routes, elapsed, answer


def run_vroom(problem: dict[str, Any], time_limit: float) -> tuple[list[list[int]], float] | None:
    try:
        import vroom
    except ImportError:
        return None
    import json
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(problem, handle)
    started = time.perf_counter()
    solution = vroom.Input.from_json(Path(handle.name)).solve(
        exploration_level=5, nb_threads=1, timeout=timedelta(seconds=time_limit)
    )
    elapsed = time.perf_counter() - started
    Path(handle.name).unlink()
    frame = solution.routes
    routes = []
    for _, group in frame[frame["type"] == "job"].groupby("vehicle_id", sort=True):
        routes.append([int(i) for i in group["id"]])
    return routes, elapsed


def run_pyvrp(problem: dict[str, Any], inst: Instance, time_limit: float):
    try:
        from pyvrp import Model
        from pyvrp.stop import MaxRuntime
    except ImportError:
        return None
    model = Model()
    durations = problem["matrices"]["car"]["durations"]
    locations = [model.add_location(x, y) for x, y in inst.coords]
    depot = model.add_depot(
        locations[0], tw_early=inst.ready[0] * SCALE, tw_late=inst.due[0] * SCALE
    )
    model.add_vehicle_type(
        num_available=inst.vehicles,
        capacity=inst.capacity,
        start_depot=depot,
        end_depot=depot,
        tw_early=inst.ready[0] * SCALE,
        tw_late=inst.due[0] * SCALE,
    )
    for i in range(1, len(locations)):
        model.add_client(
            locations[i],
            delivery=inst.demand[i],
            service_duration=inst.service[i] * SCALE,
            tw_early=inst.ready[i] * SCALE,
            tw_late=inst.due[i] * SCALE,
        )
    for i, a in enumerate(locations):
        for j, b in enumerate(locations):
            model.add_edge(a, b, distance=durations[i][j], duration=durations[i][j])
    started = time.perf_counter()
    result = model.solve(stop=MaxRuntime(time_limit), seed=0, display=False)
    elapsed = time.perf_counter() - started
    # Client activities are numbered among clients from 0; Solomon numbers customers from 1.
    routes = [
        [a.idx + 1 for a in route.schedule() if a.is_client()] for route in result.best.routes()
    ]
    return routes, elapsed


# ---------------------------------------------------------------------------------------------


def read_references(folder: Path) -> dict[str, dict[str, Any]]:
    with open(folder / "bks.csv", newline="") as handle:
        rows = {row["instance"]: row for row in csv.DictReader(handle)}
    refs = {}
    for name, row in rows.items():
        exact_double = row["dist_only_feasible_double"] == "yes"
        # Known feasible double-precision optimum; else the truncated optimum, a lower bound
        # (gaps to it overstate ours; marked "*").
        reference = float(
            row["dist_only_distance_double" if exact_double else "dist_only_distance_dimacs"]
        )
        refs[name] = {
            "reference": reference,
            "bks_vehicles": int(row["vehicles"]),
            "lower_bound_only": not exact_double,
        }
    return refs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--instances", help="comma-separated names, e.g. R101,RC101")
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--no-vroom", action="store_true")
    parser.add_argument("--no-pyvrp", action="store_true")
    parser.add_argument("--csv", type=Path, help="also write the rows to this CSV file")
    args = parser.parse_args(argv)
    refs = read_references(args.folder)
    names = sorted(refs) if not args.instances else args.instances.split(",")
    header = (
        f"{'inst':6} {'veh':>3} {'distance':>9} {'gap%':>6} {'s':>5} | "
        f"{'vroom':>9} {'gap%':>6} {'s':>5} | {'pyvrp':>9} {'gap%':>6} {'s':>5} | "
        f"{'ref':>8} {'bksV':>4}"
    )
    print(header, flush=True)
    rows = []
    for name in names:
        inst = read_instance(args.folder / f"{name}.txt")
        problem = to_problem(inst)
        ref = refs[name]["reference"]
        row: dict[str, Any] = {"instance": name, "reference": ref}
        routes, seconds, _ = run_ours(problem, args.time_limit)
        ok, length = check_double(inst, routes)
        row.update(
            vehicles=len(routes),
            distance=length,
            feasible=ok,
            gap=100 * (length - ref) / ref if ok else math.nan,
            seconds=seconds,
        )
        for label, runner in (
            ("vroom", None if args.no_vroom else run_vroom),
            ("pyvrp", None if args.no_pyvrp else run_pyvrp),
        ):
            outcome = None
            if runner is run_vroom:
                outcome = run_vroom(problem, args.time_limit)
            elif runner is run_pyvrp:
                outcome = run_pyvrp(problem, inst, args.time_limit)
            if outcome is None:
                row.update(
                    {
                        f"{label}_distance": math.nan,
                        f"{label}_gap": math.nan,
                        f"{label}_seconds": math.nan,
                    }
                )
                continue
            other_ok, other_length = check_double(inst, outcome[0])
            row.update(
                {
                    f"{label}_distance": other_length if other_ok else math.nan,
                    f"{label}_gap": 100 * (other_length - ref) / ref if other_ok else math.nan,
                    f"{label}_seconds": outcome[1],
                }
            )
        rows.append(row)
        print(
            f"{name:6} {row['vehicles']:>3} {row['distance']:>9.2f} {row['gap']:>6.2f} "
            f"{row['seconds']:>5.1f} | {row['vroom_distance']:>9.2f} {row['vroom_gap']:>6.2f} "
            f"{row['vroom_seconds']:>5.1f} | {row['pyvrp_distance']:>9.2f} "
            f"{row['pyvrp_gap']:>6.2f} {row['pyvrp_seconds']:>5.1f} | {ref:>8.2f}"
            f"{'*' if refs[name]['lower_bound_only'] else ' '}{refs[name]['bks_vehicles']:>4}"
            + ("" if ok else "  INFEASIBLE"),
            flush=True,
        )
    _print_means(rows)
    if args.csv:
        with open(args.csv, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return 0 if all(row["feasible"] for row in rows) else 1


def _print_means(rows: list[dict[str, Any]]) -> None:
    def mean(key: str) -> str:
        values = [row[key] for row in rows if not math.isnan(row.get(key, math.nan))]
        return f"{statistics.mean(values):.2f} ({len(values)})" if values else "n/a"

    feasible = sum(row["feasible"] for row in rows)
    print(
        f"\nfeasible: {feasible}/{len(rows)}; mean gap %: ours {mean('gap')}, "
        f"vroom {mean('vroom_gap')}, pyvrp {mean('pyvrp_gap')}; "
        f"mean seconds: ours {mean('seconds')}"
    )


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()


if __name__ == "__main__":
    raise SystemExit(main())
