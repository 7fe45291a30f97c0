"""Why a job was left out, in words a scheduler understands and in a typed form programs read.

Two kinds of answer:

* *impossible alone*: no vehicle could serve the job even on an otherwise empty day (skills,
  capacity, a window that cannot be reached inside the shift, a visit longer than the shift,
  a break in the way...). :func:`candidate_vehicles` decides this with the same timing rules as
  everything else, and :func:`why_impossible` names the first rule that fails;
* *the day is full*: some vehicle could serve it alone, but not together with the jobs it
  serves that are worth as much; :func:`why_left_out` names those competing jobs. When the
  class order (``order_class``) is what keeps it out, that is, it would fit into a route as
  planned but only on the wrong side of visits of another class, it names those visits.

Both return a :class:`Reason`: its ``text`` is the English sentence (VROOM-style JSON's
``unassigned[].reason``), its other fields say the same thing for programs, so a caller never
has to parse the words (the planning layer rewords them for therapists from these fields).
:meth:`Reason.to_json` is the ``unassigned[].reason_detail`` object of the solution JSON:

* ``kind``: ``"impossible"`` or ``"full"``;
* ``rule``: for ``"impossible"``, the first rule broken: ``skills`` (no vehicle holds some
  skill; ``skills`` lists the missing ids), ``skill_mix`` (each skill is held, but no single
  vehicle holds them all; ``skills`` lists the job's), ``max_tasks`` (the vehicle may take no
  job), ``capacity``, ``travel_limit`` (``max_travel_time``), ``shift_length`` (the job and the
  drives are longer than the working hours), ``window`` (no window can be reached in time),
  ``shift_end`` (no window leaves time to be back before the end of the shift), ``break`` (the
  breaks are in the way), or ``several`` when the vehicles holding the skills fail on
  different rules; for ``"full"``, ``outranked`` (it would displace jobs worth as much or more),
  ``no_room`` (none of the vehicles that could serve it is used at all) or ``order`` (it
  would fit into a planned route, but only out of class order: after a visit of a higher
  class or before one of a lower class; no place the order allows fits);
* ``skills``: skill ids, for the two skill rules, else empty;
* ``vehicles``: for ``"impossible"`` past the skills, each vehicle holding the skills as
  ``{"id", "rule"}``, in the problem's order; else empty;
* ``rivals``: for ``"full"``, the competing jobs named in the text as ``{"id", "priority"}``,
  highest priority first (at most :data:`MAX_NAMED`), and ``more``: how many others there are.
  For ``order`` they are the visits in its way: at each place where it would fit but for the
  order, the visits before it of a higher class and after it of a lower class.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from .problem import DEFAULT_ORDER_CLASS, Job, Problem, Vehicle
from .schedule import NO_END, TimedRoute, class_slots, earliest_in, time_route, vehicle_window
from .slack import Route, Tables

MAX_NAMED = 5
"""Competing jobs named in a "day is full" reason."""

Kind = Literal["impossible", "full"]
Rule = Literal[
    "skills", "skill_mix", "max_tasks", "capacity", "travel_limit", "shift_length", "window",
    "shift_end", "break", "several", "outranked", "no_room", "order",
]

IMPOSSIBLE = "impossible: "
"""How the text of an *impossible alone* reason starts."""

_FULL_HEADLINES: dict[str, str] = {
    "outranked": "the day is full: it cannot be added without dropping visits worth as much "
                 "or more",
    "no_room": "the day is full: the therapists who could do it have no room left",
    "order": "the day is full in infection-control order: it would fit only on the wrong side "
             "of visits that must come before or after it",
}
_SKILL_SENTENCES: dict[str, str] = {
    "skills": "no therapist has the skill(s) ",
    "skill_mix": "no single therapist has all the skills ",
}


@dataclass(frozen=True)
class Reason:
    """Why one job is left out: the English ``text`` and the same facts as fields.

    The fields exist so that callers (the planning layer) can reword a reason, or map the ids
    in it to their own things, without parsing ``text``; see the module docstring for what
    each ``rule`` means. Ids are the problem's job, vehicle and skill ids, not positions.
    """

    kind: Kind
    text: str
    rule: Rule
    skills: tuple[int, ...] = ()
    vehicles: tuple[tuple[int, Rule], ...] = ()  # (vehicle id, its first rule broken)
    rivals: tuple[tuple[int, int], ...] = ()  # (job id, priority), as named in ``text``
    more: int = 0  # rivals not named

    def __str__(self) -> str:
        return self.text

    def headline(self, skill_name: Callable[[int], str] = str) -> str:
        """The reason without the rivals and without the ``impossible: `` prefix, with each
        skill written by ``skill_name`` (the caller's names for the problem's skill numbers).

        "the day is full: it cannot be added without dropping visits worth as much or more",
        "no therapist has the skill(s) pediatric", "the therapist may not take any visit...".
        """
        if self.kind == "full":
            return _FULL_HEADLINES[self.rule]
        if self.rule in _SKILL_SENTENCES:
            return _SKILL_SENTENCES[self.rule] + ", ".join(skill_name(s) for s in self.skills)
        return self.text.removeprefix(IMPOSSIBLE)

    def to_json(self) -> dict[str, Any]:
        """The ``reason_detail`` object of the solution JSON (described in the module)."""
        return {
            "kind": self.kind,
            "rule": self.rule,
            "skills": list(self.skills),
            "vehicles": [{"id": v, "rule": rule} for v, rule in self.vehicles],
            "rivals": [{"id": j, "priority": priority} for j, priority in self.rivals],
            "more": self.more,
        }


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


def why_impossible(problem: Problem, p: int) -> Reason:
    """The reason job ``p`` cannot be served by any vehicle even alone."""
    job = problem.jobs[p]
    capable = [v for v in problem.vehicles if v.can_do(job)]
    if not capable:
        held = frozenset().union(*(v.skills for v in problem.vehicles))
        missing = tuple(sorted(job.skills - held))
        rule: Rule = "skills" if missing else "skill_mix"
        named = missing or tuple(sorted(job.skills))
        return Reason("impossible", IMPOSSIBLE + _SKILL_SENTENCES[rule] + _ids(named), rule,
                      skills=named)
    found = [(vehicle.id, *_alone_problem(problem, vehicle, job)) for vehicle in capable]
    texts: dict[str, list[int]] = {}
    for vehicle_id, _, text in found:
        texts.setdefault(text, []).append(vehicle_id)
    if len(texts) == 1:
        words = next(iter(texts))
    else:
        words = "; ".join(f"therapist {_ids(ids)}: {text}" for text, ids in texts.items())
    rules = {rule for _, rule, _ in found}
    return Reason("impossible", IMPOSSIBLE + words, rules.pop() if len(rules) == 1 else "several",
                  vehicles=tuple((vehicle_id, rule) for vehicle_id, rule, _ in found))


def _alone_problem(problem: Problem, vehicle: Vehicle, job: Job) -> tuple[Rule, str]:
    """The first rule that stops ``vehicle`` from serving ``job`` on an empty day, and why."""
    if vehicle.max_tasks == 0:
        return "max_tasks", "the therapist may not take any visit (max_tasks is 0)"
    if vehicle.capacity is not None and job.delivery:
        if any(a > c for a, c in zip(job.delivery, vehicle.capacity, strict=False)):
            return "capacity", "it needs more than the therapist can carry (capacity)"
    out = problem.travel(vehicle.start_index, job.location_index)
    back = problem.travel(job.location_index, vehicle.end_index)
    if vehicle.max_travel_time is not None and out + back > vehicle.max_travel_time:
        return "travel_limit", (
            f"the round trip takes {_minutes(out + back)}, more than the therapist's travel "
            f"limit of {_minutes(vehicle.max_travel_time)}"
        )
    day_start, day_end = vehicle_window(vehicle)
    work = job.service  # setup may be saved after a visit in the same building
    breaks = sum(b.service for b in vehicle.breaks)
    if day_end < NO_END and work + out + back + breaks > day_end - day_start:
        return "shift_length", (
            f"it takes {_minutes(work)} plus {_minutes(out + back)} of driving"
            + (f" and {_minutes(breaks)} of breaks" if breaks else "")
            + f", longer than the {_minutes(day_end - day_start)} shift"
        )
    arrival = day_start + out
    start = earliest_in(arrival, job.time_windows)
    if start is None:
        closes = job.time_windows[-1][1]
        return "window", (
            f"no window can be reached from the start inside the shift: the earliest arrival "
            f"is {_minutes(arrival - closes)} after its last window closes"
        )
    if start + work + back > day_end:
        return "shift_end", (
            "no window leaves time to finish the visit and get back before the end of the "
            f"shift ({_minutes(start + work + back - day_end)} too late at best)"
        )
    return "break", "it cannot be fitted around the therapist's break(s)"


def why_left_out(
    problem: Problem,
    p: int,
    routes: Sequence[TimedRoute],
    candidates: Sequence[int],
    unordered: Unordered | None = None,
) -> Reason:
    """The reason a job possible alone is not served: the jobs it competes with, or the visits
    whose class order keeps it out.

    ``unordered`` is :class:`Unordered` of ``problem`` and ``routes``; pass one when asking
    about many jobs, to build it once.
    """
    used = {route.vehicle for route in routes}
    if not any(v in used for v in candidates):
        return Reason("full", _FULL_HEADLINES["no_room"], "no_room")
    in_the_way = _order_blockers(problem, p, routes, candidates, unordered)
    if in_the_way:
        named, more = _named(in_the_way)
        return Reason("full", _FULL_HEADLINES["order"] + _listed("in its way: ", named, more),
                      "order", rivals=named, more=more)
    named, more = _named(_rivals(problem, p, routes, candidates))
    text = _FULL_HEADLINES["outranked"] + _listed("it lost to ", named, more)
    return Reason("full", text, "outranked", rivals=named, more=more)


class Unordered:
    """The planned routes as if the order did not matter: does a job fit at a given place by
    every rule but the class order?

    Built once for all the jobs left out (the problem with every job in the default class,
    and lazily its slack tables). The O(1) check of :mod:`.slack`, exact without breaks and a
    relaxation with them, filters the places; :func:`.schedule.time_route` decides the rest,
    so a practice day's reasons cost a few re-timings, not one per place.
    """

    def __init__(self, problem: Problem) -> None:
        self.problem = without_classes(problem)
        self._tables: Tables | None = None
        self._routes: dict[tuple[int, tuple[int, ...]], Route | None] = {}

    def fits(self, vehicle: int, jobs: Sequence[int], p: int, k: int) -> bool:
        """Whether job ``p`` fits before ``jobs[k]`` on ``vehicle``'s route, order aside."""
        if self._tables is None:
            self._tables = Tables(self.problem)
        tables = self._tables
        key = (vehicle, tuple(jobs))
        if key not in self._routes:
            self._routes[key] = tables.build(vehicle, list(jobs))
        route = self._routes[key]
        if route is None or not tables.room_for(route, p):
            return False
        durations, places, here = tables.durations, route.places, tables.place[p]
        extra = durations[places[k]][here] + durations[here][places[k + 1]]
        extra -= durations[places[k]][places[k + 1]]
        if route.travel + extra > tables.max_travel[vehicle]:
            return False
        if not tables.insertion_fits(route, p, k):
            return False
        return time_route(self.problem, vehicle, [*jobs[:k], p, *jobs[k:]]) is not None


