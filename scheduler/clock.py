"""The one clock. Logic takes times as arguments; only edges (CLI, jobs, requests) ask here,
so tests can freeze or drive time by replacing :func:`utcnow`.

Call it as ``clock.utcnow()`` (``from scheduler import clock``), never ``from scheduler.clock
import utcnow``: a name imported that way keeps the real clock when a test replaces it."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
