"""An offline travel model: geodesic distance, a circuity factor and speed bands.

When a problem gives coordinates but no matrices, the optimizer fills the duration and
distance matrices with :func:`travel_matrices`. ``scheduler/travel.py`` reuses the same model
for the day plans, so the API is kept to one parameter class and one function:

>>> model = TravelModel()
>>> durations, distances = travel_matrices([(-94.58, 39.10), (-94.60, 39.05)], model)
>>> durations[0][0], distances[0][0]
(0, 0)

How a trip is timed: the road distance is the geodesic (WGS-84) distance times ``circuity``
(roads are not straight). The trip is then driven band by band, like a tax table: the first
``speed_bands[0][0]`` metres at ``speed_bands[0][1]`` km/h, the next metres up to the second
limit at the second speed, and so on; the last band has no limit. Marginal bands make the
duration continuous and increasing in distance (a longer trip never takes less time), while
still modelling that long trips use faster roads. Values are rounded half-up to whole seconds
and metres (the optimizer's integer rule, :mod:`.integers`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from geopy.distance import geodesic  # type: ignore[import-untyped]

from .integers import round_half_up

Coordinates = tuple[float, float]

DEFAULT_SPEED_BANDS: tuple[tuple[float, float], ...] = (
    (2_000.0, 25.0),  # first 2 km: streets, lights, parking lots
    (10_000.0, 45.0),  # up to 10 km: arterials
    (math.inf, 80.0),  # beyond: highways (Kansas City metro interstates)
)


@dataclass(frozen=True)
class TravelModel:
    """Calibration of the geodesic travel model; checks itself on creation.

    Parameters
    ----------
    circuity
        Road distance divided by straight-line distance, at least 1 (1.3 is typical of a US
        metro street grid).
    speed_bands
        ``((up_to_metres, km_per_hour), ...)`` with strictly increasing limits, positive
        speeds, the last limit ``math.inf``; see the module docstring for how bands apply.
    """

    circuity: float = 1.3
    speed_bands: tuple[tuple[float, float], ...] = DEFAULT_SPEED_BANDS

    def __post_init__(self) -> None:
        if not (math.isfinite(self.circuity) and self.circuity >= 1.0):
            raise ValueError(f"circuity: must be a finite number >= 1, got {self.circuity!r}")
        if not self.speed_bands:
            raise ValueError("speed_bands: at least one band is needed")
        previous = 0.0
        for k, (limit, speed) in enumerate(self.speed_bands):
            if not limit > previous:
                raise ValueError(f"speed_bands[{k}]: limits must increase, got {limit!r}")
            if not (math.isfinite(speed) and speed > 0):
                raise ValueError(f"speed_bands[{k}]: speed must be positive, got {speed!r}")
            previous = limit
        if self.speed_bands[-1][0] != math.inf:
            raise ValueError("speed_bands: the last band must have no limit (math.inf)")

    def road_metres(self, origin: Coordinates, destination: Coordinates) -> float:
        """Estimated road distance in metres between two ``(lon, lat)`` points."""
        if origin == destination:
            return 0.0
        (lon1, lat1), (lon2, lat2) = origin, destination
        return geodesic((lat1, lon1), (lat2, lon2)).meters * self.circuity

    def seconds_for(self, metres: float) -> float:
        """Driving time for a road distance, band by band."""
        seconds, lower = 0.0, 0.0
        for limit, speed in self.speed_bands:
            part = min(metres, limit) - lower
            if part <= 0:
                break
            seconds += part / (speed / 3.6)
            lower = limit
        return seconds


def travel_matrices(
    points: Sequence[Coordinates], model: TravelModel | None = None
) -> tuple[list[list[int]], list[list[int]]]:
    """Duration (s) and distance (m) matrices between ``(lon, lat)`` points, row = origin.

    Symmetric by construction (geodesics are), zero on the diagonal and between equal
    coordinates; integers rounded half-up.
    """
    model = model or TravelModel()
    size = len(points)
    durations = [[0] * size for _ in range(size)]
    distances = [[0] * size for _ in range(size)]
    for i in range(size):
        for j in range(i + 1, size):
            metres = model.road_metres(points[i], points[j])
            seconds = round_half_up(model.seconds_for(metres))
            durations[i][j] = durations[j][i] = seconds
            distances[i][j] = distances[j][i] = round_half_up(metres)
    return durations, distances
