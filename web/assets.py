"""Leaflet, served from the xstatic-leaflet package: the map library never comes from a CDN."""

from __future__ import annotations

import xstatic.pkg.leaflet as leaflet
from flask import Blueprint, Flask, send_from_directory
from werkzeug.wrappers import Response

bp = Blueprint("assets", __name__)
LEAFLET_DIR = leaflet.BASE_DIR
LEAFLET_VERSION = leaflet.VERSION


@bp.route("/vendor/leaflet/<path:filename>")
def leaflet_file(filename: str) -> Response:
    """A file of the packaged Leaflet (JS, CSS, marker images)."""
    return send_from_directory(LEAFLET_DIR, filename, max_age=7 * 24 * 3600)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
