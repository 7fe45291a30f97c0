"""The database layer: SQLite tuned for several processes; aware datetimes on both backends."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError, StatementError
from sqlalchemy.orm import Session

from scheduler import audit, models
from scheduler.db import make_engine, make_session_factory, session_scope


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url, sqlite_busy_timeout_ms=4321)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 4321
    engine.dispose()


def test_foreign_keys_are_enforced(session: Session) -> None:
    session.add(models.Shift(therapist_id=999, weekday=0, start=datetime(2026, 1, 1).time(),
                             end=datetime(2026, 1, 1, 1).time()))
    with pytest.raises(IntegrityError):
        session.flush()


def test_concurrent_read_then_write_transactions_wait_instead_of_failing(sqlite_url: str) -> None:
    """Eight threads each read a counter and write it back: with deferred transactions SQLite
    would fail some with "database is locked" (a reader cannot upgrade while another writes);
    BEGIN IMMEDIATE makes them queue, so every increment lands."""
    engine = make_engine(sqlite_url)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        session.add(models.PracticeMeta(key="counter", value="0"))
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(5):
                with session_scope(factory) as session:
                    row = session.get(models.PracticeMeta, "counter")
                    row.value = str(int(row.value) + 1)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with session_scope(factory) as session:
        assert session.get(models.PracticeMeta, "counter").value == "40"
    assert errors == []
    engine.dispose()


def test_datetimes_come_back_aware_in_utc(session: Session) -> None:
    chicago = timezone(timedelta(hours=-6))
    at = datetime(2026, 11, 1, 1, 30, tzinfo=chicago)
    audit.record(session, audit.SYSTEM, "read", "client", 1, at=at)
    session.commit()  # audit rows join the trail as the transaction commits
    session.expire_all()
    stored = session.scalar(select(models.AuditEvent.at))
    assert stored == at
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(session: Session) -> None:
    session.add(models.AuditEvent(at=datetime(2026, 1, 1), action="read", entity="client"))
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()


def test_enums_are_stored_by_value(session: Session, engine: Engine) -> None:
    session.add(models.Facility(name="X", kind=models.FacilityKind.NURSING_HOME, address="A"))
    session.commit()
    with engine.connect() as connection:
        assert connection.execute(text("select kind from facilities")).scalar() == "nursing_home"
    assert session.scalar(select(func.count()).select_from(models.Facility)) == 1


def test_session_scope_rolls_back_everything_on_error(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    factory = make_session_factory(engine)
    with pytest.raises(RuntimeError), session_scope(factory) as session:
        session.add(models.PracticeMeta(key="k", value="v"))
        session.flush()
        raise RuntimeError("boom")
    with session_scope(factory) as session:
        assert session.get(models.PracticeMeta, "k") is None
    engine.dispose()


def test_read_only_transactions_take_no_lock_on_sqlite(sqlite_url: str) -> None:
    """A page being read (DEFERRED) neither waits for nor blocks a writer (IMMEDIATE)."""
    from scheduler.db import read_only

    engine = make_engine(sqlite_url, sqlite_busy_timeout_ms=100)
    writer = make_session_factory(engine)
    reader = make_session_factory(read_only(engine))
    with session_scope(writer) as session:
        session.add(models.PracticeMeta(key="k", value="1"))
    with reader() as reading, writer() as writing:
        assert reading.get(models.PracticeMeta, "k").value == "1"  # read transaction open
        writing.get(models.PracticeMeta, "k").value = "2"
        writing.commit()  # would time out if the reader held the write lock
        reading.rollback()
        assert reading.get(models.PracticeMeta, "k").value == "2"
    with writer() as first, writer() as second:
        first.get(models.PracticeMeta, "k")  # IMMEDIATE: holds the write lock from here
        with pytest.raises(OperationalError, match="locked"):
            second.get(models.PracticeMeta, "k")
    engine.dispose()


def test_the_sqlite_files_are_readable_by_their_owner_only(tmp_path) -> None:
    """The database, its WAL and its shared-memory file hold patients' records: 0600, even
    under a umask that would make them world-readable."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        path = tmp_path / "instance" / "rounds.sqlite3"
        engine = make_engine(f"sqlite:///{path}")
        with engine.connect() as connection:  # WAL and -shm exist while a connection is open
            connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            connection.exec_driver_sql("INSERT INTO t VALUES (1)")
            connection.exec_driver_sql("SELECT x FROM t").scalar()
            files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
            assert all(file.exists() for file in files)
            for file in files:
                assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name
        engine.dispose()
    finally:
        os.umask(old)


def test_an_existing_world_readable_database_is_tightened(tmp_path) -> None:
    import stat

    path = tmp_path / "rounds.sqlite3"
    path.touch(mode=0o644)
    path.chmod(0o644)
    make_engine(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
