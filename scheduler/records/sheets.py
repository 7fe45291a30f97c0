"""The columns of the spreadsheets a practice imports and exports, one list per kind of record.

A column turns a cell's text into the value the record's field parser takes (the same JSON
shape a form is turned into, so :mod:`.fields` and :mod:`.validation` judge it as they judge
a form), and a saved record back into text. References are by the natural keys a spreadsheet
holds, not ids: a facility by its name, a therapist by e-mail, a client by first name, last
name and facility name together (three columns), the treatment a visit takes place during by
its kind among the client's treatments. Precaution flags and skills are words
separated by spaces or commas; preferred windows read "09:00-11:00, 14:00-16:00"; visiting
hours "MO 08:00-20:00; TU 08:00-20:00"; rules are RFC 5545 RRULE text.

Exported cells that a spreadsheet would take for a formula (starting with = + - @, a tab or
a carriage return) get a leading apostrophe (OWASP's advice on CSV injection); a plain number
such as -94.58 is left alone, since it cannot be a formula. Import takes such an apostrophe
off again, so an exported file imports as it was.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from scheduler import models
from scheduler.records.validation import WEEKDAY_CODES, ValidationError, fail

Row = Mapping[str, str]


@dataclass(frozen=True)
class Column:
    """One column: its header, the record field it fills (None: part of another column's
    key), whether a new record needs it, an example cell, and how to read and write it."""

    name: str
    field: str | None
    read: Callable[[Session, Row, str], Any]
    write: Callable[[Any], str]
    required: bool = False
    example: str = ""


# ---------------------------------------------------------------------------------------------
# Cells to values


def _as_text(session: Session, row: Row, name: str) -> Any:
    return row.get(name, "")


def _as_words(session: Session, row: Row, name: str) -> Any:
    return [part for part in re.split(r"[,\s]+", row.get(name, "")) if part]


def _as_yes_no(session: Session, row: Row, name: str) -> Any:
    value = row.get(name, "").strip().lower()
    if value in ("yes", "y", "true", "1"):
        return True
    if value in ("no", "n", "false", "0"):
        return False
    raise fail(name, f"expected yes or no, got {value[:40]!r}")


def _as_windows(session: Session, row: Row, name: str) -> Any:
    pairs = []
    for part in re.split(r"[,;]", row.get(name, "")):
        if part.strip():
            start, _, end = part.strip().partition("-")
            pairs.append([start.strip(), end.strip()])
    return pairs


def _as_hours(session: Session, row: Row, name: str) -> Any:
    hours: dict[str, list[str]] = {}
    for part in row.get(name, "").split(";"):
        if not part.strip():
            continue
        found = re.fullmatch(r"\s*([A-Za-z]{2})\s+([0-9:]+)\s*-\s*([0-9:]+)\s*", part)
        if found is None:
            raise fail(name, f"expected a day and hours such as 'MO 09:00-17:00', "
                             f"got {part.strip()[:40]!r}")
        hours[found[1].upper()] = [found[2], found[3]]
    return hours


def _one(session: Session, model: Any, condition: Any, name: str, what: str) -> int:
    ids = session.scalars(select(model.id).where(condition).limit(2)).all()
    if not ids:
        raise fail(name, f"no {what}")
    if len(ids) > 1:
        raise fail(name, f"more than one {what}; rename one of them first")
    return ids[0]


def _facility_id(session: Session, text: str, name: str) -> int:
    key = text.strip()
    return _one(session, models.Facility, func.lower(models.Facility.name) == key.lower(), name,
                f"facility is named {key[:80]!r}")


def _as_facility(session: Session, row: Row, name: str) -> Any:
    return _facility_id(session, row.get(name, ""), name)


def _as_therapist(session: Session, row: Row, name: str) -> Any:
    key = row.get(name, "").strip()
    return _one(session, models.Therapist, func.lower(models.Therapist.email) == key.lower(),
                name, f"therapist has the e-mail {key[:80]!r}")


def _as_client(session: Session, row: Row, name: str) -> Any:
    """The client named by the three key columns (problems are named at the last name)."""
    first = row.get("client first name", "").strip()
    last = row.get("client last name", "").strip()
    place = row.get("client facility", "").strip()
    if not (first and last and place):
        raise fail(name, "give the client's first name, last name and facility")
    facility_id = _facility_id(session, place, "client facility")
    return _one(session, models.Client,
                (models.Client.facility_id == facility_id)
                & (func.lower(models.Client.first_name) == first.lower())
                & (func.lower(models.Client.last_name) == last.lower()),
                name, f"client is named {first[:1]}. {last[:1]}. at that facility")


def _as_during(session: Session, row: Row, name: str) -> Any:
    """The client's treatment of that kind ("dialysis"): a visit during it (chairside)."""
    key = row.get(name, "").strip()
    try:
        client_id = _as_client(session, row, name)
    except ValidationError as error:
        raise fail(name, "names a treatment of the client, and the client is not found") from error
    return _one(session, models.Treatment,
                (models.Treatment.client_id == client_id)
                & (func.lower(models.Treatment.kind) == key.lower()),
                name, f"treatment of the client is of the kind {key[:40]!r}")


def _during_kind(record: Any) -> str:
    return record.during_treatment.kind if record.during_treatment is not None else ""


def _key_part(session: Session, row: Row, name: str) -> Any:
    return None  # read with the column that names the client


# ---------------------------------------------------------------------------------------------
# Values to cells


def _text(name: str) -> Callable[[Any], str]:
    def write(record: Any) -> str:
        value = getattr(record, name)
        if value is None:
            return ""
        if isinstance(value, bool):
            return "yes" if value else "no"
        if hasattr(value, "value"):  # an enum
            return str(value.value)
        if hasattr(value, "isoformat") and hasattr(value, "hour"):  # a time
            return f"{value:%H:%M}"
        if hasattr(value, "isoformat"):
            return str(value.isoformat())
        return str(value)

    return write


def _words(name: str) -> Callable[[Any], str]:
    return lambda record: " ".join(getattr(record, name) or [])


def _windows(record: Any) -> str:
    return ", ".join("-".join(pair) for pair in record.preferred_windows or [])


def _hours(record: Any) -> str:
    return "; ".join(f"{WEEKDAY_CODES[h.weekday]} {h.open:%H:%M}-{h.close:%H:%M}"
                     for h in sorted(record.hours, key=lambda h: h.weekday))


def _facility_name(attribute: str) -> Callable[[Any], str]:
    def write(record: Any) -> str:
        facility = getattr(record, attribute)
        return facility.name if facility is not None else ""

    return write


def _therapist_email(attribute: str) -> Callable[[Any], str]:
    def write(record: Any) -> str:
        therapist_id = getattr(record, attribute)
        session = object_session(record)
        therapist = (session.get(models.Therapist, therapist_id)
                     if therapist_id is not None and session is not None else None)
        return therapist.email if therapist is not None else ""

    return write


def _client_part(part: str) -> Callable[[Any], str]:
    def write(record: Any) -> str:
        client = record.client
        return client.facility.name if part == "facility" else getattr(client, part)

    return write


def _plain(name: str, *, required: bool = False, example: str = "",
           read: Callable[[Session, Row, str], Any] = _as_text) -> Column:
    return Column(name, name, read, _text(name), required, example)


_CLIENT_KEY = (
    Column("client_first_name", None, _key_part, _client_part("first_name"), True, "Ada"),
    Column("client_last_name", "client_id", _as_client, _client_part("last_name"), True,
           "Lovelace"),
    Column("client_facility", None, _key_part, _client_part("facility"), True,
           "Saint Luke's Hospital"),
)

