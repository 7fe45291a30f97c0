"""One view of a day plan: what every output shows, built in one place.

A :class:`DayPlanView` is a frozen value made from a saved :class:`~scheduler.models.DayPlan`
by :func:`build_view`: the stops in order with their local times, the place, the client (by
initials, or by name where the viewer may see names), the precautions, the drive that leads
to each stop; the break and where it falls; the drive home; the visits left out
(:class:`LeftOutView`); the totals. The day page and its print view, the e-mail, the
iCalendar events, the GeoJSON of the map, the API and the ``rounds plan`` text all render it
(:mod:`scheduler.present` and ``web/``), so they say the same thing and none joins names or
reasons on its own.

What patient data a view carries is decided when it is built (:class:`Detail`), not by each
renderer: a view made for the e-mail has no names in it to leak.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from scheduler import models
from scheduler.records.precautions import FLAGS, InfectionControl, flags_for

Point = tuple[float, float]  # (latitude, longitude)

# A stop's state as the pages, the e-mail, the text and the spreadsheet say it.
STATE_WORDS = {models.StopState.PLANNED: "Planned", models.StopState.ARRIVED: "Arrived",
               models.StopState.DONE: "Done", models.StopState.SKIPPED: "Skipped"}


class Detail(enum.StrEnum):
    """How much about each client a view carries.

    - ``minimal``: initials, room and precaution flags (the e-mail's default, the feeds,
      the map);
    - ``full``: adds the precaution notes and what bounds each visit's window (which can hint
      at a condition: "after dialysis");
    - ``names``: adds the client's name (the pages, behind the login).
    """

    MINIMAL = "minimal"
    FULL = "full"
    NAMES = "names"

    @property
    def notes(self) -> bool:
        return self is not Detail.MINIMAL


@dataclass(frozen=True)
class Flag:
    """A precaution flag as people read it: the full sentence (pages), a few words (e-mail),
    and whether missing it can hurt (alert) or changes the session (caution)."""

    code: str
    label: str
    short: str
    alert: bool


@dataclass(frozen=True)
class Drive:
    """The drive to a stop (or home): from where, leaving when, how long."""

    origin: Point
    destination: Point
    leave_by: datetime  # local
    minutes: float
    km: float

    @property
    def whole_minutes(self) -> int:
        return round(self.minutes)


@dataclass(frozen=True)
class PlaceView:
    """The building of a stop. Addresses of facilities are not patient data."""

    id: int
    name: str
    address: str
    location: Point | None
    parking_notes: str
    infection_control: str
    notes: str


@dataclass(frozen=True)
class StopView:
    id: int
    number: int  # 1, 2, ... in the order of the day
    position: int  # as stored (0, 1, ...)
    series_id: int
    occurrence_date: date
    state: models.StopState
    pinned: bool
    arrive: datetime  # local
    start: datetime
    end: datetime
    drive: Drive | None  # the drive that leads here; None when an end has no coordinates
    drive_minutes: float  # as planned (also when ``drive`` is None)
    drive_km: float
    overhead_minutes: int
    place: PlaceView
    client_id: int
    initials: str
    name: str | None  # only in a view with names
    room: str
    flags: tuple[Flag, ...]  # alerts first
    flag_codes: tuple[str, ...]  # as stored on the client
    precaution_notes: str  # empty unless the view carries notes
    window_note: str  # why the visit may happen when it does; empty unless notes
    uid: str  # the iCalendar UID: the same across re-plans of the day
    infection: str | None = None  # "protect" or "isolation" under the practice's order rule
    do_not_visit: str | None = None  # why the records as they are now forbid this stop
    same_building: bool = False  # the stop before is in the same building: no drive to make
    state_at: datetime | None = None  # local; when it was marked (arrived, done or skipped)
    arrived_at: datetime | None = None  # local; when the therapist pressed Arrived

    @property
    def kind(self) -> str:
        return "stop"

    @property
    def state_words(self) -> str:
        """The state as people read it, with its time: "Arrived 10:02", "Done 10:40 (arrived
        10:02)", "Skipped 11:15", "Planned"."""
        word = STATE_WORDS[self.state]
        at = f" {self.state_at:%H:%M}" if self.state_at is not None else ""
        arrived = (f" (arrived {self.arrived_at:%H:%M})" if self.arrived_at is not None
                   and self.state in (models.StopState.DONE, models.StopState.SKIPPED) else "")
        return f"{word}{at}{arrived}" if self.state != models.StopState.PLANNED else word

    @property
    def infection_words(self) -> str:
        """What the class asks of the therapist, for the stop's badge."""
        return {"protect": "Protect: see before the others",
                "isolation": "Isolation: see after the others"}.get(self.infection or "", "")


