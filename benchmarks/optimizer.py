"""Optimizer benchmarks on Kansas City days: exactness and speed, and a practice day vs VROOM.

Usage::

    .venv/bin/python benchmarks/optimizer.py [--days 40] [--practice-limit 30] [--skip-practice]
                                             [--classes]

Three figures (issue 3):

1. one therapist, 8-12 visits: median and worst solve time, and how many answers were proved
   optimal by the exact method (target: all proved, median <= 200 ms); with ``--classes``
   the same days again with infection-control classes (issue 11: 20 % of the visits to
   protect, class 0, 20 % in isolation, class 2), each day solved both ways in turn;
   then 12-visit days with ``time_limit=0.2`` (issue 14: no call over 0.22 s);
2. one therapist, 25 visits: solve time (target <= 2 s) beside VROOM on the same input;
3. a practice day, 10 therapists and 150 visits with skills and lunch breaks: objective
   (priority served, visits served, travel) and time (target feasible in <= 30 s), beside
   VROOM on the very same JSON in the same run.

Every answer is re-checked by the independent checker of the tests. Timings are wall-clock on
a machine shared with other work: treat them as indicative.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This folder holds a calendar.py that would shadow the standard library: drop it from the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import timedelta  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "optimizer"))

from optimizer_checker import check_solution  # noqa: E402
from optimizer_days import add_classes  # noqa: E402

from scheduler.optimizer import solve, travel_matrices  # noqa: E402

DAY = 1_790_000_000 - 1_790_000_000 % 86_400 + 5 * 3600  # a 2026 midnight in Kansas City (UTC-5)
HOUR = 3600
ONCOLOGY, LYMPHEDEMA, PEDIATRIC = 1, 2, 3
CLASS_SHARES = ((0, 0.2), (2, 0.2))
"""``--classes``: the share of visits to protect (class 0) and in isolation (class 2)."""


def kc_point(rng: random.Random) -> tuple[float, float]:
    """A point in the Kansas City metro (about 40 x 40 km)."""
    return (round(rng.uniform(-94.80, -94.35), 5), round(rng.uniform(38.85, 39.25), 5))


def practice_day(seed: int, therapists: int, visits: int, lunch: bool = True) -> dict[str, Any]:
    """Visits at facilities (several rooms each), therapists from home, matrices filled in."""
    rng = random.Random(seed)
    facilities = [kc_point(rng) for _ in range(max(2, visits // 3))]
    homes = [kc_point(rng) for _ in range(therapists)]
    points = homes + facilities
    durations, distances = travel_matrices(points)
    vehicles = []
    for k in range(therapists):
        begin = DAY + rng.choice([7, 8, 8, 9]) * HOUR
        vehicle: dict[str, Any] = {
            "id": k + 1,
            "start_index": k,
            "end_index": k,
            "time_window": [begin, begin + 9 * HOUR],
            "skills": sorted(rng.sample([ONCOLOGY, LYMPHEDEMA, PEDIATRIC], rng.randrange(1, 4))),
            "max_tasks": 14,
        }
        if lunch:
            vehicle["breaks"] = [
                {
                    "id": 1,
                    "service": 1800,
                    "time_windows": [[DAY + 11 * HOUR + 1800, DAY + 13 * HOUR]],
                }
            ]
        vehicles.append(vehicle)
    jobs = []
    for k in range(visits):
        job: dict[str, Any] = {
            "id": k + 1,
            "location_index": therapists + rng.randrange(len(facilities)),
            "setup": rng.choice([300, 600, 900]),
            "service": rng.choice([1800, 2700, 3600]),
            "priority": rng.choice([0, 10, 20, 50, 80, 100]),
        }
        if rng.random() < 0.7:
            start = DAY + rng.randrange(8 * HOUR, 15 * HOUR, 1800)
            job["time_windows"] = [[start, start + rng.choice([2, 3, 4]) * HOUR]]
            if rng.random() < 0.3 and start + 6 * HOUR < DAY + 18 * HOUR:
                job["time_windows"].append([start + 5 * HOUR, start + 6 * HOUR])
        if rng.random() < 0.3:
            job["skills"] = [rng.choice([ONCOLOGY, LYMPHEDEMA, PEDIATRIC])]
        jobs.append(job)
    return {
        "vehicles": vehicles,
        "jobs": jobs,
        "matrices": {"car": {"durations": durations, "distances": distances}},
    }


def run_ours(problem: dict[str, Any], time_limit: float | None = None):
    started = time.perf_counter()
    solution = solve(problem, time_limit=time_limit)
    elapsed = time.perf_counter() - started
    answer = solution.to_json()
    value = check_solution(problem, answer)
    return value, elapsed, solution.proved_optimal


def run_vroom(problem: dict[str, Any], time_limit: float):
    try:
        import vroom
    except ImportError:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(problem, handle)
    started = time.perf_counter()
    solution = vroom.Input.from_json(Path(handle.name)).solve(
        exploration_level=5, nb_threads=1, timeout=timedelta(seconds=time_limit)
    )
    elapsed = time.perf_counter() - started
    Path(handle.name).unlink()
    frame = solution.routes
    served = frame[frame["type"] == "job"]
    priorities = {job["id"]: job.get("priority", 0) for job in problem["jobs"]}
    value = (
        int(sum(priorities[int(i)] for i in served["id"])),
        len(served),
        int(solution.summary.duration)
        if hasattr(solution.summary, "duration")
        else int(frame.groupby("vehicle_id")["duration"].max().sum()),
    )
    return value, elapsed


def one_therapist(days: int, classes: bool = False) -> None:
    """Figure 1; with ``classes`` each day is also solved with random order classes."""
    variants = ("", " with classes") if classes else ("",)
    times: dict[str, list[float]] = {name: [] for name in variants}
    proved = dict.fromkeys(variants, 0)
    values: dict[str, list[tuple[int, int, int]]] = {name: [] for name in variants}
    for seed in range(days):
        for name in variants:
            problem = practice_day(seed, therapists=1, visits=8 + seed % 5)
            if name:
                add_classes(problem, random.Random(f"classes {seed}"), CLASS_SHARES)
            value, elapsed, was_proved = run_ours(problem)
            times[name].append(elapsed)
            proved[name] += was_proved
            values[name].append(value)
    for name in variants:
        print(
            f"1 therapist, 8-12 visits{name}, {days} days: median "
            f"{statistics.median(times[name]) * 1000:.0f} ms, worst "
            f"{max(times[name]) * 1000:.0f} ms, proved optimal {proved[name]}/{days}",
            flush=True,
        )
    if classes:
        changed = sum(a != b for a, b in zip(*values.values(), strict=True))
        print(f"  the order changed the optimum on {changed}/{days} days", flush=True)


def time_bound(days: int, limit: float = 0.2) -> None:
    """Issue 14: one therapist, 12 visits, ``solve(problem, time_limit=limit)``: the worst
    call against the limit, and how many answers were still proved optimal."""
    times, proved = [], 0
    for seed in range(days):
        problem = practice_day(seed, therapists=1, visits=12)
        _, elapsed, was_proved = run_ours(problem, time_limit=limit)
        times.append(elapsed)
        proved += was_proved
    print(
        f"1 therapist, 12 visits, time_limit={limit:g}, {days} days: median "
        f"{statistics.median(times) * 1000:.0f} ms, worst {max(times) * 1000:.0f} ms, "
        f"over {limit + 0.02:g} s: {sum(t > limit + 0.02 for t in times)}, "
        f"proved optimal {proved}/{days}",
        flush=True,
    )


def twenty_five(days: int) -> None:
    rows = []
    for seed in range(days):
        problem = practice_day(100 + seed, therapists=1, visits=25)
        ours, elapsed, _ = run_ours(problem)
        theirs = run_vroom(problem, 2.0)
        rows.append((elapsed, ours, theirs))
    times = [r[0] for r in rows]
    print(
        f"1 therapist, 25 visits, {days} days: median {statistics.median(times):.2f} s, "
        f"worst {max(times):.2f} s",
        flush=True,
    )
    _compare(rows)


def practice(limit: float, seeds: int) -> None:
    rows = []
    for seed in range(seeds):
        problem = practice_day(200 + seed, therapists=10, visits=150)
        ours, elapsed, _ = run_ours(problem, time_limit=limit)
        theirs = run_vroom(problem, limit)
        rows.append((elapsed, ours, theirs))
        vroom_text = f"VROOM {theirs[0]} in {theirs[1]:.1f} s" if theirs else "VROOM n/a"
        print(
            f"practice day seed {200 + seed}: ours (priority, served, travel) = {ours} "
            f"in {elapsed:.1f} s; {vroom_text}",
            flush=True,
        )
    _compare(rows)


def _compare(rows) -> None:
    """Count days where our (priority, served, -travel) is better / equal / worse than VROOM's."""
    better = equal = worse = 0
    for _, ours, theirs in rows:
        if theirs is None:
            continue
        mine = (ours[0], ours[1], -ours[2])
        other = (theirs[0][0], theirs[0][1], -theirs[0][2])
        better += mine > other
        equal += mine == other
        worse += mine < other
    print(
        f"  vs VROOM (priority, then served, then travel): better {better}, equal {equal}, "
        f"worse {worse}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=40)
    parser.add_argument("--practice-limit", type=float, default=30.0)
    parser.add_argument("--practice-days", type=int, default=2)
    parser.add_argument("--skip-practice", action="store_true")
    parser.add_argument(
        "--classes",
        action="store_true",
        help="also solve the 8-12 visit days with random infection-control classes",
    )
    args = parser.parse_args(argv)
    one_therapist(args.days, classes=args.classes)
    time_bound(max(60, args.days))
    twenty_five(max(3, args.days // 8))
    if not args.skip_practice:
        practice(args.practice_limit, args.practice_days)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
