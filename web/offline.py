"""The day without signal: the app a phone installs, its service worker, and what a day page
tells that worker about keeping a copy.

Therapists work in hospital basements and dialysis units where phones have no signal. The
service worker (``web/static/sw.js``, served at ``/sw.js`` so that its scope is the whole site)
keeps the signed-in therapist's day pages of today and tomorrow, and the files they need,
readable offline; marks made offline wait on the phone and are sent later
(``web/static/offline-marks.js``, ``web/static/offline.js``). What may be kept is the
server's word, never the worker's guess: a page is kept only when its response says so
(:func:`keep_offline`), and other pages, which carry patient data too, never are.

Patient data on a phone is bounded:
- a kept page expires with the sign-in that fetched it: ``Rounds-Session-Ends`` is when the
  session ends however active (``web.session_max_hours`` after signing in, :mod:`web.auth`),
  and the worker neither serves nor keeps a copy past it. The idle limit
  (``web.session_idle_minutes``) is not applied to copies: a phone in a basement is idle by
  nature, and that is when the copy is needed;
- logging out clears every copy and the marks waiting (a ``Clear-Site-Data`` header on the
  logout answer, :func:`clear_site_data`, and the page's own message to the worker first,
  since browsers differ in what they clear); the sign-in page clears copies left from a
  session that ended without logging out.

The manifest, the worker and the icons hold no patient data and are served without a
sign-in (a browser fetches the manifest without cookies).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from web.database import runtime

bp = Blueprint("offline", __name__)

THEME = "#1d2430"  # the header's ink (app.css --ink)
BACKGROUND = "#f4f6f9"  # the page's wash (app.css --wash)
WORKER = "sw.js"
# The files the kept day pages need, fetched when the worker is installed, so that a page
# opened offline right after its first visit has its styles, scripts and map library.
STATIC_ASSETS = ("app.css", "app.js", "offline-marks.js", "offline.js", "day-map.js",
                 "icons/rounds.svg", "icons/rounds-192.png")
LEAFLET_ASSETS = ("leaflet.css", "leaflet.js")


@bp.route("/manifest.webmanifest")
def manifest() -> Response:
    """The web app manifest: installs Rounds on a phone's home screen, opening on the day."""
    def icon(name: str) -> str:
        return url_for("static", filename=f"icons/{name}")

    body = {
        "id": "/",
        "name": "Rounds",
        "short_name": "Rounds",
        "description": "Your day's visits, route and precautions, also without signal.",
        "start_url": url_for("day.home"),
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME,
        "background_color": BACKGROUND,
        "icons": [
            {"src": icon("rounds.svg"), "sizes": "any", "type": "image/svg+xml"},
            {"src": icon("rounds-192.png"), "sizes": "192x192",
             "type": "image/png"},
            {"src": icon("rounds-512.png"), "sizes": "512x512",
             "type": "image/png"},
            {"src": icon("rounds-512.png"), "sizes": "512x512",
             "type": "image/png", "purpose": "maskable"},
        ],
    }
    return Response(json.dumps(body, indent=1), mimetype="application/manifest+json")


@bp.route("/sw.js")
def service_worker() -> Response:
    """The service worker, from the site's root: a worker controls the pages under the folder
    it is served from, and the day pages are at ``/`` and ``/day/...``.

    Its list of files to fetch on install, and a version that changes whenever the worker or
    one of those files changes (so that browsers install the new one), are written in here.
    Never cached (:mod:`web.security` sends ``no-store`` on everything but static files): a
    browser must see a new worker as soon as there is one.
    """
    assets = asset_urls()
    text = _worker_source().replace("/*ROUNDS:ASSETS*/[]", json.dumps(assets)) \
                           .replace("/*ROUNDS:VERSION*/\"\"", json.dumps(_version(assets)))
    response = Response(text, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    return response


def asset_urls() -> list[str]:
    """The addresses of the files a kept day page needs (and the manifest)."""
    return ([url_for("static", filename=name) for name in STATIC_ASSETS]
            + [url_for("assets.leaflet_file", filename=name) for name in LEAFLET_ASSETS]
            + [url_for("offline.manifest")])


def _static_folder() -> Path:
    folder = current_app.static_folder
    assert folder is not None  # the app serves web/static
    return Path(folder)


def _worker_source() -> str:
    return (_static_folder() / WORKER).read_text("utf-8")


def _version(assets: list[str]) -> str:
    """A digest of the worker and the files it keeps: another digest, another install."""
    from web.assets import LEAFLET_DIR

    digest = hashlib.sha256(_worker_source().encode())
    for name in STATIC_ASSETS:
        digest.update((_static_folder() / name).read_bytes())
    for name in LEAFLET_ASSETS:
        digest.update((Path(LEAFLET_DIR) / name).read_bytes())
    digest.update(json.dumps(assets).encode())
    return digest.hexdigest()[:16]


def session_ends() -> int | None:
    """When this sign-in ends however active, in Unix seconds (``web.session_max_hours`` after
    signing in); None outside a signed-in session."""
    signed_in = session.get("iat")
    if not isinstance(signed_in, int):
        return None
    return signed_in + runtime().settings.web.session_max_hours * 3600


def keep_offline(response: BaseResponse, day: date, today: date) -> BaseResponse:
    """Let the service worker keep this day page when it is today's or tomorrow's: the page's
    day, the days kept (the worker drops other copies), when the copy must go (the session's
    end) and, on today's page, tomorrow's address to fetch ahead.

    The caller says the page is the signed-in therapist's own day at its plain address.
    """
    tomorrow = today + timedelta(days=1)
    ends = session_ends()
    if day not in (today, tomorrow) or ends is None:
        return response
    headers = response.headers
    headers["Rounds-Offline-Day"] = day.isoformat()
    headers["Rounds-Offline-Keep"] = f"{today.isoformat()} {tomorrow.isoformat()}"
    headers["Rounds-Session-Ends"] = str(ends)
    if day == today:
        headers["Rounds-Offline-Next"] = url_for("day.day", day=tomorrow.isoformat())
    return response


def clear_site_data(response: BaseResponse) -> BaseResponse:
    """Ask the browser to drop everything this site keeps on the device: the kept day pages,
    the marks waiting and the worker itself (Chromium does, for both words together; other
    browsers may not, which is why the page clears them too before logging out)."""
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["offline_theme"] = THEME
