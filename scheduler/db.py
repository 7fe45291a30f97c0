"""Engines and sessions: one session per request or job, committed or rolled back as a whole.

SQLite is the embedded default and is tuned for several processes sharing one file (the web
server and the e-mail worker): WAL so readers never block the writer, a busy timeout so a
writer waits for another instead of failing, foreign keys enforced, and every transaction
started with BEGIN IMMEDIATE so that two writers queue at the start rather than one of them
failing with "database is locked" when it first writes (SQLite cannot upgrade a read lock while
another writer holds the file). PostgreSQL needs none of this.

The SQLite file holds patients' records, so it is made readable by its owner alone (0600),
and so are its ``-wal`` and ``-shm`` files, which SQLite creates with the main file's mode; a
file left more open by an older version is tightened when the engine is made.

Work that only reads (a web page shown on GET) may instead run on :func:`read_only`'s engine,
whose transactions begin DEFERRED: they take no lock at all in WAL mode, so readers never queue
behind writers or each other. Such a transaction must not write; what a read leaves behind
(an audit row) goes in a short transaction of its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Select, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, *, sqlite_busy_timeout_ms: int = 5000, echo: bool = False) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, echo=echo, pool_pre_ping=True)

    if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith(
            "file:"):
        _private_file(Path(parsed.database))
    engine = create_engine(url, echo=echo)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module; "begin" below opens them.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(sqlite_busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        reading = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN DEFERRED" if reading else "BEGIN IMMEDIATE")

    return engine


_READ_ONLY = "rounds_read_only"
PRIVATE = 0o600


def _private_file(path: Path) -> None:
    """Create the database file (and its folder) readable by the owner only, before SQLite
    opens it: SQLite gives the ``-wal`` and ``-shm`` files it makes the main file's mode. An
    existing file, and its ``-wal``/``-shm``, lose any group and other permissions."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if file.stat().st_mode & 0o077:
                file.chmod(PRIVATE)
        except FileNotFoundError:
            continue


def read_only(engine: Engine) -> Engine:
    """The same engine (and pool) for transactions that only read: DEFERRED on SQLite."""
    return engine.execution_options(**{_READ_ONLY: True})


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: objects stay readable after the job's commit (for rendering).
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit if the block finishes, roll back everything if it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def paginate(session: Session, query: Select[Any], page: int,
             per_page: int) -> tuple[Sequence[Any], int]:
    """One page of ``query``'s rows (pages count from 1) and the number of rows in all."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return rows, total or 0
