"""The fields of each kind of record, and the parsers that read them.

Each parser takes (field name, raw JSON value) and returns the typed value or raises
ValidationError naming the field. JSON types are checked strictly (a number is not text);
form text is turned into the same JSON shape by the web before it gets here. The API's
OpenAPI document is built from the same lists (required fields included).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, time
from typing import Any

from sqlalchemy.orm import Session

from scheduler import models
from scheduler.records import validation
from scheduler.records.validation import WEEKDAY_CODES

MAX_ID = 2**31 - 1  # ids beyond the integer columns' range name no record
# Dates a practice can mean. Outside, date arithmetic (the day before, a week later) would
# overflow Python's calendar, and nobody books visits for the year 1 or 9999.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


Parser = Callable[[str, Any], Any]


def _text(max_length: int, *, required: bool = False) -> Parser:
    def parse(field: str, raw: Any) -> str:
        if not isinstance(raw, str):
            raise validation.fail(field, f"expected text, got {describe_kind(raw)}")
        value = raw.strip()
        if "\x00" in value:
            raise validation.fail(field, "must not contain NUL characters")
        if required and not value:
            raise validation.fail(field, "is required")
        if len(value) > max_length:
            raise validation.fail(field, f"must be at most {max_length} characters")
        return value

    return parse


def _integer(minimum: int, maximum: int, *, nullable: bool = False) -> Parser:
    def parse(field: str, raw: Any) -> int | None:
        if raw is None and nullable:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise validation.fail(field, f"expected a whole number, got {describe_kind(raw)}")
        if isinstance(raw, str) and not raw.strip() and nullable:
            return None
        return validation.parse_int(field, raw, minimum=minimum, maximum=maximum)

    return parse


def _number(minimum: float, maximum: float) -> Parser:
    def parse(field: str, raw: Any) -> float | None:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise validation.fail(field, f"expected a number, got {describe_kind(raw)}")
        return validation.parse_float(field, raw, minimum=minimum, maximum=maximum)

    return parse


def _boolean(field: str, raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise validation.fail(field, f"expected true or false, got {describe_kind(raw)}")
    return raw


def _choice(enum_type: type[Any], members: tuple[Any, ...] | None = None) -> Parser:
    """One of an enum's values (of ``members`` only, when given)."""
    chosen: tuple[Any, ...] = members or tuple(enum_type.__members__.values())

    def parse(field: str, raw: Any) -> Any:
        try:
            value = enum_type(raw)
        except (ValueError, TypeError):
            value = None
        if value not in chosen:
            allowed = ", ".join(member.value for member in chosen)
            raise validation.fail(field, f"must be one of {allowed}, got {raw!r}")
        return value

    return parse


def _time(*, nullable: bool = False) -> Parser:
    def parse(field: str, raw: Any) -> time | None:
        if nullable and (raw is None or raw == ""):
            return None
        return validation.parse_time(field, raw)

    return parse


def _date(*, nullable: bool = False) -> Parser:
    def parse(field: str, raw: Any) -> date | None:
        if nullable and (raw is None or raw == ""):
            return None
        if not isinstance(raw, str):
            raise validation.fail(field,
                                  f"expected a date as YYYY-MM-DD, got {describe_kind(raw)}")
        return parse_practice_date(field, raw)

    return parse


def parse_practice_date(field: str, raw: Any) -> date:
    """A date as YYYY-MM-DD between FIRST_DAY and LAST_DAY."""
    value = validation.parse_date(field, raw)
    if not FIRST_DAY <= value <= LAST_DAY:
        raise validation.fail(field, f"must be between {FIRST_DAY} and {LAST_DAY}, got {value}")
    return value


_WORD = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def _words(field: str, raw: Any) -> list[str]:
    """A list of short lower-case words (skills, precaution flags), without repeats."""
    if not isinstance(raw, list):
        raise validation.fail(field, f"expected a list of words, got {describe_kind(raw)}")
    words: list[str] = []
    for item in raw:
        if not isinstance(item, str) or not _WORD.match(item.strip().lower()):
            raise validation.fail(
                field, f"{item!r} is not a word of letters, digits, '-' or '_' (at most 40)"
            )
        word = item.strip().lower()
        if word not in words:
            words.append(word)
    return words


def _weekday_codes(field: str, raw: Any) -> list[str]:
    if not isinstance(raw, list):
        raise validation.fail(field, f"expected a list of weekday codes, got {describe_kind(raw)}")
    codes = [validation.parse_weekday(field, item) for item in raw]
    return [WEEKDAY_CODES[day] for day in sorted(set(codes))]


def _windows(field: str, raw: Any) -> list[list[str]]:
    if not isinstance(raw, list):
        raise validation.fail(
            field, f"expected a list of [start, end] pairs, got {describe_kind(raw)}")
    pairs = [validation.parse_time_range(f"{field}[{i}]", pair) for i, pair in enumerate(raw)]
    return [[f"{start:%H:%M}", f"{end:%H:%M}"] for start, end in pairs]