def without_classes(problem: Problem) -> Problem:
    """The problem with every job in the default class: the day as if the order did not
    matter, to tell whether the order is what keeps a job out."""
    if all(job.order_class == DEFAULT_ORDER_CLASS for job in problem.jobs):
        return problem
    return replace(
        problem,
        jobs=tuple(replace(job, order_class=DEFAULT_ORDER_CLASS) for job in problem.jobs),
    )


def _order_blockers(
    problem: Problem,
    p: int,
    routes: Sequence[TimedRoute],
    candidates: Sequence[int],
    unordered: Unordered | None,
) -> list[Job]:
    """The visits whose class keeps job ``p`` out of routes it would otherwise fit, highest
    priority first; empty when the order is not what keeps it out.

    The order keeps it out when, in some route of a vehicle that could serve it, a place the
    order forbids would fit by every other rule, and no place the order allows fits. At each
    such place the visits in the way are those before it of a higher class and those after it
    of a lower class.
    """
    wanted = problem.jobs[p].order_class
    blockers: dict[int, Job] = {}
    allowed_somewhere: list[tuple[int, list[int], range]] = []
    for route in routes:
        if route.vehicle not in candidates:
            continue
        jobs = list(route.jobs)
        allowed = class_slots(problem, jobs, p)
        allowed_somewhere.append((route.vehicle, jobs, allowed))
        for k in range(len(jobs) + 1):
            if k in allowed:
                continue
            if unordered is None:
                unordered = Unordered(problem)
            if not unordered.fits(route.vehicle, jobs, p, k):
                continue
            for q in jobs[:k]:
                if problem.jobs[q].order_class > wanted:
                    blockers[q] = problem.jobs[q]
            for q in jobs[k:]:
                if problem.jobs[q].order_class < wanted:
                    blockers[q] = problem.jobs[q]
    if not blockers:
        return []
    for v, jobs, allowed in allowed_somewhere:  # a place it may go fits: not the order's doing
        for k in allowed:
            if time_route(problem, v, [*jobs[:k], p, *jobs[k:]]) is not None:
                return []
    return sorted(blockers.values(), key=lambda other: (-other.priority, other.id))


def _named(jobs: Sequence[Job]) -> tuple[tuple[tuple[int, int], ...], int]:
    """The first :data:`MAX_NAMED` jobs as (id, priority), and how many more there are."""
    named = tuple((other.id, other.priority) for other in jobs[:MAX_NAMED])
    return named, max(0, len(jobs) - MAX_NAMED)


def _listed(lead: str, named: Sequence[tuple[int, int]], more: int) -> str:
    """``"; <lead>4 (priority 50), 7 (priority 10) and 2 more"``, or nothing if none."""
    if not named:
        return ""
    listed = ", ".join(f"{job_id} (priority {priority})" for job_id, priority in named)
    return f"; {lead}{listed}" + (f" and {more} more" if more else "")


def _rivals(
    problem: Problem, p: int, routes: Sequence[TimedRoute], candidates: Sequence[int]
) -> list[Job]:
    """The jobs served by ``candidates`` that job ``p`` competes with, highest priority first:
    those worth as much or more whose time overlaps its windows, else all they serve."""
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
    if not rivals:
        rivals = [problem.jobs[j] for r in routes if r.vehicle in candidates for j in r.jobs]
    rivals.sort(key=lambda other: (-other.priority, other.id))
    return rivals


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
