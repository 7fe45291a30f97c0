"""Whole numbers from the query string, bounded at the edge: one parser for pages and API.

A number out of range is refused here, naming the parameter, before it reaches a query: a
20-digit id would otherwise overflow SQLite's 64-bit integers (PostgreSQL's ``integer``
columns hold 2**31 - 1) and answer 500. Only ASCII digits count: ``str.isdigit`` also accepts
"²", which ``int`` refuses.
"""

from __future__ import annotations

import re

from flask import abort, request

from scheduler.records.fields import MAX_ID  # the id columns are PostgreSQL ``integer``
from scheduler.records.validation import FieldProblem, ValidationError

_DIGITS = re.compile(r"[0-9]{1,19}")


def whole_number(name: str, raw: str, minimum: int, maximum: int) -> int:
    """``raw`` as a whole number in [minimum, maximum], or ValidationError naming ``name``."""
    if _DIGITS.fullmatch(raw) is None or not minimum <= int(raw) <= maximum:
        shown = raw if len(raw) <= 24 else raw[:24] + "…"
        raise ValidationError([FieldProblem(name, f"must be a whole number from {minimum} to "
                                                  f"{maximum}, got {shown!r}")])
    return int(raw)


def query_int(name: str, default: int, minimum: int, maximum: int) -> int:
    """The query parameter ``name`` (``default`` when absent), for the API: ValidationError
    (422) naming it when it is not a whole number in range."""
    raw = request.args.get(name)
    return default if raw is None else whole_number(name, raw, minimum, maximum)


def page_int(name: str, default: int, minimum: int, maximum: int) -> int:
    """The same for a page: a 422 error page naming the parameter (the value is not shown)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return whole_number(name, raw, minimum, maximum)
    except ValidationError:
        abort(422, description=f"The address's {name!r} must be a whole number from "
                               f"{minimum} to {maximum}.")


def id_or_none(raw: str | None) -> int | None:
    """``raw`` as a record id when it could name one (ASCII digits, 1 to MAX_ID), else None."""
    if raw is None or _DIGITS.fullmatch(raw) is None:
        return None
    number = int(raw)
    return number if 1 <= number <= MAX_ID else None


def page_id(raw: str | None) -> int:
    """A record id from a page's query string or form; 404 when it could name no record (a
    garbage or out-of-range id is simply not found)."""
    number = id_or_none(raw)
    if number is None:
        abort(404)
    return number
