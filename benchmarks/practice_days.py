"""Practice days with many therapists: Rounds beside VROOM through the public ``solve``.

Usage::

    .venv/bin/python benchmarks/practice_days.py [--seeds 10] [--limits 10,5]
        [--therapists 10] [--visits 150] [--vroom-threads 2] [--no-vroom] [--first-seed 1]

Issue 14. A generator of its own, unlike the one in ``benchmarks/optimizer.py``: facilities
of four kinds around Kansas City (hospital, nursing home, dialysis clinic, cancer centre)
with several rooms each, visits whose windows fall around the facility's treatment blocks,
therapists on staggered shifts starting from home, each holding some of four skills, each
with a lunch of 30 or 45 minutes inside a window, and more visits than the day can hold, so
that *which* visits are served matters as much as the order.

Each day is solved with ``solve(problem, time_limit=T)`` and nothing else set, for each limit
of ``--limits``, and by VROOM (exploration level 5, its own stopping rule, capped at the
largest limit) on the very same JSON in the same run. Every answer of ours is re-checked by
the independent checker of the tests. Compared lexicographically as VROOM's objective:
priority served, then visits served, then travel. Timings are wall-clock: indicative.
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

from scheduler.optimizer import solve, travel_matrices  # noqa: E402

MIDNIGHT = 1_790_000_000 - 1_790_000_000 % 86_400 + 6 * 3600  # a 2026 midnight, UTC-6
HOUR, MINUTE = 3600, 60
SKILLS = (1, 2, 3, 4)  # oncology, lymphedema, pediatric, hospice
KINDS = {
    # kind: (share of facilities, rooms (low, high), skill a visit there may need, blocks)
    "hospital": (0.25, (3, 8), 1, ((7, 9), (13, 14))),
    "nursing_home": (0.35, (2, 6), 4, ((8, 9), (12, 13))),
    "dialysis": (0.2, (2, 5), 2, ((6, 10), (11, 15))),
    "cancer_centre": (0.2, (2, 6), 1, ((9, 12),)),
}


def _point(rng: random.Random, centre: tuple[float, float], spread: float) -> tuple[float, float]:
    return (
        round(centre[0] + rng.gauss(0, spread), 5),
        round(centre[1] + rng.gauss(0, spread * 0.8), 5),
    )


def practice_day(seed: int, therapists: int = 10, visits: int = 150) -> dict[str, Any]:
    """One practice day in VROOM's JSON, matrices filled in by the geodesic travel model."""
    rng = random.Random(f"practice day {seed}")
    hubs = [(-94.58, 39.10), (-94.67, 38.95), (-94.42, 39.05), (-94.60, 39.22)]
    facility_count = max(4, visits // 4)
    facilities: list[tuple[str, tuple[float, float]]] = []
    kinds = list(KINDS)
    weights = [KINDS[k][0] for k in kinds]
    for _ in range(facility_count):
        kind = rng.choices(kinds, weights)[0]
        facilities.append((kind, _point(rng, rng.choice(hubs), 0.06)))
    homes = [_point(rng, rng.choice(hubs), 0.1) for _ in range(therapists)]
    points = homes + [place for _, place in facilities]
    durations, distances = travel_matrices(points)
    vehicles = []
    for k in range(therapists):
        begin = MIDNIGHT + rng.choice([7 * HOUR, 7 * HOUR + 1800, 8 * HOUR, 9 * HOUR, 10 * HOUR])
        length = rng.choice([6, 8, 8, 8, 9]) * HOUR
        skills = {rng.choice(SKILLS)}
        while rng.random() < 0.5 and len(skills) < len(SKILLS):
            skills.add(rng.choice(SKILLS))
        lunch_from = max(begin + 3 * HOUR, MIDNIGHT + 11 * HOUR)
        vehicles.append(
            {
                "id": 101 + k,
                "start_index": k,
                "end_index": k,
                "time_window": [begin, begin + length],
                "skills": sorted(skills),
                "breaks": [
                    {
                        "id": 1,
                        "service": rng.choice([1800, 1800, 2700]),
                        "time_windows": [[lunch_from, lunch_from + rng.choice([90, 120]) * MINUTE]],
                    }
                ],
            }
        )
    jobs = []
    # Rooms of a facility share its location index, so setup is paid once per facility visit.
    weights_by_facility = [rng.randint(*KINDS[kind][1]) for kind, _ in facilities]
    for k in range(visits):
        f = rng.choices(range(facility_count), weights_by_facility)[0]
        kind = facilities[f][0]
        _, _, skill, blocks = KINDS[kind]
        job: dict[str, Any] = {
            "id": 1 + k,
            "location_index": therapists + f,
            "setup": rng.choice([5, 10, 10, 15]) * MINUTE,
            "service": rng.choice([30, 45, 45, 60]) * MINUTE,
            "priority": rng.choice([10, 20, 30, 50, 50, 70, 90, 100]),
        }
        if rng.random() < 0.45:
            job["skills"] = [skill if rng.random() < 0.7 else rng.choice(SKILLS)]
        draw = rng.random()
        if draw < 0.55:  # around the facility's treatment blocks: before, between or after
            block = rng.choice(blocks)
            if rng.random() < 0.5:
                job["time_windows"] = [
                    [MIDNIGHT + 7 * HOUR, MIDNIGHT + block[0] * HOUR - HOUR],
                    [MIDNIGHT + block[1] * HOUR, MIDNIGHT + block[1] * HOUR + 3 * HOUR],
                ]
                if job["time_windows"][0][1] <= job["time_windows"][0][0]:
                    job["time_windows"].pop(0)
            else:
                job["time_windows"] = [
                    [MIDNIGHT + block[1] * HOUR, MIDNIGHT + block[1] * HOUR + 2 * HOUR]
                ]
        elif draw < 0.85:  # an appointment-like window
            start = MIDNIGHT + rng.randrange(8 * HOUR, 16 * HOUR, 1800)
            job["time_windows"] = [[start, start + rng.choice([1, 2, 2, 3]) * HOUR]]
        jobs.append(job)
    return {
        "vehicles": vehicles,
        "jobs": jobs,
        "matrices": {"car": {"durations": durations, "distances": distances}},
    }


def run_ours(problem: dict[str, Any], time_limit: float) -> tuple[tuple[int, int, int], float]:
    """Our (priority, served, travel) through the public ``solve``, checked; and seconds."""
    started = time.perf_counter()
    solution = solve(problem, time_limit=time_limit)
    elapsed = time.perf_counter() - started
    value = check_solution(problem, solution.to_json())
    return value, elapsed


def run_vroom(
    problem: dict[str, Any], time_limit: float, threads: int
) -> tuple[tuple[int, int, int], float] | None:
    try:
        import vroom
    except ImportError:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(problem, handle)
    started = time.perf_counter()
    solution = vroom.Input.from_json(Path(handle.name)).solve(
        exploration_level=5, nb_threads=threads, timeout=timedelta(seconds=time_limit)
    )
    elapsed = time.perf_counter() - started
    Path(handle.name).unlink()
    frame = solution.routes
    served = frame[frame["type"] == "job"]
    priorities = {job["id"]: job.get("priority", 0) for job in problem["jobs"]}
    # VROOM's ``duration`` column is the travel done so far along the route.
    travel = int(frame.groupby("vehicle_id")["duration"].max().sum()) if len(frame) else 0
    value = (int(sum(priorities[int(i)] for i in served["id"])), len(served), travel)
    return value, elapsed


def better_or_equal(ours: tuple[int, int, int], theirs: tuple[int, int, int]) -> bool:
    return (ours[0], ours[1], -ours[2]) >= (theirs[0], theirs[1], -theirs[2])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--limits", default="10,5", help="our time limits, comma-separated")
    parser.add_argument("--therapists", type=int, default=10)
    parser.add_argument("--visits", type=int, default=150)
    parser.add_argument("--vroom-threads", type=int, default=2)
    parser.add_argument("--no-vroom", action="store_true")
    args = parser.parse_args(argv)
    limits = [float(x) for x in args.limits.split(",")]
    wins = dict.fromkeys(limits, 0)
    times: dict[float, list[float]] = {limit: [] for limit in limits}
    compared = 0
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        problem = practice_day(seed, args.therapists, args.visits)
        theirs = None if args.no_vroom else run_vroom(problem, max(limits), args.vroom_threads)
        line = [f"seed {seed}:"]
        for limit in limits:
            ours, elapsed = run_ours(problem, limit)
            times[limit].append(elapsed)
            mark = ""
            if theirs is not None:
                ok = better_or_equal(ours, theirs[0])
                wins[limit] += ok
                mark = " >=" if ok else " <"
            line.append(f"ours@{limit:g}s {ours} in {elapsed:.2f} s{mark};")
        if theirs is not None:
            compared += 1
            line.append(f"VROOM {theirs[0]} in {theirs[1]:.2f} s")
        print(" ".join(line), flush=True)
    for limit in limits:
        print(
            f"limit {limit:g} s: at least as good as VROOM on {wins[limit]}/{compared}; "
            f"seconds median {statistics.median(times[limit]):.2f}, "
            f"worst {max(times[limit]):.2f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
