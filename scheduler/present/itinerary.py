"""The morning e-mail: a day plan's itinerary as a message, text and HTML alternatives from
Jinja templates (``templates/itinerary.txt`` and ``.html``) and the day's .ics attached.

The view it renders is built for the e-mail (:func:`build_itinerary`), holding only the
patient data the settings allow (``mail.patient_detail``: "minimal" = client initials, room
and precaution flags; "full" adds the precaution notes and what bounds each visit's window).
Names and diagnoses never enter, and the subject never mentions a patient.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from functools import lru_cache
from typing import Any

import jinja2

from scheduler.models import DayPlan, Therapist
from scheduler.plans.view import ClientLike, DayPlanView, Detail, StopView, build_view
from scheduler.present.calendar_file import views_ics
from scheduler.present.words import day_page_url, stop_details, stop_notes
from scheduler.served_address import link_base
from scheduler.settings import Settings


class Variant(enum.StrEnum):
    ROUTE = "route"  # at least one stop
    NO_VISITS = "no-visits"  # nothing to do today
    COULD_NOT_PLAN = "could-not-plan"  # visits exist but none could be placed (or planning failed)


@dataclass(frozen=True)
class Itinerary:
    """What the therapist is told about one day: the view (None when nothing was planned)
    and how to say it."""

    variant: Variant
    practice: str
    therapist_name: str
    day: date
    view: DayPlanView | None
    needs_attention: int | None  # visits left out; None when planning itself failed
    day_url: str
    update: bool = False  # a new version after the morning e-mail

    @property
    def stops(self) -> tuple[StopView, ...]:
        return self.view.stops if self.view is not None else ()


def build_itinerary(therapist: Therapist, day: date, plan: DayPlan | None, settings: Settings,
                    *, planning_failed: bool = False, detail: str | None = None,
                    problems: Mapping[int, str] | None = None, update: bool = False,
                    clients: Mapping[int, ClientLike] | None = None) -> Itinerary:
    """What the therapist needs to know about ``day``; ``plan`` None means nothing planned.

    ``problems`` marks the stops the records as they are now forbid ("do not visit");
    ``update`` makes it the e-mail of a new version after the morning one, saying what
    changed (``clients`` names the clients of dropped visits)."""
    chosen = Detail(detail or settings.mail.patient_detail)
    if chosen is Detail.NAMES:
        raise ValueError("an e-mail never carries patient names")
    view = (build_view(plan, settings.zone, detail=chosen, base_url=link_base(settings),
                       infection=settings.infection_control.rule(), problems=problems,
                       left_out_clients=clients)
            if plan is not None else None)
    unplaced = len(view.left_out) if view is not None else 0
    if view is not None and view.stops:
        variant = Variant.ROUTE
    elif planning_failed or unplaced:
        variant = Variant.COULD_NOT_PLAN
    else:
        variant = Variant.NO_VISITS
    return Itinerary(variant=variant, practice=settings.practice.name,
                     therapist_name=therapist.name, day=day, view=view,
                     needs_attention=None if planning_failed else unplaced,
                     day_url=day_page_url(settings, day), update=update)


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
    """Counts and times only: nothing about any patient. An update starts "Updated:"."""
    subject = _subject(itinerary)
    return f"Updated: {subject}" if itinerary.update else subject


def _subject(itinerary: Itinerary) -> str:
    day = _day_words(itinerary.day)
    if itinerary.variant is Variant.ROUTE:
        assert itinerary.view is not None
        return (f"Your itinerary for {day}: {_visits(len(itinerary.stops))}, "
                f"leave home {_hm(itinerary.view.leave_home)}")
    if itinerary.variant is Variant.NO_VISITS:
        return f"No visits on {day}"
    if itinerary.needs_attention:
        return f"Action needed for {day}: {_visits(itinerary.needs_attention)} could not be planned"
    return f"Action needed for {day}: the day could not be planned"


def summary_lines(it: Itinerary) -> list[str]:
    if it.variant is Variant.NO_VISITS:
        return ["There are no visits planned for you today."]
    if it.variant is Variant.COULD_NOT_PLAN:
        if it.needs_attention:
            return [f"Could not plan: {_visits(it.needs_attention)} "
                    f"{_need(it.needs_attention)} attention. "
                    "Open the day page to see why and what can be changed."]
        return ["Could not plan today's visits: they need attention. "
                "Open the day page or ask the office."]
    view = it.view
    assert view is not None
    lines = []
    if it.update:
        since = f" since {view.changed_since:%H:%M}" if view.changed_since else ""
        lines.append(f"Your day changed{since}: "
                     + ("; ".join(change.words for change in view.changes)
                        or "the times were planned again") + ".")
    lines += [f"Leave home {_hm(view.leave_home)}, back about {_hm(view.back_home)}; "
             f"{_visits(len(view.stops))}, {round(view.drive_minutes)} min driving "
             f"({view.drive_km:.0f} km)."]
    if view.break_ is not None:
        lines.append(f"Break {_hm(view.break_.start)}-{_hm(view.break_.end)}.")
    if it.needs_attention:
        lines.append(f"{_visits(it.needs_attention)} could not be placed and "
                     f"{_need(it.needs_attention)} attention (see the day page).")
    if view.order_rule and any(stop.infection for stop in view.stops):
        lines.append(f"{view.order_rule}.")
    if view.unsafe:
        lines.append("The records changed since this plan was made: a stop marked DO NOT VISIT "
                     "must not be made as planned. Check the day page or call the office.")
    return lines


# ---------------------------------------------------------------------------------------------
# Rendering


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
            "font-weight:bold;border-top:1px solid #e4e7eb;",
    "cell": "padding:8px 0;vertical-align:top;border-top:1px solid #e4e7eb;",
    "flag": "display:inline-block;margin:2px 4px 0 0;padding:1px 6px;border-radius:3px;"
            "background:#fef3c7;color:#92400e;font-size:13px;",
    "alert_flag": "display:inline-block;margin:2px 4px 0 0;padding:1px 6px;border-radius:3px;"
                  "background:#fde8e8;color:#9b1c1c;font-size:13px;font-weight:bold;",
    "small": "color:#52606d;font-size:13px;",
    "order": "color:#9b1c1c;font-size:13px;",
    "do_not_visit": "color:#ffffff;background:#9b1c1c;padding:2px 6px;font-size:14px;",
    "button": "display:inline-block;margin-top:16px;padding:10px 16px;background:#1d4ed8;"
              "color:#ffffff;text-decoration:none;border-radius:4px;font-weight:bold;",
}
"""Inline styles: what common mail clients render (no style sheets, no remote images)."""


@lru_cache(maxsize=2)
def _environment(html: bool) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("scheduler.present", "templates"),
        autoescape=html, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters.update(hm=_hm, day_words=_day_words, whole=round,
                               details=stop_details, notes=stop_notes)
    return environment


def _context(it: Itinerary) -> dict[str, Any]:
    return {"it": it, "summary": summary_lines(it), "style": _STYLE,
            "subject": subject_line(it)}


def render_text(it: Itinerary) -> str:
    return _environment(False).get_template("itinerary.txt").render(_context(it))


def render_html(it: Itinerary) -> str:
    return _environment(True).get_template("itinerary.html").render(_context(it))


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
    if itinerary.view is not None and itinerary.stops:
        message.add_attachment(
            views_ics([itinerary.view], settings), maintype="text", subtype="calendar",
            filename=f"rounds-{itinerary.day.isoformat()}.ics", params={"method": "PUBLISH"},
        )
    return message
