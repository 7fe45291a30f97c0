"""The Flask app: the thin face of the domain (pages, JSON API, feeds) behind a login.

:func:`create_app` only configures: it takes (or builds) a :class:`~scheduler.runtime.Runtime`,
lets each part of the app register itself through its ``init_app(app)``, registers the
blueprints by audience, and returns. It runs no migration and opens no network connection; the
one database read it makes is to learn whether this is the demo practice, which alone may run
without a configured secret key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from scheduler.runtime import Runtime, open_runtime
from scheduler.settings import load_settings


def create_app(runtime: Runtime | None = None,
               test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app for ``runtime`` (default: from the settings files and environment)."""
    from web import (
        api,
        assets,
        auth,
        converters,
        database,
        errors,
        feeds,
        formatting,
        health,
        pages,
        security,
    )

    if runtime is None:
        runtime = open_runtime(load_settings())
    app = errors.RoundsFlask(__name__, instance_path=str(runtime.settings.instance_path))
    app.config.update(
        TEMPLATES_AUTO_RELOAD=False,
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=1024 * 1024,  # forms and JSON bodies are small; refuse floods
    )
    if test_config:
        app.config.update(test_config)

    app.url_map.converters["id"] = converters.IdConverter
    database.init_app(app, runtime)
    security.init_app(app, runtime)
    auth.init_app(app)
    errors.init_app(app)
    formatting.init_app(app, runtime.settings)
    assets.init_app(app)

    app.register_blueprint(health.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    app.register_blueprint(feeds.bp, url_prefix="/feeds")
    return app
