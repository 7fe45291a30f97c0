"""Tiny days whose answers are worked out by hand in the comments, one rule at a time.

Locations: 0 home, 1 and 2 two rooms of one hospital (same index 1 for both jobs where the
test says so), 3 a clinic. Times are epoch seconds in 2026, as Rounds sends them.
"""

from __future__ import annotations

import pytest

from scheduler.optimizer import solve

T0 = 1_790_000_000  # 2026-09-21, the day's origin
MATRIX = [
    [0, 600, 600, 900],
    [600, 0, 0, 300],
    [600, 0, 0, 300],
    [900, 300, 300, 0],
]


def day(jobs, **vehicle) -> dict:
    base = {"id": 7, "start_index": 0, "end_index": 0, "time_window": [T0, T0 + 8 * 3600]}
    base.update(vehicle)
    return {"vehicles": [base], "jobs": jobs, "matrices": {"car": {"durations": MATRIX}}}


def steps_of(answer, kind=None):
    steps = answer["routes"][0]["steps"]
    return [s for s in steps if kind is None or s["type"] == kind]


def test_setup_paid_once_per_building():
    # Jobs 1 and 2 are in the same building (index 1), job 3 elsewhere: setup 600 is paid
    # arriving from home, not between the two rooms. Travel 600 + 0 + 600 = 1200 is the least.
    jobs = [
        {"id": 1, "location_index": 1, "setup": 600, "service": 1800},
        {"id": 2, "location_index": 1, "setup": 600, "service": 1800},
    ]
    answer = solve(day(jobs)).to_json()
    setups = [s["setup"] for s in steps_of(answer, "job")]
    assert setups == [600, 0]
    assert answer["summary"]["setup"] == 600
    assert answer["summary"]["cost"] == 1200


def test_window_bounds_the_start_not_the_end():
    # Window [T0+600, T0+600]: arriving at T0+600, the visit must start exactly then; the
    # 600 s setup and 3600 s service run past the window's end, which is allowed.
    jobs = [
        {
            "id": 1,
            "location_index": 1,
            "setup": 600,
            "service": 3600,
            "time_windows": [[T0 + 600, T0 + 600]],
        }
    ]
    answer = solve(day(jobs)).to_json()
    (visit,) = steps_of(answer, "job")
    assert visit["arrival"] + visit["waiting_time"] == T0 + 600
    assert answer["summary"]["unassigned"] == 0


def test_window_closed_before_arrival_is_impossible_alone():
    # Home -> room is 600 s; the window closes at T0 + 300: no start can be reached.
    jobs = [{"id": 1, "location_index": 1, "time_windows": [[T0, T0 + 300]]}]
    answer = solve(day(jobs)).to_json()
    (left,) = answer["unassigned"]
    assert left["id"] == 1
    assert left["reason"].startswith("impossible: no window can be reached")
    assert left["reason_detail"]["kind"] == "impossible"
    assert left["reason_detail"]["rule"] == "window"
    assert left["reason_detail"]["vehicles"] == [{"id": 7, "rule": "window"}]


def test_second_window_is_used_when_the_first_is_missed():
    # Windows [T0, T0+300] (missed) and [T0+3600, T0+4000]: start at T0+3600 after waiting.
    jobs = [
        {"id": 1, "location_index": 1, "time_windows": [[T0, T0 + 300], [T0 + 3600, T0 + 4000]]}
    ]
    answer = solve(day(jobs)).to_json()
    (visit,) = steps_of(answer, "job")
    assert visit["arrival"] + visit["waiting_time"] == T0 + 3600


def test_leaves_home_late_rather_than_waiting_at_the_visit():
    jobs = [{"id": 1, "location_index": 1, "time_windows": [[T0 + 7200, T0 + 7200]]}]
    answer = solve(day(jobs)).to_json()
    start, visit, _ = steps_of(answer)
    assert start["arrival"] == T0 + 7200 - 600
    assert visit["waiting_time"] == 0


def test_priority_beats_number_of_visits():
    # The shift holds either job 1 (priority 90, 5 h) or jobs 2 and 3 (priority 40 each,
    # 2 h each): 90 > 80, so job 1 wins although two visits would be more.
    jobs = [
        {"id": 1, "location_index": 1, "service": 5 * 3600, "priority": 90},
        {"id": 2, "location_index": 2, "service": 2 * 3600 + 1800, "priority": 40},
        {"id": 3, "location_index": 3, "service": 2 * 3600 + 1800, "priority": 40},
    ]
    answer = solve(day(jobs, time_window=[T0, T0 + 6 * 3600])).to_json()
    assert [s["id"] for s in steps_of(answer, "job")] == [1]
    reasons = {u["id"]: u["reason"] for u in answer["unassigned"]}
    assert set(reasons) == {2, 3}
    assert "day is full" in reasons[2] and "1 (priority 90)" in reasons[2]
    detail = {u["id"]: u["reason_detail"] for u in answer["unassigned"]}
    assert detail[2]["kind"] == "full" and detail[2]["rule"] == "outranked"
    assert detail[2]["rivals"] == [{"id": 1, "priority": 90}] and detail[2]["more"] == 0


