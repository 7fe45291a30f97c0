"""Creating, changing and deleting the practice's records, for the web pages, the API and tools.

Every change goes the same way: the raw input (JSON values, or form text turned into the same
shape) is parsed field by field, every problem is collected with its field name, the record is
assembled and checked as a whole by :mod:`scheduler.validation`, and only then is it added to
the session together with an audit row naming the fields that changed (never their values).

Nothing here commits. Each change runs inside a SAVEPOINT: when it is rejected
(:class:`~scheduler.validation.ValidationError`, :class:`InUse`) the session is left exactly as
it was before the call, so what was saved before stays as it was whatever the caller does next.

The input shapes (one per record kind) are the API's; :data:`FIELDS` lists each kind's fields.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from datetime import date, time
from typing import Any, TypeVar

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from scheduler import audit, models, validation
from scheduler.audit import Actor
from scheduler.passwords import hash_password
from scheduler.validation import WEEKDAY_CODES, FieldProblem, Problems, ValidationError

PASSWORD_MIN = 10
MAX_ID = 2**31 - 1  # ids beyond the integer columns' range name no record
# Dates a practice can mean. Outside, date arithmetic (the day before, a week later) would
# overflow Python's calendar, and nobody books visits for the year 1 or 9999.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
PASSWORD_MAX = 128

Record = TypeVar("Record", bound=models.Base)
Change = TypeVar("Change", bound=Callable[..., Any])
Parser = Callable[[str, Any], Any]


class InUse(ValueError):
    """The record cannot be deleted because others refer to it; the message says what to do."""


def _all_or_nothing(change: Change) -> Change:
    """Run a change in a SAVEPOINT, so a rejected change leaves no trace in the session."""

    @functools.wraps(change)
    def run(session: Session, *args: Any, **kwargs: Any) -> Any:
        with session.begin_nested():
            return change(session, *args, **kwargs)

    return run  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------
# Field parsers: each takes (field name, raw JSON value) and returns the typed value or raises
# ValidationError naming the field. JSON types are checked strictly (a number is not text).


def _text(max_length: int, *, required: bool = False) -> Parser:
    def parse(field: str, raw: Any) -> str:
        if not isinstance(raw, str):
            raise validation.fail(field, f"expected text, got {_kind(raw)}")
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
            raise validation.fail(field, f"expected a whole number, got {_kind(raw)}")
        if isinstance(raw, str) and not raw.strip() and nullable:
            return None
        return validation.parse_int(field, raw, minimum=minimum, maximum=maximum)

    return parse


def _number(minimum: float, maximum: float) -> Parser:
    def parse(field: str, raw: Any) -> float | None:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise validation.fail(field, f"expected a number, got {_kind(raw)}")
        return validation.parse_float(field, raw, minimum=minimum, maximum=maximum)

    return parse


def _boolean(field: str, raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise validation.fail(field, f"expected true or false, got {_kind(raw)}")
    return raw


def _choice(enum_type: type[Any]) -> Parser:
    def parse(field: str, raw: Any) -> Any:
        try:
            return enum_type(raw)
        except (ValueError, TypeError):
            allowed = ", ".join(member.value for member in enum_type)
            raise validation.fail(field, f"must be one of {allowed}, got {raw!r}") from None

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
            raise validation.fail(field, f"expected a date as YYYY-MM-DD, got {_kind(raw)}")
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
        raise validation.fail(field, f"expected a list of words, got {_kind(raw)}")
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
        raise validation.fail(field, f"expected a list of weekday codes, got {_kind(raw)}")
    codes = [validation.parse_weekday(field, item) for item in raw]
    return [WEEKDAY_CODES[day] for day in sorted(set(codes))]


def _windows(field: str, raw: Any) -> list[list[str]]:
    if not isinstance(raw, list):
        raise validation.fail(field, f"expected a list of [start, end] pairs, got {_kind(raw)}")
    pairs = [validation.parse_time_range(f"{field}[{i}]", pair) for i, pair in enumerate(raw)]
    return [[f"{start:%H:%M}", f"{end:%H:%M}"] for start, end in pairs]


def _rule(field: str, raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise validation.fail(field, f"expected an RFC 5545 rule as text, got {_kind(raw)}")
    value = raw.strip()
    if value.upper().startswith("RRULE:"):
        value = value[len("RRULE:"):]
    return value or None


def _kind(raw: Any) -> str:
    names = {bool: "true/false", int: "a number", float: "a number", str: "text",
             list: "a list", dict: "an object", type(None): "null"}
    return names.get(type(raw), type(raw).__name__)


def _reference(session: Session, model: type[models.Base], *, nullable: bool) -> Parser:
    def parse(field: str, raw: Any) -> int | None:
        if raw is None and nullable:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise validation.fail(field, f"expected the id of a record, got {_kind(raw)}")
        if not 1 <= raw <= MAX_ID or session.get(model, raw) is None:
            raise validation.fail(field, f"no such record: {raw}")
        return raw

    return parse


# ---------------------------------------------------------------------------------------------
# The fields of each kind of record


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


# Fields a new record must be given (others take the model's default).
REQUIRED = {
    "facility": ("name", "kind", "address"),
    "therapist": ("name", "email", "home_lat", "home_lon"),
    "client": ("first_name", "last_name", "facility_id"),
    "treatment": ("kind", "rule", "first_date", "start_time", "duration_minutes"),
    "series": ("client_id", "first_date", "duration_minutes"),
    "exception": ("original_date", "action"),
}
# Fields beyond the plain attributes: weekly hours, and a therapist's password.
EXTRA_FIELDS = {"facility": ("hours",), "therapist": ("shifts", "password")}


# ---------------------------------------------------------------------------------------------
# Parsing a whole input


def _parse(
    kind: str,
    spec: Mapping[str, Parser],
    data: Mapping[str, Any],
    *,
    creating: bool,
    extra: tuple[str, ...] = (),
) -> tuple[dict[str, Any], Problems]:
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
    for name, parse in spec.items():
        if name not in data or any(p.field == name for p in problems.found):
            continue
        try:
            values[name] = parse(name, data[name])
        except ValidationError as error:
            problems.found.extend(error.problems)
    return values, problems


def _assign(record: models.Base, values: Mapping[str, Any]) -> set[str]:
    """Set the attributes; return the names of those whose value changed."""
    changed = set()
    for name, value in values.items():
        if getattr(record, name, None) != value:
            setattr(record, name, value)
            changed.add(name)
    return changed


def _check_whole(problems: Problems, check: Callable[[], None]) -> None:
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


def _weekly(field: str, raw: Any, problems: Problems) -> list[tuple[int, time, time]] | None:
    try:
        return validation.parse_weekly_hours(field, raw)
    except ValidationError as error:
        problems.found.extend(error.problems)
        return None


# ---------------------------------------------------------------------------------------------
# Facilities


@_all_or_nothing
def create_facility(session: Session, actor: Actor, data: Mapping[str, Any]) -> models.Facility:
    facility = models.Facility(overhead_minutes=0, parking_notes="", infection_control="",
                               notes="", hours=[])
    changed = _update_facility(session, facility, data, creating=True)
    session.add(facility)
    session.flush()
    audit.record(session, actor, "create", "facility", facility.id, changed)
    return facility


@_all_or_nothing
def update_facility(session: Session, actor: Actor, facility: models.Facility,
                    data: Mapping[str, Any]) -> models.Facility:
    changed = _update_facility(session, facility, data, creating=False)
    session.flush()
    if changed:
        audit.record(session, actor, "update", "facility", facility.id, changed)
    return facility


def _update_facility(session: Session, facility: models.Facility, data: Mapping[str, Any],
                     *, creating: bool) -> set[str]:
    values, problems = _parse("facility", facility_fields(session), data, creating=creating,
                              extra=EXTRA_FIELDS["facility"])
    hours = _weekly("hours", data["hours"], problems) if "hours" in data else None
    with session.no_autoflush:
        changed = _assign(facility, values)
        if {"lat", "lon"} & changed:
            # Coordinates typed by a person win over any geocoder answer from now on.
            facility.coordinate_source = (
                models.CoordinateSource.MANUAL if facility.lat is not None else None
            )
        if hours is not None and _weekly_rows(facility.hours, "open", "close") != hours:
            facility.hours = [models.VisitingHours(weekday=d, open=o, close=c)
                              for d, o, c in hours]
            changed.add("hours")
        _check_whole(problems, lambda: validation.check_facility(facility))
    return changed


@_all_or_nothing
def set_facility_coordinates(session: Session, actor: Actor, facility: models.Facility,
                             lat: float, lon: float, source: models.CoordinateSource) -> None:
    """Store coordinates found by the geocoder (or typed), checked like any other edit."""
    facility.lat, facility.lon, facility.coordinate_source = lat, lon, source
    validation.check_facility(facility)
    audit.record(session, actor, "update", "facility", facility.id,
                 ("lat", "lon", "coordinate_source"))


@_all_or_nothing
def delete_facility(session: Session, actor: Actor, facility: models.Facility) -> None:
    in_use = session.scalar(select(
        exists().where(models.Client.facility_id == facility.id)
        | exists().where(models.Treatment.facility_id == facility.id)
        | exists().where(models.PlanStop.facility_id == facility.id)
    ))
    if in_use:
        raise InUse("clients, treatments or day plans refer to this facility; "
                    "move them to another facility first")
    audit.record(session, actor, "delete", "facility", facility.id)
    session.delete(facility)
    session.flush()


def _weekly_rows(rows: list[Any], start: str, end: str) -> list[tuple[int, time, time]]:
    return sorted((row.weekday, getattr(row, start), getattr(row, end)) for row in rows)


# ---------------------------------------------------------------------------------------------
# Therapists (who are also the app's users)


@_all_or_nothing
def create_therapist(session: Session, actor: Actor, data: Mapping[str, Any]) -> models.Therapist:
    therapist = models.Therapist(role=models.Role.THERAPIST, active=True, session_version=1,
                                 home_address="", skills=[], break_minutes=0,
                                 email_weekdays=[], shifts=[])
    changed = _update_therapist(session, therapist, data, creating=True)
    session.add(therapist)
    session.flush()
    audit.record(session, actor, "create", "therapist", therapist.id, changed)
    return therapist


@_all_or_nothing
def update_therapist(session: Session, actor: Actor, therapist: models.Therapist,
                     data: Mapping[str, Any]) -> models.Therapist:
    changed = _update_therapist(session, therapist, data, creating=False)
    session.flush()
    if changed:
        audit.record(session, actor, "update", "therapist", therapist.id, changed)
    return therapist


def _update_therapist(session: Session, therapist: models.Therapist, data: Mapping[str, Any],
                      *, creating: bool) -> set[str]:
    values, problems = _parse("therapist", therapist_fields(session), data, creating=creating,
                              extra=EXTRA_FIELDS["therapist"])
    shifts = _weekly("shifts", data["shifts"], problems) if "shifts" in data else None
    password = _password_problems(data["password"], problems) if "password" in data else None
    if "email" in values:
        values["email"] = values["email"].lower()
        taken = session.scalar(select(models.Therapist.id).where(
            func.lower(models.Therapist.email) == values["email"],
            models.Therapist.id != (therapist.id or -1)))
        problems.check(taken is None, "email", "another user has this e-mail address")
    was = (therapist.role, therapist.active)
    with session.no_autoflush:
        changed = _assign(therapist, values)
        if shifts is not None and _weekly_rows(therapist.shifts, "start", "end") != shifts:
            therapist.shifts = [models.Shift(weekday=d, start=s, end=e) for d, s, e in shifts]
            changed.add("shifts")
        if password is not None and not problems.found:
            therapist.password_hash = hash_password(password)
            changed.add("password")
        _check_whole(problems, lambda: validation.check_therapist(therapist))
        if not creating:
            _keep_an_admin(session, therapist)
    if not creating and ("password" in changed or (therapist.role, therapist.active) != was):
        end_sessions(therapist)
    return changed


def _password_problems(raw: Any, problems: Problems) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        problems.add("password", f"expected text, got {_kind(raw)}")
        return None
    if not PASSWORD_MIN <= len(raw) <= PASSWORD_MAX:
        problems.add("password",
                     f"must be {PASSWORD_MIN} to {PASSWORD_MAX} characters long")
        return None
    return raw


def _keep_an_admin(session: Session, therapist: models.Therapist) -> None:
    """The practice must keep one active admin, or nobody could manage it any more."""
    if therapist.role == models.Role.ADMIN and therapist.active:
        return
    others = session.scalar(select(func.count()).select_from(models.Therapist).where(
        models.Therapist.role == models.Role.ADMIN, models.Therapist.active.is_(True),
        models.Therapist.id != therapist.id))
    if not others:
        field = "active" if not therapist.active else "role"
        raise validation.fail(field, "the practice needs at least one active admin")


def end_sessions(therapist: models.Therapist) -> None:
    """Make every session cookie issued to this user stop working (they carry the version)."""
    therapist.session_version = (therapist.session_version or 1) + 1


@_all_or_nothing
def change_password(session: Session, actor: Actor, therapist: models.Therapist,
                    new_password: str) -> None:
    problems = Problems()
    password = _password_problems(new_password, problems)
    problems.raise_if_any()
    assert password is not None
    therapist.password_hash = hash_password(password)
    end_sessions(therapist)
    audit.record(session, actor, "update", "therapist", therapist.id, ("password",))


@_all_or_nothing
def delete_therapist(session: Session, actor: Actor, therapist: models.Therapist) -> None:
    in_use = session.scalar(select(
        exists().where(models.AppointmentSeries.therapist_id == therapist.id)
        | exists().where(models.DayPlan.therapist_id == therapist.id)
        | exists().where(models.Client.primary_therapist_id == therapist.id)
        | exists().where(models.OutboxMessage.therapist_id == therapist.id)
        | exists().where(models.AuditEvent.actor_id == therapist.id)
    ))
    if in_use:
        raise InUse("series, day plans, clients or the audit log refer to this therapist; "
                    "deactivate the account instead")
    therapist.active = False
    _keep_an_admin(session, therapist)
    audit.record(session, actor, "delete", "therapist", therapist.id)
    session.delete(therapist)
    session.flush()


# ---------------------------------------------------------------------------------------------
# Clients and their treatments (patient records)


@_all_or_nothing
def create_client(session: Session, actor: Actor, data: Mapping[str, Any]) -> models.Client:
    client = models.Client(room="", active=True, precaution_flags=[], precaution_notes="",
                           diagnosis="", care_contact="")
    changed = _update_simple("client", session, client, client_fields(session), data,
                             creating=True, check=lambda: validation.check_client(client))
    session.add(client)
    session.flush()
    audit.record(session, actor, "create", "client", client.id, changed)
    return client


@_all_or_nothing
def update_client(session: Session, actor: Actor, client: models.Client,
                  data: Mapping[str, Any]) -> models.Client:
    changed = _update_simple("client", session, client, client_fields(session), data,
                             creating=False, check=lambda: validation.check_client(client))
    session.flush()
    if changed:
        audit.record(session, actor, "update", "client", client.id, changed)
    return client


@_all_or_nothing
def delete_client(session: Session, actor: Actor, client: models.Client) -> None:
    in_use = session.scalar(select(
        exists().where(models.AppointmentSeries.client_id == client.id)
        | exists().where(models.PlanStop.client_id == client.id)
    ))
    if in_use:
        raise InUse("visits or day plans refer to this client; mark the client inactive instead")
    audit.record(session, actor, "delete", "client", client.id)
    session.delete(client)
    session.flush()


@_all_or_nothing
def create_treatment(session: Session, actor: Actor, client: models.Client,
                     data: Mapping[str, Any]) -> models.Treatment:
    treatment = models.Treatment(client=client, label="", buffer_before_minutes=0,
                                 buffer_after_minutes=0, policy=models.TreatmentPolicy.AVOID)
    try:
        changed = _update_simple("treatment", session, treatment, treatment_fields(session),
                                 data, creating=True,
                                 check=lambda: validation.check_treatment(treatment))
    except ValidationError:
        client.treatments.remove(treatment)  # the back-reference added it; take it out again
        raise
    session.add(treatment)
    session.flush()
    audit.record(session, actor, "create", "treatment", treatment.id, changed,
                 context=f"client {client.id}")
    return treatment


@_all_or_nothing
def update_treatment(session: Session, actor: Actor, treatment: models.Treatment,
                     data: Mapping[str, Any]) -> models.Treatment:
    changed = _update_simple("treatment", session, treatment, treatment_fields(session), data,
                             creating=False,
                             check=lambda: validation.check_treatment(treatment))
    session.flush()
    if changed:
        audit.record(session, actor, "update", "treatment", treatment.id, changed,
                     context=f"client {treatment.client_id}")
    return treatment


@_all_or_nothing
def delete_treatment(session: Session, actor: Actor, treatment: models.Treatment) -> None:
    if session.scalar(select(exists().where(
            models.AppointmentSeries.during_treatment_id == treatment.id))):
        raise InUse("a visit series takes place during this treatment; change that series first")
    audit.record(session, actor, "delete", "treatment", treatment.id,
                 context=f"client {treatment.client_id}")
    session.delete(treatment)
    session.flush()


# ---------------------------------------------------------------------------------------------
# Appointment series and their exceptions


@_all_or_nothing
def create_series(session: Session, actor: Actor,
                  data: Mapping[str, Any]) -> models.AppointmentSeries:
    series = models.AppointmentSeries(required_skills=[], preferred_windows=[], priority=50,
                                      notes="", active=True)
    changed = _update_simple("series", session, series, series_fields(session), data,
                             creating=True, check=lambda: validation.check_series(session, series))
    session.add(series)
    session.flush()
    audit.record(session, actor, "create", "series", series.id, changed,
                 context=f"client {series.client_id}")
    return series


@_all_or_nothing
def update_series(session: Session, actor: Actor, series: models.AppointmentSeries,
                  data: Mapping[str, Any]) -> models.AppointmentSeries:
    changed = _update_simple("series", session, series, series_fields(session), data,
                             creating=False,
                             check=lambda: validation.check_series(session, series))
    session.flush()
    if changed:
        audit.record(session, actor, "update", "series", series.id, changed,
                     context=f"client {series.client_id}")
    return series


@_all_or_nothing
def delete_series(session: Session, actor: Actor, series: models.AppointmentSeries) -> None:
    if session.scalar(select(exists().where(models.PlanStop.series_id == series.id))):
        raise InUse("day plans include visits of this series; give it a last date or mark it "
                    "inactive instead")
    audit.record(session, actor, "delete", "series", series.id,
                 context=f"client {series.client_id}")
    session.delete(series)
    session.flush()


@_all_or_nothing
def create_exception(session: Session, actor: Actor, series: models.AppointmentSeries,
                     data: Mapping[str, Any]) -> models.SeriesException:
    exception = models.SeriesException(reason="")
    values, problems = _parse("exception", exception_fields(session), data, creating=True)
    if "original_date" in values and any(
            e.original_date == values["original_date"] for e in series.exceptions):
        problems.add("original_date", "this occurrence already has a change; edit that one")
    problems.raise_if_any()
    with session.no_autoflush:
        changed = _assign(exception, values)
        series.exceptions.append(exception)
        try:
            validation.check_exception(series, exception)
        except ValidationError:
            series.exceptions.remove(exception)
            raise
    session.flush()
    audit.record(session, actor, "create", "exception", exception.id, changed,
                 context=f"series {series.id}")
    return exception


@_all_or_nothing
def update_exception(session: Session, actor: Actor, exception: models.SeriesException,
                     data: Mapping[str, Any]) -> models.SeriesException:
    values, problems = _parse("exception", exception_fields(session), data, creating=False)
    series = exception.series
    if "original_date" in values and any(
            e.original_date == values["original_date"] and e is not exception
            for e in series.exceptions):
        problems.add("original_date", "this occurrence already has a change; edit that one")
    problems.raise_if_any()
    with session.no_autoflush:
        changed = _assign(exception, values)
        validation.check_exception(series, exception)
    session.flush()
    if changed:
        audit.record(session, actor, "update", "exception", exception.id, changed,
                     context=f"series {series.id}")
    return exception


@_all_or_nothing
def delete_exception(session: Session, actor: Actor, exception: models.SeriesException) -> None:
    audit.record(session, actor, "delete", "exception", exception.id,
                 context=f"series {exception.series_id}")
    exception.series.exceptions.remove(exception)
    session.flush()


@_all_or_nothing
def cancel_occurrence(session: Session, actor: Actor, series: models.AppointmentSeries,
                      day: date, reason: str = "") -> models.SeriesException:
    """Cancel one occurrence, replacing any earlier change to it (a move, a new length)."""
    existing = next((e for e in series.exceptions if e.original_date == day), None)
    data = {"original_date": day.isoformat(), "action": "cancel", "new_date": None,
            "new_start_time": None, "new_duration_minutes": None, "reason": reason}
    if existing is not None:
        return update_exception(session, actor, existing, data)
    return create_exception(session, actor, series, data)


# ---------------------------------------------------------------------------------------------
# Shared


def _update_simple(kind: str, session: Session, record: Any, spec: Mapping[str, Parser],
                   data: Mapping[str, Any], *, creating: bool,
                   check: Callable[[], None]) -> set[str]:
    """Parse, assign and check a record whose fields are all plain attributes."""
    values, problems = _parse(kind, spec, data, creating=creating)
    with session.no_autoflush:
        changed = _assign(record, values)
        _check_whole(problems, check)
    return changed


def visible_client_filter(therapist_id: int) -> Any:
    """SQL condition: the client is this therapist's (primary, booked with, or on their plans).

    A therapist sees their own clients only; this one definition serves pages, API and feeds.
    The inner tables are aliased so the condition also works inside queries that select
    series or stops themselves (only the client is correlated with the outer query).
    """
    client = models.Client
    series = aliased(models.AppointmentSeries)
    stop = aliased(models.PlanStop)
    plan = aliased(models.DayPlan)
    return or_(
        client.primary_therapist_id == therapist_id,
        exists(select(series.id).where(series.client_id == client.id,
                                       series.therapist_id == therapist_id)),
        exists(select(stop.id).join(plan, plan.id == stop.plan_id).where(
            stop.client_id == client.id, plan.therapist_id == therapist_id)),
    )


__all__ = [
    "Actor", "FieldProblem", "InUse", "ValidationError", "cancel_occurrence", "change_password",
    "create_client", "create_exception", "create_facility", "create_series", "create_therapist",
    "create_treatment", "delete_client", "delete_exception", "delete_facility", "delete_series",
    "delete_therapist", "delete_treatment", "end_sessions", "set_facility_coordinates",
    "update_client", "update_exception", "update_facility", "update_series", "update_therapist",
    "update_treatment", "visible_client_filter",
]
