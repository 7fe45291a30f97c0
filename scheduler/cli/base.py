"""The `rounds` group and what every command shares: the runtime it opens from the settings,
the check that the schema is current, dates, JSON output.

Each command opens a :class:`~scheduler.runtime.Runtime` from the settings, does one unit of
work, and reports errors as one line naming the problem, exit status 2, never a traceback.
The command modules import this one and nothing of each other; :mod:`scheduler.cli` adds
their commands to the group.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Any

import click

from scheduler import migrate
from scheduler.records.validation import ValidationError, not_a_date
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
        message = not_a_date(value) or f"expected YYYY-MM-DD, got {value!r}"
        raise click.BadParameter(message, param_hint=field) from None


def echo_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
