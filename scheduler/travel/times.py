"""Travel between stops: the duration and distance matrices the optimizer needs.

Step 3 of the day-planning pipeline (see DESIGN.md): the stops' coordinates go in, square
matrices of whole seconds and whole metres come out, through a :class:`TravelTimes`:

- :class:`GeodesicTravelTimes` (the default) works offline: the straight-line (geodesic)
  distance times a circuity factor gives the road distance, and a drive time follows from
  speeds that rise with the length of the trip. Its calibration is the optimizer's own
  (:class:`scheduler.optimizer.TravelModel`, imported here as ``DrivingCalibration`` to tell
  it from this module's :class:`TravelTimes` protocol), so plans and solver agree.
- :class:`OsrmTravelTimes` asks an OSRM-compatible ``/table`` service that a practice runs
  itself, and falls back to the geodesic model whenever the service fails.
- :class:`CachedTravelTimes` wraps either, so re-planning a day does not recompute.

Both models multiply drive times by the rush-hour factor when the departure falls inside the
practice's rush hours (:class:`RushHours`): OSRM's car profile knows no traffic either.
:func:`make_travel_times` builds the configured stack from settings.

Privacy: the points include therapists' homes and patients' private homes, so nothing here
logs coordinates or request URLs (which carry them), only how many points were involved.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from scheduler.optimizer import TravelModel as DrivingCalibration
from scheduler.optimizer.integers import round_half_up

log = logging.getLogger(__name__)

Point = tuple[float, float]
"""A place as (latitude, longitude) in decimal degrees, WGS 84."""

Grid = tuple[tuple[int, ...], ...]


# ---------------------------------------------------------------------------------------------
# What every model returns, and the seam the planner depends on


@dataclass(frozen=True)
class Matrices:
    """Travel from every point to every other: ``durations[i][j]`` seconds and
    ``distances[i][j]`` metres from point ``i`` to point ``j``.

    Square, with a zero diagonal, in whole numbers as the optimizer takes them (rounded half
    up, the optimizer's integer rule). ``source`` says which model answered; ``fell_back``
    is true when the configured service failed and the offline model answered instead
    (such answers are not cached, so the service is asked again later).
    """

    durations: Grid
    distances: Grid
    source: str
    fell_back: bool = False

    def __post_init__(self) -> None:
        size = len(self.durations)
        if len(self.distances) != size or any(
            len(row) != size for grid in (self.durations, self.distances) for row in grid
        ):
            raise ValueError("travel matrices must be square and of the same size")

    @property
    def size(self) -> int:
        return len(self.durations)


class TravelTimes(Protocol):
    """Anything that turns points into travel matrices."""

    def matrices(self, points: Sequence[Point], depart_at: datetime | None = None) -> Matrices:
        """Travel between every pair of ``points``; ``depart_at`` (aware) selects rush hour,
        None means an ordinary (off-peak) time."""
        ...


def check_points(points: Sequence[Point]) -> list[Point]:
    """The points as (float, float) tuples, or ValueError naming the first bad one."""
    checked = []
    for index, point in enumerate(points):
        try:
            lat, lon = (float(point[0]), float(point[1]))
        except (TypeError, ValueError, IndexError):
            raise ValueError(f"point {index}: expected (latitude, longitude)") from None
        if len(point) != 2:
            raise ValueError(f"point {index}: expected (latitude, longitude)")
        if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
            raise ValueError(f"point {index}: latitude must be between -90 and 90")
        if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
            raise ValueError(f"point {index}: longitude must be between -180 and 180")
        checked.append((lat, lon))
    return checked


# ---------------------------------------------------------------------------------------------
# Rush hours: wall-clock windows in the practice's zone


@dataclass(frozen=True)
class RushHours:
    """Local rush-hour windows (start inclusive, end exclusive) and the factor drive times
    take inside them. The windows are wall-clock times in ``zone``, so 07:30 is rush hour on
    the day the clocks change as on any other."""

    windows: tuple[tuple[time, time], ...]
    zone: ZoneInfo
    factor: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.factor) and self.factor >= 1.0):
            raise ValueError("rush-hour factor must be 1 or more")

    def applies(self, depart_at: datetime | None) -> bool:
        """Whether a departure at ``depart_at`` falls in a rush window (None: no)."""
        if depart_at is None:
            return False
        if depart_at.tzinfo is None or depart_at.utcoffset() is None:
            raise ValueError("depart_at must be an aware datetime (with a time zone)")
        local = depart_at.astimezone(self.zone).time()
        return any(start <= local < end for start, end in self.windows)

    def factor_at(self, depart_at: datetime | None) -> float:
        return self.factor if self.applies(depart_at) else 1.0

    def band(self, depart_at: datetime | None) -> str:
        """The cache's name for the traffic a departure meets: "rush" or "off-peak"."""
        return "rush" if self.applies(depart_at) else "off-peak"


NO_RUSH_HOURS = RushHours(windows=(), zone=ZoneInfo("UTC"), factor=1.0)


# ---------------------------------------------------------------------------------------------
# The offline model. Its calibration and formulas are the optimizer's (one model for both,
# scheduler.optimizer.travel_times): road metres = geodesic × circuity, and time charged
# band by band like a tax table (the first metres at city speed, later ones faster), which
# keeps time continuous and increasing in distance, and a detour never quicker than the
# direct leg. Here it gains rush hours and (lat, lon) points.


class GeodesicTravelTimes:
    """Offline travel: geodesic distance × circuity, speeds by trip length, rush hours.

    A geodesic costs about 0.1 ms, so a practice-wide matrix of a few hundred places takes
    seconds. The same facilities recur every day, so the road distance of each pair of
    places is remembered (up to ``max_remembered_pairs``; the oldest half is dropped when
    full), and each day after the first mostly reuses them.
    """

    source = "geodesic"

    def __init__(
        self,
        calibration: DrivingCalibration,
        rush: RushHours = NO_RUSH_HOURS,
        *,
        max_remembered_pairs: int = 100_000,
    ):
        self.calibration = calibration
        self.rush = rush
        self.max_remembered_pairs = max(1, max_remembered_pairs)
        self._road: dict[tuple[Point, Point], float] = {}
        self._lock = threading.Lock()

    def matrices(self, points: Sequence[Point], depart_at: datetime | None = None) -> Matrices:
        checked = check_points(points)
        factor = self.rush.factor_at(depart_at)
        # Several stops often share one building: time each distinct pair of places once,
        # and once per direction only (the geodesic is symmetric).
        places = sorted(set(checked))
        index = {place: i for i, place in enumerate(places)}
        legs: dict[tuple[int, int], tuple[int, int]] = {}
        for i, a in enumerate(places):
            for j in range(i + 1, len(places)):
                road = self.road_metres(a, places[j])
                seconds = self.calibration.seconds_for(road) * factor
                legs[(i, j)] = legs[(j, i)] = (round_half_up(seconds), round_half_up(road))

        def leg(a: Point, b: Point) -> tuple[int, int]:
            return legs.get((index[a], index[b]), (0, 0))

        grid = [[leg(a, b) for b in checked] for a in checked]
        return Matrices(
            durations=tuple(tuple(cell[0] for cell in row) for row in grid),
            distances=tuple(tuple(cell[1] for cell in row) for row in grid),
            source=self.source,
        )

    def road_metres(self, a: Point, b: Point) -> float:
        """Road metres between two (lat, lon) places, remembered per pair."""
        key = (a, b) if a <= b else (b, a)
        with self._lock:
            known = self._road.get(key)
        if known is not None:
            return known
        (lat_a, lon_a), (lat_b, lon_b) = key
        metres = self.calibration.road_metres((lon_a, lat_a), (lon_b, lat_b))  # (lon, lat)
        with self._lock:
            if len(self._road) >= self.max_remembered_pairs:
                for old in list(itertools.islice(self._road, len(self._road) // 2 or 1)):
                    del self._road[old]
            self._road[key] = metres
        return metres

    def remembered_pairs(self) -> int:
        return len(self._road)


# ---------------------------------------------------------------------------------------------
# An OSRM-compatible table service, with the offline model behind it


# ---------------------------------------------------------------------------------------------
# The cache


class CachedTravelTimes:
    """Remembers the matrices of the last ``max_entries`` distinct requests.

    The key is the points rounded to ``decimals`` places (5 places ≈ 1 m, well inside the
    accuracy of a geocoded address) and the traffic band of the departure (rush or not), and
    the inner model is asked for exactly the rounded points, so an answer depends on its key
    only. Answers where the inner model fell back are not kept: the service is asked again
    next time. Safe to share between threads.
    """

    def __init__(
        self,
        inner: TravelTimes,
        *,
        band: Callable[[datetime | None], str],
        max_entries: int = 128,
        decimals: int = 5,
    ):
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.inner = inner
        self.band = band
        self.max_entries = max_entries
        self.decimals = decimals
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[tuple[Any, ...], Matrices] = OrderedDict()
        self._lock = threading.Lock()

    def matrices(self, points: Sequence[Point], depart_at: datetime | None = None) -> Matrices:
        rounded = tuple(
            (round(lat, self.decimals), round(lon, self.decimals))
            for lat, lon in check_points(points)
        )
        key = (rounded, self.band(depart_at))
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return found
            self.misses += 1
        # Computed outside the lock: a slow service must not hold up other threads' hits.
        result = self.inner.matrices(rounded, depart_at)
        if not result.fell_back:
            with self._lock:
                self._entries[key] = result
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return result

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# ---------------------------------------------------------------------------------------------
# From settings


