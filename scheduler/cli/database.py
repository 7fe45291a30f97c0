"""`rounds db upgrade` and `rounds demo`: the database schema and the demo practice."""

from __future__ import annotations

import click

from scheduler import migrate
from scheduler.cli.base import parse_day, require_current_schema, runtime_from


@click.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Create or migrate the database schema (Alembic).

    A database created here gets its start moment (:mod:`scheduler.database_start`), so its
    first worker does not record e-mails as missed from before it existed."""
    from scheduler import clock, database_start

    runtime = runtime_from(ctx)
    url = runtime.engine.url.render_as_string(hide_password=True)
    click.echo(f"Migrating {url} to {revision} ...")
    new = migrate.current_revision(runtime.engine) is None
    migrate.upgrade(runtime.engine, revision)
    if new and migrate.is_up_to_date(runtime.engine):
        with runtime.session() as session:
            database_start.record_start(session, clock.utcnow())
    click.echo(f"Schema at revision {migrate.current_revision(runtime.engine)}.")


@click.command()
@click.option("--reset", is_flag=True, help="Delete a practice that is not the demo first.")
@click.option("--anchor", help="Monday the demo's eight weeks start on (default: this week's).")
@click.option("--if-needed", is_flag=True,
              help="Only when the database is empty or holds the demo of an earlier week.")
@click.pass_context
def demo(ctx: click.Context, reset: bool, anchor: str | None, if_needed: bool) -> None:
    """Load the Kansas City demo practice (password for every demo user: rounds-demo), and
    plan and publish its current week and on to a week ahead, so the first screen is a route."""
    from scheduler import clock
    from scheduler.demo.first_week import days_to_plan, plan_days
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
    now = clock.utcnow()
    today = now.astimezone(runtime.settings.zone).date()
    monday = anchor_monday(parse_day(anchor, "--anchor") if anchor else today)
    if if_needed:
        with runtime.session() as session:
            if has_practice_data(session) and not is_demo_database(session):
                click.echo("The database holds a practice of its own; the demo is not loaded.")
                return
            if demo_anchor(session) == monday:
                click.echo(f"The demo practice for the eight weeks from {monday} is loaded.")
                return
    first, last = days_to_plan(monday, today)
    try:
        with runtime.session() as session:  # one transaction: the demo is loaded planned
            summary = load_demo(session, anchor=monday, reset=reset, started_at=now)
            plans = plan_days(session, runtime.settings, first, last, now)
            routes = sum(1 for plan in plans if plan.stops)
    except DemoRefused as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Loaded the demo practice for the eight weeks from {summary.anchor}: "
        f"{summary.facilities} facilities, {summary.therapists} therapists, "
        f"{summary.clients} clients, {summary.treatments} treatments, {summary.series} series. "
        f"Every demo user's password is {DEMO_PASSWORD!r}."
    )
    click.echo(f"Planned and published {first} to {last}: {routes} routes "
               f"({len(plans)} therapist days).")
