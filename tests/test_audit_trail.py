"""The audit trail holds up to an inspector: append-only in the database, hash-chained so
that an owner's tampering (altered, deleted, reordered or cut rows) shows in `rounds audit
verify`, one chain however many writers append at once, and a demo reset on the record."""

from __future__ import annotations

import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from scheduler import audit, audit_chain, audit_guard, migrate, models
from scheduler.db import make_session_factory, session_scope
from scheduler.demo.loader import clear_practice
from web.cli import cli

ALICE = audit.Actor(None, "test")


def _append_rows(engine: Engine, count: int) -> None:
    with session_scope(make_session_factory(engine)) as session:
        for number in range(count):
            audit.record(session, ALICE, "read", "client", number + 1, context="test")


def _verdict(engine: Engine, **options: str) -> audit_chain.Verdict:
    with session_scope(make_session_factory(engine)) as session:
        return audit_chain.verify(session, **options)


def _as_owner(engine: Engine, *statements: str) -> None:
    """What someone owning the tables can do: drop the guard, change rows, put it back."""
    with engine.begin() as connection:
        audit_guard.unprotect(connection)
        for statement in statements:
            connection.execute(text(statement))
        audit_guard.protect(connection)


def test_rows_chain_from_genesis_and_verify(engine: Engine) -> None:
    _append_rows(engine, 3)
    with session_scope(make_session_factory(engine)) as session:
        audit.record_reads(session, ALICE, "client", [9, 7, 8], context="list page 1")
    with session_scope(make_session_factory(engine)) as session:
        rows = session.scalars(select(models.AuditEvent).order_by(models.AuditEvent.id)).all()
    assert [r.entity_id for r in rows] == [1, 2, 3, 7, 8, 9]
    assert rows[0].prev_hash == audit_chain.GENESIS
    assert all(b.prev_hash == a.row_hash for a, b in zip(rows, rows[1:], strict=False))
    verdict = _verdict(engine)
    assert verdict.ok and verdict.rows == 6 and verdict.head == rows[-1].row_hash


def test_an_empty_trail_holds(engine: Engine) -> None:
    verdict = _verdict(engine)
    assert verdict.ok and verdict.rows == 0 and verdict.head == audit_chain.GENESIS


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET detail = 'x'",
                                       "DELETE FROM audit_events"])
def test_the_database_refuses_to_change_or_delete_rows(engine: Engine, statement: str) -> None:
    _append_rows(engine, 2)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    assert _verdict(engine).rows == 2


def test_an_altered_row_is_named(engine: Engine) -> None:
    _append_rows(engine, 4)
    _as_owner(engine, "UPDATE audit_events SET entity_id = 99 WHERE id = 2")
    verdict = _verdict(engine)
    assert (verdict.ok, verdict.bad_id) == (False, 2)
    assert "altered" in verdict.problem


def test_a_deleted_row_shows_at_the_row_after_it(engine: Engine) -> None:
    _append_rows(engine, 4)
    _as_owner(engine, "DELETE FROM audit_events WHERE id = 2")
    verdict = _verdict(engine)
    assert (verdict.ok, verdict.bad_id) == (False, 3)
    assert "does not follow" in verdict.problem


def test_reordered_rows_are_found(engine: Engine) -> None:
    """Rows 2 and 3 trade places, hashes and all: the links no longer run in id order."""
    _append_rows(engine, 4)
    columns = "at, actor_label, action, entity, entity_id, detail, prev_hash, row_hash"
    with engine.connect() as connection:
        two, three = (connection.execute(text(f"SELECT {columns} FROM audit_events WHERE id = "
                                              f"{i}")).one()._asdict() for i in (2, 3))

    def set_row(row_id: int, values: dict) -> str:
        assignments = ", ".join(f"{name} = :{name}" for name in values)
        return f"UPDATE audit_events SET {assignments} WHERE id = {row_id}"

    with engine.begin() as connection:
        audit_guard.unprotect(connection)
        connection.execute(text(set_row(2, three)), three)
        connection.execute(text(set_row(3, two)), two)
        audit_guard.protect(connection)
    verdict = _verdict(engine)
    assert (verdict.ok, verdict.bad_id) == (False, 2)


def test_rows_cut_from_the_end_show_against_a_noted_head(engine: Engine) -> None:
    _append_rows(engine, 3)
    noted = _verdict(engine).head
    assert _verdict(engine, expect_head=noted).ok
    _as_owner(engine, "DELETE FROM audit_events WHERE id = 3")
    assert _verdict(engine).ok  # the chain alone cannot see its end cut
    verdict = _verdict(engine, expect_head=noted)
    assert not verdict.ok and "not in the trail" in verdict.problem


