"""The pure layer: tasks and workers -> the optimizer's problem -> routes, on tiny days whose
answer is worked out in the comments."""

from __future__ import annotations

import pytest

from scheduler.optimizer import Reason, Solution, parse_problem, solve
from scheduler.planning.answer import Taken, arrival_time, explain, read_solution
from scheduler.planning.problem import (
    Location,
    Pause,
    Task,
    Travel,
    Worker,
    build_problem,
    therapist_token,
)
from scheduler.planning.strategy import solve_day

H = 3600
DAY = 1_796_000_000 - 1_796_000_000 % 86_400  # a midnight (UTC) in 2026, in epoch seconds

# Home and two buildings; the second one is 10 min from home, the third 10 min from the second.
PLACES = (Location("home:1", (39.07, -94.58)),
          Location("facility:1", (39.05, -94.59), overhead=900),
          Location("facility:2", (39.09, -94.58), overhead=300))
TRAVEL = Travel(PLACES,
                seconds=((0, 600, 610), (600, 0, 600), (610, 600, 0)),
                metres=((0, 5000, 5100), (5000, 0, 5000), (5100, 5000, 0)))


def worker(therapist_id: int = 1, skills: frozenset[str] = frozenset(), **extra) -> Worker:
    return Worker(therapist_id, "home:1", "home:1", (DAY + 8 * H, DAY + 16 * H),
                  frozenset({therapist_token(therapist_id)}) | skills, **extra)


def task(key: str, place: str = "facility:1", minutes: int = 45, windows=None,
         skills=None, priority: int = 50) -> Task:
    return Task(key, place, minutes * 60, tuple(windows or [(DAY + 8 * H, DAY + 15 * H)]),
                frozenset(skills or {therapist_token(1)}), priority)


def test_the_problem_is_valid_vroom_input_and_numbers_skills_by_name() -> None:
    built = build_problem([worker(skills=frozenset({"oncology"}))],
                          [task("1:2026-12-07"), task("2:2026-12-07", skills={"oncology"})],
                          TRAVEL)
    parse_problem(built.problem)  # the optimizer's own checks accept it
    names = built.skill_names
    assert {names[n] for n in built.problem["vehicles"][0]["skills"]} == {"oncology",
                                                                          "therapist:1"}
    assert [names[n] for n in built.problem["jobs"][1]["skills"]] == ["oncology"]
    assert built.tasks[2].key == "2:2026-12-07"


def test_the_overhead_is_paid_on_arriving_from_another_place_only() -> None:
    durations = build_problem([worker()], [task("a")], TRAVEL).problem["matrices"]["car"][
        "durations"]
    # home -> facility 1: 600 s drive + 900 s check-in; facility 1 -> itself: nothing;
    # facility 1 -> home: the drive only.
    assert durations[0][1] == 600 + 900
    assert durations[1][1] == 0
    assert durations[1][0] == 600


def test_drives_are_rounded_up_to_whole_minutes() -> None:
    durations = build_problem([worker()], [task("a")], TRAVEL).problem["matrices"]["car"][
        "durations"]
    assert durations[0][2] == 660 + 300  # 610 s is planned as 11 minutes, then the check-in


def test_limits_and_breaks_become_max_tasks_capacity_and_breaks() -> None:
    lunch = Pause("lunch", ((DAY + 11 * H, DAY + 13 * H),), 1800)
    built = build_problem([worker(pauses=(lunch,), max_visits=3, max_hands_on_minutes=120)],
                          [task("a", minutes=50)], TRAVEL)
    vehicle, job = built.problem["vehicles"][0], built.problem["jobs"][0]
    assert vehicle["max_tasks"] == 3 and vehicle["capacity"] == [120]
    assert job["delivery"] == [50]
    assert vehicle["breaks"] == [{"id": 1, "description": "lunch", "service": 1800,
                                  "time_windows": [[DAY + 11 * H, DAY + 13 * H]]}]


def test_an_unknown_place_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match="task a: unknown place 'facility:9'"):
        build_problem([worker()], [task("a", place="facility:9")], TRAVEL)


