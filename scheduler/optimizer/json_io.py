"""VROOM's problem JSON -> :class:`~.problem.Problem`, checking every field on the way.

Every error is a :class:`~.errors.ProblemError` whose ``field`` is the JSON path of the culprit
(``jobs[2].time_windows[1]``), so a person can find it. Keys outside the supported subset are
refused rather than silently ignored: a ``pickup`` we would drop could make a route wrong.

One key is ours, not VROOM's: a job's ``order_class`` (0, 1 or 2, default 1), the
infection-control order of visits along a route (see docs/optimizer.md). VROOM ignores it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import ProblemError
from .problem import (
    DEFAULT_ORDER_CLASS,
    ORDER_CLASSES,
    Break,
    Coordinates,
    Job,
    Problem,
    TimeWindow,
    Vehicle,
)
from .travel_model import TravelModel, travel_matrices

TOP_KEYS = {"vehicles", "jobs", "matrices"}
JOB_KEYS = {
    "id", "description", "location", "location_index", "setup", "service",
    "delivery", "skills", "priority", "time_windows", "order_class",
}  # fmt: skip
VEHICLE_KEYS = {
    "id", "profile", "description", "start", "start_index", "end", "end_index",
    "capacity", "skills", "time_window", "breaks", "max_tasks", "max_travel_time",
}  # fmt: skip
BREAK_KEYS = {"id", "time_windows", "service", "description"}
PROFILE = "car"
MAX_PRIORITY = 100


def parse_problem(data: Any, travel_model: TravelModel | None = None) -> Problem:
    """Check a VROOM-style problem dict and return the typed problem.

    Parameters
    ----------
    data
        The decoded JSON object (``vehicles``, ``jobs``, optional ``matrices``).
    travel_model
        Fills the matrices from coordinates when ``matrices`` is absent.

    Raises
    ------
    ProblemError
        Naming the first offending field.
    """
    _require_object(data, "problem")
    _refuse_unknown(data, TOP_KEYS, "")
    matrices = _parse_matrices(data.get("matrices"))
    vehicles_raw = _require_list(data.get("vehicles"), "vehicles", allow_missing=False)
    if not vehicles_raw:
        raise ProblemError("vehicles", "at least one vehicle is needed")
    jobs_raw = _require_list(data.get("jobs", []), "jobs")

    places = _Places(matrices is not None)
    jobs = tuple(_parse_job(raw, f"jobs[{k}]", places) for k, raw in enumerate(jobs_raw))
    vehicles = tuple(
        _parse_vehicle(raw, f"vehicles[{k}]", places) for k, raw in enumerate(vehicles_raw)
    )
    _check_unique((job.id for job in jobs), "jobs", "id")
    _check_unique((vehicle.id for vehicle in vehicles), "vehicles", "id")
    _check_amount_sizes(jobs, vehicles)

    if matrices is None:
        durations, distances = travel_matrices(places.points, travel_model)
        durations_t = tuple(tuple(row) for row in durations)
        distances_t: tuple[tuple[int, ...], ...] | None = tuple(tuple(r) for r in distances)
    else:
        durations_t, distances_t = matrices
        for path, index in places.indices:
            if index >= len(durations_t):
                raise ProblemError(
                    path,
                    f"index {index} is outside the {len(durations_t)}x{len(durations_t)} matrix",
                )
    return Problem(
        jobs=jobs,
        vehicles=vehicles,
        durations=durations_t,
        distances=distances_t,
        indices_given=matrices is not None,
    )


class _Places:
    """Collects locations: indices when matrices are given, else distinct coordinates."""

    def __init__(self, with_matrices: bool) -> None:
        self.with_matrices = with_matrices
        self.points: list[Coordinates] = []
        self._index_of: dict[Coordinates, int] = {}
        self.indices: list[tuple[str, int]] = []

    def resolve(
        self, raw: Mapping[str, Any], coords_key: str, index_key: str, path: str
    ) -> tuple[int | None, Coordinates | None]:
        coords = _parse_coordinates(raw.get(coords_key), f"{path}.{coords_key}")
        if self.with_matrices:
            if index_key not in raw:
                if coords is not None:
                    raise ProblemError(f"{path}.{index_key}", "required when matrices are given")
                return None, None
            index = _integer(raw[index_key], f"{path}.{index_key}", minimum=0)
            self.indices.append((f"{path}.{index_key}", index))
            return index, coords
        if index_key in raw:
            raise ProblemError(f"{path}.{index_key}", "only meaningful when matrices are given")
        if coords is None:
            return None, None
        if coords not in self._index_of:
            self._index_of[coords] = len(self.points)
            self.points.append(coords)
        return self._index_of[coords], coords


def _parse_job(raw: Any, path: str, places: _Places) -> Job:
    _require_object(raw, path)
    _refuse_unknown(raw, JOB_KEYS, path)
    index, coords = places.resolve(raw, "location", "location_index", path)
    if index is None:
        key = "location_index" if places.with_matrices else "location"
        raise ProblemError(f"{path}.{key}", "is required")
    return Job(
        id=_id(raw, path),
        location_index=index,
        location=coords,
        setup=_integer(raw.get("setup", 0), f"{path}.setup", minimum=0),
        service=_integer(raw.get("service", 0), f"{path}.service", minimum=0),
        time_windows=_windows(raw.get("time_windows"), f"{path}.time_windows"),
        skills=_skills(raw.get("skills"), f"{path}.skills"),
        priority=_integer(
            raw.get("priority", 0), f"{path}.priority", minimum=0, maximum=MAX_PRIORITY
        ),
        delivery=_amount(raw.get("delivery"), f"{path}.delivery"),
        description=_text(raw.get("description"), f"{path}.description"),
        order_class=_integer(
            raw.get("order_class", DEFAULT_ORDER_CLASS),
            f"{path}.order_class",
            minimum=ORDER_CLASSES[0],
            maximum=ORDER_CLASSES[-1],
        ),
    )


def _parse_vehicle(raw: Any, path: str, places: _Places) -> Vehicle:
    _require_object(raw, path)
    _refuse_unknown(raw, VEHICLE_KEYS, path)
    profile = raw.get("profile", PROFILE)
    if profile != PROFILE:
        raise ProblemError(f"{path}.profile", f"only the {PROFILE!r} profile is supported")
    start_index, start = places.resolve(raw, "start", "start_index", path)
    end_index, end = places.resolve(raw, "end", "end_index", path)
    if start_index is None and end_index is None:
        raise ProblemError(path, "needs a start or an end (location or index)")
    window = raw.get("time_window")
    breaks_raw = _require_list(raw.get("breaks", []), f"{path}.breaks")
    breaks = tuple(_parse_break(b, f"{path}.breaks[{k}]") for k, b in enumerate(breaks_raw))
    _check_unique((b.id for b in breaks), f"{path}.breaks", "id")
    capacity = raw.get("capacity")
    max_tasks = raw.get("max_tasks")
    max_travel = raw.get("max_travel_time")
    return Vehicle(
        id=_id(raw, path),
        start_index=start_index,
        end_index=end_index,
        start=start,
        end=end,
        time_window=None if window is None else _window(window, f"{path}.time_window"),
        breaks=breaks,
        skills=_skills(raw.get("skills"), f"{path}.skills"),
        capacity=None if capacity is None else _amount(capacity, f"{path}.capacity"),
        max_tasks=None if max_tasks is None else _integer(max_tasks, f"{path}.max_tasks", 0),
        max_travel_time=(
            None if max_travel is None else _integer(max_travel, f"{path}.max_travel_time", 0)
        ),
        description=_text(raw.get("description"), f"{path}.description"),
    )


def _parse_break(raw: Any, path: str) -> Break:
    _require_object(raw, path)
    _refuse_unknown(raw, BREAK_KEYS, path)
    return Break(
        id=_id(raw, path),
        time_windows=_windows(raw.get("time_windows"), f"{path}.time_windows"),
        service=_integer(raw.get("service", 0), f"{path}.service", minimum=0),
        description=_text(raw.get("description"), f"{path}.description"),
    )


def _parse_matrices(
    raw: Any,
) -> tuple[tuple[tuple[int, ...], ...], tuple[tuple[int, ...], ...] | None] | None:
    if raw is None:
        return None
    _require_object(raw, "matrices")
    _refuse_unknown(raw, {PROFILE}, "matrices")
    profile = raw.get(PROFILE)
    _require_object(profile, f"matrices.{PROFILE}")
    _refuse_unknown(profile, {"durations", "distances"}, f"matrices.{PROFILE}")
    if "durations" not in profile:
        raise ProblemError(f"matrices.{PROFILE}.durations", "is required")
    durations = _square(profile["durations"], f"matrices.{PROFILE}.durations")
    distances = None
    if "distances" in profile:
        distances = _square(profile["distances"], f"matrices.{PROFILE}.distances")
        if len(distances) != len(durations):
            raise ProblemError(
                f"matrices.{PROFILE}.distances",
                f"is {len(distances)}x{len(distances)}, durations are "
                f"{len(durations)}x{len(durations)}",
            )
    return durations, distances


def _square(raw: Any, path: str) -> tuple[tuple[int, ...], ...]:
    rows = _require_list(raw, path, allow_missing=False)
    if not rows:
        raise ProblemError(path, "is empty")
    size = len(rows)
    result = []
    for i, row in enumerate(rows):
        row = _require_list(row, f"{path}[{i}]", allow_missing=False)
        if len(row) != size:
            raise ProblemError(
                f"{path}[{i}]", f"has {len(row)} entries; a square matrix needs {size}"
            )
        result.append(tuple(_integer(v, f"{path}[{i}][{j}]", 0) for j, v in enumerate(row)))
    return tuple(result)


# ---------------------------------------------------------------------------------------------
# Small converters: each returns the checked value or raises ProblemError naming ``path``.


def _require_object(raw: Any, path: str) -> None:
    if not isinstance(raw, Mapping):
        raise ProblemError(path, f"expected an object, got {_kind(raw)}")


def _require_list(raw: Any, path: str, allow_missing: bool = True) -> list[Any]:
    if raw is None and allow_missing:
        return []
    if raw is None:
        raise ProblemError(path, "is required")
    if isinstance(raw, str | bytes | Mapping) or not isinstance(raw, Sequence):
        raise ProblemError(path, f"expected a list, got {_kind(raw)}")
    return list(raw)


def _refuse_unknown(raw: Mapping[str, Any], allowed: set[str], path: str) -> None:
    unknown = sorted(set(raw) - allowed, key=str)
    if unknown:
        where = f"{path}.{unknown[0]}" if path else str(unknown[0])
        raise ProblemError(where, f"unknown key (supported: {', '.join(sorted(allowed))})")


def _integer(raw: Any, path: str, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ProblemError(path, f"expected a whole number, got {_kind(raw)}")
    if minimum is not None and raw < minimum:
        if minimum == 0:
            raise ProblemError(path, f"must not be negative, got {raw}")
        raise ProblemError(path, f"must be at least {minimum}, got {raw}")
    if maximum is not None and raw > maximum:
        raise ProblemError(path, f"must be between {minimum} and {maximum}, got {raw}")
    return raw


def _id(raw: Mapping[str, Any], path: str) -> int:
    if "id" not in raw:
        raise ProblemError(f"{path}.id", "is required")
    return _integer(raw["id"], f"{path}.id", minimum=0)


def _text(raw: Any, path: str) -> str | None:
    if raw is None or isinstance(raw, str):
        return raw
    raise ProblemError(path, f"expected text, got {_kind(raw)}")


def _window(raw: Any, path: str) -> TimeWindow:
    pair = _require_list(raw, path, allow_missing=False)
    if len(pair) != 2:
        raise ProblemError(path, f"expected [start, end], got {len(pair)} values")
    start = _integer(pair[0], f"{path}[0]", minimum=0)
    end = _integer(pair[1], f"{path}[1]", minimum=0)
    if start > end:
        raise ProblemError(path, f"is reversed: start {start} is after end {end}")
    return start, end


def _windows(raw: Any, path: str) -> tuple[TimeWindow, ...]:
    if raw is None:
        return ()
    items = _require_list(raw, path)
    if not items:
        raise ProblemError(path, "is empty; leave it out to allow any time")
    windows = [(_window(w, f"{path}[{k}]"), k) for k, w in enumerate(items)]
    windows.sort()
    for (first, _), (second, k) in zip(windows, windows[1:], strict=False):
        if second[0] <= first[1]:
            raise ProblemError(f"{path}[{k}]", f"overlaps another window ({first} and {second})")
    return tuple(window for window, _ in windows)


def _skills(raw: Any, path: str) -> frozenset[int]:
    items = _require_list(raw, path)
    return frozenset(_integer(s, f"{path}[{k}]", minimum=0) for k, s in enumerate(items))


def _amount(raw: Any, path: str) -> tuple[int, ...]:
    items = _require_list(raw, path)
    return tuple(_integer(a, f"{path}[{k}]", minimum=0) for k, a in enumerate(items))


def _parse_coordinates(raw: Any, path: str) -> Coordinates | None:
    if raw is None:
        return None
    pair = _require_list(raw, path)
    if len(pair) != 2:
        raise ProblemError(path, f"expected [lon, lat], got {len(pair)} values")
    values = []
    for k, value in enumerate(pair):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ProblemError(f"{path}[{k}]", f"expected a number, got {_kind(value)}")
        if not math.isfinite(value):
            raise ProblemError(f"{path}[{k}]", "must be a finite number")
        values.append(float(value))
    lon, lat = values
    if not -180.0 <= lon <= 180.0:
        raise ProblemError(f"{path}[0]", f"longitude must be within [-180, 180], got {lon}")
    if not -90.0 <= lat <= 90.0:
        raise ProblemError(f"{path}[1]", f"latitude must be within [-90, 90], got {lat}")
    return lon, lat


def _check_unique(ids: Any, path: str, key: str) -> None:
    seen: set[int] = set()
    for k, value in enumerate(ids):
        if value in seen:
            raise ProblemError(f"{path}[{k}].{key}", f"duplicate id {value}")
        seen.add(value)


def _check_amount_sizes(jobs: Sequence[Job], vehicles: Sequence[Vehicle]) -> None:
    """All amounts must have one size, as in VROOM (missing ones count as zeros)."""
    sizes: dict[int, str] = {}
    for k, job in enumerate(jobs):
        if job.delivery:
            sizes.setdefault(len(job.delivery), f"jobs[{k}].delivery")
    for k, vehicle in enumerate(vehicles):
        if vehicle.capacity is not None:
            sizes.setdefault(len(vehicle.capacity), f"vehicles[{k}].capacity")
    if len(sizes) > 1:
        (_, first), (size, second) = list(sizes.items())[:2]
        raise ProblemError(second, f"has {size} components, unlike {first}")


def _kind(raw: Any) -> str:
    if raw is None:
        return "nothing"
    if isinstance(raw, bool):
        return "true/false"
    return type(raw).__name__ if not isinstance(raw, str) else f"text {raw!r}"
