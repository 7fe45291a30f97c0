"""Hand-off links to navigation apps: from wherever the device is to a building's street
address.

No origin is passed, so Google Maps, Apple Maps and an Android ``geo:`` handler start from the
device's current position (where the therapist actually is), not from the previous stop. The
destination is the street address (it leads to the building's entrance, where a point leads to
the middle of a campus); the coordinates serve only when there is no address. No name, room or
condition is ever put in a link. A move inside one building gets no link at all.

Pure functions of a :class:`~scheduler.plans.view.StopView` (or an address); the day page
renders them.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from scheduler.plans.view import DayPlanView, Point, StopView


@dataclass(frozen=True)
class Handoff:
    """Where to drive to, and the three links that open navigation there."""

    address: str  # as shown beside the links (empty when only coordinates are known)
    note: str  # the entrance or parking note, where the records have one
    google: str
    apple: str
    geo: str


def handoff(address: str, location: Point | None = None, note: str = "") -> Handoff | None:
    """Links to ``address`` (or, without one, to ``location``); None when neither is known."""
    address = " ".join(address.split())
    if address:
        target = address
    elif location is not None:
        target = f"{location[0]:.6f},{location[1]:.6f}"
    else:
        return None
    return Handoff(address=address, note=note.strip(), google=google_url(target),
                   apple=apple_url(target), geo=geo_uri(target))


def stop_handoff(stop: StopView) -> Handoff | None:
    """The links for the drive to ``stop``; None for a move inside one building."""
    if stop.same_building:
        return None
    return handoff(stop.place.address, stop.place.location, stop.place.parking_notes)


def home_handoff(view: DayPlanView) -> Handoff | None:
    """The links for the drive home after the last stop."""
    if view.home_drive is None:
        return None
    return handoff(view.home_address, view.home)


def google_url(destination: str) -> str:
    """Google Maps directions (Maps URLs, ``api=1``); without ``origin`` it starts from the
    device's position."""
    return "https://www.google.com/maps/dir/?" + urlencode({
        "api": "1", "destination": destination, "travelmode": "driving"})


def apple_url(destination: str) -> str:
    """Apple Maps directions; without ``saddr`` it starts from the device's position."""
    return "https://maps.apple.com/?" + urlencode({"daddr": destination, "dirflg": "d"})


def geo_uri(destination: str) -> str:
    """A ``geo:`` URI (RFC 5870) with the query Android's map apps search for:
    ``geo:0,0?q=<address>``."""
    return "geo:0,0?q=" + quote(destination, safe="")
