"""When each therapist's morning itinerary goes out: pure functions of a therapist, the
settings and a time.

The send time is ``Therapist.email_time`` or ``mail.default_send_time``, on the therapist's
e-mail weekdays (or their shift days), wall-clock in the practice's zone. A send that could
not happen at its time may still happen until the cut-off (``mail.catch_up_cutoff``).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from scheduler.models import Therapist
from scheduler.settings import Settings

log = logging.getLogger("rounds.jobs")


# Between midnight and 03:00 the clocks change (02:00 in the US): a time may not exist or may
# happen twice, so no send time may fall there.
EARLIEST_SEND_TIME = time(3, 0)


# A send time at or after the cut-off still gets this long to go out.
LATE_SEND_GRACE = timedelta(hours=1)


_WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


_CRON_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def send_time_problem(value: time) -> str | None:
    """Why ``value`` cannot be a send time, or None. For forms and record checks too."""
    if value < EARLIEST_SEND_TIME:
        return ("must be 03:00 or later: between midnight and 03:00 the clocks change, and a "
                "time there may not exist or may happen twice")
    return None


def send_time(therapist: Therapist, settings: Settings) -> time:
    """The therapist's chosen time, or the practice default (also for a refused stored time)."""
    chosen = therapist.email_time
    if chosen is None:
        return settings.mail.default_send_time
    if send_time_problem(chosen):
        log.warning("therapist %d: e-mail time %s refused (before 03:00); using %s",
                    therapist.id, f"{chosen:%H:%M}", f"{settings.mail.default_send_time:%H:%M}")
        return settings.mail.default_send_time
    return chosen.replace(second=0, microsecond=0)


def working_weekdays(therapist: Therapist) -> frozenset[int]:
    """The weekdays (0 = Monday) the e-mail goes out: the chosen ones, else the shift days."""
    if therapist.email_weekdays:
        return frozenset(_WEEKDAY_CODES.index(code) for code in therapist.email_weekdays
                         if code in _WEEKDAY_CODES)
    return frozenset(shift.weekday for shift in therapist.shifts)


def send_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone)


def deadline(day: date, at: time, settings: Settings) -> datetime:
    """The last moment an itinerary for ``day`` may still go out (the catch-up cut-off)."""
    cutoff = datetime.combine(day, settings.mail.catch_up_cutoff)
    latest = max(cutoff, datetime.combine(day, at) + LATE_SEND_GRACE)
    return min(latest, datetime.combine(day, time(23, 59, 59))).replace(tzinfo=settings.zone)


def due_day(therapist: Therapist, settings: Settings, now: datetime) -> date | None:
    """The working day whose send time is the latest one at or before ``now`` (today or the day
    before), or None. That is the itinerary a worker should have sent by now."""
    days = working_weekdays(therapist)
    at = send_time(therapist, settings)
    today = now.astimezone(settings.zone).date()
    for day in (today, today - timedelta(days=1)):
        if day.weekday() in days and send_instant(day, at, settings.zone) <= now:
            return day
    return None


def itinerary_trigger(therapist: Therapist, settings: Settings) -> CronTrigger | None:
    """Wall-clock cron in the practice zone: 06:00 stays 06:00 across the clock changes."""
    days = working_weekdays(therapist)
    if not therapist.active or not days:
        return None
    at = send_time(therapist, settings)
    return CronTrigger(day_of_week=",".join(_CRON_DAYS[d] for d in sorted(days)),
                       hour=at.hour, minute=at.minute, second=0, timezone=settings.zone)
