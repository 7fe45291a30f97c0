"""`rounds audit verify`: walk the audit trail's hash chain and report the first broken row."""

from __future__ import annotations

import click

from scheduler.cli.base import echo_json, require_current_schema, runtime_from
from scheduler.db import session_scope

EXIT_BROKEN = 1


@click.group()
def audit() -> None:
    """The audit trail of reads and changes of patient records."""


@audit.command("verify")
@click.option("--expect-head", default="",
              help="A head hash noted earlier: it must still be in the trail (shows rows cut "
                   "from the end, or an emptied trail).")
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
@click.pass_context
def verify_command(ctx: click.Context, expect_head: str, as_json: bool) -> None:
    """Check every row's hash and link to the row before it; exit 1 at the first broken row."""
    from scheduler import audit_chain

    runtime = runtime_from(ctx)
    require_current_schema(runtime)
    # One read transaction: the whole walk sees one state of the trail.
    with session_scope(runtime.read_sessions) as session:
        verdict = audit_chain.verify(session, expect_head=expect_head.strip().lower())
    if as_json:
        echo_json({"ok": verdict.ok, "rows": verdict.rows, "head": verdict.head,
                   "bad_id": verdict.bad_id, "problem": verdict.problem})
    elif verdict.ok:
        click.echo(f"The audit trail holds: {verdict.rows} rows, head {verdict.head}.")
    else:
        click.echo(f"The audit trail is broken: {verdict.problem} "
                   f"(checked {verdict.rows} rows).", err=True)
    if not verdict.ok:
        ctx.exit(EXIT_BROKEN)
