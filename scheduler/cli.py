"""The `rounds` command line: the domain's commands. (`web.cli` adds `serve` and is the entry.)

Each command opens a :class:`~scheduler.runtime.Runtime` from the settings, does one unit of
work, and reports errors as one line naming the problem, exit status 2, never a traceback.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Any

import click

from scheduler import migrate
from scheduler.records.validation import ValidationError
from scheduler.runtime import Runtime, open_runtime
from scheduler.settings import SettingsError, load_settings

EXIT_USAGE = 2


class RoundsGroup(click.Group):
    """Turns the domain's expected errors into one clear line and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (SettingsError, ValidationError) as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(EXIT_USAGE)


@click.group(cls=RoundsGroup)
@click.option("--instance", "instance_path", envvar="ROUNDS_INSTANCE_PATH",
              help="Instance folder (database, outbox, rounds.toml). Default: ./instance")
@click.pass_context
def cli(ctx: click.Context, instance_path: str | None) -> None:
    """Rounds: visit scheduling and day routes for medical and oncology massage therapists."""
    ctx.ensure_object(dict)
    ctx.obj["instance_path"] = instance_path


def runtime_from(ctx: click.Context) -> Runtime:
    """The command's runtime, opened once and closed when the command ends."""
    if "runtime" not in ctx.obj:
        settings = load_settings(instance_path=ctx.obj.get("instance_path"))
        ctx.obj["runtime"] = open_runtime(settings)
        ctx.call_on_close(ctx.obj["runtime"].close)
    return ctx.obj["runtime"]


def require_current_schema(runtime: Runtime) -> None:
    if not migrate.is_up_to_date(runtime.engine):
        raise click.ClickException(
            "the database schema is not up to date; run `rounds db upgrade` first"
        )


def parse_day(value: str, field: str = "--date") -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected YYYY-MM-DD, got {value!r}", param_hint=field) from None


def echo_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


# --- rounds db -------------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Create or migrate the database schema (Alembic)."""
    runtime = runtime_from(ctx)
    url = runtime.engine.url.render_as_string(hide_password=True)
    click.echo(f"Migrating {url} to {revision} ...")
    migrate.upgrade(runtime.engine, revision)
    click.echo(f"Schema at revision {migrate.current_revision(runtime.engine)}.")


# --- rounds demo -----------------------------------------------------------------------------


@cli.command()
@click.option("--reset", is_flag=True, help="Delete a practice that is not the demo first.")
@click.option("--anchor", help="Monday the demo's eight weeks start on (default: this week's).")
@click.option("--if-needed", is_flag=True,
              help="Only when the database is empty or holds the demo of an earlier week.")
@click.pass_context
def demo(ctx: click.Context, reset: bool, anchor: str | None, if_needed: bool) -> None:
    """Load the Kansas City demo practice (password for every demo user: rounds-demo)."""
    from scheduler.clock import utcnow
    from scheduler.demo.loader import (
        DEMO_PASSWORD,
        DemoRefused,
        anchor_monday,
        demo_anchor,
        has_practice_data,
        is_demo_database,
        load_demo,
    )

    runtime = runtime_from(ctx)
    require_current_schema(runtime)
    today = utcnow().astimezone(runtime.settings.zone).date()
    monday = anchor_monday(parse_day(anchor, "--anchor") if anchor else today)
    if if_needed:
        with runtime.session() as session:
            if has_practice_data(session) and not is_demo_database(session):
                click.echo("The database holds a practice of its own; the demo is not loaded.")
                return
            if demo_anchor(session) == monday:
                click.echo(f"The demo practice for the eight weeks from {monday} is loaded.")
                return
    try:
        with runtime.session() as session:
            summary = load_demo(session, anchor=monday, reset=reset)
    except DemoRefused as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Loaded the demo practice for the eight weeks from {summary.anchor}: "
        f"{summary.facilities} facilities, {summary.therapists} therapists, "
        f"{summary.clients} clients, {summary.treatments} treatments, {summary.series} series. "
        f"Every demo user's password is {DEMO_PASSWORD!r}."
    )