def test_more_visits_beat_less_travel_at_equal_priority():
    # Same priority: serving both (travel 600+300+900 = 1800) beats one (1200).
    jobs = [{"id": 1, "location_index": 1}, {"id": 2, "location_index": 3}]
    answer = solve(day(jobs)).to_json()
    assert answer["summary"]["unassigned"] == 0
    assert answer["summary"]["cost"] == 1800


def test_break_inside_its_window_and_not_during_a_visit():
    # A 4 h visit from T0+600 covers the whole lunch window [T0+2h, T0+3h] if taken then, so
    # lunch must come before the visit (start T0+600 forces it at home, impossible: window
    # opens T0+2h) or the visit waits until after lunch: visit starts at T0+3h+1800 at best.
    jobs = [{"id": 1, "location_index": 1, "service": 4 * 3600}]
    lunch = {"id": 9, "time_windows": [[T0 + 7200, T0 + 10800]], "service": 1800}
    answer = solve(day(jobs, breaks=[lunch])).to_json()
    kinds = [s["type"] for s in steps_of(answer)]
    assert kinds == ["start", "break", "job", "end"]
    pause = steps_of(answer, "break")[0]
    visit = steps_of(answer, "job")[0]
    assert T0 + 7200 <= pause["arrival"] + pause["waiting_time"] <= T0 + 10800
    lunch_end = pause["arrival"] + pause["waiting_time"] + 1800
    assert visit["arrival"] + visit["waiting_time"] >= lunch_end


def test_break_that_cannot_fit_makes_the_vehicle_unusable():
    # Lunch window after the shift ends: no route can take it, so nothing is served.
    jobs = [{"id": 1, "location_index": 1}]
    lunch = {"id": 9, "time_windows": [[T0 + 9 * 3600, T0 + 10 * 3600]], "service": 1800}
    answer = solve(day(jobs, breaks=[lunch])).to_json()
    assert answer["routes"] == []
    assert answer["unassigned"][0]["reason"].startswith("impossible")
    assert answer["unassigned"][0]["reason_detail"]["rule"] == "break"


@pytest.mark.parametrize(
    ("vehicle", "job", "words", "rule"),
    [
        ({"skills": [1]}, {"skills": [2]}, "no therapist has the skill(s) 2", "skills"),
        ({}, {"service": 9 * 3600}, "longer than the", "shift_length"),
        ({"max_travel_time": 1000}, {}, "travel limit", "travel_limit"),
        ({"capacity": [1]}, {"delivery": [2]}, "capacity", "capacity"),
        ({"max_tasks": 0}, {}, "max_tasks", "max_tasks"),
        ({}, {"service": 7 * 3600, "time_windows": [[T0 + 3600, T0 + 3600]]}, "too late",
         "shift_end"),
    ],
)
def test_impossible_alone_reasons(vehicle, job, words, rule):
    solution = solve(day([{"id": 1, "location_index": 1, **job}], **vehicle))
    (left,) = solution.to_json()["unassigned"]
    assert left["reason"].startswith("impossible")
    assert words in left["reason"]
    (typed,) = solution.unassigned
    assert (typed.reason.kind, typed.reason.rule, typed.reason.text) == (
        "impossible", rule, left["reason"])
    assert left["reason_detail"] == typed.reason.to_json()
    # Past the skills, each vehicle that holds them is listed with the rule it breaks.
    assert typed.reason.vehicles == (() if rule == "skills" else ((7, rule),))


def test_skills_reasons_name_the_missing_or_the_unmatched_skills():
    # Two therapists with skills {1} and {2}: a job needing 2 and 3 misses skill 3; a job
    # needing 1 and 2 misses none, but no one holds both.
    vehicles = [
        {"id": 7, "start_index": 0, "end_index": 0, "skills": [1]},
        {"id": 8, "start_index": 0, "end_index": 0, "skills": [2]},
    ]
    jobs = [{"id": 1, "location_index": 1, "skills": [2, 3]},
            {"id": 2, "location_index": 1, "skills": [1, 2]}]
    problem = {"vehicles": vehicles, "jobs": jobs, "matrices": {"car": {"durations": MATRIX}}}
    reasons = {u.job: u.reason for u in solve(problem).unassigned}
    assert (reasons[0].rule, reasons[0].skills) == ("skills", (3,))
    assert reasons[0].text == "impossible: no therapist has the skill(s) 3"
    assert (reasons[1].rule, reasons[1].skills) == ("skill_mix", (1, 2))
    assert reasons[1].text == "impossible: no single therapist has all the skills 1, 2"
    assert reasons[1].headline({1: "wound care", 2: "pediatric"}.get) == (
        "no single therapist has all the skills wound care, pediatric")


