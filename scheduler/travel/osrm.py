"""An OSRM-compatible ``/table`` service as a source of travel times (:class:`OsrmTravelTimes`),
for a practice that runs one; it falls back to the offline geodesic model whenever the
service fails, and says so in the matrices' ``fell_back``.

Written on urllib rather than a client library: one GET of one documented endpoint, and the
errors we must tell apart (timeouts, HTTP codes, OSRM's own codes) are few.

Privacy: the request URLs carry coordinates of homes, so nothing here logs them.
"""

from __future__ import annotations

import http.client
import json
import logging
import math
import threading
import time as time_module
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from scheduler.optimizer.integers import round_half_up
from scheduler.travel.times import (
    NO_RUSH_HOURS,
    Matrices,
    Point,
    RushHours,
    TravelTimes,
    check_points,
)

log = logging.getLogger(__name__)


class ServiceFailure(Exception):
    """The routing service gave no usable answer; the message says why, without coordinates."""


class OsrmTravelTimes:
    """Travel from an OSRM-compatible ``/table/v1/driving`` service.

    Any failure (no connection, a timeout, an HTTP or OSRM error code, an answer that is not
    the expected JSON) is logged as a warning and answered by ``fallback`` instead; after a
    failure the service is left alone for ``retry_after_seconds`` so that planning a week of
    days does not wait out the timeout for every one. Pairs the service cannot route (null
    cells, e.g. a point off the road network) take the fallback's figures.
    """

    source = "osrm"

    def __init__(
        self,
        base_url: str,
        *,
        fallback: TravelTimes,
        rush: RushHours = NO_RUSH_HOURS,
        timeout_seconds: float = 5.0,
        retry_after_seconds: float = 60.0,
        clock: Callable[[], float] = time_module.monotonic,
    ):
        if not base_url:
            raise ValueError("the OSRM model needs the service's URL (travel.osrm_url)")
        self.base_url = base_url.rstrip("/")
        self.fallback = fallback
        self.rush = rush
        self.timeout_seconds = timeout_seconds
        self.retry_after_seconds = retry_after_seconds
        self._clock = clock
        self._resting_until = -math.inf
        self._lock = threading.Lock()

    def matrices(self, points: Sequence[Point], depart_at: datetime | None = None) -> Matrices:
        checked = check_points(points)
        if len(checked) < 2:
            return self.fallback.matrices(checked, depart_at)
        with self._lock:
            resting = self._clock() < self._resting_until
        if resting:
            return _fell_back(self.fallback.matrices(checked, depart_at))
        try:
            durations, distances = self._ask(checked)
        except ServiceFailure as failure:
            with self._lock:
                self._resting_until = self._clock() + self.retry_after_seconds
            log.warning(
                "Routing service %s failed (%s); using %s instead for %d points "
                "and leaving the service alone for %g s",
                self.describe_service(),
                failure,
                self.fallback.__class__.__name__,
                len(checked),
                self.retry_after_seconds,
            )
            return _fell_back(self.fallback.matrices(checked, depart_at))
        return self._assemble(checked, durations, distances, depart_at)

    def describe_service(self) -> str:
        """The service's address for messages: scheme, host and path, never credentials."""
        parts = urllib.parse.urlsplit(self.base_url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return f"{parts.scheme}://{host}{parts.path}"

    def table_url(self, points: Sequence[Point]) -> str:
        coordinates = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in points)
        return f"{self.base_url}/table/v1/driving/{coordinates}?annotations=duration,distance"

    def _ask(self, points: Sequence[Point]) -> tuple[list[list[Any]], list[list[Any]]]:
        request = urllib.request.Request(
            self.table_url(points),
            headers={"Accept": "application/json", "User-Agent": "rounds-scheduler"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            code = _osrm_code(_read_and_close(error))
            raise ServiceFailure(f"HTTP {error.code}{f', code {code}' if code else ''}") from None
        except (OSError, http.client.HTTPException) as error:
            # URLError wraps connection failures; a timeout while reading arrives bare.
            reason = getattr(error, "reason", error)
            if isinstance(reason, TimeoutError):
                raise ServiceFailure(f"no answer within {self.timeout_seconds:g} s") from None
            detail = str(reason) or type(reason).__name__
            raise ServiceFailure(f"could not connect or read ({detail})") from None
        return _parse_table(body, len(points))

    def _assemble(
        self,
        points: list[Point],
        durations: list[list[Any]],
        distances: list[list[Any]],
        depart_at: datetime | None,
    ) -> Matrices:
        factor = self.rush.factor_at(depart_at)
        size = len(points)
        backup: Matrices | None = None
        missing = 0
        out_durations = [[0] * size for _ in range(size)]
        out_distances = [[0] * size for _ in range(size)]
        for i in range(size):
            for j in range(size):
                if i == j:
                    continue
                seconds, metres = durations[i][j], distances[i][j]
                if seconds is None or metres is None:
                    missing += 1
                    backup = backup or self.fallback.matrices(points, depart_at)
                    out_durations[i][j] = backup.durations[i][j]
                    out_distances[i][j] = backup.distances[i][j]
                else:
                    out_durations[i][j] = round_half_up(seconds * factor)
                    out_distances[i][j] = round_half_up(metres)
        if missing:
            log.warning(
                "Routing service %s could not route %d of %d legs; the offline model "
                "filled them in",
                self.describe_service(),
                missing,
                size * (size - 1),
            )
        return Matrices(
            durations=tuple(map(tuple, out_durations)),
            distances=tuple(map(tuple, out_distances)),
            source=self.source,
        )


def _fell_back(matrices: Matrices) -> Matrices:
    return Matrices(matrices.durations, matrices.distances, matrices.source, fell_back=True)


def _read_and_close(error: urllib.error.HTTPError) -> bytes:
    try:
        return error.read()
    except (OSError, http.client.HTTPException):
        return b""
    finally:
        error.close()


def _osrm_code(body: bytes) -> str:
    """OSRM's error code (e.g. "InvalidQuery") from an error body, or "" if there is none.
    The message beside it is not passed on: it may quote the request."""
    try:
        code = json.loads(body).get("code", "")
    except (ValueError, AttributeError):
        return ""
    return code if isinstance(code, str) and code.isalnum() else ""


def _parse_table(body: bytes, size: int) -> tuple[list[list[Any]], list[list[Any]]]:
    """The duration and distance tables of an OSRM answer, checked for shape and values."""
    try:
        answer = json.loads(body)
    except ValueError:
        raise ServiceFailure("the answer is not JSON") from None
    if not isinstance(answer, dict):
        raise ServiceFailure("the answer is not a JSON object")
    code = answer.get("code")
    if code != "Ok":
        shown = code if isinstance(code, str) and code.isalnum() else "missing"
        raise ServiceFailure(f"the service answered code {shown}")
    tables = []
    for name in ("durations", "distances"):
        table = answer.get(name)
        if not (
            isinstance(table, list)
            and len(table) == size
            and all(isinstance(row, list) and len(row) == size for row in table)
        ):
            raise ServiceFailure(f"'{name}' is missing or not a {size}×{size} table")
        for row in table:
            for cell in row:
                if cell is not None and not _is_travel_figure(cell):
                    raise ServiceFailure(f"'{name}' holds a value that is not a number ≥ 0")
        tables.append(table)
    return tables[0], tables[1]


def _is_travel_figure(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )
