"""Words every rendering of a day plan shares: a stop's details, the day page's address."""

from __future__ import annotations

from datetime import date

from scheduler.models import StopState
from scheduler.plans.view import StopView
from scheduler.served_address import link_base
from scheduler.settings import Settings

DAY_PAGE_PATH = "/day/{day}"  # the web's day page; the link in every e-mail and event
DO_NOT_VISIT = "DO NOT VISIT"  # before a stop the records as they are now forbid, and why


def day_page_url(settings: Settings, day: date) -> str:
    return link_base(settings).rstrip("/") + DAY_PAGE_PATH.format(day=day.isoformat())


def stop_notes(stop: StopView) -> str:
    """The precaution notes and the window's reason (in a view that carries them)."""
    return " · ".join(text for text in (stop.precaution_notes, stop.window_note) if text)


def stop_details(stop: StopView) -> list[str]:
    """Room and client, precautions (alerts marked), notes: the lines under a stop."""
    who = ", ".join(part for part in (f"room {stop.room}" if stop.room else "",
                                      f"client {stop.initials}") if part)
    details = [who]
    if stop.state != StopState.PLANNED:  # a re-plan's "Updated" e-mail of a day under way
        details.insert(0, stop.state_words)
    if stop.do_not_visit:
        details.insert(0, f"{DO_NOT_VISIT}: {stop.do_not_visit}")
    if stop.infection_words:
        details.append(stop.infection_words)
    if stop.flags:
        details.append("Precautions: " + ", ".join(
            f"{flag.short} (alert)" if flag.alert else flag.short for flag in stop.flags))
    notes = stop_notes(stop)
    if notes:
        details.append(notes)
    return details
