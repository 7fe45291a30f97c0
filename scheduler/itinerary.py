"""A day plan rendered for the therapist: the morning e-mail and the iCalendar events.

Rendering happens in two steps so that every format says the same thing:

1. :func:`build_itinerary` reads a :class:`~scheduler.models.DayPlan` into an :class:`Itinerary`,
   plain values in the practice's time zone, holding only the patient data the settings allow
   (``mail.patient_detail``: "minimal" = client initials, room and precaution flags; "full" adds
   the precaution notes and what bounds each visit's window). Names and diagnoses never enter.
2. :func:`render_text`, :func:`render_html`, :func:`subject_line` and :func:`plan_events_ics`
   turn it into text. The subject never mentions a patient.

:func:`plan_events_ics` is shared with the web's calendar feed: one VEVENT per stop, a UID that
stays the same when the day is re-planned (it names the series and the occurrence date, not the
plan version), times in the practice's zone with its VTIMEZONE.
"""

from __future__ import annotations

import enum
import html
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import urlsplit

import icalendar

from scheduler.models import Client, DayPlan, PlanStatus, PlanStop, Therapist
from scheduler.records.precautions import FLAGS, flags_for
from scheduler.settings import Settings

DAY_PAGE_PATH = "/day/{day}"  # the web's day page; the link in every e-mail and event


class Variant(enum.StrEnum):
    ROUTE = "route"  # at least one stop
    NO_VISITS = "no-visits"  # nothing to do today
    COULD_NOT_PLAN = "could-not-plan"  # visits exist but none could be placed (or planning failed)


@dataclass(frozen=True)
class Flag:
    label: str
    alert: bool  # can hurt the client or the therapist if missed


@dataclass(frozen=True)
class StopLine:
    number: int
    arrive: datetime  # local
    start: datetime
    end: datetime
    drive_minutes: int
    place: str
    address: str
    room: str
    initials: str
    flags: tuple[Flag, ...]
    notes: str  # "full" detail only: precaution notes and the window's reason
    uid: str


@dataclass(frozen=True)
class Itinerary:
    variant: Variant
    practice: str
    therapist_name: str
    day: date
    stops: tuple[StopLine, ...]
    needs_attention: int | None  # visits left out; None when planning itself failed
    leave_home: datetime | None
    back_home: datetime | None
    break_start: datetime | None
    break_end: datetime | None
    drive_minutes: int
    drive_km: float
    day_url: str


# ---------------------------------------------------------------------------------------------
# From the database to plain values


def day_page_url(settings: Settings, day: date) -> str:
    return settings.practice.base_url.rstrip("/") + DAY_PAGE_PATH.format(day=day.isoformat())


def stop_flags(codes: Iterable[str]) -> tuple[Flag, ...]:
    """Short e-mail labels, alerts first. A code the catalogue does not know (it should have
    been refused when saved) is still shown, as its words, rather than silently dropped."""
    codes = list(codes or ())
    known = [Flag(flag.email_label, flag.severity == "alert") for flag in flags_for(codes)]
    unknown = [Flag(code.replace("_", " ").capitalize(), True) for code in codes
               if code not in FLAGS]
    return tuple(known + unknown)


def visit_uid(stop: PlanStop, settings: Settings) -> str:
    """Stable across re-plans: the visit is (series, occurrence date), whatever plan holds it."""
    host = urlsplit(settings.practice.base_url).hostname or "rounds.invalid"
    return f"rounds-visit-{stop.series_id}-{stop.occurrence_date:%Y%m%d}@{host}"


def _local(value: datetime | None, settings: Settings) -> datetime | None:
    return value.astimezone(settings.zone) if value is not None else None


def _ordered(plan: DayPlan | None) -> list[PlanStop]:
    return sorted(plan.stops, key=lambda stop: stop.position) if plan else []


