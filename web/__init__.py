"""The Flask app: the thin face of the domain (pages, JSON API, feeds) behind a login.

:func:`create_app` only configures: it takes (or builds) a :class:`~scheduler.runtime.Runtime`,
lets each part of the app register itself through its ``init_app(app)``, registers the
blueprints (one per module: pages, API, feeds), and returns. It runs no migration and opens no
network connection; the one database read it makes is to learn whether this is the demo
practice, which alone may run without a configured secret key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from scheduler.runtime import Runtime, open_runtime
from scheduler.settings import load_settings


def create_app(runtime: Runtime | None = None,
               test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app for ``runtime`` (default: from the settings files and environment)."""
    from web import (
        assets,
        auth,
        converters,
        database,
        errors,
        feeds,
        formatting,
        health,
        logs,
        offline,
        request_text,
        security,
    )
    from web.api import openapi, plans, resources, time_off
    from web.pages import (
        account,
        clients,
        day,
        facilities,
        outbox,
        series,
        spreadsheets,
        therapists,
        week,
    )
    from web.pages import time_off as time_off_pages

    if runtime is None:
        runtime = open_runtime(load_settings())
    app = errors.RoundsFlask(__name__, instance_path=str(runtime.settings.instance_path))
    app.config.update(
        TEMPLATES_AUTO_RELOAD=False,
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=1024 * 1024,  # forms and JSON bodies are small; refuse floods
        # One form field may be as large as a body: the import's confirm step re-posts the
        # previewed file as a field (werkzeug's default is 500 kB).
        MAX_FORM_MEMORY_SIZE=1024 * 1024,
    )
    if test_config:
        app.config.update(test_config)

    _trust_proxies(app, runtime.settings.web.proxy_hops)
    app.url_map.converters["id"] = converters.IdConverter
    database.init_app(app, runtime)
    security.init_app(app, runtime)
    auth.init_app(app)
    errors.init_app(app)
    logs.init_app(app)
    request_text.init_app(app)
    formatting.init_app(app, runtime.settings)
    assets.init_app(app)
    offline.init_app(app)

    app.register_blueprint(health.bp)
    app.register_blueprint(auth.bp)
    for page in (day, week, clients, series, facilities, therapists, time_off_pages, account,
                 outbox, spreadsheets):
        app.register_blueprint(page.bp)
    for part in (resources, plans, time_off, openapi):
        app.register_blueprint(part.bp, url_prefix="/api/v1")
    app.register_blueprint(feeds.bp, url_prefix="/feeds")
    return app


def _trust_proxies(app: Flask, hops: int) -> None:
    """Behind ``hops`` reverse proxies, read the client's address and scheme from the headers
    they add (X-Forwarded-For, X-Forwarded-Proto), trusting only the last ``hops`` entries.

    Without it, ``request.remote_addr`` is the proxy's address for everyone, and sign-in
    throttling per address would count every client's failures together. The scheme is taken
    from the same proxy as the address. For a proxy that sets X-Forwarded-Proto to the
    client's scheme, this is what gunicorn already concludes from that header for the proxies
    listed in ``--forwarded-allow-ips``; either way cookies are marked Secure and HSTS is sent
    (:mod:`web.security`) only when the proxy says the client used HTTPS. At 0 (the default)
    the app reads neither header, so a client cannot forge them.
    """
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
