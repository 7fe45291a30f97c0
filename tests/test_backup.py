"""`rounds backup` and `rounds restore`: a restored backup holds every record, row for row,
the audit trail included; refusals are named; PostgreSQL gets the pg_dump line."""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, MetaData, Table, inspect, select

from scheduler import audit, migrate, models
from scheduler.backup import backup_sqlite
from scheduler.cli.audit import audit as audit_command
from scheduler.cli.backup import backup_command, restore_command
from scheduler.cli.base import RoundsGroup
from scheduler.db import make_engine, make_session_factory
from scheduler.demo.loader import load_demo
from scheduler.planning import plan_days
from scheduler.runtime import Runtime
from scheduler.settings import Settings

ANCHOR = date(2026, 11, 30)  # a Monday
rounds = RoundsGroup("rounds", commands={"backup": backup_command, "restore": restore_command,
                                         "audit": audit_command})


def run(runtime: Runtime, *args: str) -> Result:
    return CliRunner().invoke(rounds, list(args), obj={"runtime": runtime})


def _runtime(settings: Settings, url: str) -> Runtime:
    settings = replace(settings, database=replace(settings.database, url=url))
    engine = make_engine(url)
    return Runtime(settings=settings, engine=engine, sessions=make_session_factory(engine))


@pytest.fixture
def practice(settings: Settings, sqlite_url: str) -> Iterator[Runtime]:
    """The demo, one therapist's Monday planned and published, and audit rows of reads."""
    runtime = _runtime(settings, sqlite_url)
    with runtime.session() as session:
        load_demo(session, anchor=ANCHOR)
    with runtime.session() as session:
        therapist = session.scalars(select(models.Therapist).order_by(models.Therapist.id)).first()
        assert therapist is not None
        plans = plan_days(session, runtime.settings, ANCHOR, [therapist.id], publish=True,
                          now=datetime(2026, 11, 29, 12, tzinfo=UTC), time_limit=0.15)
        assert plans and plans[0].stops
        reader = audit.Actor(therapist.id)
        audit.record_reads(session, reader, "client", [s.client_id for s in plans[0].stops],
                           context=f"day_plan {plans[0].id}")
        audit.record(session, reader, "update", "client", plans[0].stops[0].client_id,
                     ["room"])
    yield runtime
    runtime.close()


def contents(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, in primary-key order, as stored."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for name in sorted(inspect(connection).get_table_names()):
            table = Table(name, MetaData(), autoload_with=connection)
            order = list(table.primary_key.columns) or list(table.columns)
            tables[name] = [tuple(row) for row in
                            connection.execute(select(table).order_by(*order))]
    return tables


def test_a_backup_restored_into_an_empty_database_holds_every_row(
        practice: Runtime, settings: Settings, tmp_path: Path) -> None:
    backup = tmp_path / "backups" / "rounds-backup.sqlite3"
    backup.parent.mkdir()
    made = run(practice, "backup", str(backup))
    assert made.exit_code == 0, made.output
    assert f"Backed up the database to {backup}" in made.output
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    before = contents(practice.engine)
    export_row = before["audit_events"].pop()  # written after the copy was taken
    assert export_row[4:6] == ("export", "database")  # action, entity

    restored = _runtime(settings, f"sqlite:///{tmp_path / 'restored' / 'rounds.sqlite3'}")
    try:
        done = run(restored, "restore", str(backup))
        assert done.exit_code == 0, done.output
        assert migrate.is_up_to_date(restored.engine)
        after = contents(restored.engine)
        verified = run(restored, "audit", "verify")
    finally:
        restored.close()

    restore_row = after["audit_events"].pop()
    assert restore_row[4:6] == ("import", "database")
    assert after.keys() == before.keys()
    for name in before:
        assert after[name] == before[name], name
    for name in ("therapists", "clients", "treatments", "appointment_series", "day_plans",
                 "plan_stops", "audit_events"):
        assert before[name], f"{name} is empty: the test would prove nothing"
    assert len(before["audit_events"]) > 2
    # the hash chain runs unbroken through the copied rows and the restore's own row
    assert verified.exit_code == 0, verified.output


def test_the_backup_is_online_and_consistent(practice: Runtime, tmp_path: Path) -> None:
    """Another process holds the write lock with a change not yet committed: the backup is
    made anyway, without that change."""
    database = practice.engine.url.database
    assert database is not None
    writer = sqlite3.connect(database, isolation_level=None)
    backup = tmp_path / "during.sqlite3"
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("DELETE FROM plan_stops")
        assert backup_sqlite(Path(database), backup) > 0
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    copy = make_engine(f"sqlite:///{backup}")
    try:
        assert contents(copy)["plan_stops"] == contents(practice.engine)["plan_stops"] != []
    finally:
        copy.dispose()


def test_refusals_are_named(practice: Runtime, tmp_path: Path) -> None:
    backup = tmp_path / "b.sqlite3"
    assert run(practice, "backup", str(backup)).exit_code == 0
    again = run(practice, "backup", str(backup))
    assert again.exit_code == 1 and f"{backup} already exists; choose a new file" in again.output

    over = run(practice, "restore", str(backup))
    assert over.exit_code == 1
    assert "the database holds a practice" in over.output and "--force" in over.output
    forced = run(practice, "restore", str(backup), "--force")
    assert forced.exit_code == 0, forced.output

    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello " * 2000)
    wrong = run(practice, "restore", str(not_a_backup), "--force")
    assert wrong.exit_code == 1 and "is not a SQLite database" in wrong.output
    missing = run(practice, "restore", str(tmp_path / "nowhere.sqlite3"))
    assert missing.exit_code == 1 and "no backup at" in missing.output


def test_postgresql_gets_the_pg_dump_and_pg_restore_lines(settings: Settings) -> None:
    runtime = _runtime(settings, "postgresql+psycopg://rounds:s3cret@db.example.org/rounds")
    try:
        dump = run(runtime, "backup", "/srv/backups/rounds.dump")
        restore = run(runtime, "restore", "/srv/backups/rounds.dump")
    finally:
        runtime.close()
    assert dump.exit_code == 1 and restore.exit_code == 1
    assert ("(umask 077 && pg_dump --format=custom --no-owner --file /srv/backups/rounds.dump "
            "postgresql://rounds@db.example.org/rounds)") in dump.output
    assert ("pg_restore --no-owner --exit-on-error --dbname "
            "postgresql://rounds@db.example.org/rounds /srv/backups/rounds.dump") in restore.output
    assert "rounds db upgrade" in restore.output
    assert "s3cret" not in dump.output + restore.output
