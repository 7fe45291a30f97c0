"""Hand-off links to navigation apps for a drive. Coordinates only, never names: a private
home's address is a patient's address, and URLs end up in logs and histories."""

from __future__ import annotations

from urllib.parse import urlencode

from scheduler.plans.view import Drive, Point


def google_url(drive: Drive) -> str:
    return "https://www.google.com/maps/dir/?" + urlencode({
        "api": "1", "origin": _pair(drive.origin), "destination": _pair(drive.destination),
        "travelmode": "driving"})


def apple_url(drive: Drive) -> str:
    return "https://maps.apple.com/?" + urlencode({
        "saddr": _pair(drive.origin), "daddr": _pair(drive.destination), "dirflg": "d"})


def _pair(location: Point) -> str:
    return f"{location[0]:.6f},{location[1]:.6f}"
