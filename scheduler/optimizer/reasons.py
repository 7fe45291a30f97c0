"""Why a job was left out, in words a scheduler understands.

Two kinds of answer:

* *impossible alone*: no vehicle could serve the job even on an otherwise empty day (skills,
  capacity, a window that cannot be reached inside the shift, a visit longer than the shift,
  a break in the way...). :func:`candidate_vehicles` decides this with the same timing rules as
  everything else, and :func:`why_impossible` names the first rule that fails;
* *the day is full*: some vehicle could serve it alone, but not together with the jobs it
  serves that are worth as much; :func:`why_left_out` names those competing jobs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .problem import Job, Problem, Vehicle
from .schedule import NO_END, TimedRoute, earliest_in, time_route, vehicle_window

MAX_NAMED = 5
"""Competing jobs named in a "day is full" reason."""


def candidate_vehicles(problem: Problem) -> list[list[int]]:
    """For each job, the vehicles (positions) that could serve it alone, setup waived.

    The setup is waived because a job can be cheaper inside a route than alone: after another
    visit in the same building it pays no setup. Any other rule only gets harder when more
    jobs share the route, as long as travel times obey the triangle inequality (road networks
    and the geodesic model do); on a matrix that does not, a job could be called impossible
    alone although a detour through another place would make it fit.
    """
    relaxed = replace(problem, jobs=tuple(replace(job, setup=0) for job in problem.jobs))
    return [
        [v for v in range(len(problem.vehicles)) if time_route(relaxed, v, [p]) is not None]
        for p in range(len(problem.jobs))
    ]


def why_impossible(problem: Problem, p: int) -> str:
    """The reason job ``p`` cannot be served by any vehicle even alone."""
    job = problem.jobs[p]
    capable = [v for v in problem.vehicles if v.can_do(job)]
    if not capable:
        held = frozenset().union(*(v.skills for v in problem.vehicles))
        missing = sorted(job.skills - held)
        if missing:
            return f"impossible: no therapist has the skill(s) {_ids(missing)}"
        return f"impossible: no single therapist has all the skills {_ids(sorted(job.skills))}"
    reasons = {}
    for vehicle in capable:
        reasons.setdefault(_alone_problem(problem, vehicle, job), []).append(vehicle.id)
    if len(reasons) == 1:
        return f"impossible: {next(iter(reasons))}"
    parts = [f"therapist {_ids(ids)}: {text}" for text, ids in reasons.items()]
    return "impossible: " + "; ".join(parts)


def _alone_problem(problem: Problem, vehicle: Vehicle, job: Job) -> str:
    """The first rule that stops ``vehicle`` from serving ``job`` on an empty day."""
    if vehicle.max_tasks == 0:
        return "the therapist may not take any visit (max_tasks is 0)"
    if vehicle.capacity is not None and job.delivery:
        if any(a > c for a, c in zip(job.delivery, vehicle.capacity, strict=False)):
            return "it needs more than the therapist can carry (capacity)"
    out = problem.travel(vehicle.start_index, job.location_index)
    back = problem.travel(job.location_index, vehicle.end_index)
    if vehicle.max_travel_time is not None and out + back > vehicle.max_travel_time:
        return (
            f"the round trip takes {_minutes(out + back)}, more than the therapist's travel "
            f"limit of {_minutes(vehicle.max_travel_time)}"
        )
    day_start, day_end = vehicle_window(vehicle)
    work = job.service  # setup may be saved after a visit in the same building
    breaks = sum(b.service for b in vehicle.breaks)
    if day_end < NO_END and work + out + back + breaks > day_end - day_start:
        return (
            f"it takes {_minutes(work)} plus {_minutes(out + back)} of driving"
            + (f" and {_minutes(breaks)} of breaks" if breaks else "")
            + f", longer than the {_minutes(day_end - day_start)} shift"
        )
    arrival = day_start + out
    start = earliest_in(arrival, job.time_windows)
    if start is None:
        closes = job.time_windows[-1][1]
        return (
            f"no window can be reached from the start inside the shift: the earliest arrival "
            f"is {_minutes(arrival - closes)} after its last window closes"
        )
    if start + work + back > day_end:
        return (
            "no window leaves time to finish the visit and get back before the end of the "
            f"shift ({_minutes(start + work + back - day_end)} too late at best)"
        )
    return "it cannot be fitted around the therapist's break(s)"


def why_left_out(
    problem: Problem, p: int, routes: Sequence[TimedRoute], candidates: Sequence[int]
) -> str:
    """The reason a job possible alone is not served: the jobs it competes with."""
    job = problem.jobs[p]
    rivals = []
    for route in routes:
        if route.vehicle not in candidates:
            continue
        for step in route.steps:
            if step.kind != "job":
                continue
            other = problem.jobs[step.index]
            if _overlaps(job, step.start, step.departure) and other.priority >= job.priority:
                rivals.append(other)
    used = {route.vehicle for route in routes}
    if not rivals:
        rivals = [problem.jobs[j] for r in routes if r.vehicle in candidates for j in r.jobs]
    rivals.sort(key=lambda other: (-other.priority, other.id))
    named = ", ".join(f"{o.id} (priority {o.priority})" for o in rivals[:MAX_NAMED])
    more = f" and {len(rivals) - MAX_NAMED} more" if len(rivals) > MAX_NAMED else ""
    if not any(v in used for v in candidates):
        return "the day is full: the therapists who could do it have no room left"
    return "the day is full: it cannot be added without dropping visits worth as much or more" + (
        f"; it lost to {named}{more}" if named else ""
    )


def _overlaps(job: Job, busy_from: int, busy_to: int) -> bool:
    """Whether a visit occupying [busy_from, busy_to] competes for ``job``'s time."""
    if not job.time_windows:
        return True
    return any(
        start <= busy_to and busy_from <= end + job.setup + job.service
        for start, end in job.time_windows
    )


def _ids(ids: Sequence[int]) -> str:
    return ", ".join(str(i) for i in ids)


def _minutes(seconds: int) -> str:
    minutes = seconds / 60
    return f"{minutes:.0f} min" if minutes >= 1 else f"{seconds} s"
