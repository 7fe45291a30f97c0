"""The `rounds` entry point: the domain's commands plus `serve`.

The entry lives in `web` because it is the one layer that may know both the domain and Flask.
"""

from __future__ import annotations

import click

from scheduler.cli import cli, register_optional_commands, runtime_from


@cli.command()
@click.option("--host", default=None, help="Address to listen on (default from settings).")
@click.option("--port", default=None, type=int, help="Port (default from settings).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the web app (development server; see the README for production)."""
    from web import create_app

    runtime = runtime_from(ctx)
    app = create_app(runtime=runtime)
    host = host or runtime.settings.web.host
    port = port or runtime.settings.web.port
    click.echo(f"Rounds is at http://{host}:{port}/  (Ctrl+C stops it)")
    app.run(host=host, port=port, debug=False, use_reloader=False)


def main() -> None:
    register_optional_commands(cli)
    cli(prog_name="rounds")
