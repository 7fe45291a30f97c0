"""Day plans as iCalendar (RFC 5545): one VEVENT per stop, for the e-mail's attachment and the
therapist's calendar feed.

A UID stays the same when the day is re-planned (it names the series and the occurrence
date, not the plan version) and SEQUENCE is the plan's version, so a calendar app updates the
event in place. Times are in the practice's zone, with its VTIMEZONE.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import icalendar

from scheduler.models import DayPlan
from scheduler.plans.view import DayPlanView, Detail, StopView, build_view
from scheduler.present.words import DO_NOT_VISIT, day_page_url, stop_details
from scheduler.served_address import link_base
from scheduler.settings import Settings


def _stop_event(stop: StopView, view: DayPlanView, settings: Settings) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", stop.uid)
    event.add("dtstamp", view.published_at or view.created_at)
    event.add("sequence", view.version)
    event.add("dtstart", stop.start)
    event.add("dtend", stop.end)
    title = f"Visit {stop.initials} at {stop.place.name}"
    event.add("summary", f"{DO_NOT_VISIT}: {title}" if stop.do_not_visit else title)
    event.add("location", f"{stop.place.name}, {stop.place.address}")
    event.add("description", "\n".join([*stop_details(stop), day_page_url(settings, view.day)]))
    event.add("url", day_page_url(settings, view.day))
    event.add("status", "CONFIRMED" if view.published else "TENTATIVE")
    event.add("transp", "OPAQUE")
    return event


def views_ics(views: Iterable[DayPlanView], settings: Settings, *,
              name: str | None = None) -> bytes:
    """An iCalendar file with one event per stop of ``views``."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Rounds//Itinerary//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name or f"{settings.practice.name}: visits")
    calendar.add("x-wr-timezone", settings.zone.key)
    days: list[date] = []
    for view in views:
        for stop in view.stops:
            calendar.add_component(_stop_event(stop, view, settings))
        days.append(view.day)
    if days:
        calendar.add_missing_timezones(min(days) - timedelta(days=366),
                                       max(days) + timedelta(days=366))
    return calendar.to_ical()


def plan_events_ics(plans: Iterable[DayPlan], settings: Settings, *,
                    detail: str | None = None, name: str | None = None) -> bytes:
    """:func:`views_ics` of ``plans``, each viewed with ``detail`` (default: the e-mail's
    ``mail.patient_detail``; the feed asks "minimal")."""
    chosen = Detail(detail or settings.mail.patient_detail)
    views = [build_view(plan, settings.zone, detail=chosen, base_url=link_base(settings),
                        infection=settings.infection_control.rule()) for plan in plans]
    return views_ics(views, settings, name=name)
