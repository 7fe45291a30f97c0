"""Searching the audit trail (the admin's audit page): by record, user, action and days."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from scheduler.audit import ACTIONS
from scheduler.models import AuditEvent, Therapist
from scheduler.records.fields import MAX_ID
from scheduler.records.validation import Problems, parse_date

QUERY_FIELDS = ("entity", "id", "user", "action", "from", "to")
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)


@dataclass(frozen=True)
class Search:
    """What the admin's audit page narrows the trail to; empty fields narrow nothing.
    ``first``/``last`` are local days (both included)."""

    entity: str = ""
    entity_id: int | None = None
    actor_id: int | None = None
    action: str = ""
    first: date | None = None
    last: date | None = None


def parse_search(args: Mapping[str, str]) -> Search:
    """The search asked for in a query string (``entity``, ``id``, ``user``, ``action``,
    ``from``, ``to``; blanks ignored), or a ValidationError naming each bad field."""
    problems = Problems()

    def given(name: str) -> str:
        return (args.get(name) or "").strip()

    def an_id(name: str) -> int | None:
        raw = given(name)
        if not raw:
            return None
        # named, not echoed: what was typed into the address bar is not repeated on the page
        if not problems.check(raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_ID,
                              name, f"must be a record id, a whole number from 1 to {MAX_ID}"):
            return None
        return int(raw)

    def a_day(name: str) -> date | None:
        raw = given(name)
        day = problems.collect(lambda: parse_date(name, raw)) if raw else None
        if day is not None and not problems.check(
                EARLIEST <= day <= LATEST, name, f"must be from {EARLIEST} to {LATEST}"):
            return None  # far days would overflow the times they become
        return day

    entity, action = given("entity"), given("action")
    problems.check(len(entity) <= 40, "entity", "must be at most 40 characters")
    problems.check(not action or action in ACTIONS, "action",
                   f"must be one of {', '.join(ACTIONS)}")
    search = Search(entity=entity[:40], entity_id=an_id("id"), actor_id=an_id("user"),
                    action=action, first=a_day("from"), last=a_day("to"))
    if search.first and search.last:
        problems.check(search.first <= search.last, "to", "must not be before 'from'")
    problems.raise_if_any()
    return search


def _conditions(search: Search, zone: ZoneInfo) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if search.entity:
        conditions.append(AuditEvent.entity == search.entity)
    if search.entity_id is not None:
        conditions.append(AuditEvent.entity_id == search.entity_id)
    if search.actor_id is not None:
        conditions.append(AuditEvent.actor_id == search.actor_id)
    if search.action:
        conditions.append(AuditEvent.action == search.action)
    if search.first is not None:
        conditions.append(AuditEvent.at >= datetime.combine(search.first, time(), zone))
    if search.last is not None:
        conditions.append(
            AuditEvent.at < datetime.combine(search.last + timedelta(days=1), time(), zone))
    return conditions


def searched(session: Session, search: Search, zone: ZoneInfo, page: int,
             per_page: int) -> tuple[list[tuple[AuditEvent, str | None]], int]:
    """One page of the trail, newest first, each row with its actor's name (None for a
    process), and how many rows match in all."""
    conditions = _conditions(search, zone)
    total = session.scalar(select(func.count(AuditEvent.id)).where(*conditions)) or 0
    query = select(AuditEvent, Therapist.name).outerjoin(
        Therapist, Therapist.id == AuditEvent.actor_id).where(*conditions)
    rows = session.execute(query.order_by(AuditEvent.id.desc()).limit(per_page)
                           .offset((page - 1) * per_page)).all()
    return [(row[0], row[1]) for row in rows], total

