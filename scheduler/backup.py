"""Backups of the practice database: what `rounds backup` and `rounds restore` do.

SQLite (the embedded default): sqlite3's online backup API (``Connection.backup``) copies the
database page by page in one consistent snapshot, reading through the WAL, while the web app
and the worker go on working; the copy is a single file (rollback journal, not WAL) that
only its owner may read (0600: it holds patient data). A restore copies a backup into the
configured database the same way, only into an empty one unless forced, and then migrates it
to the current schema (a backup made by an older Rounds is brought up to date).

PostgreSQL: ``pg_dump`` and ``pg_restore`` do this job; Rounds does not do it again but
says the lines to run (:func:`postgres_backup_line`, :func:`postgres_restore_lines`; the
README's commands table has them too). The URL they show carries no password (libpq reads it
from ``PGPASSWORD`` or ``~/.pgpass``), so it never lands in a shell history or a process list.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy import Engine, inspect, select, table
from sqlalchemy.engine import URL

from scheduler import migrate

# Tables whose rows do not make a practice: the schema's version and the scheduler's jobs
# (rebuilt from the therapists by the worker).
_NOT_PRACTICE = {"alembic_version", "apscheduler_jobs"}


class BackupError(Exception):
    """The backup or restore cannot be done as asked; the message says why and what to do."""


def sqlite_file(engine: Engine) -> Path | None:
    """The database file behind ``engine``, or None when it is not SQLite on a file."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(str(url.database))


def libpq_url(engine: Engine) -> str:
    """The database's URL as ``pg_dump`` takes it: no driver suffix, no password."""
    url = engine.url
    bare = URL.create("postgresql", username=url.username, host=url.host, port=url.port,
                      database=url.database, query=url.query)  # (URL.set keeps a password)
    return bare.render_as_string(hide_password=False)


def postgres_backup_line(engine: Engine, target: str) -> str:
    return (f"(umask 077 && pg_dump --format=custom --no-owner --file {shlex.quote(target)} "
            f"{shlex.quote(libpq_url(engine))})")


def postgres_restore_lines(engine: Engine, source: str) -> list[str]:
    return [f"pg_restore --no-owner --exit-on-error --dbname {shlex.quote(libpq_url(engine))} "
            f"{shlex.quote(source)}    # into an empty database (createdb)",
            "rounds db upgrade"]


def backup_sqlite(source: Path, target: Path) -> int:
    """Copy the live database ``source`` to the new file ``target`` (0600); its size in bytes.

    Refuses to overwrite: a backup that replaced an older one by mistake is a lost backup.
    """
    if not source.exists():
        raise BackupError(f"no database at {source}; nothing to back up")
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(f"{target} already exists; choose a new file") from None
    except OSError as error:
        raise BackupError(f"cannot create {target} ({error.strerror})") from None
    os.close(descriptor)
    try:
        with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(target)) as copy:
            live.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            _check(copy, target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    os.chmod(target, 0o600)
    return target.stat().st_size


def _check(connection: sqlite3.Connection, path: Path) -> None:
    """Raise unless ``connection`` is a sound SQLite database made by Rounds."""
    try:
        (result,) = connection.execute("PRAGMA integrity_check").fetchone()
        versioned = connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
            "AND name = 'alembic_version'").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a SQLite database ({error})") from None
    if result != "ok":
        raise BackupError(f"{path} is damaged (integrity check: {result})")
    if not versioned:
        raise BackupError(f"{path} is not a Rounds database (it has no schema version)")


def practice_tables_with_rows(engine: Engine) -> list[str]:
    """The tables of ``engine``'s database that hold rows of a practice (empty: safe to
    restore into)."""
    names = sorted(set(inspect(engine).get_table_names()) - _NOT_PRACTICE)
    with engine.connect() as connection:
        return [name for name in names
                if connection.execute(select(1).select_from(table(name)).limit(1)).first()]


def restore_sqlite(source: Path, engine: Engine, *, force: bool = False) -> None:
    """Replace ``engine``'s SQLite database with the backup ``source``, then migrate it to head.

    Refuses a database that holds a practice unless ``force``: a restore over the live
    records by mistake would lose everything since the backup.
    """
    target = sqlite_file(engine)
    if target is None:
        raise BackupError("restore copies into a SQLite database; this one is not")
    if not source.is_file():
        raise BackupError(f"no backup at {source}")
    with closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)) as backup:
        _check(backup, source)
        if target.exists():
            busy = practice_tables_with_rows(engine)
            if busy and not force:
                raise BackupError(
                    f"the database holds a practice ({len(busy)} tables with rows, e.g. "
                    f"{busy[0]}); restore only into an empty one, or use --force to replace it")
        engine.dispose()  # no pooled connection keeps an old page cache
        target.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(target)) as live:
            backup.backup(live)
    migrate.upgrade(engine)
