"""The one way every record changes: parse by field, assign, check as a whole, audit.

Every change goes the same way: the raw input (JSON values, or form text turned into the same
shape) is parsed field by field by the kind's parsers (:mod:`.fields`), every problem is
collected with its field name, the record is assembled and checked as a whole
(:mod:`.validation`), and only then is it added to the session together with an audit row
naming the fields that changed (never their values).

Nothing here commits. Each change runs inside a SAVEPOINT (:func:`all_or_nothing`): when it
is rejected (:class:`~.validation.ValidationError`, :class:`InUse`) the session is left
exactly as it was before the call, so what was saved before stays as it was whatever the
caller does next.

A kind of record is described once, by a :class:`Kind`: its audit name, how an input is
applied to a record, and what to say about where the record lives. :func:`create`,
:func:`update` and :func:`delete` do the rest; the modules per kind hold only what differs.

Every saved change also marks the planned days it touches stale, in the same transaction
(:func:`scheduler.plans.touches.record_changed`), so no plan outlives the records it was made
from.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from scheduler import audit, models
from scheduler.audit import Actor
from scheduler.plans import touches
from scheduler.records import versions
from scheduler.records.fields import REQUIRED, Parser
from scheduler.records.validation import Problems, ValidationError, parse_weekly_hours

Record = TypeVar("Record", bound=models.Base)
Change = TypeVar("Change", bound=Callable[..., Any])
Apply = Callable[[Session, Any, Mapping[str, Any], bool], set[str]]
"""``apply(session, record, data, creating)``: parse ``data`` onto ``record``, check it as a
whole, return the names of the fields that changed; raise ValidationError naming each bad
field (leaving the record as the caller must then roll back)."""


class InUse(ValueError):
    """The record cannot be deleted because others refer to it; the message says what to do."""


@dataclass(frozen=True)
class Kind:
    """A kind of record: its name in the audit log, how input applies to it, and (for
    records that belong to another, such as a client's treatment) the context audited."""

    name: str
    apply: Apply
    context: Callable[[Any], str] | None = None

    def context_of(self, record: Any) -> str:
        return self.context(record) if self.context is not None else ""


def all_or_nothing(change: Change) -> Change:
    """Run a change in a SAVEPOINT, so a rejected change leaves no trace in the session."""

    @functools.wraps(change)
    def run(session: Session, *args: Any, **kwargs: Any) -> Any:
        with session.begin_nested():
            return change(session, *args, **kwargs)

    return run  # type: ignore[return-value]


def create(session: Session, actor: Actor, kind: Kind, record: Record,
           data: Mapping[str, Any]) -> Record:
    """Apply ``data`` to the new ``record``, add it, and audit the fields given."""
    changed = kind.apply(session, record, data, True)
    session.add(record)
    session.flush()
    audit.record(session, actor, "create", kind.name, record.id,  # type: ignore[attr-defined]
                 changed, context=kind.context_of(record))
    touches.record_changed(session, kind.name, record, None, changed, touches.Action.CREATE)
    return record


def update(session: Session, actor: Actor, kind: Kind, record: Record,
           data: Mapping[str, Any]) -> Record:
    """Apply ``data`` (only the fields it names) to ``record``; audit what changed.

    ``data["version"]``, when given, is the version the editor started from: another version
    is refused with :class:`~.versions.Conflict` before anything is applied (see
    :mod:`.versions`). A save that changes something adds one to the version.
    """
    expected = versions.expected_version(data)
    versions.check(kind.name, record, expected)
    read, record_id = record.version, record.id  # type: ignore[attr-defined]
    before = touches.snapshot(record)
    changed = kind.apply(session, record, versions.without_version(data), False)
    if changed:
        versions.bump(record)
    try:
        session.flush()
    except StaleDataError as error:
        # Saved by someone else between our read and this write (the UPDATE's WHERE
        # version = read matched no row): the same refusal as above.
        raise versions.Conflict(kind.name, record_id,
                                expected if expected is not None else read, None) from error
    if changed:
        audit.record(session, actor, "update", kind.name, record.id,  # type: ignore[attr-defined]
                     changed, context=kind.context_of(record))
        touches.record_changed(session, kind.name, record, before, changed, touches.Action.UPDATE)
    return record


def delete(session: Session, actor: Actor, kind: Kind, record: Any,
           referred_by: list[ColumnElement[bool]], refusal: str) -> None:
    """Delete ``record`` unless a row matches one of ``referred_by`` (then :class:`InUse`
    with ``refusal``, which says what to do instead)."""
    refuse_if_referred(session, referred_by, refusal)
    audit.record(session, actor, "delete", kind.name, record.id, context=kind.context_of(record))
    touches.record_changed(session, kind.name, record, touches.snapshot(record), set(),
                         touches.Action.DELETE)
    session.delete(record)
    session.flush()


def refuse_if_referred(session: Session, referred_by: list[ColumnElement[bool]],
                       refusal: str) -> None:
    """:class:`InUse` with ``refusal`` when a row matches one of ``referred_by``."""
    if not referred_by:
        return
    condition = or_(*(exists().where(other) for other in referred_by))
    if session.scalar(select(condition)):
        raise InUse(refusal)


# ---------------------------------------------------------------------------------------------
# The steps of applying an input


def parse(kind: str, spec: Mapping[str, Parser], data: Mapping[str, Any], *, creating: bool,
          extra: tuple[str, ...] = ()) -> tuple[dict[str, Any], Problems]:
    """Parse every known field present in ``data``; collect problems with their field."""
    problems = Problems()
    if not isinstance(data, Mapping):
        problems.add("body", "expected a JSON object")
        return {}, problems
    for name in data:
        if name not in spec and name not in extra:
            problems.add(str(name), "unknown field")
    if creating:
        for name in REQUIRED[kind]:
            if data.get(name) is None:
                problems.add(name, "is required")
    values: dict[str, Any] = {}
    for name, parse_field in spec.items():
        if name not in data or any(p.field == name for p in problems.found):
            continue
        try:
            values[name] = parse_field(name, data[name])
        except ValidationError as error:
            problems.found.extend(error.problems)
    return values, problems


def assign(record: models.Base, values: Mapping[str, Any]) -> set[str]:
    """Set the attributes; return the names of those whose value changed."""
    changed = set()
    for name, value in values.items():
        if getattr(record, name, None) != value:
            setattr(record, name, value)
            changed.add(name)
    return changed


def check_whole(problems: Problems, check: Callable[[], None]) -> None:
    """Run the whole-record check as well, so one answer lists every problem.

    Problems the check finds about fields that already failed to parse are dropped (they
    would repeat the parse error). With parse problems present, fields may be missing, so a
    check tripping over a missing value is ignored: the parse problems are the answer.
    """
    try:
        check()
    except ValidationError as error:
        reported = {p.field for p in problems.found}
        problems.found.extend(p for p in error.problems if p.field not in reported)
    except (TypeError, ValueError, AttributeError):
        if not problems.found:
            raise
    problems.raise_if_any()


def plain_fields(kind: str, fields: Callable[[Session], Mapping[str, Parser]],
                 check: Callable[[Session, Any], None]) -> Apply:
    """The ``apply`` of a record whose fields are all plain attributes: parse, assign, check."""

    def apply(session: Session, record: Any, data: Mapping[str, Any], creating: bool) -> set[str]:
        values, problems = parse(kind, fields(session), data, creating=creating)
        with session.no_autoflush:
            changed = assign(record, values)
            check_whole(problems, lambda: check(session, record))
        return changed

    return apply


def weekly(field: str, raw: Any, problems: Problems) -> list[tuple[int, Any, Any]] | None:
    """Weekly hours ({"MO": ["09:00", "17:00"], ...}) as rows, or None with the problems kept."""
    try:
        return parse_weekly_hours(field, raw)
    except ValidationError as error:
        problems.found.extend(error.problems)
        return None


def weekly_rows(rows: list[Any], start: str, end: str) -> list[tuple[int, Any, Any]]:
    return sorted((row.weekday, getattr(row, start), getattr(row, end)) for row in rows)