def test_arrival_waits_for_a_break_that_cuts_into_the_drive() -> None:
    # Ready at 11:00, 30 min drive. A lunch 11:10-11:40 interrupts it: 10 min driven before,
    # 20 after, so the building is reached at 12:00. A lunch after the drive changes nothing.
    ready = DAY + 11 * H
    lunch = Taken(Pause("lunch", ((0, 0),), 1800), ready + 600, ready + 2400)
    assert arrival_time(ready, 1800, [lunch]) == ready + 2400 + 1200
    late = Taken(Pause("lunch", ((0, 0),), 1800), ready + 1800, ready + 3600)
    assert arrival_time(ready, 1800, [late]) == ready + 1800


def test_two_visits_in_one_building_pay_one_check_in() -> None:
    # Both visits may start from 09:00; the first pays the 15 min check-in, the second none.
    windows = [(DAY + 9 * H, DAY + 15 * H)]
    day = solve_day([worker()], [task("a", windows=windows), task("b", windows=windows)],
                    TRAVEL, {"a": (1,), "b": (1,)}, time_limit=1.0)
    first, second = day.routes[1].legs
    assert (first.overhead, second.overhead) == (900, 0)
    assert first.start == DAY + 9 * H and first.arrive == DAY + 9 * H - 900
    assert second.start == first.end  # no drive, no check-in, no wait
    assert day.figures["proved_optimal"] and day.left_out == {}


def test_open_visits_go_to_a_worker_with_the_skill_and_own_visits_stay() -> None:
    skilled, plain = worker(1, frozenset({"lymphedema"})), worker(2)
    tasks = [task("own-2", skills={therapist_token(2)}),
             task("open", place="facility:2", skills={"lymphedema"})]
    day = solve_day([skilled, plain], tasks, TRAVEL, {"own-2": (2,), "open": (1,)}, 1.0)
    assert [leg.task.key for leg in day.routes[2].legs] == ["own-2"]
    assert [leg.task.key for leg in day.routes[1].legs] == ["open"]


def test_a_full_day_leaves_out_the_lowest_priority_and_names_the_rivals() -> None:
    # 08:00-10:30 is 150 min: 10 min out, a 15 min check-in and 10 min back leave 115 min,
    # room for two 45 min visits (in one building) but not three; the priority 10 visit is
    # the one left out.
    short = Worker(1, "home:1", "home:1", (DAY + 8 * H, DAY + 10 * H + 1800),
                   frozenset({therapist_token(1)}))
    tasks = [task("high", priority=90), task("mid", priority=80), task("low", priority=10)]
    day = solve_day([short], tasks, TRAVEL, {t.key: (1,) for t in tasks}, 1.0)
    assert set(day.left_out) == {"low"}
    why = day.left_out["low"]
    assert why.kind == "full" and {key for key, _ in why.rivals} == {"high", "mid"}
    assert why.tried == (1,)


def test_explain_reads_the_optimizers_typed_reasons() -> None:
    built = build_problem([worker()], [task("a"), task("b", skills={"pediatric"})], TRAVEL)
    lost = Reason("full", "the day is full: it cannot be added without dropping visits worth "
                  "as much or more; it lost to 1 (priority 60) and 3 more", "outranked",
                  rivals=((1, 60),), more=3)
    full = explain(built, lost, (1,))
    assert (full.kind, full.rivals, full.more, full.tried) == ("full", (("a", 60),), 3, (1,))
    assert full.text == ("the day is full: it cannot be added without dropping visits worth "
                         "as much or more")
    # Nobody holds "pediatric": the optimizer says so with the skill's number, we by name.
    _, (left,) = read_solution(built, solve(built.problem, time_limit=1))
    assert left.task.key == "b"
    impossible = explain(built, left.reason, (1,))
    assert (impossible.kind, impossible.rule, impossible.skills) == (
        "impossible", "skills", ("pediatric",))
    assert impossible.text == "no therapist has the skill(s) pediatric"


def test_read_solution_refuses_a_failed_solution() -> None:
    built = build_problem([worker()], [task("a")], TRAVEL)
    with pytest.raises(ValueError, match="the optimizer failed: jobs"):
        read_solution(built, Solution.failure("jobs[0]: bad"))


def test_travel_subset_keeps_the_figures_of_the_places_kept() -> None:
    sub = TRAVEL.subset(["facility:2", "home:1"])
    assert [p.key for p in sub.places] == ["home:1", "facility:2"]
    assert sub.drive("home:1", "facility:2") == (610, 5100)
