"""Which plan counts: the plan of record of a therapist's day is its published version, else
its newest draft. Everything that shows or sends a plan asks here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload, selectinload

from scheduler.calendar.day import DayCalendar, day_calendar
from scheduler.models import Client, DayPlan, PlanStatus, PlanStop, Role, Therapist
from scheduler.plans import stale
from scheduler.plans.check import snapshot_for, stop_problems
from scheduler.plans.view import DayPlanView, Detail, build_view
from scheduler.records.precautions import InfectionControl
from scheduler.served_address import link_base
from scheduler.settings import Settings


def current_plan(session: Session, therapist_id: int, day: date) -> DayPlan | None:
    """The plan of record: the published version, else the latest draft, else None."""
    return plans_of_day(session, day, therapist_id).get(therapist_id)


def plans_of_day(session: Session, day: date,
                   therapist_id: int | None = None) -> dict[int, DayPlan]:
    """Each therapist's plan of record for ``day`` (one query for all of them)."""
    ids = [therapist_id] if therapist_id is not None else None
    return {t: plan for (t, _), plan in plans_of_record(session, day, day, ids).items()}


def plans_of_record(session: Session, first: date, last: date,
                    therapist_ids: Sequence[int] | None = None) -> dict[tuple[int, date], DayPlan]:
    """The plan of record of each (therapist, day) from ``first`` to ``last``, in one query:
    the published version, else the newest draft (what :func:`current_plan` answers)."""
    query = (select(DayPlan)
             .where(DayPlan.day.between(first, last), DayPlan.status != PlanStatus.SUPERSEDED)
             .options(selectinload(DayPlan.stops))
             .order_by(DayPlan.therapist_id, DayPlan.day, DayPlan.version.desc()))
    if therapist_ids is not None:
        query = query.where(DayPlan.therapist_id.in_(therapist_ids))
    found: dict[tuple[int, date], DayPlan] = {}
    for plan in session.scalars(query):
        key = (plan.therapist_id, plan.day)
        held = found.get(key)
        if held is None or (plan.status == PlanStatus.PUBLISHED
                            and held.status != PlanStatus.PUBLISHED):
            found[key] = plan
    return found


def _shown(query: Select[Any]) -> Select[Any]:
    """What showing a plan reads, loaded in the same query: its stops, their clients and
    buildings, and its therapist."""
    return query.options(
        selectinload(DayPlan.stops).options(joinedload(PlanStop.client),
                                           joinedload(PlanStop.facility)),
        joinedload(DayPlan.therapist))


def plan_of_record(session: Session, therapist_id: int, day: date) -> DayPlan | None:
    """:func:`current_plan` with what showing it needs loaded in the same query."""
    return session.scalar(_shown(
        select(DayPlan)
        .where(DayPlan.therapist_id == therapist_id, DayPlan.day == day,
               DayPlan.status != PlanStatus.SUPERSEDED)
        .order_by((DayPlan.status == PlanStatus.PUBLISHED).desc(), DayPlan.version.desc())
        .limit(1)))


def newer_draft(session: Session, plan: DayPlan) -> DayPlan | None:
    """A draft made after the published ``plan`` (e.g. through the API), waiting to be
    published; None when ``plan`` is itself a draft."""
    if plan.status != PlanStatus.PUBLISHED:
        return None
    return session.scalar(select(DayPlan).where(
        DayPlan.therapist_id == plan.therapist_id, DayPlan.day == plan.day,
        DayPlan.status == PlanStatus.DRAFT,
        DayPlan.version > plan.version).order_by(DayPlan.version.desc()).limit(1))


def published_plans(session: Session, therapist_id: int, first: date,
                    last: date) -> list[DayPlan]:
    """The therapist's published plan of each day from ``first`` to ``last`` (the feed)."""
    plans = session.scalars(_shown(
        select(DayPlan)
        .where(DayPlan.therapist_id == therapist_id, DayPlan.status == PlanStatus.PUBLISHED,
               DayPlan.day.between(first, last))
        .order_by(DayPlan.day, DayPlan.version))).unique().all()
    newest: dict[date, DayPlan] = {plan.day: plan for plan in plans}  # the latest a day
    return list(newest.values())


OPEN_AHEAD_DAYS = 7


def day_to_open(session: Session, therapist_id: int, today: date) -> date:
    """The day the app opens on: today, unless today has no plan and a day of the coming
    week has a published one (a first run on a weekend, a day off): then that day, so the
    first screen is a route rather than "No plan for this day yet"."""
    if current_plan(session, therapist_id, today) is not None:
        return today
    ahead = published_plans(session, therapist_id, today + timedelta(days=1),
                            today + timedelta(days=OPEN_AHEAD_DAYS))
    return min((plan.day for plan in ahead), default=today)


