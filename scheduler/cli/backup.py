"""`rounds backup` and `rounds restore`: a copy of the practice database, and back.

The work is :mod:`scheduler.backup`'s; each command writes one audit row (who took or put
back a copy of every record, and when; never where to or what), in the database it copied
from (after the copy) or into.
"""

from __future__ import annotations

from pathlib import Path

import click

from scheduler import audit, migrate
from scheduler.backup import (
    BackupError,
    backup_sqlite,
    postgres_backup_line,
    postgres_restore_lines,
    restore_sqlite,
    sqlite_file,
)
from scheduler.cli.base import runtime_from

_CLI = audit.Actor(None, "cli")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def backup_command(ctx: click.Context, path: Path) -> None:
    """Copy the database to the new file PATH (readable by its owner only), online: the web
    app and the worker may keep running. On PostgreSQL, prints the pg_dump line to run."""
    runtime = runtime_from(ctx)
    source = sqlite_file(runtime.engine)
    if source is None:
        raise click.ClickException(
            "on PostgreSQL, back up with pg_dump (the password from PGPASSWORD or "
            f"~/.pgpass):\n  {postgres_backup_line(runtime.engine, str(path))}")
    try:
        size = backup_sqlite(source, path)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    # After the copy, not before: the backup only needs to read, so it is not held up by a
    # writer (a long re-planning), and this row waits for the writer instead.
    with runtime.session() as session:
        audit.record(session, _CLI, "export", "database", None, context="rounds backup")
    click.echo(f"Backed up the database to {path} ({size} bytes, readable by its owner only).")


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True,
              help="Replace a database that holds a practice (everything since the backup "
                   "is lost).")
@click.pass_context
def restore_command(ctx: click.Context, path: Path, force: bool) -> None:
    """Put the backup PATH in place of the (empty) database, then bring its schema up to
    date. Stop the web app and the worker first. On PostgreSQL, prints the lines to run."""
    runtime = runtime_from(ctx)
    if sqlite_file(runtime.engine) is None:
        lines = "\n  ".join(postgres_restore_lines(runtime.engine, str(path)))
        raise click.ClickException(f"on PostgreSQL, restore with pg_restore:\n  {lines}")
    try:
        restore_sqlite(path, runtime.engine, force=force)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    with runtime.session() as session:
        audit.record(session, _CLI, "import", "database", None, context="rounds restore")
    click.echo(f"Restored {path}; schema at revision {migrate.current_revision(runtime.engine)}.")
