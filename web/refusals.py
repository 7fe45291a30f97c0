"""Refused attempts, recorded even though the request's own transaction is rolled back.

Where access is refused (a record that does not exist or is not the viewer's, an admin-only
action, an API call without a live token), the view notes it here and aborts; when the
request ends, after its own session has been committed or rolled back and its locks let go
(:func:`web.database._finish`), :func:`write` appends the ``refused`` row in a short
transaction of its own: who, which record (as asked for), and the reason code. Never a value:
not the token, not the URL's query string.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, request
from flask_login import current_user
from sqlalchemy.orm import Session, sessionmaker

from scheduler import audit
from scheduler.db import session_scope

# A 403 is always a refusal; a 404 or 401 only when a view noted what was refused (an unknown
# URL is not an attempt on a record).
FORBIDDEN = 403


@dataclass(frozen=True)
class Refusal:
    entity: str
    entity_id: int | None
    reason: str


def note(entity: str, entity_id: int | None, reason: str) -> None:
    """Remember what this request was refused (the first refusal is the one recorded)."""
    if "refusal" not in g:
        g.refusal = Refusal(entity, entity_id, reason)


def _actor() -> audit.Actor:
    api_actor: audit.Actor | None = g.get("api_actor")
    if api_actor is not None:
        return api_actor
    if (request.blueprint or "").startswith("api"):
        return audit.Actor(None, "api")  # no live token; a cookie says nothing here
    if current_user.is_authenticated:
        return current_user.actor
    return audit.Actor(None, "anonymous")


def _unnoted(status: int) -> Refusal | None:
    """A 403 no view described (admin-only pages and actions): named after the endpoint and
    its first id. (A failed sign-in's 401 has its own ``login_failed`` row.)"""
    if status != FORBIDDEN:
        return None
    ids = [v for v in (request.view_args or {}).values() if isinstance(v, int)]
    return Refusal((request.endpoint or "unknown").rpartition(".")[2], ids[0] if ids else None,
                   audit.ADMINS_ONLY)


def pending(status: int) -> tuple[audit.Actor, Refusal] | None:
    """What to record for a response with this status, resolved while the request's session
    is still open (who the user is must not be read again after its rollback: that would
    begin a new transaction, and on SQLite take the write lock :func:`write` then waits for)."""
    refusal: Refusal | None = g.get("refusal") if status >= 400 else None
    refusal = refusal or _unnoted(status)
    return None if refusal is None else (_actor(), refusal)


def write(sessions: sessionmaker[Session], found: tuple[audit.Actor, Refusal] | None) -> None:
    """Append the request's refusal, if it was refused, in a transaction of its own."""
    if found is None:
        return
    actor, refusal = found
    with session_scope(sessions) as session:
        audit.record_refusal(session, actor, refusal.entity, refusal.entity_id, refusal.reason)