def _rule(field: str, raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise validation.fail(field, f"expected an RFC 5545 rule as text, got {describe_kind(raw)}")
    value = raw.strip()
    if value.upper().startswith("RRULE:"):
        value = value[len("RRULE:"):]
    return value or None


def describe_kind(raw: Any) -> str:
    names = {bool: "true/false", int: "a number", float: "a number", str: "text",
             list: "a list", dict: "an object", type(None): "null"}
    return names.get(type(raw), type(raw).__name__)


def _reference(session: Session, model: type[models.Base], *, nullable: bool) -> Parser:
    def parse(field: str, raw: Any) -> int | None:
        if raw is None and nullable:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise validation.fail(field, f"expected the id of a record, got {describe_kind(raw)}")
        if not 1 <= raw <= MAX_ID or session.get(model, raw) is None:
            raise validation.fail(field, f"no such record: {raw}")
        return raw

    return parse


def facility_fields(session: Session) -> dict[str, Parser]:
    return {
        "name": _text(200, required=True),
        "kind": _choice(models.FacilityKind),
        "address": _text(255, required=True),
        "lat": _number(-90, 90),
        "lon": _number(-180, 180),
        "overhead_minutes": _integer(0, 240),
        "parking_notes": _text(4000),
        "infection_control": _text(4000),
        "notes": _text(4000),
    }


def therapist_fields(session: Session) -> dict[str, Parser]:
    return {
        "name": _text(120, required=True),
        "email": _text(254, required=True),
        "role": _choice(models.Role),
        "active": _boolean,
        "home_address": _text(255),
        "home_lat": _number(-90, 90),
        "home_lon": _number(-180, 180),
        "skills": _words,
        "break_start": _time(nullable=True),
        "break_end": _time(nullable=True),
        "break_minutes": _integer(0, 240),
        "max_visits_per_day": _integer(1, 50, nullable=True),
        "max_hands_on_minutes": _integer(1, 24 * 60, nullable=True),
        "email_time": _time(nullable=True),
        "email_weekdays": _weekday_codes,
    }


def client_fields(session: Session) -> dict[str, Parser]:
    return {
        "first_name": _text(80, required=True),
        "last_name": _text(80, required=True),
        "facility_id": _reference(session, models.Facility, nullable=False),
        "room": _text(40),
        "active": _boolean,
        "precaution_flags": _words,
        "precaution_notes": _text(4000),
        "diagnosis": _text(4000),
        "care_contact": _text(255),
        "primary_therapist_id": _reference(session, models.Therapist, nullable=True),
    }


def treatment_fields(session: Session) -> dict[str, Parser]:
    return {
        "kind": _text(40, required=True),
        "label": _text(120),
        "facility_id": _reference(session, models.Facility, nullable=True),
        "rule": _rule,
        "first_date": _date(),
        "last_date": _date(nullable=True),
        "start_time": _time(),
        "duration_minutes": _integer(1, 24 * 60),
        "buffer_before_minutes": _integer(0, 24 * 60),
        "buffer_after_minutes": _integer(0, 24 * 60),
        "policy": _choice(models.TreatmentPolicy),
    }


def series_fields(session: Session) -> dict[str, Parser]:
    return {
        "client_id": _reference(session, models.Client, nullable=False),
        "therapist_id": _reference(session, models.Therapist, nullable=True),
        "required_skills": _words,
        "rule": _rule,
        "first_date": _date(),
        "last_date": _date(nullable=True),
        "duration_minutes": _integer(1, 24 * 60),
        "preferred_windows": _windows,
        "priority": _integer(0, 100),
        "during_treatment_id": _reference(session, models.Treatment, nullable=True),
        "notes": _text(4000),
        "active": _boolean,
    }


def exception_fields(session: Session) -> dict[str, Parser]:
    return {
        "original_date": _date(),
        "action": _choice(models.ExceptionAction),
        "new_date": _date(nullable=True),
        "new_start_time": _time(nullable=True),
        "new_duration_minutes": _integer(1, 24 * 60, nullable=True),
        "reason": _text(255),
    }


def treatment_exception_fields(session: Session) -> dict[str, Parser]:
    """One occurrence of a treatment cancelled or moved (a new length is a move that keeps
    the date and start, so there is no "resize")."""
    return {
        "original_date": _date(),
        "action": _choice(models.ExceptionAction,
                          (models.ExceptionAction.CANCEL, models.ExceptionAction.MOVE)),
        "new_date": _date(nullable=True),
        "new_start_time": _time(nullable=True),
        "new_duration_minutes": _integer(1, 24 * 60, nullable=True),
        "reason": _text(255),
    }


# Fields a new record must be given (others take the model's default).
REQUIRED = {
    "facility": ("name", "kind", "address"),
    "therapist": ("name", "email", "home_lat", "home_lon"),
    "client": ("first_name", "last_name", "facility_id"),
    "treatment": ("kind", "rule", "first_date", "start_time", "duration_minutes"),
    "series": ("client_id", "first_date", "duration_minutes"),
    "exception": ("original_date", "action"),
    "treatment_exception": ("original_date", "action"),
}


# Fields beyond the plain attributes: weekly hours, and a therapist's password.
EXTRA_FIELDS = {"facility": ("hours",), "therapist": ("shifts", "password")}