@dataclass(frozen=True)
class LegView:
    """The drive that leads to a stop, listed on its own in the day's steps so that a break
    taken on arriving comes between the drive and the visit, in time order."""

    stop: StopView
    drive: Drive

    @property
    def at(self) -> datetime:
        return self.drive.leave_by

    @property
    def kind(self) -> str:
        return "drive"


@dataclass(frozen=True)
class BreakView:
    start: datetime  # local
    end: datetime

    @property
    def kind(self) -> str:
        return "break"


@dataclass(frozen=True)
class ChangeView:
    """One thing a new version changed, in words: "NQ moved 10:30 → 11:15"."""

    kind: str  # moved, added, dropped, order
    words: str


@dataclass(frozen=True)
class LeftOutView:
    """A visit left out, with its client as the view may show them."""

    entry: models.LeftOut
    initials: str | None  # None when the client is unknown (deleted)
    name: str | None

    @property
    def reason(self) -> str:
        return self.entry.reason

    @property
    def client_id(self) -> int | None:
        return self.entry.client_id

    @property
    def series_id(self) -> int:
        return self.entry.series_id


@dataclass(frozen=True)
class DayPlanView:
    plan_id: int
    therapist_id: int
    therapist_name: str
    day: date
    zone: ZoneInfo
    version: int
    status: models.PlanStatus
    created_at: datetime  # local
    published_at: datetime | None
    replanned_at: datetime | None
    home: Point
    leave_home: datetime | None  # as planned; None after a re-plan away from home
    back_home: datetime | None
    stops: tuple[StopView, ...]
    break_: BreakView | None
    home_drive: Drive | None  # after the last stop
    left_out: tuple[LeftOutView, ...]
    drive_minutes: float
    drive_km: float
    solver: Mapping[str, Any]
    detail: Detail
    order_rule: str | None = None  # "Infection-control order: protect → others → isolation"
    stale_causes: tuple[str, ...] = ()  # changes to the records not yet planned, in words
    changes: tuple[ChangeView, ...] = ()  # what this version changed from the one before
    replaces_version: int | None = None
    changed_since: datetime | None = None  # when the version it replaced was made (local)
    home_address: str = ""  # the therapist's, for the drive home

    @property
    def unsafe(self) -> bool:
        """A stop of this plan must not be made as planned (see scheduler.plans.check)."""
        return any(stop.do_not_visit for stop in self.stops)

    @property
    def break_index(self) -> int | None:
        """The position of the first stop that starts after the break (``len(stops)`` when the
        break comes after every stop); None without a break."""
        if self.break_ is None:
            return None
        return next((i for i, stop in enumerate(self.stops) if stop.start >= self.break_.start),
                    len(self.stops))

    @property
    def timeline(self) -> list[StopView | BreakView]:
        """The stops with the break slotted in where it falls."""
        items: list[StopView | BreakView] = list(self.stops)
        if self.break_ is not None and self.break_index is not None:
            items.insert(self.break_index, self.break_)
        return items

    @property
    def steps(self) -> list[LegView | BreakView | StopView]:
        """The day in time order, as the day page lists it: for each stop the drive that leads
        to it (when there is one), then the stop; the break where its start falls, so a break
        taken on arriving sits between the drive (leaving 11:42) and the visit (13:00), not
        above the drive. A step is placed by when it begins: a drive when it leaves, a stop
        when its visit starts."""
        steps: list[LegView | BreakView | StopView] = []
        for stop in self.stops:
            if stop.drive is not None and not stop.same_building:
                steps.append(LegView(stop, stop.drive))
            steps.append(stop)
        if self.break_ is None:
            return steps
        at = next((i for i, step in enumerate(steps) if _begins(step) >= self.break_.start),
                  len(steps))
        steps.insert(at, self.break_)
        return steps

    @property
    def sets_out(self) -> datetime | None:
        """When the day's driving starts: leaving home, else leaving for the first stop."""
        if self.leave_home is not None:
            return self.leave_home
        return self.stops[0].drive.leave_by if self.stops and self.stops[0].drive else None

    @property
    def published(self) -> bool:
        return self.status == models.PlanStatus.PUBLISHED


