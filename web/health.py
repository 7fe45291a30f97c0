"""/healthz: answers "ok" while the process serves requests (for load balancers, and the
trivial endpoint the web benchmark compares the real pages with). No database, no login."""

from __future__ import annotations

from flask import Blueprint, Response

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up."""
    return Response("ok\n", mimetype="text/plain")