def test_concurrent_writers_keep_one_chain(engine: Engine) -> None:
    """Writers in threads append at once (on PostgreSQL each reads the head under the
    advisory lock; on SQLite under the write lock); the chain never forks."""
    writers, rows_each = 4, 15
    start = threading.Barrier(writers, timeout=60)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            start.wait()
            for _ in range(rows_each):
                _append_rows(engine, 2)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    verdict = _verdict(engine)
    assert verdict.ok, verdict.problem
    assert verdict.rows == writers * rows_each * 2


def test_a_rolled_back_append_leaves_the_chain_whole(engine: Engine) -> None:
    _append_rows(engine, 2)
    factory = make_session_factory(engine)
    with pytest.raises(RuntimeError), session_scope(factory) as session:
        audit.record(session, ALICE, "read", "client", 5)
        raise RuntimeError("the request failed")
    _append_rows(engine, 1)
    verdict = _verdict(engine)
    assert verdict.ok and verdict.rows == 3


def test_the_demo_reset_empties_the_trail_on_the_record(engine: Engine) -> None:
    _append_rows(engine, 3)
    old_head = _verdict(engine).head
    with session_scope(make_session_factory(engine)) as session:
        clear_practice(session)
    with session_scope(make_session_factory(engine)) as session:
        rows = session.scalars(select(models.AuditEvent)).all()
    assert [(r.action, r.detail) for r in rows] == [("trail_cleared",
                                                     f"3 rows; old head {old_head}")]
    assert _verdict(engine).ok
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_events"))  # guarded again


def test_the_migration_chains_rows_written_before_it(engine: Engine) -> None:
    migrate.downgrade(engine, "0006")
    with engine.begin() as connection:
        for number in range(3):
            connection.execute(text(
                "INSERT INTO audit_events (at, actor_label, action, entity, entity_id, detail) "
                "VALUES (:at, 'web', 'read', 'client', :id, 'é')"),
                {"at": f"2026-03-0{number + 1} 10:00:00.123456", "id": number + 1})
    migrate.upgrade(engine)
    verdict = _verdict(engine)
    assert verdict.ok and verdict.rows == 3, verdict.problem
    _append_rows(engine, 1)
    assert _verdict(engine).ok
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text("UPDATE audit_events SET detail = ''"))


def test_rounds_audit_verify(engine: Engine, db_url: str, tmp_path) -> None:
    runner = CliRunner()
    env = {"ROUNDS_INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": db_url}
    _append_rows(engine, 3)
    held = runner.invoke(cli, ["audit", "verify"], env=env)
    assert held.exit_code == 0, held.output
    assert "holds: 3 rows" in held.output
    _as_owner(engine, "UPDATE audit_events SET action = 'create' WHERE id = 2")
    broken = runner.invoke(cli, ["audit", "verify"], env=env)
    assert broken.exit_code == 1
    assert "row 2 was altered" in broken.output
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(models.AuditEvent)) == 3


def test_rows_join_the_trail_at_commit_and_go_with_a_rolled_back_savepoint(
        engine: Engine) -> None:
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        audit.record(session, ALICE, "read", "client", 1)
        with pytest.raises(RuntimeError), session.begin_nested():
            audit.record(session, ALICE, "update", "client", 2)
            raise RuntimeError("the change was refused")
        with session.begin_nested():
            audit.record(session, ALICE, "update", "client", 3)
        assert session.scalar(select(func.count()).select_from(models.AuditEvent)) == 0
    with session_scope(factory) as session:
        rows = session.scalars(select(models.AuditEvent).order_by(models.AuditEvent.id)).all()
    assert [(r.action, r.entity_id) for r in rows] == [("read", 1), ("update", 3)]
    with factory() as session:
        audit.record(session, ALICE, "read", "client", 4)  # before anything else in it
        session.rollback()
        session.commit()
    assert _verdict(engine).rows == 2


# PostgreSQL only: SQLite serialises every write transaction from its BEGIN IMMEDIATE.
@pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)
def test_an_open_transaction_does_not_hold_up_other_writers(engine: Engine) -> None:
    """On PostgreSQL the chain's lock is taken at commit, not when a row is recorded: a
    request still working after recording does not make every other audited write wait
    (nor deadlock with row locks it takes later)."""
    assert engine.dialect.name == "postgresql"
    done = threading.Event()

    def other_writer() -> None:
        _append_rows(engine, 1)
        done.set()

    with session_scope(make_session_factory(engine)) as slow:
        audit.record(slow, ALICE, "read", "client", 1)
        slow.execute(text("SELECT 1"))  # the request goes on working
        thread = threading.Thread(target=other_writer)
        thread.start()
        assert done.wait(timeout=120), "the other writer waited for this transaction"
    thread.join(timeout=120)
    verdict = _verdict(engine)
    assert verdict.ok and verdict.rows == 2


def test_databases_made_by_create_all_are_guarded_too(tmp_path) -> None:
    from scheduler.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'made.sqlite3'}")
    models.Base.metadata.create_all(engine)
    _append_rows(engine, 1)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_events"))
    engine.dispose()