def next_stop(stops: Iterable[StopView]) -> StopView | None:
    """The stop to go to next: the first in the day's order that is still planned or in
    progress (arrived, not yet done or skipped; a cancelled visit has already left the plan).
    None when the day is through.

    The phone's day page opens on this stop's card: it moves on once the visit is done or
    skipped, not when the therapist arrives.
    """
    return next((stop for stop in stops if stop.state in models.TO_MAKE), None)


def _begins(step: LegView | BreakView | StopView) -> datetime:
    """When a step of the day begins (see :attr:`DayPlanView.steps`)."""
    if isinstance(step, LegView):
        return step.at
    return step.start


class ClientLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def first_name(self) -> str: ...
    @property
    def last_name(self) -> str: ...


# ---------------------------------------------------------------------------------------------
# Building


def initials_of(first_name: str, last_name: str) -> str:
    return f"{first_name[:1]}{last_name[:1]}".upper()


def flags_of(codes: Iterable[str]) -> tuple[Flag, ...]:
    """People's words for flag codes, alerts first. A code the catalogue does not know (it
    should have been refused when saved) is still shown, as words, rather than dropped."""
    codes = list(codes or ())
    known = [Flag(flag.code, flag.label, flag.email_label, flag.severity == "alert")
             for flag in flags_for(codes)]
    unknown = [Flag(code, code.replace("_", " ").capitalize(),
                    code.replace("_", " ").capitalize(), True)
               for code in codes if code not in FLAGS]
    return tuple(known + unknown)


def visit_uid(series_id: int, occurrence_date: date, base_url: str) -> str:
    """Stable across re-plans: the visit is (series, occurrence date), whatever plan holds it."""
    host = urlsplit(base_url).hostname or "rounds.invalid"
    return f"rounds-visit-{series_id}-{occurrence_date:%Y%m%d}@{host}"


def build_view(plan: models.DayPlan, zone: ZoneInfo, *, detail: Detail | str = Detail.MINIMAL,
               base_url: str = "", left_out_clients: Mapping[int, ClientLike] | None = None,
               infection: InfectionControl | None = None,
               problems: Mapping[int, str] | None = None, stale_causes: Iterable[str] = (),
               changed_since: datetime | None = None) -> DayPlanView:
    """The view of ``plan`` in ``zone`` with the patient data ``detail`` allows.

    ``plan`` must have its stops, their clients and facilities, and its therapist at hand
    (loaded, or loadable from its session). ``left_out_clients`` names the clients of the
    visits left out (see :func:`scheduler.plans.record.left_out_clients`); without it they
    are shown without initials. With ``infection`` (the practice's rule) each stop carries its
    infection-control class and the view the rule in words. ``problems`` (stop id -> words,
    from :func:`scheduler.plans.check.check_plan`) marks the stops not to be made;
    ``stale_causes`` says which changes to the records the plan does not follow yet.
    """
    detail = Detail(detail)
    therapist = plan.therapist
    home = (therapist.home_lat, therapist.home_lon)
    stops: list[StopView] = []
    here: Point | None = home
    previous_place: int | None = None
    for number, stop in enumerate(sorted(plan.stops, key=lambda s: s.position), start=1):
        view = _stop_view(stop, number, here, zone, detail, base_url, infection,
                          (problems or {}).get(stop.id), previous_place)
        stops.append(view)
        here, previous_place = view.place.location, view.place.id
    back_home = _local(plan.back_home_at, zone)
    home_drive = None
    if stops and here is not None:
        last_end = stops[-1].end
        drive = (back_home - last_end) if back_home else timedelta(0)
        home_drive = Drive(here, home, last_end, drive.total_seconds() / 60,
                           max(0.0, plan.total_drive_km - sum(s.drive_km for s in stops)))
    pause = (BreakView(plan.break_start_at.astimezone(zone), plan.break_end_at.astimezone(zone))
             if plan.break_start_at and plan.break_end_at else None)
    return DayPlanView(
        plan_id=plan.id, therapist_id=plan.therapist_id, therapist_name=therapist.name,
        day=plan.day, zone=zone, version=plan.version, status=plan.status,
        created_at=plan.created_at.astimezone(zone),
        published_at=_local(plan.published_at, zone),
        replanned_at=_local(plan.replanned_at, zone),
        home=home, leave_home=_local(plan.leave_home_at, zone), back_home=back_home,
        stops=tuple(stops),
        break_=pause, home_drive=home_drive,
        left_out=tuple(_left_out_view(entry, left_out_clients or {}, detail)
                       for entry in plan.left_out),
        drive_minutes=plan.total_drive_minutes, drive_km=plan.total_drive_km,
        solver=dict(plan.solver or {}), detail=detail,
        order_rule=infection.describe_order() if infection is not None and stops else None,
        stale_causes=tuple(stale_causes),
        changes=tuple(_change_views(plan, zone, left_out_clients or {}, stops, detail)),
        replaces_version=plan.replaces_version,
        changed_since=_local(changed_since, zone),
        home_address=therapist.home_address or "",
    )


