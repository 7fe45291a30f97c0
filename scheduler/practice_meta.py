"""Key/value facts about this database (table ``practice_meta``), each under its own key:
that it holds the demo practice (:mod:`scheduler.demo.loader`), when it began
(:mod:`scheduler.database_start`), the address it is served on
(:mod:`scheduler.served_address`)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from scheduler.models import PracticeMeta


def read(session: Session, key: str) -> str | None:
    """The value under ``key``, or None when there is none."""
    row = session.get(PracticeMeta, key)
    return row.value if row is not None else None


def write(session: Session, key: str, value: str) -> None:
    """Set ``key`` to ``value``, replacing any earlier value."""
    row = session.get(PracticeMeta, key)
    if row is None:
        session.add(PracticeMeta(key=key, value=value))
    else:
        row.value = value
    session.flush()
