"""A week's plans as a spreadsheet (CSV): one row per stop, in the order of each day.

The client is named by initials unless the view carries names (an admin's export); the
precaution flags are their codes, as the records and the client import hold them. The state
is in words with its time ("Arrived 10:02", "Done 10:40 (arrived 10:02)").
"""

from __future__ import annotations

from collections.abc import Iterable

from scheduler.plans.view import DayPlanView
from scheduler.records.exports import write_csv

HEADER = ("day", "therapist", "order", "arrive", "start", "end", "facility", "room", "client",
          "precaution flags", "state")


def plans_csv(views: Iterable[DayPlanView]) -> str:
    """The stops of ``views`` (sorted by day, then therapist) as CSV text."""
    rows = []
    for view in sorted(views, key=lambda v: (v.day, v.therapist_name, v.therapist_id)):
        for stop in view.stops:
            rows.append((view.day.isoformat(), view.therapist_name, str(stop.number),
                         f"{stop.arrive:%H:%M}", f"{stop.start:%H:%M}", f"{stop.end:%H:%M}",
                         stop.place.name, stop.room, stop.name or stop.initials,
                         " ".join(stop.flag_codes), stop.state_words))
    return write_csv(HEADER, rows)
