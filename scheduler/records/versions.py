"""Edits that cannot be lost: every edited record carries a version, and a save made from an
older version is refused instead of silently reverting what someone else saved meanwhile.

The rule, in one place for pages and API alike:

- a record starts at version 1; each save that changes it (or a row edited inside its form:
  shifts, visiting hours) adds one, once per save; a save that changes nothing leaves it
  (and writes nothing);
- a save may say which version its editor started from (a form's hidden field, the API's
  ``version`` or ``If-Match``). When that is not the current version, the save is refused
  with :class:`Conflict`, which carries the current version and values, so the caller can
  show both what the other person saved and what was typed. A save that says nothing is
  accepted as before (older API clients);
- two saves racing from the same version are caught by the database as well: the UPDATE
  carries ``WHERE version = <read>`` (the models' ``version_id_col``), and the later one's
  ``StaleDataError`` becomes a :class:`Conflict` too (:func:`scheduler.records.change.update`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import models
from scheduler.records.fields import MAX_ID, describe_kind
from scheduler.records.validation import fail

FIELD = "version"


class Conflict(Exception):
    """A save started from ``expected`` while the record is at ``current``.

    ``values`` are the record's current field values by field name (``None`` when the
    conflict was found by the database in a race: the caller reads the record again).
    The message names no value, only the kind, id and versions: it may reach a log.
    """

    def __init__(self, kind: str, record_id: int, expected: int, current: int | None,
                 values: Mapping[str, Any] | None = None) -> None:
        now = f"version {current}" if current is not None else "a newer version"
        super().__init__(f"{kind} {record_id} was saved by someone else: it is at {now}, "
                         f"this change started from version {expected}")
        self.kind = kind
        self.record_id = record_id
        self.expected = expected
        self.current = current
        self.values = dict(values or {})


def expected_version(data: Mapping[str, Any]) -> int | None:
    """The version a save says it started from (``data["version"]``), or None when it says
    none. Anything but a whole number from 1 is a ValidationError naming the field."""
    if not isinstance(data, Mapping):
        return None
    raw = data.get(FIELD)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise fail(FIELD, f"expected the whole number the record was read with, got "
                          f"{describe_kind(raw)}")
    if not 1 <= raw <= MAX_ID:
        raise fail(FIELD, f"must be a whole number from 1 to {MAX_ID}, got {raw}")
    return raw


def without_version(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """``data`` without its ``version`` (the fields to apply)."""
    if not isinstance(data, Mapping) or FIELD not in data:
        return data
    return {name: value for name, value in data.items() if name != FIELD}


def check(kind: str, record: Any, expected: int | None,
          values: Mapping[str, Any] | None = None) -> None:
    """:class:`Conflict` when ``expected`` is given and is not ``record``'s version."""
    if expected is not None and expected != record.version:
        raise Conflict(kind, record.id, expected, record.version,
                       values if values is not None else current_values(record))


def bump(record: Any) -> None:
    """One more version: called once per save that changed ``record``."""
    record.version = (record.version or 1) + 1


def current_values(record: Any) -> dict[str, Any]:
    """The record's column values by attribute name, the version and secrets left out."""
    mapper = record.__mapper__
    secret = {"password_hash", "calendar_token", "session_version"}
    return {attr.key: getattr(record, attr.key) for attr in mapper.column_attrs
            if attr.key not in secret and attr.key != FIELD}


@dataclass(frozen=True)
class SavedBy:
    """Who saved a record last, and when (from the audit trail: names, never values)."""

    at: datetime
    name: str = ""
    role: str = ""
    label: str = ""

    @property
    def who(self) -> str:
        """"Theo Therapist, therapist", or the process ("api", "cli") when no person."""
        if self.name:
            return f"{self.name}, {self.role}" if self.role else self.name
        return self.label or "someone"


def last_saved(session: Session, kind: str, record_id: int) -> SavedBy | None:
    """The newest create or update of the record in the audit trail, with its actor."""
    row = session.execute(
        select(models.AuditEvent.at, models.AuditEvent.actor_label, models.Therapist.name,
               models.Therapist.role)
        .outerjoin(models.Therapist, models.Therapist.id == models.AuditEvent.actor_id)
        .where(models.AuditEvent.entity == kind, models.AuditEvent.entity_id == record_id,
               models.AuditEvent.action.in_(("create", "update")))
        .order_by(models.AuditEvent.at.desc(), models.AuditEvent.id.desc()).limit(1)).first()
    if row is None:
        return None
    at, label, name, role = row
    return SavedBy(at=at, name=name or "", role=role.value if role is not None else "",
                   label=label or "")
