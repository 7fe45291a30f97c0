"""Bad input: ``code`` 2 and an ``error`` naming the field, never an exception."""

from __future__ import annotations

import copy
import json

import pytest
from click.testing import CliRunner

from scheduler.cli.solve import solve_command
from scheduler.optimizer import ProblemError, parse_problem, solve


def good() -> dict:
    return {
        "vehicles": [
            {
                "id": 1,
                "start_index": 0,
                "end_index": 0,
                "time_window": [0, 36000],
                "breaks": [{"id": 1, "time_windows": [[10000, 20000]], "service": 600}],
            }
        ],
        "jobs": [
            {"id": 1, "location_index": 1, "service": 600, "time_windows": [[0, 5000]]},
            {"id": 2, "location_index": 2, "service": 600, "priority": 10},
        ],
        "matrices": {"car": {"durations": [[0, 60, 90], [60, 0, 30], [90, 30, 0]]}},
    }


def broken(change) -> dict:
    problem = copy.deepcopy(good())
    change(problem)
    return problem


CASES = [
    ("missing job id", lambda p: p["jobs"][0].pop("id"), "jobs[0].id", "required"),
    ("duplicate job id", lambda p: p["jobs"][1].update(id=1), "jobs[1].id", "duplicate"),
    (
        "duplicate vehicle id",
        lambda p: p["vehicles"].append(dict(p["vehicles"][0])),
        "vehicles[1].id",
        "duplicate",
    ),
    (
        "duplicate break id",
        lambda p: p["vehicles"][0]["breaks"].append({"id": 1, "time_windows": [[0, 1]]}),
        "vehicles[0].breaks[1].id",
        "duplicate",
    ),
    ("no vehicles", lambda p: p.update(vehicles=[]), "vehicles", "at least one"),
    ("vehicles missing", lambda p: p.pop("vehicles"), "vehicles", "required"),
    (
        "not square",
        lambda p: p["matrices"]["car"]["durations"][1].pop(),
        "matrices.car.durations[1]",
        "square",
    ),
    (
        "distances of another size",
        lambda p: p["matrices"]["car"].update(distances=[[0]]),
        "matrices.car.distances",
        "3x3",
    ),
    (
        "index out of range",
        lambda p: p["jobs"][1].update(location_index=7),
        "jobs[1].location_index",
        "outside",
    ),
    (
        "vehicle index out of range",
        lambda p: p["vehicles"][0].update(end_index=3),
        "vehicles[0].end_index",
        "outside",
    ),
    (
        "reversed window",
        lambda p: p["jobs"][0].update(time_windows=[[500, 100]]),
        "jobs[0].time_windows[0]",
        "reversed",
    ),
    (
        "reversed shift",
        lambda p: p["vehicles"][0].update(time_window=[9, 1]),
        "vehicles[0].time_window",
        "reversed",
    ),
    (
        "overlapping windows",
        lambda p: p["jobs"][0].update(time_windows=[[0, 100], [50, 200]]),
        "jobs[0].time_windows[1]",
        "overlaps",
    ),
    ("negative service", lambda p: p["jobs"][0].update(service=-5), "jobs[0].service", "negative"),
    ("negative setup", lambda p: p["jobs"][0].update(setup=-1), "jobs[0].setup", "negative"),
    (
        "negative travel",
        lambda p: p["matrices"]["car"]["durations"][0].__setitem__(1, -3),
        "matrices.car.durations[0][1]",
        "negative",
    ),
    (
        "negative break",
        lambda p: p["vehicles"][0]["breaks"][0].update(service=-1),
        "vehicles[0].breaks[0].service",
        "negative",
    ),
    (
        "priority above 100",
        lambda p: p["jobs"][1].update(priority=101),
        "jobs[1].priority",
        "between 0 and 100",
    ),
    (
        "priority below 0",
        lambda p: p["jobs"][1].update(priority=-1),
        "jobs[1].priority",
        "negative",
    ),
    ("unknown job key", lambda p: p["jobs"][0].update(pickup=[1]), "jobs[0].pickup", "unknown"),
    ("unknown top key", lambda p: p.update(shipments=[]), "shipments", "unknown"),
    (
        "unknown vehicle key",
        lambda p: p["vehicles"][0].update(speed=2),
        "vehicles[0].speed",
        "unknown",
    ),
    (
        "text instead of number",
        lambda p: p["jobs"][0].update(service="600"),
        "jobs[0].service",
        "whole number",
    ),
    (
        "fractional time",
        lambda p: p["jobs"][0].update(service=60.5),
        "jobs[0].service",
        "whole number",
    ),
    (
        "true as a number",
        lambda p: p["jobs"][0].update(setup=True),
        "jobs[0].setup",
        "whole number",
    ),
    (
        "missing location index",
        lambda p: p["jobs"][0].pop("location_index"),
        "jobs[0].location_index",
        "required",
    ),
    (
        "vehicle with no place",
        lambda p: [p["vehicles"][0].pop(k) for k in ("start_index", "end_index")],
        "vehicles[0]",
        "start",
    ),
    (
        "amount sizes differ",
        lambda p: (p["jobs"][0].update(delivery=[1, 2]), p["vehicles"][0].update(capacity=[3])),
        "vehicles[0].capacity",
        "components",
    ),
    (
        "other profile",
        lambda p: p["vehicles"][0].update(profile="bike"),
        "vehicles[0].profile",
        "profile",
    ),
    (
        "bad latitude",
        lambda p: p["jobs"][0].update(location=[0, 95]),
        "jobs[0].location[1]",
        "latitude",
    ),
    ("jobs not a list", lambda p: p.update(jobs={"id": 1}), "jobs", "list"),
    (
        "order class above 2",
        lambda p: p["jobs"][1].update(order_class=3),
        "jobs[1].order_class",
        "between 0 and 2",
    ),
    (
        "order class below 0",
        lambda p: p["jobs"][1].update(order_class=-1),
        "jobs[1].order_class",
        "negative",
    ),
    (
        "order class as text",
        lambda p: p["jobs"][0].update(order_class="isolation"),
        "jobs[0].order_class",
        "whole number",
    ),
    (
        "order class true",
        lambda p: p["jobs"][0].update(order_class=True),
        "jobs[0].order_class",
        "whole number",
    ),
    (
        "order class fractional",
        lambda p: p["jobs"][1].update(order_class=1.0),
        "jobs[1].order_class",
        "whole number",
    ),
    (
        "order class null",
        lambda p: p["jobs"][1].update(order_class=None),
        "jobs[1].order_class",
        "whole number",
    ),
    (
        "order class on a vehicle",
        lambda p: p["vehicles"][0].update(order_class=1),
        "vehicles[0].order_class",
        "unknown",
    ),
]