def replan_publishes(current: DayPlan | None) -> bool:
    """Re-planning a day whose plan of record is published publishes the new version: the
    itinerary in use must follow the day, and the old one is no longer safe to follow."""
    return current is not None and current.status == PlanStatus.PUBLISHED


def left_out_clients(session: Session, plans: Iterable[DayPlan]) -> dict[int, LeftOutClient]:
    """The clients of the visits the ``plans`` left out or dropped, by id: their names only
    (a busy day can leave out dozens of visits; whole client rows would cost more)."""
    plans = list(plans)
    ids = {entry.client_id for plan in plans for entry in plan.left_out
           if entry.client_id is not None}
    ids |= {change["client_id"] for plan in plans for change in plan.changes or []
            if isinstance(change.get("client_id"), int)}
    if not ids:
        return {}
    client = Client
    rows = session.execute(select(client.id, client.first_name, client.last_name)
                           .where(client.id.in_(ids)))
    return {row.id: LeftOutClient(row.id, row.first_name, row.last_name) for row in rows}


@dataclass(frozen=True)
class LeftOutClient:
    id: int
    first_name: str
    last_name: str


def views_of(session: Session, plans: Sequence[DayPlan], zone: ZoneInfo, *,
             detail: Detail | str, base_url: str = "",
             infection: InfectionControl | None = None) -> list[DayPlanView]:
    """The view of each plan, the clients of its left-out visits read once for all."""
    clients = left_out_clients(session, plans)
    return [build_view(plan, zone, detail=detail, base_url=base_url, left_out_clients=clients,
                       infection=infection) for plan in plans]


def checked_views(session: Session, plans: Sequence[DayPlan], settings: Settings, *,
                  detail: Detail | str) -> list[DayPlanView]:
    """What to show of ``plans`` as current: each view with the stops the records as they
    are now forbid (:mod:`scheduler.plans.check`), the changes to the records the plan does
    not follow yet (:mod:`scheduler.plans.stale`), and what it changed since the version it
    replaced. What the check needs is read once for all the plans."""
    if not plans:
        return []
    snapshot = snapshot_for(session, plans)
    calendars: dict[date, DayCalendar] = {}
    infection = settings.infection_control.rule()
    clients = left_out_clients(session, plans)
    first, last = min(p.day for p in plans), max(p.day for p in plans)
    causes = stale.stale_days(session, first, last)
    replaced = _replaced_at(session, plans)
    views = []
    for plan in plans:
        if plan.day not in calendars:
            calendars[plan.day] = day_calendar(snapshot, plan.day, settings.zone)
        views.append(build_view(
            plan, settings.zone, detail=detail, base_url=link_base(settings),
            left_out_clients=clients, infection=infection,
            problems=stop_problems(plan, calendars[plan.day], infection),
            stale_causes=causes.get((plan.therapist_id, plan.day), []),
            changed_since=replaced.get(plan.id)))
    return views


def _replaced_at(session: Session, plans: Sequence[DayPlan]) -> dict[int, datetime]:
    """When the version each plan replaced was made (published, else created)."""
    wanted = {(p.therapist_id, p.day, p.replaces_version): p.id for p in plans
              if p.replaces_version is not None}
    if not wanted:
        return {}
    rows = session.execute(select(DayPlan.therapist_id, DayPlan.day, DayPlan.version,
                                  DayPlan.published_at, DayPlan.created_at).where(
        DayPlan.therapist_id.in_({t for t, _, _ in wanted}),
        DayPlan.day.in_({d for _, d, _ in wanted})))
    found = {}
    for therapist_id, day, version, published_at, created_at in rows:
        plan_id = wanted.get((therapist_id, day, version))
        if plan_id is not None:
            found[plan_id] = published_at or created_at
    return found


def plans_query(viewer: Therapist, *, day: date | None = None,
                therapist_id: int | None = None) -> Select[Any]:
    """Every version of the day plans ``viewer`` may read (their own, or all for an admin),
    by day and therapist, newest version first within a day."""
    query = _shown(select(DayPlan).order_by(DayPlan.day, DayPlan.therapist_id,
                                            DayPlan.version.desc()))
    if day is not None:
        query = query.where(DayPlan.day == day)
    if therapist_id is not None:
        query = query.where(DayPlan.therapist_id == therapist_id)
    if viewer.role != Role.ADMIN:
        query = query.where(DayPlan.therapist_id == viewer.id)
    return query
