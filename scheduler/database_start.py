"""When this database began: the moment its practice started to exist.

A worker that was not running when a send time passed records that e-mail as missed
(:mod:`scheduler.delivery.itineraries`). A send time from before the database existed was not
missed by anyone, so catch-up leaves it alone. The moment is kept in ``practice_meta``
(key/value facts about the database, so no column is needed): ``rounds db upgrade`` records it
when it creates the schema, and loading the demo records it again, since the demo replaces the
practice and its outbox. A database made before this existed has no start moment and keeps the
old behaviour (every miss is recorded).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from scheduler import practice_meta

STARTED_AT = "started_at"


def started_at(session: Session) -> datetime | None:
    """The database's start moment (aware, UTC), or None when it has none."""
    value = practice_meta.read(session, STARTED_AT)
    return datetime.fromisoformat(value) if value is not None else None


def record_start(session: Session, at: datetime) -> None:
    """Set the start moment to ``at`` (aware), replacing any earlier one."""
    if at.tzinfo is None:
        raise ValueError("the start moment must be an aware datetime")
    practice_meta.write(session, STARTED_AT, at.isoformat())


def before_start(session: Session, moment: datetime) -> bool:
    """Whether ``moment`` lies before the database existed (False when it has no start)."""
    start = started_at(session)
    return start is not None and moment < start
