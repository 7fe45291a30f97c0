"""The demo loader: the data file becomes a practice, on both backends, and never overwrites a
practice that is not the demo."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler import models
from scheduler.accounts.passwords import verify_password
from scheduler.demo.loader import (
    DEMO_PASSWORD,
    DemoRefused,
    demo_anchor,
    is_demo_database,
    load_demo,
    read_demo_file,
)
from scheduler.records.validation import ValidationError
from web.cli import cli

ANCHOR = date(2026, 11, 30)  # a Monday


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_the_demo_file_becomes_the_practice(session: Session) -> None:
    data = read_demo_file()
    summary = load_demo(session, anchor=ANCHOR)
    session.commit()
    assert _count(session, models.Facility) == len(data["facilities"]) == summary.facilities
    assert _count(session, models.Therapist) == len(data["therapists"])
    assert _count(session, models.Client) == len(data["clients"])
    assert _count(session, models.AppointmentSeries) == len(data["series"])
    assert _count(session, models.Treatment) == sum(len(c.get("treatments", []))
                                                    for c in data["clients"])
    assert is_demo_database(session) and demo_anchor(session) == ANCHOR
    therapist = session.scalars(select(models.Therapist)).first()
    assert verify_password(therapist.password_hash, DEMO_PASSWORD)
    assert not verify_password(therapist.password_hash, "wrong")
    first = min(s.first_date for s in session.scalars(select(models.AppointmentSeries)))
    assert first == ANCHOR


def test_loading_again_replaces_the_demo(session: Session) -> None:
    load_demo(session, anchor=ANCHOR)
    session.commit()
    load_demo(session, anchor=date(2026, 12, 7))
    session.commit()
    assert _count(session, models.Therapist) == len(read_demo_file()["therapists"])
    assert demo_anchor(session) == date(2026, 12, 7)


def test_a_practice_that_is_not_the_demo_is_kept_unless_reset(session: Session) -> None:
    session.add(models.Therapist(name="Real Person", email="real@example.org",
                                 home_lat=39.1, home_lon=-94.6))
    session.commit()
    with pytest.raises(DemoRefused, match="--reset"):
        load_demo(session, anchor=ANCHOR)
    session.rollback()
    assert session.scalar(select(models.Therapist.name)) == "Real Person"
    load_demo(session, anchor=ANCHOR, reset=True)
    session.commit()
    assert "Real Person" not in set(session.scalars(select(models.Therapist.name)))


def test_a_mistake_in_the_file_names_its_place_and_writes_nothing(session: Session) -> None:
    data = read_demo_file()
    data["facilities"][3]["lat"] = 123.0
    with pytest.raises(ValidationError, match=r"facilities\[3\]\.lat"):
        load_demo(session, anchor=ANCHOR, data=data)
    session.rollback()
    assert _count(session, models.Facility) == 0


def test_the_commands_on_a_new_instance(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"ROUNDS_INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": ""}
    result = runner.invoke(cli, ["demo"], env=env)
    assert result.exit_code != 0 and "rounds db upgrade" in result.output
    result = runner.invoke(cli, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "instance" / "rounds.sqlite3").exists()
    result = runner.invoke(cli, ["demo", "--anchor", "2026-12-02"], env=env)
    assert result.exit_code == 0, result.output
    assert "eight weeks from 2026-11-30" in result.output
    result = runner.invoke(cli, ["demo", "--if-needed", "--anchor", "2026-12-03"], env=env)
    assert result.exit_code == 0 and "is loaded" in result.output
