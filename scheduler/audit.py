"""The audit trail: who read or changed which patient record, and when; and who was refused.

A row names the actor, the action (read, create, update, delete, refused, ...), the kind of
record and its id, and at most the *names* of the fields that changed (or a refusal's reason
code), never their values: the audit log must itself hold no patient data, so it can be shown
to an administrator or exported without becoming a second copy of the records.

Every read of a patient record leaves one row naming that record, lists included: a page of
clients writes one ``read`` row per client shown (in one multi-row INSERT). Rows are appended
to a hash chain (:mod:`scheduler.audit_chain`) and the database refuses to change them
(:mod:`scheduler.audit_guard`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from scheduler import audit_chain, clock

DETAIL_LIMIT = 255

# Why access was refused: codes, never the record's content.
NOT_FOUND = "not found"  # no such record
NOT_YOURS = "not yours"  # it exists, but this user may not see it
ADMINS_ONLY = "admins only"  # the action needs an admin
BAD_TOKEN = "bad token"  # an API call without a live token

# What rows say was done (the admin page offers these to search by).
ACTIONS = ("read", "create", "update", "delete", "refused", "login", "login_failed", "logout",
           "plan", "replan", "publish", "trail_cleared")


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in therapist (``therapist_id``) or a process (``label`` only)."""

    therapist_id: int | None
    label: str = ""


SYSTEM = Actor(None, "system")


def _row(actor: Actor, action: str, entity: str, entity_id: int | None, detail: str,
         at: datetime) -> dict[str, Any]:
    return {"at": at, "actor_id": actor.therapist_id, "actor_label": actor.label[:120],
            "action": action[:20], "entity": entity[:40], "entity_id": entity_id,
            "detail": _clip(detail)}


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
) -> None:
    """Add one audit row to the session's transaction (appended to the trail as it commits,
    lost if it rolls back).

    ``fields`` are field *names* (e.g. the keys that an update changed); ``context`` says
    through what the record was reached ("day_plan 12"), also never a value.
    """
    detail = ",".join(sorted(set(fields)))
    if context:
        detail = f"{context}; {detail}" if detail else context
    audit_chain.add(session, [_row(actor, action, entity, entity_id, detail,
                                   at or clock.utcnow())])


def record_reads(
    session: Session, actor: Actor, entity: str, entity_ids: Iterable[int], *, context: str = ""
) -> None:
    """One ``read`` row per record shown together (a day plan shows several clients, a list
    page up to 200), in one multi-row INSERT: the pages that show most are the busiest."""
    at = clock.utcnow()
    audit_chain.add(session, [_row(actor, "read", entity, entity_id, context, at)
                              for entity_id in sorted(set(entity_ids))])


def record_refusal(session: Session, actor: Actor, entity: str, entity_id: int | None,
                   reason: str) -> None:
    """A refused attempt: who, on which record (as asked for), and the reason code."""
    record(session, actor, "refused", entity, entity_id, context=reason)


def _clip(text: str) -> str:
    return text if len(text) <= DETAIL_LIMIT else text[: DETAIL_LIMIT - 1] + "…"
