"""The records a practice keeps, as SQLAlchemy 2.0 typed models.

Conventions:
- Local times of day (visiting hours, shifts, treatment start times) are ``Time`` columns and
  mean wall-clock time in the practice's zone; recurring rules are wall-clock too.
- Instants (when something happened, a planned arrival) are aware datetimes stored in UTC by
  :class:`UTCDateTime`; naive datetimes are refused rather than guessed.
- Weekdays are 0 = Monday ... 6 = Sunday, as ``date.weekday()``.
- Enumerations are stored by their value (readable in the database, stable across renames of
  the Python names).
- A "series" with no rule is a one-off appointment on its first date: one table, one code path
  for the calendar, instead of two tables that must be kept alike.

Validation of what users type lives in :mod:`scheduler.records.validation`; these classes
only hold. One module of some 600 lines on purpose: the whole schema read in one place, as
Alembic's migrations see it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Time,
    TypeDecorator,
    Unicode,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from scheduler import audit_guard


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime, stored as UTC; read back as an aware UTC datetime on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite keeps no offset
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        enum.Enum: Enum(
            enum.Enum,
            native_enum=False,
            values_callable=lambda members: [m.value for m in members],
            length=32,
            validate_strings=True,
        ),
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
        list[list[str]]: JSON(),
    }


def version_column() -> Mapped[int]:
    """The edit version of a record a person edits (see :mod:`scheduler.records.versions`).

    It starts at 1 and grows by one with each save that changes the record (or a row edited
    inside its form: shifts, visiting hours). It is also the mapper's ``version_id_col``
    (with ``version_id_generator=False``: :mod:`scheduler.records.change` sets it), so an
    UPDATE carries ``WHERE version = <the version read>`` and two saves racing from the same
    version cannot both land: the later raises ``StaleDataError`` instead of overwriting.
    """
    return mapped_column(Integer, default=1, server_default="1")


VERSIONED = {"version_id_generator": False}


class Role(enum.StrEnum):
    ADMIN = "admin"
    THERAPIST = "therapist"


class FacilityKind(enum.StrEnum):
    HOSPITAL = "hospital"
    NURSING_HOME = "nursing_home"
    DIALYSIS = "dialysis"
    CANCER_CENTER = "cancer_center"
    ASSISTED_LIVING = "assisted_living"
    HOSPICE = "hospice"
    PRIVATE_HOME = "private_home"


class CoordinateSource(enum.StrEnum):
    MANUAL = "manual"  # typed by a person: always wins over geocoding
    GEOCODED = "geocoded"
    DEMO = "demo"


class TreatmentPolicy(enum.StrEnum):
    AVOID = "avoid"  # no visit may overlap the treatment or its buffers
    DURING = "during"  # a visit that asks for it must lie inside the treatment


class ExceptionAction(enum.StrEnum):
    CANCEL = "cancel"
    MOVE = "move"  # another date and/or a fixed start time
    RESIZE = "resize"  # another length


class PlanStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"


class StopState(enum.StrEnum):
    PLANNED = "planned"
    ARRIVED = "arrived"  # the therapist is there: the visit is in progress
    DONE = "done"
    SKIPPED = "skipped"


TO_MAKE = (StopState.PLANNED, StopState.ARRIVED)
"""The states of a visit still to be made: planned, or arrived at and not yet begun."""


class OutboxState(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    MISSED = "missed"  # the worker was down past the cut-off; nothing stale was sent
    REVIEW = "review"  # a crash mid-send left it unclear whether the message went out


# ---------------------------------------------------------------------------------------------
# People and places


class Therapist(Base):
    """A therapist, who is also a user of the app."""

    __tablename__ = "therapists"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = version_column()
    __mapper_args__ = {**VERSIONED, "version_id_col": version}
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    role: Mapped[Role] = mapped_column(default=Role.THERAPIST)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Bumped on logout-everywhere, password change and deactivation: sessions carry it, so a
    # copied cookie stops working the moment it changes.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Two-factor sign-in (TOTP, RFC 6238; see scheduler.accounts.totp). The shared secret is
    # kept in clear: the server must compute codes from it, and a database thief has the
    # records themselves anyway. Set while enrolling, in use once totp_enabled; the last
    # time step accepted, so that a code seen over a shoulder cannot be used a second time.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    home_address: Mapped[str] = mapped_column(String(255), default="")
    home_lat: Mapped[float] = mapped_column(Float)
    home_lon: Mapped[float] = mapped_column(Float)
    skills: Mapped[list[str]] = mapped_column(default=list)
    break_start: Mapped[time | None] = mapped_column(Time)  # lunch may start from ...
    break_end: Mapped[time | None] = mapped_column(Time)  # ... and must end by
    break_minutes: Mapped[int] = mapped_column(Integer, default=0)
    max_visits_per_day: Mapped[int | None] = mapped_column(Integer)
    max_hands_on_minutes: Mapped[int | None] = mapped_column(Integer)
    email_time: Mapped[time | None] = mapped_column(Time)  # None: the practice default
    email_weekdays: Mapped[list[str]] = mapped_column(default=list)  # ["MO", ...]; [] = shift days

    shifts: Mapped[list[Shift]] = relationship(
        back_populates="therapist", cascade="all, delete-orphan", order_by="Shift.weekday"
    )


class Shift(Base):
    """A therapist's working hours on one weekday (several rows allow a split shift)."""

    __tablename__ = "shifts"
    __table_args__ = (CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapists.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)

    therapist: Mapped[Therapist] = relationship(back_populates="shifts")


