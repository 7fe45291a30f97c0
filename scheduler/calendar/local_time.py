"""Wall-clock times of the practice's zone as instants, on every day including the two a
year the clocks change. Recurring rules are wall-clock; the optimizer works in Unix seconds;
this module is the one place that turns one into the other.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

# ---------------------------------------------------------------------------------------------
# Wall-clock time on the days the clocks change

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


def local_datetime(day: date, wall_time: time, zone: ZoneInfo) -> datetime:
    """The instant a wall-clock time happens on ``day`` in ``zone``, as RFC 5545 reads it.

    A time that does not exist (the spring-forward gap, 02:30 on 2026-03-08 in Chicago) is
    read with the offset from before the gap, so it moves forward by the gap (03:30 CDT). A
    time that happens twice (01:30 on 2026-11-01) is the first of the two (``fold=0``).
    The result is normalised, so its wall time is the one a clock would show.
    """
    aware = datetime.combine(day, wall_time.replace(tzinfo=None), tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone)


def local_day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The aware start and end of a local day: 23 hours long in spring, 25 in autumn."""
    return (local_datetime(day, time(), zone),
            local_datetime(day + timedelta(days=1), time(), zone))


def local_epoch(day: date, wall_time: time, zone: ZoneInfo) -> int:
    """:func:`local_datetime` as whole Unix seconds.

    Planning asks this for every treatment of every visit, so on the days the clocks do not
    change (all but two a year) it is plain arithmetic from the local midnight; on the
    others, and where midnight itself is skipped, it asks the zone.
    """
    start, regular = _day_start(day, zone)
    if regular:
        return start + wall_time.hour * 3600 + wall_time.minute * 60 + wall_time.second
    return _zone_epoch(day, wall_time, zone)


@lru_cache(maxsize=4096)
def _zone_epoch(day: date, wall_time: time, zone: ZoneInfo) -> int:
    return to_epoch(local_datetime(day, wall_time, zone))


@lru_cache(maxsize=16_384)
def _day_start(day: date, zone: ZoneInfo) -> tuple[int, bool]:
    """The local midnight in Unix seconds, and whether the day is an ordinary 24 hours with
    one UTC offset throughout (so that any wall time is midnight plus the time)."""
    midnight = local_datetime(day, time(), zone)
    next_midnight = local_datetime(day + timedelta(days=1), time(), zone)
    start, end = to_epoch(midnight), to_epoch(next_midnight)
    regular = (end - start == 86_400 and midnight.time() == time()
               and midnight.utcoffset() == next_midnight.utcoffset())
    return start, regular


@lru_cache(maxsize=16_384)
def local_day_epochs(day: date, zone: ZoneInfo) -> tuple[int, int]:
    """:func:`local_day_bounds` as whole Unix seconds."""
    return _day_start(day, zone)[0], _day_start(day + timedelta(days=1), zone)[0]


def to_epoch(moment: datetime) -> int:
    """Whole Unix seconds of an aware datetime (rounded down); naive ones are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} given where an aware one "
                         "is required")
    return (moment - _EPOCH) // _SECOND


def from_epoch(seconds: int, zone: ZoneInfo) -> datetime:
    """The aware local datetime of Unix ``seconds``."""
    return datetime.fromtimestamp(seconds, zone)