COLUMNS: dict[str, tuple[Column, ...]] = {
    "facility": (
        _plain("name", required=True, example="Saint Luke's Hospital"),
        _plain("kind", required=True, example="hospital"),
        _plain("address", required=True, example="4401 Wornall Rd, Kansas City, MO 64111"),
        _plain("lat", example="39.0469"),
        _plain("lon", example="-94.5894"),
        _plain("overhead_minutes", example="10"),
        Column("hours", "hours", _as_hours, _hours, example="MO 08:00-20:00; TU 08:00-20:00"),
        _plain("parking_notes", example="Visitor garage, level 2"),
        _plain("infection_control"),
        _plain("notes"),
    ),
    "client": (
        _plain("first_name", required=True, example="Ada"),
        _plain("last_name", required=True, example="Lovelace"),
        Column("facility", "facility_id", _as_facility, _facility_name("facility"), True,
               "Saint Luke's Hospital"),
        _plain("room", example="412B"),
        _plain("active", read=_as_yes_no, example="yes"),
        Column("precaution_flags", "precaution_flags", _as_words, _words("precaution_flags"),
               example="low_platelets light_pressure"),
        _plain("precaution_notes"),
        _plain("diagnosis"),
        _plain("care_contact"),
        Column("primary_therapist", "primary_therapist_id", _as_therapist,
               _therapist_email("primary_therapist_id"), example="therapist@example.org"),
    ),
    "treatment": (
        *_CLIENT_KEY,
        _plain("kind", required=True, example="dialysis"),
        _plain("label", example="Dialysis, chair 4"),
        Column("facility", "facility_id", _as_facility, _facility_name("facility"),
               example="Saint Luke's Hospital"),
        _plain("rule", required=True, example="FREQ=WEEKLY;BYDAY=MO,WE,FR"),
        _plain("first_date", required=True, example="2026-03-02"),
        _plain("last_date"),
        _plain("start_time", required=True, example="07:00"),
        _plain("duration_minutes", required=True, example="240"),
        _plain("buffer_before_minutes", example="30"),
        _plain("buffer_after_minutes", example="60"),
        _plain("policy", example="avoid"),
    ),
    "series": (
        *_CLIENT_KEY,
        Column("therapist", "therapist_id", _as_therapist, _therapist_email("therapist_id"),
               example="therapist@example.org"),
        Column("required_skills", "required_skills", _as_words, _words("required_skills")),
        _plain("rule", example="FREQ=WEEKLY;BYDAY=TU,TH"),
        _plain("first_date", required=True, example="2026-03-03"),
        _plain("last_date"),
        _plain("duration_minutes", required=True, example="45"),
        Column("preferred_windows", "preferred_windows", _as_windows, _windows,
               example="09:00-11:00, 14:00-16:00"),
        _plain("priority", example="50"),
        Column("during_treatment", "during_treatment_id", _as_during, _during_kind),
        _plain("notes"),
        _plain("active", read=_as_yes_no, example="yes"),
    ),
}
"""Each kind's columns, in the order the template and the export write them. A header is
the field's name in words ("client last name"); an import takes "client_last_name" too."""

COLUMNS = {kind: tuple(dataclasses.replace(c, name=c.name.replace("_", " ")) for c in columns)
           for kind, columns in COLUMNS.items()}


def header_name(cell: str) -> str:
    """A header cell as a column's name: "Client_Last_Name " -> "client last name"."""
    return " ".join(cell.replace("_", " ").split()).lower()

KINDS = {"facility": "facilities", "client": "clients", "treatment": "treatments",
         "series": "visit series"}
"""The kinds a spreadsheet holds, and their names in words."""


def column_of(kind: str, field: str) -> str:
    """The column a field's problem belongs to ("preferred_windows[0]" -> its column)."""
    root = re.split(r"[.\[]", field, maxsplit=1)[0]
    for column in COLUMNS[kind]:
        if root in (column.field, column.name):
            return column.name
    return root


_FORMULA = re.compile(r"^[=+\-@\t\r]")
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def guard(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    if _FORMULA.match(cell) and not _NUMBER.match(cell):
        return "'" + cell
    return cell


def unguard(cell: str) -> str:
    """A cell as it was before :func:`guard`."""
    if cell.startswith("'") and _FORMULA.match(cell[1:]):
        return cell[1:]
    return cell