class Facility(Base):
    __tablename__ = "facilities"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = version_column()
    __mapper_args__ = {**VERSIONED, "version_id_col": version}
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[FacilityKind]
    address: Mapped[str] = mapped_column(String(255))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    coordinate_source: Mapped[CoordinateSource | None]
    # Parking, badge and check-in, paid once when arriving from another place.
    overhead_minutes: Mapped[int] = mapped_column(Integer, default=0)
    parking_notes: Mapped[str] = mapped_column(Text, default="")
    infection_control: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")

    hours: Mapped[list[VisitingHours]] = relationship(
        back_populates="facility", cascade="all, delete-orphan", order_by="VisitingHours.weekday"
    )
    clients: Mapped[list[Client]] = relationship(back_populates="facility")


class VisitingHours(Base):
    """When visitors are let in on one weekday. A weekday with no row is closed to visits."""

    __tablename__ = "visiting_hours"
    __table_args__ = (CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)
    open: Mapped[time] = mapped_column(Time)
    close: Mapped[time] = mapped_column(Time)

    facility: Mapped[Facility] = relationship(back_populates="hours")


class Client(Base):
    """A patient. Names, diagnosis and notes are patient data: never in logs, URLs or subjects."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = version_column()
    __mapper_args__ = {**VERSIONED, "version_id_col": version}
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"))
    room: Mapped[str] = mapped_column(String(40), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Structured flags (see scheduler.precautions) and free text for the rest.
    precaution_flags: Mapped[list[str]] = mapped_column(default=list)
    precaution_notes: Mapped[str] = mapped_column(Text, default="")
    diagnosis: Mapped[str] = mapped_column(Text, default="")
    care_contact: Mapped[str] = mapped_column(String(255), default="")
    primary_therapist_id: Mapped[int | None] = mapped_column(ForeignKey("therapists.id"))

    facility: Mapped[Facility] = relationship(back_populates="clients")
    treatments: Mapped[list[Treatment]] = relationship(
        back_populates="client", cascade="all, delete-orphan"
    )

    @property
    def initials(self) -> str:
        return f"{self.first_name[:1]}{self.last_name[:1]}".upper()


class Treatment(Base):
    """A client's recurring treatment, e.g. dialysis MO/WE/FR 06:00 for 240 minutes."""

    __tablename__ = "treatments"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = version_column()
    __mapper_args__ = {**VERSIONED, "version_id_col": version}
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))  # dialysis, radiation, chemotherapy, ...
    label: Mapped[str] = mapped_column(String(120), default="")
    # Where it happens, when not at the client's own facility (radiation across town).
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facilities.id"))
    rule: Mapped[str] = mapped_column(String(255))  # RFC 5545 RRULE, without DTSTART
    first_date: Mapped[date] = mapped_column(Date)
    last_date: Mapped[date | None] = mapped_column(Date)  # the course ends (None: it goes on)
    start_time: Mapped[time] = mapped_column(Time)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    buffer_before_minutes: Mapped[int] = mapped_column(Integer, default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(Integer, default=0)
    policy: Mapped[TreatmentPolicy] = mapped_column(default=TreatmentPolicy.AVOID)

    client: Mapped[Client] = relationship(back_populates="treatments")
    facility: Mapped[Facility | None] = relationship()
    exceptions: Mapped[list[TreatmentException]] = relationship(
        back_populates="treatment", cascade="all, delete-orphan",
        order_by="TreatmentException.original_date")


class TreatmentException(Base):
    """One occurrence of a treatment cancelled, or moved (another date, start or length):
    the chair time moved from 06:00-10:00 to 08:00-12:00 for one day."""

    __tablename__ = "treatment_exceptions"
    __table_args__ = (UniqueConstraint("treatment_id", "original_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = version_column()
    __mapper_args__ = {**VERSIONED, "version_id_col": version}
    treatment_id: Mapped[int] = mapped_column(ForeignKey("treatments.id", ondelete="CASCADE"))
    original_date: Mapped[date] = mapped_column(Date)  # the date the rule gave
    action: Mapped[ExceptionAction]  # cancel or move (resize is a move to the same date)
    new_date: Mapped[date | None] = mapped_column(Date)
    new_start_time: Mapped[time | None] = mapped_column(Time)
    new_duration_minutes: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(255), default="")

    treatment: Mapped[Treatment] = relationship(back_populates="exceptions")


class AppointmentSeries(Base):
    """Recurring visits to one client; with no rule, a single (one-off) appointment."""

    __tablename__ = "appointment_series"
    __table_args__ = (CheckConstraint("priority BETWEEN 0 AND 100", name="priority"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = version_column()
    __mapper_args__ = {**VERSIONED, "version_id_col": version}
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    # A fixed therapist, or None: any therapist with every skill in required_skills.
    therapist_id: Mapped[int | None] = mapped_column(ForeignKey("therapists.id"))
    required_skills: Mapped[list[str]] = mapped_column(default=list)
    rule: Mapped[str | None] = mapped_column(String(255))  # RFC 5545 RRULE; None = one-off
    first_date: Mapped[date] = mapped_column(Date)
    last_date: Mapped[date | None] = mapped_column(Date)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    # Local [["HH:MM", "HH:MM"], ...] the visit should lie within; [] = any time allowed.
    preferred_windows: Mapped[list[list[str]]] = mapped_column(default=list)
    priority: Mapped[int] = mapped_column(Integer, default=50)
    # The visit must lie inside this treatment (chair-side during dialysis).
    during_treatment_id: Mapped[int | None] = mapped_column(ForeignKey("treatments.id"))
    notes: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    client: Mapped[Client] = relationship()
    therapist: Mapped[Therapist | None] = relationship()
    during_treatment: Mapped[Treatment | None] = relationship()
    exceptions: Mapped[list[SeriesException]] = relationship(
        back_populates="series", cascade="all, delete-orphan"
    )


class SeriesException(Base):
    """A change to one occurrence of a series: cancelled, moved, or of another length."""

    __tablename__ = "series_exceptions"
    __table_args__ = (UniqueConstraint("series_id", "original_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = version_column()
    __mapper_args__ = {**VERSIONED, "version_id_col": version}
    series_id: Mapped[int] = mapped_column(
        ForeignKey("appointment_series.id", ondelete="CASCADE")
    )
    original_date: Mapped[date] = mapped_column(Date)
    action: Mapped[ExceptionAction]
    new_date: Mapped[date | None] = mapped_column(Date)
    new_start_time: Mapped[time | None] = mapped_column(Time)  # a fixed start for that day
    new_duration_minutes: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(255), default="")

    series: Mapped[AppointmentSeries] = relationship(back_populates="exceptions")


class TimeOff(Base):
    """Days a therapist is away (vacation, sick, a conference), or, with no therapist, days the
    whole practice is closed (Thanksgiving). Wall-clock days in the practice's zone, both
    included. ``reason`` is a short word for the team ("Vacation"), never patient data.

    The calendar gives nobody working time on those days (see :mod:`scheduler.calendar`).
    """

    __tablename__ = "time_off"
    __table_args__ = (CheckConstraint("last_day >= first_day", name="days_in_order"),
                      Index("ix_time_off_days", "first_day", "last_day"))

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: the whole practice is closed.
    therapist_id: Mapped[int | None] = mapped_column(
        ForeignKey("therapists.id", ondelete="CASCADE"), index=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(80), default="")

    therapist: Mapped[Therapist | None] = relationship()


# ---------------------------------------------------------------------------------------------
# Plans, e-mail, audit


@dataclass(frozen=True)
class LeftOut:
    """A visit a day plan could not place, and why: one entry of :attr:`DayPlan.unplaced`.

    Stored as a JSON object with these keys (``to_json``), read back with ``from_json``, which
    tolerates entries written before a key existed. ``open`` marks a visit any therapist with
    the skills could take: it is listed in the plan of each of them.
    """

    series_id: int
    day: date  # where the occurrence was to happen (``date`` in the JSON)
    original_date: date  # the date its rule gave (the visit's key with the series)
    client_id: int | None
    facility_id: int | None
    duration_minutes: int | None
    priority: int | None
    open: bool
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"series_id": self.series_id, "date": self.day.isoformat(),
                "original_date": self.original_date.isoformat(), "client_id": self.client_id,
                "facility_id": self.facility_id, "duration_minutes": self.duration_minutes,
                "priority": self.priority, "open": self.open, "reason": self.reason}

    @classmethod
    def from_json(cls, entry: Mapping[str, Any]) -> LeftOut:
        day = date.fromisoformat(str(entry.get("date") or entry.get("original_date")))
        original = entry.get("original_date")
        return cls(int(entry["series_id"]), day,
                   date.fromisoformat(str(original)) if original else day,
                   entry.get("client_id"), entry.get("facility_id"),
                   entry.get("duration_minutes"), entry.get("priority"),
                   bool(entry.get("open", False)), str(entry.get("reason", "")))


class DayPlan(Base):
    """One version of one therapist's day; planning again adds a version, unless the new plan
    would be the same as the plan of record (that plan is then kept)."""

    __tablename__ = "day_plans"
    __table_args__ = (UniqueConstraint("therapist_id", "day", "version"),)
    # Not stored: True on a plan of record that a planning just gave back unchanged, so that
    # the page and the CLI can say "nothing changed" instead of "version N".
    kept_unchanged = False

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapists.id"))
    day: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[PlanStatus] = mapped_column(default=PlanStatus.DRAFT)
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    leave_home_at: Mapped[datetime | None]
    back_home_at: Mapped[datetime | None]
    break_start_at: Mapped[datetime | None]
    break_end_at: Mapped[datetime | None]
    total_drive_minutes: Mapped[float] = mapped_column(Float, default=0.0)
    total_drive_km: Mapped[float] = mapped_column(Float, default=0.0)
    # The visits left out, each a LeftOut as JSON (read them typed through ``left_out``).
    unplaced: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    solver: Mapped[dict[str, Any]] = mapped_column(default=dict)  # figures: time, cost, proof
    # Re-planning from "now": when, and from where.
    replanned_at: Mapped[datetime | None]
    # What changed from the version this one replaced (see scheduler.plans.changes): a list of
    # {"kind": "moved" | "added" | "dropped" | "order", ...}; empty for a first version.
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    replaces_version: Mapped[int | None] = mapped_column(Integer)

    therapist: Mapped[Therapist] = relationship()
    stops: Mapped[list[PlanStop]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanStop.position"
    )

    @property
    def left_out(self) -> tuple[LeftOut, ...]:
        return tuple(LeftOut.from_json(entry) for entry in self.unplaced or [])


class PlanStop(Base):
    __tablename__ = "plan_stops"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("day_plans.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    series_id: Mapped[int] = mapped_column(ForeignKey("appointment_series.id"))
    occurrence_date: Mapped[date] = mapped_column(Date)  # the series date it fulfils
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"))
    arrive_at: Mapped[datetime]
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    drive_minutes: Mapped[float] = mapped_column(Float, default=0.0)  # the leg that leads here
    drive_km: Mapped[float] = mapped_column(Float, default=0.0)
    overhead_minutes: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[StopState] = mapped_column(default=StopState.PLANNED)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    # Why the window is what it is ("after dialysis + 60 min"), for the page and e-mail.
    window_note: Mapped[str] = mapped_column(Text, default="")
    state_at: Mapped[datetime | None]  # when it was marked arrived, done or skipped
    # When the therapist pressed Arrived; kept when the visit is then marked done or skipped.
    arrived_at: Mapped[datetime | None]

    plan: Mapped[DayPlan] = relationship(back_populates="stops")
    series: Mapped[AppointmentSeries] = relationship()
    client: Mapped[Client] = relationship()
    facility: Mapped[Facility] = relationship()


class StaleDay(Base):
    """A therapist's planned day that a change to the records touched: its plan of record no
    longer follows from the records and must be planned again (scheduler.plans.stale).

    One row per (therapist, day), however many changes touched it; ``causes`` says them in
    words. ``generation`` grows with each change, so a worker that planned the day from
    older records does not clear a newer mark. ``lease_*`` lets several workers share the
    queue without planning a day twice.
    """

    __tablename__ = "stale_days"
    __table_args__ = (UniqueConstraint("therapist_id", "day"),
                      Index("ix_stale_days_marked_at", "marked_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapists.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    causes: Mapped[list[str]] = mapped_column(default=list)
    marked_at: Mapped[datetime]  # the oldest change not yet planned
    generation: Mapped[int] = mapped_column(Integer, default=1)
    lease_owner: Mapped[str] = mapped_column(String(120), default="")
    lease_until: Mapped[datetime | None]


class OutboxMessage(Base):
    """One e-mail, claimed before any SMTP traffic so that it goes out exactly once."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("therapist_id", "day", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapists.id"))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(40))  # "itinerary"
    state: Mapped[OutboxState] = mapped_column(default=OutboxState.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str] = mapped_column(String(120), default="")  # host:pid:token
    claimed_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]  # refreshed by the owner while it sends (lease)
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    message_id: Mapped[str] = mapped_column(String(255), default="")
    subject: Mapped[str] = mapped_column(String(255), default="")
    last_error: Mapped[str] = mapped_column(Text, default="")  # never patient data
    possible_duplicate: Mapped[bool] = mapped_column(Boolean, default=False)
    plan_version: Mapped[int | None] = mapped_column(Integer)  # the plan version it carried
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AuditEvent(Base):
    """Who read or changed which patient record, and when. Never the record's content.

    Append-only (the database refuses UPDATE and DELETE: :mod:`scheduler.audit_guard`) and
    hash-chained in ``id`` order (:mod:`scheduler.audit_chain`): ``row_hash`` is SHA-256 over
    ``prev_hash`` and the row's fields, so an altered, deleted or reordered row shows.
    Rows are written only through :mod:`scheduler.audit`, which fills both hashes.
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_entity", "entity", "entity_id"),
                      Index("ix_audit_events_actor_id", "actor_id"),
                      Index("ix_audit_events_at", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("therapists.id"))
    actor_label: Mapped[str] = mapped_column(String(120), default="")  # "cli", "worker", ...
    action: Mapped[str] = mapped_column(String(20))  # read, create, update, delete
    entity: Mapped[str] = mapped_column(String(40))  # client, treatment, series, ...
    entity_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(String(255), default="")  # field names, not values
    prev_hash: Mapped[str] = mapped_column(String(64))  # the previous row's row_hash
    row_hash: Mapped[str] = mapped_column(String(64))


# Databases made by metadata.create_all (not the migrations) get the append-only triggers too.
event.listen(AuditEvent.__table__, "after_create",
             lambda target, connection, **_: audit_guard.protect(connection))


class GeocodeResult(Base):
    """A geocoder answer kept so that each address is looked up once."""

    __tablename__ = "geocode_cache"

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(255), unique=True)
    lat: Mapped[float | None] = mapped_column(Float)  # None: the service found no match
    lon: Mapped[float | None] = mapped_column(Float)
    display_name: Mapped[str] = mapped_column(String(255), default="")
    looked_up_at: Mapped[datetime]


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 digest is kept (see scheduler.tokens)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapists.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))  # what the owner calls it: "laptop script"
    digest: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the token
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    therapist: Mapped[Therapist] = relationship()


class LoginFailure(Base):
    """One failed sign-in, counted against a key (see scheduler.login_throttle).

    Kept in the database rather than in a process's memory so that every worker process of
    the web app, and the next one after a restart, sees the same count. The key is a digest,
    never the e-mail address or network address itself; rows older than the throttle's window
    are deleted whenever a failure or a success is recorded.
    """

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80))  # "acct:<HMAC-SHA256 hex>" or "ip:<...>"
    at: Mapped[datetime] = mapped_column(index=True)  # indexed for deleting expired rows


# APScheduler's job store table (scheduler.delivery.worker keeps the morning e-mail jobs in
# it), declared here so that Alembic owns the whole schema; the columns are APScheduler 3's.
apscheduler_jobs = Table(
    "apscheduler_jobs",
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)


class PracticeMeta(Base):
    """Key/value facts about this database, e.g. that it holds the demo practice."""

    __tablename__ = "practice_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