def _stop_line(stop: PlanStop, number: int, settings: Settings, detail: str) -> StopLine:
    client: Client = stop.client
    notes: list[str] = []
    if detail == "full":
        notes = [text for text in (client.precaution_notes.strip(), stop.window_note.strip())
                 if text]
    return StopLine(
        number=number,
        arrive=stop.arrive_at.astimezone(settings.zone),
        start=stop.start_at.astimezone(settings.zone),
        end=stop.end_at.astimezone(settings.zone),
        drive_minutes=round(stop.drive_minutes),
        place=stop.facility.name,
        address=stop.facility.address,
        room=client.room,
        initials=client.initials,
        flags=stop_flags(client.precaution_flags),
        notes=" · ".join(notes),
        uid=visit_uid(stop, settings),
    )


def build_itinerary(therapist: Therapist, day: date, plan: DayPlan | None, settings: Settings,
                    *, planning_failed: bool = False, detail: str | None = None) -> Itinerary:
    """What the therapist needs to know about ``day``; ``plan`` None means nothing planned."""
    detail = detail or settings.mail.patient_detail
    stops = tuple(
        _stop_line(stop, number, settings, detail)
        for number, stop in enumerate(_ordered(plan), start=1)
    )
    unplaced = len(plan.unplaced or []) if plan else 0
    if stops:
        variant = Variant.ROUTE
    elif planning_failed or unplaced:
        variant = Variant.COULD_NOT_PLAN
    else:
        variant = Variant.NO_VISITS
    return Itinerary(
        variant=variant,
        practice=settings.practice.name,
        therapist_name=therapist.name,
        day=day,
        stops=stops,
        needs_attention=None if planning_failed else unplaced,
        leave_home=_local(plan.leave_home_at, settings) if plan and stops else None,
        back_home=_local(plan.back_home_at, settings) if plan and stops else None,
        break_start=_local(plan.break_start_at, settings) if plan and stops else None,
        break_end=_local(plan.break_end_at, settings) if plan and stops else None,
        drive_minutes=round(plan.total_drive_minutes) if plan else 0,
        drive_km=plan.total_drive_km if plan else 0.0,
        day_url=day_page_url(settings, day),
    )


# ---------------------------------------------------------------------------------------------
# Words


