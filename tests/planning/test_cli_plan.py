"""`rounds plan`, through click's test runner, on the demo practice."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from click.testing import CliRunner, Result
from conftest import DEMO_ANCHOR
from sqlalchemy import Engine, select

from scheduler import models
from scheduler.cli.base import RoundsGroup
from scheduler.cli.plan import plan_command
from scheduler.db import make_session_factory
from scheduler.runtime import Runtime
from scheduler.settings import Settings

DAY = (DEMO_ANCHOR + timedelta(days=2)).isoformat()  # a Wednesday

rounds = RoundsGroup("rounds", commands={"plan": plan_command})


@pytest.fixture(scope="module")
def runtime(demo_db: Engine, module_settings: Settings) -> Runtime:
    """The module's demo database as a process would hold it (what a command saves stays)."""
    return Runtime(settings=module_settings, engine=demo_db,
                   sessions=make_session_factory(demo_db))


def run(runtime: Runtime, *args: str) -> Result:
    return CliRunner().invoke(rounds, ["plan", *args, "--time-limit", "0.1"],
                              obj={"runtime": runtime})


@pytest.fixture(scope="module")
def patient_names(runtime: Runtime) -> set[str]:
    """Clients' first and last names, as whole words to look for in the output."""
    with runtime.session() as session:
        clients = session.scalars(select(models.Client)).all()
        return {n for c in clients for n in (c.first_name, c.last_name) if len(n) > 2}


def names_in(text: str, names: set[str], runtime: Runtime) -> set[str]:
    with runtime.session() as session:
        places = " ".join(f.name for f in session.scalars(select(models.Facility)))
    return {n for n in names if re.search(rf"\b{re.escape(n)}\b", text)
            and not re.search(rf"\b{re.escape(n)}\b", places)}


def test_plan_prints_every_itinerary_with_initials_only(runtime, patient_names) -> None:
    result = run(runtime, "--date", DAY)
    assert result.exit_code == 0, result.output
    headers = re.findall(r"^(.+) \(therapist (\d+)\) · Wed 02 Dec 2026 · version \d+, draft",
                         result.stdout, re.M)
    assert len(headers) == 4
    assert result.stdout.count("leave home") == 4 and "back home" in result.stdout
    assert re.search(r"\d\d:\d\d–\d\d:\d\d [A-Z]{2} \(client \d+\)", result.stdout)
    assert names_in(result.stdout, patient_names, runtime) == set()


def test_plan_json_is_data_without_names(runtime, patient_names) -> None:
    result = run(runtime, "--date", DAY, "--therapist", "2", "--json", "--publish")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    (plan,) = data["plans"]
    assert plan["therapist_id"] == 2 and plan["status"] == "published"
    assert plan["stops"] and {"client_initials", "start_at", "drive_km", "window_note"} <= \
        set(plan["stops"][0])
    assert plan["stops"][0]["start_at"].startswith("2026-12-02T")
    assert plan["stops"][0]["start_at"].endswith("-06:00")  # local time, with its offset
    assert names_in(result.stdout, patient_names, runtime) == set()


def test_several_days_show_progress_on_stderr(runtime) -> None:
    result = run(runtime, "--date", DEMO_ANCHOR.isoformat(), "--days", "3", "--therapist", "1")
    assert result.exit_code == 0, result.output
    assert len(re.findall(r"^planned 2026-1[12]-\d\d: \d plans", result.stderr, re.M)) == 3
    assert result.stdout.count("Marisol Vantreese (therapist 1)") == 3


def test_replan_from_a_time_and_a_place(runtime) -> None:
    result = run(runtime, "--replan", "--date", DAY, "--therapist", "3", "--at", "12:30",
                 "--position", "38.95,-94.68")
    assert result.exit_code == 0, result.output
    assert ", re-planned from 12:30" in result.stdout
    starts = re.findall(r"^ {9}(\d\d:\d\d)–", result.stdout, re.M)
    assert starts and all(s >= "12:30" for s in starts)


@pytest.mark.parametrize(("args", "message"), [
    (["--date", DAY, "--replan", "--at", "10:00"], "--replan needs --therapist"),
    (["--date", DAY, "--replan", "--therapist", "1"], "--replan needs --at HH:MM"),
    (["--date", DAY, "--at", "10:00"], "--at and --position go with --replan"),
    (["--date", DAY, "--replan", "--therapist", "1", "--at", "25:00"],
     "expected a time as HH:MM"),
    (["--date", DAY, "--replan", "--therapist", "1", "--at", "10:00", "--position", "north"],
     "expected LAT,LON"),
    (["--date", "2026-13-01"], "2026-13-01 is not a date: months go from 01 to 12"),
    (["--date", "1 Dec 2026"], "expected YYYY-MM-DD"),
    (["--date", DAY, "--therapist", "999"], "therapist_ids: no active therapist with id 999"),
    (["--date", DAY, "--days", "0"], "--days"),
])
def test_bad_input_is_one_clear_line(runtime, args, message) -> None:
    result = run(runtime, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
