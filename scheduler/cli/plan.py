"""`rounds plan`: plan days (or re-plan one from now) and print the itineraries.

    rounds plan --date 2026-12-02                       every therapist, a new draft each
    rounds plan --date 2026-12-02 --therapist 2 --publish
    rounds plan --date 2026-12-01 --days 7 --json       a week, as data (progress on stderr)
    rounds plan --replan --date 2026-12-02 --therapist 2 --at 10:30 --position 39.1,-94.6
    rounds plan --stale                                 every day a change touched, again


"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import clock, models
from scheduler.calendar.local_time import local_datetime
from scheduler.cli.base import echo_json, parse_day, require_current_schema, runtime_from
from scheduler.planning import plan_range, replan_from
from scheduler.planning.refresh import replan_stale
from scheduler.plans.record import checked_views, views_of
from scheduler.plans.view import Detail
from scheduler.present.text import itinerary_text, plan_as_data
from scheduler.settings import Settings, parse_hhmm


@click.command("plan")
@click.option("--date", "day_text", help="The (first) day, YYYY-MM-DD.")
@click.option("--therapist", "therapist_id", type=int, help="Only this therapist.")
@click.option("--days", type=click.IntRange(1, 366), default=1, show_default=True,
              help="Plan this many days from --date.")
@click.option("--publish", is_flag=True,
              help="Publish the new plans (default: a day whose plan was published is "
                   "published again, a new day is a draft).")
@click.option("--json", "as_json", is_flag=True, help="Print the plans as JSON.")
@click.option("--replan", is_flag=True,
              help="Re-plan one therapist's day from --at, keeping done and skipped visits.")
@click.option("--at", "at_text", help="With --replan: the local time to re-plan from, HH:MM.")
@click.option("--position", "position_text",
              help="With --replan: where the therapist is, LAT,LON (default: the last done "
                   "visit's building, else home).")
@click.option("--time-limit", type=click.FloatRange(0.05, 600), default=None,
              help="Seconds the optimizer may search per day (default: the settings').")
@click.option("--stale", is_flag=True,
              help="Plan again every day a change to the records touched (what the worker "
                   "does every half minute), and say what changed.")
@click.pass_context
def plan_command(ctx: click.Context, day_text: str | None, therapist_id: int | None, days: int,
                 publish: bool, as_json: bool, replan: bool, at_text: str | None,
                 position_text: str | None, time_limit: float | None, stale: bool) -> None:
    """Plan days into routes and print each therapist's itinerary (or re-plan one from now,
    or every stale day)."""
    if stale:
        _replan_stale(ctx, time_limit)
        return
    if day_text is None:
        raise click.UsageError("give --date YYYY-MM-DD (or --stale)")
    day = parse_day(day_text)
    _check_combination(replan, therapist_id, days, at_text, position_text)
    runtime = runtime_from(ctx)
    require_current_schema(runtime)
    settings = runtime.settings
    with runtime.session() as session:
        if replan:
            assert therapist_id is not None and at_text is not None
            at = _at(day, at_text, settings.zone)
            position = _position(position_text) if position_text else None
            plans = [replan_from(session, settings, therapist_id, day, at, position,
                                 publish=True if publish else None, time_limit=time_limit)]
        else:
            plans = plan_range(session, settings, day, day + timedelta(days=days - 1),
                               [therapist_id] if therapist_id is not None else None,
                               publish=True if publish else None, now=clock.utcnow(),
                               time_limit=time_limit,
                               progress=_progress if days > 1 else None)
        _print(session, plans, settings, as_json, days)


def _replan_stale(ctx: click.Context, time_limit: float | None) -> None:
    runtime = runtime_from(ctx)
    require_current_schema(runtime)
    done = replan_stale(runtime.sessions, runtime.settings, clock.utcnow(), f"cli:{os.getpid()}",
                        time_limit=time_limit)
    if not done:
        click.echo("No stale days: every plan follows the records.")
        return
    for refreshed in done:
        versions = ", ".join(
            f"therapist {therapist} version {version} ({status})" if new
            else f"therapist {therapist} unchanged (version {version})"
            for therapist, version, status, new in refreshed.plans) or "no plans"
        click.echo(f"{refreshed.day.isoformat()}: {versions}")
        for cause in refreshed.causes:
            click.echo(f"  because {cause}")
    with runtime.session() as session:
        for refreshed in done:
            for therapist, version, _, new in refreshed.plans:
                if not new:
                    continue
                plan = session.scalar(select(models.DayPlan).where(
                    models.DayPlan.therapist_id == therapist,
                    models.DayPlan.day == refreshed.day, models.DayPlan.version == version))
                for change in (view.changes for view in views_of(
                        session, [plan] if plan else [], runtime.settings.zone,
                        detail=Detail.MINIMAL)):
                    for item in change:
                        click.echo(f"  therapist {therapist}: {item.words}")


def _check_combination(replan: bool, therapist_id: int | None, days: int,
                       at_text: str | None, position_text: str | None) -> None:
    if replan:
        if therapist_id is None:
            raise click.UsageError("--replan needs --therapist")
        if at_text is None:
            raise click.UsageError("--replan needs --at HH:MM")
        if days != 1:
            raise click.UsageError("--replan plans one day: leave out --days")
    elif at_text is not None or position_text is not None:
        raise click.UsageError("--at and --position go with --replan")


def _at(day: date, text: str, zone: Any) -> datetime:
    try:
        wall = parse_hhmm(text)
    except ValueError:
        raise click.BadParameter(f"expected a time as HH:MM (24-hour), got {text!r}",
                                 param_hint="--at") from None
    return local_datetime(day, wall, zone)


def _position(text: str) -> tuple[float, float]:
    try:
        lat_text, lon_text = text.split(",")
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        raise click.BadParameter(f"expected LAT,LON in decimal degrees, got {text!r}",
                                 param_hint="--position") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise click.BadParameter("latitude must be within ±90 and longitude within ±180",
                                 param_hint="--position")
    return lat, lon


def _progress(day: date, plans: list[models.DayPlan]) -> None:
    left_out = sum(len(plan.unplaced or []) for plan in plans)
    click.echo(f"planned {day.isoformat()}: {len(plans)} plans, "
               f"{sum(len(plan.stops) for plan in plans)} visits, {left_out} not planned",
               err=True)


def _print(session: Session, plans: list[models.DayPlan], settings: Settings, as_json: bool,
           days: int) -> None:
    views = checked_views(session, plans, settings, detail=Detail.FULL)
    if as_json:
        echo_json({"plans": [plan_as_data(view) for view in views]})
        return
    if not plans:
        click.echo("Nobody works on " + ("these days." if days > 1 else "this day.")
                   + " Nothing to plan.")
        return
    click.echo("\n\n".join(itinerary_text(view) for view in views))
