"""`rounds visits`: each therapist's visits of a day, their windows, and what took time away."""

from __future__ import annotations

from typing import Any

import click

from scheduler.cli.base import echo_json, parse_day, require_current_schema, runtime_from
from scheduler.records.skills import skill_words


@click.command()
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
        snapshot = load_practice(
            session, [therapist_id] if therapist_id is not None else None)
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
        head += f", needs {skill_words(visit['required_skills'])}"
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
