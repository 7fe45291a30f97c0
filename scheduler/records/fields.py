"""The fields of each kind of record: one schema per resource, read by pages and API alike.

Each field is a :class:`Field`: a parser that takes (field name, raw JSON value) and returns
the typed value or raises ValidationError naming the field, and the JSON schema of what that
parser accepts. JSON types are checked strictly (a number is not text); form text is turned
into the same JSON shape by the web before it gets here. The API's OpenAPI document takes its
input schemas from these fields (:func:`input_schemas`), so the document and the parsing
cannot drift apart.

Why by hand rather than pydantic or WTForms: the messages must name the field and the problem
in words a receptionist understands ("must be at most 80 characters", "no such record: 12"),
the same for a form and a JSON body, and a reference must be looked up in the database; each
parser is a few lines, and the schema sits beside the rule it describes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, time
from typing import Any, cast

from sqlalchemy.orm import Session

from scheduler import models
from scheduler.records import validation
from scheduler.records.precautions import FLAGS
from scheduler.records.validation import WEEKDAY_CODES

MAX_ID = 2**31 - 1  # ids beyond the integer columns' range name no record
# Dates a practice can mean. Outside, date arithmetic (the day before, a week later) would
# overflow Python's calendar, and nobody books visits for the year 1 or 9999.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


# JSON schema fragments (OpenAPI 3.0) for the values the parsers accept.
HHMM = {"type": "string", "pattern": r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$", "example": "09:30"}
DATE = {"type": "string", "format": "date", "example": "2026-03-09",
        # The years 2000-2099 exactly (FIRST_DAY to LAST_DAY): a string has no minimum.
        "pattern": r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
        "description": f"YYYY-MM-DD, from {FIRST_DAY} to {LAST_DAY}"}
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
WORD_LIST = {"type": "array",
             "items": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,39}$"}}
TIME_RANGE = {"type": "array", "items": HHMM, "minItems": 2, "maxItems": 2}
WEEKLY = {"type": "object", "additionalProperties": False,
          "properties": {code: TIME_RANGE for code in WEEKDAY_CODES},
          "description": "Weekday code -> [start, end]; a missing day is closed / not worked."}


# Python's str.strip and re's \s take \x1c-\x1f and \x85 for spaces, JSON Schema's (ECMA)
# \s does not: the schemas name them, so that what they allow the parsers take.
_SPACE = r"\s\x1c-\x1f\x85"
EMAIL = rf"^[^@\x00{_SPACE}]+@[^@\x00{_SPACE}]+$"  # what records.validation checks it by
EMAIL_TIME = {**HHMM, "pattern": r"^(0?[3-9]|1[0-9]|2[0-3]):[0-5][0-9]$",
              "description": "03:00 or later: the clocks change between 02:00 and 03:00"}


def nullable(schema: Mapping[str, Any], is_nullable: bool = True) -> dict[str, Any]:
    return {**schema, "nullable": True} if is_nullable else dict(schema)


@dataclass(frozen=True)
class Field:
    """A field's parser, and the JSON schema of what it accepts."""

    parse: Callable[[str, Any], Any]
    schema: Mapping[str, Any]

    def __call__(self, field: str, raw: Any) -> Any:
        return self.parse(field, raw)


Parser = Field


def _with(field: Field, **schema: Any) -> Field:
    """``field`` with more said in its schema (the rule itself is checked elsewhere)."""
    return Field(field.parse, {**field.schema, **schema})


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

    # What the parser takes, as a schema: no NUL; when required, something besides spaces.
    pattern = rf"^[^\x00]*[^\x00{_SPACE}][^\x00]*$" if required else r"^[^\x00]*$"
    return Field(parse, {"type": "string", "maxLength": max_length, "pattern": pattern})


def _integer(minimum: int, maximum: int, *, is_nullable: bool = False) -> Parser:
    def parse(field: str, raw: Any) -> int | None:
        if raw is None and is_nullable:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise validation.fail(field, f"expected a whole number, got {describe_kind(raw)}")
        if isinstance(raw, str) and not raw.strip() and is_nullable:
            return None
        return validation.parse_int(field, raw, minimum=minimum, maximum=maximum)

    return Field(parse, nullable({"type": "integer", "minimum": minimum, "maximum": maximum},
                                 is_nullable))


