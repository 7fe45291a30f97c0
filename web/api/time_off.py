"""Endpoints for time off: a therapist's days away and the practice's closures.

The same rules as the time off pages (:mod:`web.pages.time_off`): a therapist sees and changes
their own entries and sees the closures, which every therapist needs to know about; an admin
sees and changes everything. Someone else's entry answers 404, as the rest of their record
does; a closure, which a therapist may see, answers 403 when a therapist tries to add or remove
one (admin-only writes answer 403 across the API). Parsing and checking the days and reason is
:mod:`scheduler.records.time_off`'s; only ``therapist_id``, which names the owner and so
decides who may write, is read here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, request

from scheduler.records import lists, parse_practice_date
from scheduler.records import time_off as time_off_records
from scheduler.records.validation import FieldProblem, Problems, ValidationError
from web import access
from web.api.base import (
    actor,
    api_blueprint,
    body,
    created,
    forbid_unless_admin,
    is_admin,
    no_content,
    paginated,
    user,
)
from web.database import db
from web.params import MAX_ID, query_int

bp = api_blueprint("api_time_off")


@bp.get("/time-off")
def list_time_off() -> Any:
    """Entries touching [from, to], first day first; ``therapist_id`` narrows them to the days
    that therapist does not work (their own entries and the closures)."""
    therapist_id, first, last = _filters()
    query = lists.time_off_query(user(), therapist_id=therapist_id, first=first, last=last)
    return paginated(query, time_off_records.as_data)


@bp.post("/time-off")
def create_time_off() -> Any:
    """Time off for ``therapist_id``, or a practice closure when it is null or absent."""
    data = body()
    fields = {name: value for name, value in data.items() if name != "therapist_id"}
    therapist_id = _owner(data.get("therapist_id"), fields)
    entry = time_off_records.add(db(), actor(), therapist_id, fields)
    return created(time_off_records.as_data(entry))


@bp.delete("/time-off/<id:time_off_id>")
def delete_time_off(time_off_id: int) -> Any:
    entry = access.found(lists.find_time_off(db(), time_off_id))
    if entry.therapist_id is None:
        forbid_unless_admin()
    else:
        access.therapist_or_404(db(), user(), entry.therapist_id)
    time_off_records.remove(db(), actor(), entry)
    return no_content()


# ---------------------------------------------------------------------------------------------


def _filters() -> tuple[int | None, date | None, date | None]:
    """The list's query parameters, every bad one named at once."""
    problems = Problems()
    therapist_id = problems.collect(lambda: query_int("therapist_id", 0, 1, MAX_ID)
                            if "therapist_id" in request.args else None)
    first = problems.collect(lambda: _query_date("from"))
    last = problems.collect(lambda: _query_date("to"))
    if first is not None and last is not None:
        problems.check(last >= first, "to", f"is before from ({first.isoformat()})")
    problems.raise_if_any()
    return therapist_id, first, last


def _query_date(name: str) -> date | None:
    raw = request.args.get(name)
    return None if raw is None else parse_practice_date(name, raw)



def _owner(raw: Any, fields: dict[str, Any]) -> int | None:
    """Whose time off the body asks for, once the caller may write it: a closure (None) is
    an admin's to add, a therapist adds only their own (anyone else's id answers 404)."""
    if raw is None:
        forbid_unless_admin()
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_ID:
        problem = FieldProblem("therapist_id", f"expected the id of a therapist or null, "
                                               f"got {raw!r}")
        raise ValidationError([problem, *time_off_records.problems_in(db(), fields)])
    if not is_admin() and raw != user().id:
        abort(404)
    return raw  # an admin's unknown id: scheduler.records.time_off says so, beside the other fields