def _day_words(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _hm(value: datetime | None) -> str:
    return f"{value:%H:%M}" if value else "?"


def _visits(count: int) -> str:
    return f"{count} visit{'s' if count != 1 else ''}"


def _need(count: int) -> str:
    return "needs" if count == 1 else "need"


def subject_line(itinerary: Itinerary) -> str:
    """Counts and times only: nothing about any patient."""
    day = _day_words(itinerary.day)
    if itinerary.variant is Variant.ROUTE:
        return (f"Your itinerary for {day}: {_visits(len(itinerary.stops))}, "
                f"leave home {_hm(itinerary.leave_home)}")
    if itinerary.variant is Variant.NO_VISITS:
        return f"No visits on {day}"
    if itinerary.needs_attention:
        return f"Action needed for {day}: {_visits(itinerary.needs_attention)} could not be planned"
    return f"Action needed for {day}: the day could not be planned"


def _summary_lines(it: Itinerary) -> list[str]:
    if it.variant is Variant.NO_VISITS:
        return ["There are no visits planned for you today."]
    if it.variant is Variant.COULD_NOT_PLAN:
        if it.needs_attention:
            return [f"Could not plan: {_visits(it.needs_attention)} "
                    f"{_need(it.needs_attention)} attention. "
                    "Open the day page to see why and what can be changed."]
        return ["Could not plan today's visits: they need attention. "
                "Open the day page or ask the office."]
    lines = [f"Leave home {_hm(it.leave_home)}, back about {_hm(it.back_home)}; "
             f"{_visits(len(it.stops))}, {it.drive_minutes} min driving ({it.drive_km:.0f} km)."]
    if it.break_start:
        lines.append(f"Break {_hm(it.break_start)}-{_hm(it.break_end)}.")
    if it.needs_attention:
        lines.append(f"{_visits(it.needs_attention)} could not be placed and "
                     f"{_need(it.needs_attention)} attention (see the day page).")
    return lines


def _stop_details(stop: StopLine) -> list[str]:
    parts = []
    if stop.room:
        parts.append(f"room {stop.room}")
    parts.append(f"client {stop.initials}")
    details = [", ".join(parts)]
    if stop.flags:
        details.append("Precautions: " + ", ".join(
            f"{flag.label} (alert)" if flag.alert else flag.label for flag in stop.flags))
    if stop.notes:
        details.append(stop.notes)
    return details


def render_text(it: Itinerary) -> str:
    lines = [f"{it.practice}: itinerary for {_day_words(it.day)}", "",
             f"Hello {it.therapist_name},", ""]
    lines += _summary_lines(it)
    for stop in it.stops:
        lines += ["", f"{stop.number}. {_hm(stop.start)}-{_hm(stop.end)}  {stop.place}",
                  f"   {stop.address}",
                  f"   arrive {_hm(stop.arrive)} after {stop.drive_minutes} min driving"]
        lines += [f"   {line}" for line in _stop_details(stop)]
    lines += ["", f"Day page: {it.day_url}", ""]
    if it.stops:
        lines.append("The attached calendar file holds each visit.")
    return "\n".join(lines) + "\n"


_STYLE = {
    "body": "margin:0;padding:16px;background:#f4f5f7;font-family:Arial,Helvetica,sans-serif;"
            "color:#1f2933;font-size:15px;line-height:1.4;",
    "card": "max-width:640px;margin:0 auto;background:#ffffff;border-radius:6px;padding:20px;",
    "h1": "font-size:20px;margin:0 0 4px 0;",
    "muted": "color:#52606d;font-size:13px;margin:0 0 16px 0;",
    "summary": "margin:0 0 8px 0;",
    "alert": "margin:0 0 12px 0;padding:10px;background:#fff4e5;border-left:4px solid #d97706;",
    "table": "width:100%;border-collapse:collapse;margin-top:12px;",
    "time": "width:72px;padding:8px 8px 8px 0;vertical-align:top;white-space:nowrap;"
            "font-weight:bold;"
            "border-top:1px solid #e4e7eb;",
    "cell": "padding:8px 0;vertical-align:top;border-top:1px solid #e4e7eb;",
    "flag": "display:inline-block;margin:2px 4px 0 0;padding:1px 6px;border-radius:3px;"
            "background:#fef3c7;color:#92400e;font-size:13px;",
    "alert_flag": "display:inline-block;margin:2px 4px 0 0;padding:1px 6px;border-radius:3px;"
                  "background:#fde8e8;color:#9b1c1c;font-size:13px;font-weight:bold;",
    "small": "color:#52606d;font-size:13px;",
    "button": "display:inline-block;margin-top:16px;padding:10px 16px;background:#1d4ed8;"
              "color:#ffffff;text-decoration:none;border-radius:4px;font-weight:bold;",
}


def _stop_row(stop: StopLine) -> str:
    e = html.escape
    flags = "".join(
        f'<span style="{_STYLE["alert_flag" if flag.alert else "flag"]}">{e(flag.label)}</span>'
        for flag in stop.flags)
    who = ", ".join(p for p in (f"room {e(stop.room)}" if stop.room else "",
                                f"client {e(stop.initials)}") if p)
    notes = f'<div style="{_STYLE["small"]}">{e(stop.notes)}</div>' if stop.notes else ""
    return (
        f'<tr><td style="{_STYLE["time"]}">{stop.number}. {_hm(stop.start)}<br>'
        f'<span style="{_STYLE["small"]}">to {_hm(stop.end)}</span></td>'
        f'<td style="{_STYLE["cell"]}"><strong>{e(stop.place)}</strong><br>'
        f'<span style="{_STYLE["small"]}">{e(stop.address)}<br>arrive {_hm(stop.arrive)} after '
        f'{stop.drive_minutes} min driving</span><br>{who}<br>{flags}{notes}</td></tr>'
    )


def render_html(it: Itinerary) -> str:
    """Inline styles and tables only: what common mail clients render; no remote images."""
    e = html.escape
    summary = _summary_lines(it)
    summary_style = _STYLE["summary"] if it.variant is Variant.ROUTE else _STYLE["alert"]
    summary_html = "".join(f'<p style="{summary_style}">{e(line)}</p>' for line in summary)
    rows = "".join(_stop_row(stop) for stop in it.stops)
    table = f'<table role="presentation" style="{_STYLE["table"]}">{rows}</table>' if rows else ""
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{e(subject_line(it))}</title></head>"
        f'<body style="{_STYLE["body"]}"><div style="{_STYLE["card"]}">'
        f'<h1 style="{_STYLE["h1"]}">{e(_day_words(it.day))}</h1>'
        f'<p style="{_STYLE["muted"]}">{e(it.practice)} &middot; itinerary for '
        f"{e(it.therapist_name)}</p>{summary_html}{table}"
        f'<a href="{e(it.day_url, quote=True)}" style="{_STYLE["button"]}">Open the day page</a>'
        "</div></body></html>"
    )