@pytest.mark.parametrize(("name", "change", "field", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_names_the_field(name, change, field, words):
    answer = solve(broken(change)).to_json()
    assert answer["code"] == 2
    assert answer["error"].startswith(f"{field}:"), answer["error"]
    assert words in answer["error"]
    assert "routes" not in answer


def test_parse_problem_raises_with_the_field():
    with pytest.raises(ProblemError) as caught:
        parse_problem(broken(lambda p: p["jobs"][1].update(priority=500)))
    assert caught.value.field == "jobs[1].priority"


def test_not_an_object_at_all():
    assert solve([1, 2]).to_json() == {"code": 2, "error": "problem: expected an object, got list"}


def test_good_problem_solves():
    answer = solve(good()).to_json()
    assert answer["code"] == 0
    assert answer["summary"]["unassigned"] == 0


@pytest.mark.parametrize("order_class", [0, 1, 2])
def test_each_order_class_is_accepted(order_class):
    problem = broken(lambda p: p["jobs"][0].update(order_class=order_class))
    assert parse_problem(problem).jobs[0].order_class == order_class
    assert solve(problem).to_json()["summary"]["unassigned"] == 0


def test_cli_prints_solution(tmp_path):
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(good()))
    result = CliRunner().invoke(solve_command, [str(path), "--time-limit", "1", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["code"] == 0


def test_cli_writes_output_file(tmp_path):
    path, out = tmp_path / "problem.json", tmp_path / "solution.json"
    path.write_text(json.dumps(good()))
    result = CliRunner().invoke(solve_command, [str(path), "-o", str(out)])
    assert result.exit_code == 0
    assert result.output == ""
    assert json.loads(out.read_text())["summary"]["routes"] == 1


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (
            json.dumps(broken(lambda p: p["jobs"][0].update(time_windows=[[5, 1]]))),
            "jobs[0].time_windows[0]: ",
        ),
        ("{not json", "not valid JSON"),
        (json.dumps({"jobs": []}), "vehicles: is required"),
    ],
)
def test_cli_bad_input_exits_2_without_traceback(tmp_path, content, words):
    path = tmp_path / "problem.json"
    path.write_text(content)
    result = CliRunner().invoke(solve_command, [str(path)])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert words in result.output


def test_cli_missing_file_exits_2(tmp_path):
    result = CliRunner().invoke(solve_command, [str(tmp_path / "nothing.json")])
    assert result.exit_code == 2
    assert "cannot read the file" in result.output