def test_vehicles_failing_on_different_rules_are_each_named():
    # Vehicle 7 may take no visit; vehicle 8's travel limit is shorter than the round trip.
    vehicles = [
        {"id": 7, "start_index": 0, "end_index": 0, "max_tasks": 0},
        {"id": 8, "start_index": 0, "end_index": 0, "max_travel_time": 600},
    ]
    problem = {"vehicles": vehicles, "jobs": [{"id": 1, "location_index": 1}],
               "matrices": {"car": {"durations": MATRIX}}}
    (left,) = solve(problem).unassigned
    assert left.reason.rule == "several"
    assert left.reason.vehicles == ((7, "max_tasks"), (8, "travel_limit"))
    assert left.reason.text.startswith("impossible: therapist 7: the therapist may not take")
    assert "; therapist 8: the round trip takes 20 min" in left.reason.text


def test_a_full_day_names_at_most_five_rivals_and_counts_the_rest():
    # Seven 1 h visits of priority 60 in one building take 7 h + 20 min of the 8 h shift; an
    # eighth (priority 10) fits alone but not with them. It lost to all seven: the five
    # named are the first by (priority, id), two more are counted.
    jobs = [{"id": k, "location_index": 1, "service": 3600, "priority": 60} for k in range(1, 8)]
    jobs.append({"id": 8, "location_index": 1, "service": 3600, "priority": 10})
    solution = solve(day(jobs))
    (left,) = solution.unassigned
    assert solution.problem.jobs[left.job].id == 8
    reason = left.reason
    assert (reason.kind, reason.rule) == ("full", "outranked")
    assert reason.rivals == tuple((k, 60) for k in range(1, 6)) and reason.more == 2
    assert reason.text.endswith("; it lost to 1 (priority 60), 2 (priority 60), 3 (priority 60), "
                                "4 (priority 60), 5 (priority 60) and 2 more")
    assert reason.headline() == reason.text.split(";")[0]


@pytest.mark.parametrize(
    ("limit", "served"),
    [({"max_tasks": 1}, 1), ({"max_tasks": 2}, 2), ({"capacity": [3]}, 1), ({"capacity": [4]}, 2)],
)
def test_limits_penalised_and_unpenalised(limit, served):
    jobs = [
        {"id": 1, "location_index": 1, "delivery": [2]},
        {"id": 2, "location_index": 3, "delivery": [2]},
    ]
    if "max_tasks" in limit:
        for job in jobs:
            job.pop("delivery")
    answer = solve(day(jobs, **limit)).to_json()
    assert len(steps_of(answer, "job")) == served


def test_epoch_and_relative_times_give_the_same_routes():
    jobs = [
        {
            "id": k,
            "location_index": 1 + k % 3,
            "service": 1800,
            "priority": k * 10,
            "time_windows": [[T0 + 1800 * k, T0 + 1800 * k + 3600]],
        }
        for k in range(6)
    ]
    lunch = {"id": 1, "time_windows": [[T0 + 3 * 3600, T0 + 4 * 3600]], "service": 1800}
    epoch = solve(day(jobs, breaks=[lunch])).to_json()
    shifted_jobs = [
        {**j, "time_windows": [[a - T0, b - T0] for a, b in j["time_windows"]]} for j in jobs
    ]
    relative = solve(
        day(
            shifted_jobs,
            time_window=[0, 8 * 3600],
            breaks=[{**lunch, "time_windows": [[3 * 3600, 4 * 3600]]}],
        )
    ).to_json()
    assert [s["arrival"] - T0 for s in steps_of(epoch)] == [
        s["arrival"] for s in steps_of(relative)
    ]
    assert epoch["summary"]["cost"] == relative["summary"]["cost"]


def test_coordinates_only_fill_the_matrices():
    # Two Kansas City facilities and a home; no matrices: the geodesic model fills them in.
    problem = {
        "vehicles": [{"id": 1, "start": [-94.5786, 39.0997], "end": [-94.5786, 39.0997]}],
        "jobs": [
            {"id": 1, "location": [-94.6000, 39.0500], "service": 1800},
            {"id": 2, "location": [-94.5500, 39.1200], "service": 1800},
        ],
    }
    answer = solve(problem).to_json()
    assert answer["code"] == 0
    assert answer["summary"]["unassigned"] == 0
    assert answer["summary"]["distance"] > 10_000  # metres: a loop of several km
    assert "location_index" not in steps_of(answer)[1]
    assert steps_of(answer)[1]["location"] in ([-94.6, 39.05], [-94.55, 39.12])


def test_open_route_without_end():
    jobs = [{"id": 1, "location_index": 3}]
    problem = day(jobs)
    problem["vehicles"][0].pop("end_index")
    answer = solve(problem).to_json()
    assert answer["summary"]["cost"] == 900  # home -> clinic, no way back
    assert steps_of(answer)[-1]["type"] == "end"
