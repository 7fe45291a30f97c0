"""The one clock. Logic takes times as arguments; only edges (CLI, jobs, requests) ask here,
so tests can freeze or drive time by replacing :func:`utcnow`."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
