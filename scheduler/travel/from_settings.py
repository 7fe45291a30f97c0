"""The travel times a practice's settings ask for: the geodesic model calibrated from
``[travel]``, with its rush hours, or the OSRM service with the geodesic model as fallback,
either behind a cache (:func:`make_travel_times`)."""

from __future__ import annotations

import math

from scheduler.optimizer import TravelModel as DrivingCalibration
from scheduler.settings import Settings
from scheduler.travel.osrm import OsrmTravelTimes
from scheduler.travel.times import CachedTravelTimes, GeodesicTravelTimes, RushHours, TravelTimes


def calibration_from_settings(settings: Settings) -> DrivingCalibration:
    """The optimizer's travel calibration from [travel]: the first short_trip_km of a trip at
    speed_short_kmh, the road up to long_trip_km at speed_medium_kmh, the rest at
    speed_long_kmh (an empty band, e.g. short_trip_km = 0, is left out)."""
    travel = settings.travel
    short_m, long_m = travel.short_trip_km * 1000.0, travel.long_trip_km * 1000.0
    bands = []
    if short_m > 0:
        bands.append((short_m, travel.speed_short_kmh))
    if long_m > short_m:
        bands.append((long_m, travel.speed_medium_kmh))
    bands.append((math.inf, travel.speed_long_kmh))
    return DrivingCalibration(circuity=travel.circuity, speed_bands=tuple(bands))


def rush_hours_from_settings(settings: Settings) -> RushHours:
    return RushHours(
        windows=settings.travel.rush_hours,
        zone=settings.zone,
        factor=settings.travel.rush_hour_factor,
    )


def make_travel_times(settings: Settings, *, max_cached: int = 128) -> CachedTravelTimes:
    """The configured model (travel.model), with the offline model behind a service, cached.

    Build one per process and share it: the cache and the service's rest period live in it.
    """
    rush = rush_hours_from_settings(settings)
    model: TravelTimes = GeodesicTravelTimes(calibration_from_settings(settings), rush)
    if settings.travel.model == "osrm":
        model = OsrmTravelTimes(
            settings.travel.osrm_url,
            fallback=model,
            rush=rush,
            timeout_seconds=settings.travel.osrm_timeout_seconds,
        )
    return CachedTravelTimes(model, band=rush.band, max_entries=max_cached)
