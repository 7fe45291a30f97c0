"""The audit trail: who read or changed which patient record, and when.

A row names the actor, the action (read, list, create, update, delete, ...), the kind of
record and its id, and at most the *names* of the fields that changed, never their values:
the audit log must itself hold no patient data, so it can be shown to an administrator or
exported without becoming a second copy of the records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from scheduler import clock
from scheduler.models import AuditEvent, Therapist

DETAIL_LIMIT = 255


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in therapist (``therapist_id``) or a process (``label`` only)."""

    therapist_id: int | None
    label: str = ""


SYSTEM = Actor(None, "system")


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: int | None,
    fields: Iterable[str] = (),
    *,
    context: str = "",
    at: datetime | None = None,
) -> AuditEvent:
    """Add one audit row to the session (saved with the caller's transaction).

    ``fields`` are field *names* (e.g. the keys that an update changed); ``context`` says
    through what the record was reached ("day_plan 12"), also never a value.
    """
    names = sorted(set(fields))
    detail = ",".join(names)
    if context:
        detail = f"{context}; {detail}" if detail else context
    event = AuditEvent(
        at=at or clock.utcnow(),
        actor_id=actor.therapist_id,
        actor_label=actor.label[:120],
        action=action,
        entity=entity,
        entity_id=entity_id,
        detail=_clip(detail),
    )
    session.add(event)
    return event


def record_reads(
    session: Session, actor: Actor, entity: str, entity_ids: Iterable[int], *, context: str = ""
) -> None:
    """One ``read`` row per record shown together (a day plan shows several clients).

    Written with one multi-row INSERT rather than as ORM objects: pages that show many
    records are the busiest, and this keeps their write short.
    """
    at = clock.utcnow()
    rows = [{"at": at, "actor_id": actor.therapist_id, "actor_label": actor.label[:120],
             "action": "read", "entity": entity, "entity_id": entity_id,
             "detail": _clip(context)} for entity_id in sorted(set(entity_ids))]
    if rows:
        session.execute(insert(AuditEvent), rows)


def _clip(text: str) -> str:
    return text if len(text) <= DETAIL_LIMIT else text[: DETAIL_LIMIT - 1] + "…"


def listed(session: Session, page: int, per_page: int, *, entity: str = "",
           entity_id: int | None = None) -> list[tuple[AuditEvent, str | None]]:
    """One page of the audit log, newest first, each row with its actor's name (None for a
    process), narrowed to one kind of record and one record when asked."""
    query = select(AuditEvent, Therapist.name).outerjoin(
        Therapist, Therapist.id == AuditEvent.actor_id)
    if entity:
        query = query.where(AuditEvent.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    rows = session.execute(query.order_by(AuditEvent.id.desc()).limit(per_page)
                           .offset((page - 1) * per_page)).all()
    return [(row[0], row[1]) for row in rows]