# ---------------------------------------------------------------------------------------------
# iCalendar


def _stop_event(stop: StopLine, plan: DayPlan, settings: Settings) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", stop.uid)
    event.add("dtstamp", plan.published_at or plan.created_at)
    event.add("sequence", plan.version)
    event.add("dtstart", stop.start)
    event.add("dtend", stop.end)
    event.add("summary", f"Visit {stop.initials} at {stop.place}")
    event.add("location", f"{stop.place}, {stop.address}")
    event.add("description", "\n".join([*_stop_details(stop), day_page_url(settings, plan.day)]))
    event.add("url", day_page_url(settings, plan.day))
    event.add("status", "CONFIRMED" if plan.status == PlanStatus.PUBLISHED else "TENTATIVE")
    event.add("transp", "OPAQUE")
    return event


def plan_events_ics(plans: Iterable[DayPlan], settings: Settings, *,
                    detail: str | None = None, name: str | None = None) -> bytes:
    """An iCalendar file with one event per stop of ``plans`` (the e-mail and the web feed).

    ``detail`` as ``mail.patient_detail`` (default: that setting); the feed may ask "minimal".
    """
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Rounds//Itinerary//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name or f"{settings.practice.name}: visits")
    calendar.add("x-wr-timezone", settings.zone.key)
    days: list[date] = []
    for plan in plans:
        detail_used = detail or settings.mail.patient_detail
        for number, stop in enumerate(_ordered(plan), start=1):
            line = _stop_line(stop, number, settings, detail_used)
            calendar.add_component(_stop_event(line, plan, settings))
        days.append(plan.day)
    if days:
        calendar.add_missing_timezones(min(days) - timedelta(days=366),
                                       max(days) + timedelta(days=366))
    return calendar.to_ical()


# ---------------------------------------------------------------------------------------------
# The message


def itinerary_message(itinerary: Itinerary, plan: DayPlan | None, settings: Settings,
                      to_address: str, now: datetime) -> EmailMessage:
    """multipart/mixed: (text | HTML) alternatives, plus the day's .ics when there are stops."""
    message = EmailMessage()
    message["Subject"] = subject_line(itinerary)
    message["From"] = settings.mail.from_address
    message["To"] = to_address
    message["Date"] = format_datetime(now)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(render_text(itinerary))
    message.add_alternative(render_html(itinerary), subtype="html")
    if plan is not None and itinerary.stops:
        message.add_attachment(
            plan_events_ics([plan], settings), maintype="text", subtype="calendar",
            filename=f"rounds-{itinerary.day.isoformat()}.ics", params={"method": "PUBLISH"},
        )
    return message
