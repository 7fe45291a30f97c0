"""Where the worker's persistent jobs live: APScheduler's job table on the practice database.

The table is APScheduler's own (``SQLAlchemyJobStore``); what is ours is creating it once when
several workers start together, refusing to start on a stored job whose function no longer
resolves (APScheduler 3 would log it and drop the job, and a morning e-mail would vanish), and
not disposing of the practice's engine when the scheduler stops.
"""

from __future__ import annotations

import pickle

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.util import ref_to_obj
from sqlalchemy import Engine, Table, delete, select, text

JOB_TABLE = "apscheduler_jobs"
_PG_LOCK_KEY = 0x526F756E  # "Roun": serialises creating the job table on PostgreSQL


class JobReferenceError(RuntimeError):
    """A stored job names a function that does not exist (renamed or removed)."""


def job_table(engine: Engine) -> Table:
    """APScheduler's own table definition (one source of truth for its columns)."""
    return SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE).jobs_t


def ensure_job_table(engine: Engine) -> None:
    """Create the job table if needed; on PostgreSQL under a lock, as workers start together."""
    table = job_table(engine)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        table.create(connection, checkfirst=True)


def check_stored_jobs(engine: Engine) -> None:
    """Fail loudly if a stored job names a function that cannot be found.

    APScheduler 3 would log the failure and delete the job, so a renamed job function would
    make every morning e-mail vanish without a trace.
    """
    table = job_table(engine)
    with engine.connect() as connection:
        rows = connection.execute(select(table.c.id, table.c.job_state)).all()
    problems = []
    for identifier, state in rows:
        try:
            reference = pickle.loads(state)["func"]
            ref_to_obj(reference)
        except Exception as error:  # noqa: BLE001 - every way of failing is reported
            problems.append(f"job {identifier!r}: {error}")
    if problems:
        raise JobReferenceError(
            "stored jobs refer to functions that no longer exist: " + "; ".join(problems)
            + ". Restore the function's name, or start with `rounds worker --rebuild-jobs` to "
            "recreate the jobs from the therapists' settings."
        )


def clear_stored_jobs(engine: Engine) -> int:
    """Delete every stored job (they are rebuilt from the therapists by the next sync)."""
    ensure_job_table(engine)
    with engine.begin() as connection:
        return connection.execute(delete(job_table(engine))).rowcount


class PracticeJobStore(SQLAlchemyJobStore):
    """The stored jobs, on the practice's engine. The engine is the runtime's: stopping the
    scheduler must not dispose of it under the jobs still finishing (their connections would
    be orphaned) or, in `rounds serve`, under the web app."""

    def shutdown(self) -> None:
        pass