def register_optional_commands(group: click.Group) -> None:
    """Commands that live in their own modules (kept out of this file to keep it short)."""
    from scheduler.cli_mail import send_itineraries_command, worker_command
    from scheduler.cli_plan import plan_command
    from scheduler.cli_solve import solve_command

    group.add_command(solve_command, "solve")
    group.add_command(plan_command, "plan")
    group.add_command(worker_command, "worker")
    group.add_command(send_itineraries_command, "send-itineraries")


# --- rounds visits ---------------------------------------------------------------------------


@cli.command()
@click.option("--date", "day_text", required=True, help="The day, YYYY-MM-DD.")
@click.option("--therapist", "therapist_id", type=int, help="Only this therapist's visits.")
@click.option("--json", "as_json", is_flag=True, help="Print the same as JSON.")
@click.pass_context
def visits(ctx: click.Context, day_text: str, therapist_id: int | None, as_json: bool) -> None:
    """Each therapist's visits of a day, their allowed windows, and what took time away."""
    from scheduler.calendar.day import calendar_as_data, day_calendar, load_practice

    day = parse_day(day_text)
    runtime = runtime_from(ctx)
    require_current_schema(runtime)
    with runtime.session() as session:
        snapshot = load_practice(session, therapist_id)
        if therapist_id is not None and not snapshot.therapists:
            raise click.BadParameter(f"no active therapist with id {therapist_id}",
                                     param_hint="--therapist")
        data = calendar_as_data(day_calendar(snapshot, day, runtime.settings.zone))
    if therapist_id is not None:
        data["open_visits"] = [v for v in data["open_visits"]
                               if therapist_id in v["eligible_therapist_ids"]]
    if as_json:
        echo_json(data)
    else:
        click.echo(format_visits(data))


def format_visits(data: dict[str, Any]) -> str:
    lines = [f"Visits on {data['date']} ({data['timezone']})"]
    if data.get("closed"):
        lines.append(data['closed'][:1].upper() + data['closed'][1:])
    for therapist in data["therapists"]:
        shift = ", ".join(f"{s['from']}–{s['until']}" for s in therapist["shift"]) or "no shift"
        works = f"off ({therapist['off']})" if therapist.get("off") else f"shift {shift}"
        lines += ["", f"{therapist['name']} (therapist {therapist['id']}), {works}: "
                      f"{len(therapist['visits'])} visits"]
        lines += [_format_visit(v) for v in therapist["visits"]] or ["  (none)"]
    if data["open_visits"]:
        lines += ["", f"Open to any therapist with the skills: {len(data['open_visits'])} visits"]
        lines += [_format_visit(v) for v in data["open_visits"]]
    return "\n".join(lines)


def _format_visit(visit: dict[str, Any]) -> str:
    head = (f"  - {visit['client_initials']} (client {visit['client_id']}), {visit['facility']}"
            f"{', room ' + visit['room'] if visit['room'] else ''}: "
            f"{visit['duration_minutes']} min, priority {visit['priority']}")
    if visit["required_skills"]:
        head += f", needs {', '.join(visit['required_skills'])}"
    if visit["moved"]:
        head += f" (moved from {visit['original_date']})"
    lines = [head]
    if visit["windows"]:
        for window in visit["windows"]:
            lines.append(f"      may start {window['start_from']}–{window['start_until']} "
                         f"(free {window['free_from']}–{window['free_until']}: after "
                         f"{window['opened_by']}, until {window['closed_by']})")
    else:
        lines.append("      NO WINDOW: " + "; ".join(visit["reasons"]))
    for removed in visit["removed"]:
        lines.append(f"      not {removed['from']}–{removed['until']}: {removed['why']}")
    return "\n".join(lines)
