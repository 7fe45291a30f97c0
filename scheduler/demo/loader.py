"""Load the Kansas City demo practice from its data file into the database.

The file (``kansas_city.json``) holds no dates: series start relative to an *anchor* Monday
(the Monday of the week the demo is loaded, unless one is given), so the demo always shows the
coming eight weeks. Practice closures are fixed holidays given as yearly rules (Thanksgiving,
Christmas Day): each one that falls in those eight weeks becomes a closed day, so they stay the
real holidays whatever the anchor. Every value goes through the same parsers and record checks
as what people type, so a mistake in the file is reported with its place in the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from scheduler import audit_chain, database_start, models, practice_meta
from scheduler.accounts.passwords import hash_password
from scheduler.calendar.expand import occurrence_dates, validate_rule
from scheduler.calendar.rules import RuleError
from scheduler.records import validation

DEMO_PASSWORD = "rounds-demo"
DEMO_WEEKS = 8
_META_DEMO = "demo_practice"
_META_ANCHOR = "demo_anchor"


class DemoRefused(RuntimeError):
    """The database holds a practice of its own; loading the demo would overwrite it."""


@dataclass(frozen=True)
class DemoSummary:
    anchor: date
    facilities: int
    therapists: int
    clients: int
    treatments: int
    series: int


def read_demo_file() -> dict[str, Any]:
    text = resources.files("scheduler.demo").joinpath("kansas_city.json").read_text("utf-8")
    return json.loads(text)


def anchor_monday(today: date) -> date:
    return today - timedelta(days=today.weekday())


def is_demo_database(session: Session) -> bool:
    return practice_meta.read(session, _META_DEMO) is not None


def demo_anchor(session: Session) -> date | None:
    value = practice_meta.read(session, _META_ANCHOR)
    return date.fromisoformat(value) if value else None


def has_practice_data(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(models.Therapist)))


def load_demo(session: Session, *, anchor: date, reset: bool = False,
              data: dict[str, Any] | None = None,
              started_at: datetime | None = None) -> DemoSummary:
    """Replace the database's practice with the demo one, anchored on ``anchor`` (a Monday).

    Refuses (DemoRefused) when the database holds a practice that is not the demo, unless
    ``reset``. Runs in the caller's transaction: if anything in the file is wrong, nothing is
    written. ``started_at`` (``rounds demo`` passes now) becomes the database's start moment
    (:mod:`scheduler.database_start`): the demo practice and its outbox begin then, so no
    e-mail from before is missed. Without it the database keeps the start moment it had.
    """
    if has_practice_data(session) and not is_demo_database(session) and not reset:
        raise DemoRefused(
            "this database holds a practice that is not the demo; "
            "use --reset to delete it and load the demo"
        )
    started_at = started_at or database_start.started_at(session)
    clear_practice(session)
    data = read_demo_file() if data is None else data
    builder = _Builder(session, anchor)
    summary = builder.load(data)
    practice_meta.write(session, _META_DEMO, "true")
    practice_meta.write(session, _META_ANCHOR, anchor.isoformat())
    if started_at is not None:
        database_start.record_start(session, started_at)
    session.flush()
    return summary


def clear_practice(session: Session) -> None:
    """Delete every row of every table, children first.

    The audit trail goes too (its rows name the therapists deleted here, and SQLite would
    give their ids to the new ones), through :func:`audit_chain.clear`, which records the cut
    as the new trail's first row.
    """
    audit_chain.clear(session, "demo")
    for table in reversed(models.Base.metadata.sorted_tables):
        if table is not models.AuditEvent.__table__:
            session.execute(delete(table))
    session.flush()
    session.expunge_all()  # the objects of the deleted rows must not be flushed again


class _Builder:
    """Turns the file's records into models, resolving the file's keys to rows."""

    def __init__(self, session: Session, anchor: date) -> None:
        self.session = session
        self.anchor = anchor
        self.facilities: dict[str, models.Facility] = {}
        self.therapists: dict[str, models.Therapist] = {}
        self.clients: dict[str, models.Client] = {}
        self.treatments: dict[str, models.Treatment] = {}
        self.series_count = 0

    def load(self, data: dict[str, Any]) -> DemoSummary:
        for index, raw in enumerate(data["facilities"]):
            self._facility(f"facilities[{index}]", raw)
        for index, raw in enumerate(data["therapists"]):
            self._therapist(f"therapists[{index}]", raw)
        self.session.flush()
        for index, raw in enumerate(data["clients"]):
            self._client(f"clients[{index}]", raw)
        self.session.flush()
        for index, raw in enumerate(data["series"]):
            self._series(f"series[{index}]", raw)
        for index, raw in enumerate(data.get("closures", [])):
            self._closures(f"closures[{index}]", raw)
        self.session.flush()
        return DemoSummary(self.anchor, len(self.facilities), len(self.therapists),
                           len(self.clients), len(self.treatments), self.series_count)

    def _facility(self, where: str, raw: dict[str, Any]) -> None:
        facility = models.Facility(
            name=raw["name"],
            kind=models.FacilityKind(raw["kind"]),
            address=raw["address"],
            lat=validation.parse_float(f"{where}.lat", raw["lat"], minimum=-90, maximum=90),
            lon=validation.parse_float(f"{where}.lon", raw["lon"], minimum=-180, maximum=180),
            coordinate_source=models.CoordinateSource.DEMO,
            overhead_minutes=validation.parse_int(f"{where}.overhead_minutes",
                                                  raw.get("overhead_minutes", 0), minimum=0),
            parking_notes=raw.get("parking_notes", ""),
            infection_control=raw.get("infection_control", ""),
            notes=raw.get("notes", ""),
            hours=[models.VisitingHours(weekday=day, open=start, close=end)
                   for day, start, end in validation.parse_weekly_hours(
                       f"{where}.hours", raw.get("hours", {}))],
        )
        self._check(where, validation.check_facility, facility)
        self.session.add(facility)
        self.facilities[raw["key"]] = facility

    def _therapist(self, where: str, raw: dict[str, Any]) -> None:
        pause = raw.get("break") or {}
        therapist = models.Therapist(
            name=raw["name"],
            email=raw["email"],
            role=models.Role(raw.get("role", "therapist")),
            password_hash=hash_password(DEMO_PASSWORD),
            home_address=raw.get("home_address", ""),
            home_lat=raw["home_lat"],
            home_lon=raw["home_lon"],
            skills=list(raw.get("skills", [])),
            break_start=validation.parse_time(f"{where}.break.start", pause["start"])
            if pause else None,
            break_end=validation.parse_time(f"{where}.break.end", pause["end"]) if pause else None,
            break_minutes=int(pause.get("minutes", 0)),
            max_visits_per_day=raw.get("max_visits_per_day"),
            max_hands_on_minutes=raw.get("max_hands_on_minutes"),
            email_time=validation.parse_time(f"{where}.email_time", raw["email_time"])
            if raw.get("email_time") else None,
            shifts=[models.Shift(weekday=day, start=start, end=end)
                    for day, start, end in validation.parse_weekly_hours(
                        f"{where}.shifts", raw.get("shifts", {}))],
        )
        self._check(where, validation.check_therapist, therapist)
        self.session.add(therapist)
        self.therapists[raw["key"]] = therapist

    def _client(self, where: str, raw: dict[str, Any]) -> None:
        primary = raw.get("primary_therapist")
        client = models.Client(
            first_name=raw["first_name"],
            last_name=raw["last_name"],
            facility=self._ref(f"{where}.facility", self.facilities, raw["facility"]),
            room=raw.get("room", ""),
            precaution_flags=list(raw.get("precaution_flags", [])),
            precaution_notes=raw.get("precaution_notes", ""),
            diagnosis=raw.get("diagnosis", ""),
            care_contact=raw.get("care_contact", ""),
            primary_therapist_id=self._ref(f"{where}.primary_therapist", self.therapists,
                                           primary).id if primary else None,
        )
        self._check(where, validation.check_client, client)
        self.session.add(client)
        self.clients[raw["key"]] = client
        for index, treatment_raw in enumerate(raw.get("treatments", [])):
            self._treatment(f"{where}.treatments[{index}]", client, treatment_raw)

    def _treatment(self, where: str, client: models.Client, raw: dict[str, Any]) -> None:
        elsewhere = raw.get("facility")
        treatment = models.Treatment(
            client=client,
            kind=raw["kind"],
            label=raw.get("label", ""),
            facility=self._ref(f"{where}.facility", self.facilities, elsewhere)
            if elsewhere else None,
            rule=raw["rule"],
            # Treatments are long-standing: they began before the demo's first week.
            first_date=self.anchor - timedelta(weeks=4),
            start_time=validation.parse_time(f"{where}.start_time", raw["start_time"]),
            duration_minutes=raw["duration_minutes"],
            buffer_before_minutes=raw.get("buffer_before_minutes", 0),
            buffer_after_minutes=raw.get("buffer_after_minutes", 0),
            policy=models.TreatmentPolicy(raw.get("policy", "avoid")),
        )
        self._check(where, validation.check_treatment, treatment)
        self.session.add(treatment)
        self.treatments[raw["key"]] = treatment

    def _series(self, where: str, raw: dict[str, Any]) -> None:
        first = self.anchor + timedelta(days=int(raw.get("starts_in_days", 0)))
        lasts = raw.get("lasts_days")
        therapist_key = raw.get("therapist")
        during_key = raw.get("during_treatment")
        series = models.AppointmentSeries(
            client=self._ref(f"{where}.client", self.clients, raw["client"]),
            therapist=self._ref(f"{where}.therapist", self.therapists, therapist_key)
            if therapist_key else None,
            required_skills=list(raw.get("required_skills", [])),
            rule=raw.get("rule"),
            first_date=first,
            last_date=first + timedelta(days=int(lasts) - 1) if lasts else None,
            duration_minutes=raw["duration_minutes"],
            preferred_windows=[list(pair) for pair in raw.get("preferred_windows", [])],
            priority=raw.get("priority", 50),
            during_treatment=self._ref(f"{where}.during_treatment", self.treatments, during_key)
            if during_key else None,
            notes=raw.get("notes", ""),
        )
        self._check(where, lambda s: validation.check_series(self.session, s), series)
        self.session.add(series)
        self.series_count += 1

    def _closures(self, where: str, raw: dict[str, Any]) -> None:
        """A holiday's days within the demo's weeks, as practice closures."""
        try:
            validate_rule(raw["rule"], self.anchor)
        except RuleError as error:
            raise validation.fail(f"{where}.rule", str(error)) from None
        last = self.anchor + timedelta(weeks=DEMO_WEEKS) - timedelta(days=1)
        for day in occurrence_dates(raw["rule"], self.anchor, (self.anchor, last)):
            entry = models.TimeOff(therapist_id=None, first_day=day, last_day=day,
                                   reason=raw["reason"])
            self._check(where, lambda e: validation.check_time_off(self.session, e), entry)
            self.session.add(entry)

    @staticmethod
    def _ref(where: str, table: dict[str, Any], key: str) -> Any:
        if key not in table:
            raise validation.fail(where, f"refers to unknown key {key!r}")
        return table[key]

    @staticmethod
    def _check(where: str, check: Any, record: Any) -> None:
        try:
            check(record)
        except validation.ValidationError as error:
            raise validation.ValidationError(
                validation.FieldProblem(f"{where}.{p.field}", p.message) for p in error.problems
            ) from None