def _number(minimum: float, maximum: float) -> Parser:
    def parse(field: str, raw: Any) -> float | None:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise validation.fail(field, f"expected a number, got {describe_kind(raw)}")
        return validation.parse_float(field, raw, minimum=minimum, maximum=maximum)

    return Field(parse, nullable({"type": "number", "minimum": minimum, "maximum": maximum}))


def _parse_boolean(field: str, raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise validation.fail(field, f"expected true or false, got {describe_kind(raw)}")
    return raw


_boolean = Field(_parse_boolean, {"type": "boolean"})


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

    return Field(parse, {"type": "string", "enum": [member.value for member in chosen]})


def _time(*, is_nullable: bool = False) -> Parser:
    def parse(field: str, raw: Any) -> time | None:
        if is_nullable and (raw is None or raw == ""):
            return None
        return validation.parse_time(field, raw)

    return Field(parse, nullable(HHMM, is_nullable))


def _date(*, is_nullable: bool = False) -> Parser:
    def parse(field: str, raw: Any) -> date | None:
        if is_nullable and (raw is None or raw == ""):
            return None
        if not isinstance(raw, str):
            raise validation.fail(field,
                                  f"expected a date as YYYY-MM-DD, got {describe_kind(raw)}")
        return parse_practice_date(field, raw)

    return Field(parse, nullable(DATE, is_nullable))


def parse_practice_date(field: str, raw: Any) -> date:
    """A date as YYYY-MM-DD between FIRST_DAY and LAST_DAY."""
    if isinstance(raw, str) and not _ISO_DAY.fullmatch(raw.strip()):
        # date.fromisoformat takes "20260309" and "2026-W11-1" too; the document says
        # YYYY-MM-DD only.
        raise validation.fail(field, f"expected a date as YYYY-MM-DD, got {raw[:40]!r}")
    value = validation.parse_date(field, raw)
    if not FIRST_DAY <= value <= LAST_DAY:
        raise validation.fail(field, f"must be between {FIRST_DAY} and {LAST_DAY}, got {value}")
    return value


_WORD = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def _parse_words(field: str, raw: Any) -> list[str]:
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


_words = Field(_parse_words, WORD_LIST)


def _parse_weekday_codes(field: str, raw: Any) -> list[str]:
    if not isinstance(raw, list):
        raise validation.fail(field, f"expected a list of weekday codes, got {describe_kind(raw)}")
    codes = [validation.parse_weekday(field, item) for item in raw]
    return [WEEKDAY_CODES[day] for day in sorted(set(codes))]


_weekday_codes = Field(_parse_weekday_codes,
                       {"type": "array", "items": {"type": "string", "enum": list(WEEKDAY_CODES)}})


def _parse_windows(field: str, raw: Any) -> list[list[str]]:
    if not isinstance(raw, list):
        raise validation.fail(
            field, f"expected a list of [start, end] pairs, got {describe_kind(raw)}")
    pairs = [validation.parse_time_range(f"{field}[{i}]", pair) for i, pair in enumerate(raw)]
    return [[f"{start:%H:%M}", f"{end:%H:%M}"] for start, end in pairs]


_windows = Field(_parse_windows, {"type": "array", "items": TIME_RANGE})


def _parse_rule(field: str, raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise validation.fail(field, f"expected an RFC 5545 rule as text, got {describe_kind(raw)}")
    value = raw.strip()
    if value.upper().startswith("RRULE:"):
        value = value[len("RRULE:"):]
    return value or None


_rule = Field(_parse_rule, {"type": "string", "maxLength": 255, "nullable": True,
                            "example": "FREQ=WEEKLY;BYDAY=MO,WE,FR",
                            "description": "RFC 5545 RRULE (null: a one-off visit, for series)"})


def describe_kind(raw: Any) -> str:
    names = {bool: "true/false", int: "a number", float: "a number", str: "text",
             list: "a list", dict: "an object", type(None): "null"}
    return names.get(type(raw), type(raw).__name__)


def _reference(session: Session, model: type[models.Base], *, is_nullable: bool) -> Parser:
    def parse(field: str, raw: Any) -> int | None:
        if raw is None and is_nullable:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise validation.fail(field, f"expected the id of a record, got {describe_kind(raw)}")
        if not 1 <= raw <= MAX_ID or session.get(model, raw) is None:
            raise validation.fail(field, f"no such record: {raw}")
        return raw

    return Field(parse, nullable(ID, is_nullable))


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
        "email": _with(_text(254, required=True), pattern=EMAIL),
        "role": _choice(models.Role),
        "active": _boolean,
        "home_address": _text(255),
        "home_lat": _with(_number(-90, 90), nullable=False),  # required: where the day starts
        "home_lon": _with(_number(-180, 180), nullable=False),
        "skills": _words,
        "break_start": _time(is_nullable=True),
        "break_end": _time(is_nullable=True),
        "break_minutes": _integer(0, 240),
        "max_visits_per_day": _integer(1, 50, is_nullable=True),
        "max_hands_on_minutes": _integer(1, 24 * 60, is_nullable=True),
        "email_time": _with(_time(is_nullable=True), **EMAIL_TIME),
        "email_weekdays": _weekday_codes,
    }


def client_fields(session: Session) -> dict[str, Parser]:
    return {
        "first_name": _text(80, required=True),
        "last_name": _text(80, required=True),
        "facility_id": _reference(session, models.Facility, is_nullable=False),
        "room": _text(40),
        "active": _boolean,
        "precaution_flags": _with(_words, items={"type": "string", "enum": sorted(FLAGS)}),
        "precaution_notes": _text(4000),
        "diagnosis": _text(4000),
        "care_contact": _text(255),
        "primary_therapist_id": _reference(session, models.Therapist, is_nullable=True),
    }


def treatment_fields(session: Session) -> dict[str, Parser]:
    return {
        "kind": _text(40, required=True),
        "label": _text(120),
        "facility_id": _reference(session, models.Facility, is_nullable=True),
        "rule": _with(_rule, nullable=False, description="RFC 5545 RRULE: a treatment recurs"),
        "first_date": _date(),
        "last_date": _date(is_nullable=True),
        "start_time": _time(),
        "duration_minutes": _integer(1, 24 * 60),
        "buffer_before_minutes": _integer(0, 24 * 60),
        "buffer_after_minutes": _integer(0, 24 * 60),
        "policy": _choice(models.TreatmentPolicy),
    }


def series_fields(session: Session) -> dict[str, Parser]:
    return {
        "client_id": _reference(session, models.Client, is_nullable=False),
        "therapist_id": _reference(session, models.Therapist, is_nullable=True),
        "required_skills": _words,
        "rule": _rule,
        "first_date": _date(),
        "last_date": _date(is_nullable=True),
        "duration_minutes": _integer(1, 24 * 60),
        "preferred_windows": _windows,
        "priority": _integer(0, 100),
        "during_treatment_id": _reference(session, models.Treatment, is_nullable=True),
        "notes": _text(4000),
        "active": _boolean,
    }


def exception_fields(session: Session) -> dict[str, Parser]:
    return {
        "original_date": _date(),
        "action": _choice(models.ExceptionAction),
        "new_date": _date(is_nullable=True),
        "new_start_time": _time(is_nullable=True),
        "new_duration_minutes": _integer(1, 24 * 60, is_nullable=True),
        "reason": _text(255),
    }


def treatment_exception_fields(session: Session) -> dict[str, Parser]:
    """One occurrence of a treatment cancelled or moved (a new length is a move that keeps
    the date and start, so there is no "resize")."""
    return {
        "original_date": _date(),
        "action": _choice(models.ExceptionAction,
                          (models.ExceptionAction.CANCEL, models.ExceptionAction.MOVE)),
        "new_date": _date(is_nullable=True),
        "new_start_time": _time(is_nullable=True),
        "new_duration_minutes": _integer(1, 24 * 60, is_nullable=True),
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


SPECS: dict[str, Callable[[Session], dict[str, Parser]]] = {
    "facility": facility_fields, "therapist": therapist_fields, "client": client_fields,
    "treatment": treatment_fields, "series": series_fields, "exception": exception_fields,
    "treatment_exception": treatment_exception_fields,
}
EXTRA_SCHEMAS: dict[str, dict[str, Mapping[str, Any]]] = {
    "facility": {"hours": WEEKLY}, "therapist": {"shifts": WEEKLY},
}
"""The schemas of the weekly fields (parsed by :func:`scheduler.records.change.weekly`)."""


def input_schemas(kind: str) -> dict[str, Mapping[str, Any]]:
    """Field name -> JSON schema of what a new or changed ``kind`` record may be given (the
    password of a therapist aside), for the API's document."""
    # Only the schemas are read: no parser runs, so none needs a database session.
    fields = SPECS[kind](cast(Session, None))
    return {**{name: field.schema for name, field in fields.items()},
            **EXTRA_SCHEMAS.get(kind, {})}
