"""The `rounds` entry point: the domain's commands plus `serve`.

The entry lives in `web` because it is the one layer that may know both the domain and Flask.
"""

from __future__ import annotations

import click

from scheduler import migrate
from scheduler.cli import cli, runtime_from
from scheduler.delivery import job_store, worker
from scheduler.runtime import Runtime
from scheduler.served_address import bound_url, record_served


@cli.command()
@click.option("--host", default=None, help="Address to listen on (default from settings).")
@click.option("--port", default=None, type=int, help="Port (default from settings).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the web app, and on the embedded default the morning e-mails too.

    A single process for one therapist's laptop; a practice runs the app under gunicorn and
    the e-mails in `rounds worker` (see the README).
    """
    from scheduler.delivery.senders import MailConfigError
    from web import create_app

    runtime = runtime_from(ctx)
    app = create_app(runtime=runtime)
    host = host or runtime.settings.web.host
    port = port or runtime.settings.web.port
    _record_served(runtime, bound_url(host, port))
    background = None
    if worker.runs_in_serve(runtime.settings):
        try:
            background = worker.start_in_process(runtime)
        except (job_store.JobReferenceError, MailConfigError) as error:
            raise click.ClickException(str(error)) from None
        click.echo("Morning itineraries: sent by this process "
                   f"(the outbox is {runtime.settings.outbox_path})")
    click.echo(f"Rounds is at http://{host}:{port}/  (Ctrl+C stops it)")
    try:
        app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)
    finally:
        if background is not None:
            worker.stop_in_process(background)


def _record_served(runtime: Runtime, url: str) -> None:
    """Links in e-mails follow this address unless ``base_url`` is set; a process without a
    request (the worker) reads it from the database (:mod:`scheduler.served_address`)."""
    if not migrate.is_up_to_date(runtime.engine):
        return  # the app says so on every page; nothing to record into yet
    with runtime.session() as session:
        record_served(session, url)


def main() -> None:
    cli(prog_name="rounds")