def _stop_view(stop: models.PlanStop, number: int, here: Point | None, zone: ZoneInfo,
               detail: Detail, base_url: str, infection: InfectionControl | None,
               problem: str | None, previous_place: int | None = None) -> StopView:
    client, facility = stop.client, stop.facility
    location = (facility.lat, facility.lon) if facility.lat is not None \
        and facility.lon is not None else None
    arrive = stop.arrive_at.astimezone(zone)
    drive = None
    if here is not None and location is not None:
        drive = Drive(here, location, arrive - timedelta(minutes=stop.drive_minutes),
                      stop.drive_minutes, stop.drive_km)
    place = PlaceView(facility.id, facility.name, facility.address, location,
                      facility.parking_notes or "", facility.infection_control or "",
                      facility.notes or "")
    return StopView(
        id=stop.id, number=number, position=stop.position, series_id=stop.series_id,
        occurrence_date=stop.occurrence_date, state=stop.state, pinned=stop.pinned,
        arrive=arrive, start=stop.start_at.astimezone(zone), end=stop.end_at.astimezone(zone),
        drive=drive, drive_minutes=stop.drive_minutes, drive_km=stop.drive_km,
        overhead_minutes=stop.overhead_minutes, place=place, client_id=client.id,
        initials=client.initials,
        name=f"{client.first_name} {client.last_name}" if detail is Detail.NAMES else None,
        room=client.room, flags=flags_of(client.precaution_flags),
        flag_codes=tuple(client.precaution_flags or ()),
        precaution_notes=(client.precaution_notes or "").strip() if detail.notes else "",
        window_note=(stop.window_note or "").strip() if detail.notes else "",
        uid=visit_uid(stop.series_id, stop.occurrence_date, base_url),
        infection=_infection(client.precaution_flags or (), infection),
        do_not_visit=problem,
        same_building=previous_place == facility.id,
        state_at=_local(stop.state_at, zone), arrived_at=_local(stop.arrived_at, zone),
    )


def _infection(codes: Iterable[str], infection: InfectionControl | None) -> str | None:
    """The stop's class under the rule, as a word; None for no class (or no rule)."""
    if infection is None or infection.order == "off":
        return None
    order = infection.order_class(codes)
    return {0: "protect", 2: "isolation"}.get(order if order is not None else 1)


def _change_views(plan: models.DayPlan, zone: ZoneInfo, clients: Mapping[int, ClientLike],
                  stops: list[StopView], detail: Detail) -> list[ChangeView]:
    """The plan's changes (scheduler.plans.changes) in words, clients by initials (by name
    where the view shows names)."""
    known = {stop.client_id: stop.name or stop.initials for stop in stops}
    known.update({client.id: f"{client.first_name} {client.last_name}"
                  if detail is Detail.NAMES else initials_of(client.first_name, client.last_name)
                  for client in clients.values()})

    def who(entry: Mapping[str, Any]) -> str:
        return known.get(entry.get("client_id") or 0, "a visit")

    def clock(text: str) -> str:
        return f"{datetime.fromisoformat(text).astimezone(zone):%H:%M}"

    views = []
    for entry in plan.changes or []:
        kind = entry.get("kind", "")
        if kind == "moved":
            words = f"{who(entry)} moved {clock(entry['from'])} → {clock(entry['to'])}"
        elif kind == "added":
            words = f"{who(entry)} added at {clock(entry['at'])}"
        elif kind == "dropped":
            words = f"{who(entry)} at {clock(entry['from'])} dropped: {entry.get('reason', '')}"
        elif kind == "order":
            words = "the order of the visits changed"
        else:
            continue
        views.append(ChangeView(kind, words))
    return views


def _left_out_view(entry: models.LeftOut, clients: Mapping[int, ClientLike],
                   detail: Detail) -> LeftOutView:
    client = clients.get(entry.client_id) if entry.client_id is not None else None
    if client is None:
        return LeftOutView(entry, None, None)
    return LeftOutView(entry, initials_of(client.first_name, client.last_name),
                       f"{client.first_name} {client.last_name}"
                       if detail is Detail.NAMES else None)


def _local(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    return value.astimezone(zone) if value is not None else None
