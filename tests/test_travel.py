"""Travel matrices: the offline geodesic model, rush hours, the OSRM client and the cache.

The OSRM tests talk to a real HTTP server on 127.0.0.1 (a random port, in a thread) that
answers as OSRM's /table service does, or fails in the ways a real one can.
"""

from __future__ import annotations

import json
import logging
import math
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import time as clock_time
from http.server import BaseHTTPRequestHandler
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from geopy.distance import geodesic
from http_stub import Reply, serve_http
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.optimizer.integers import round_half_up as whole
from scheduler.settings import Settings, load_settings
from scheduler.travel.from_settings import (
    calibration_from_settings,
    make_travel_times,
    rush_hours_from_settings,
)
from scheduler.travel.osrm import OsrmTravelTimes
from scheduler.travel.times import (
    CachedTravelTimes,
    DrivingCalibration,
    GeodesicTravelTimes,
    Matrices,
    RushHours,
)

CHICAGO = ZoneInfo("America/Chicago")

# Kansas City places (approximate centres of the campuses).
PLAZA = (39.0425, -94.5925)  # Country Club Plaza
KU_MED = (39.0566, -94.6101)  # University of Kansas Medical Center, Kansas City KS
TRUMAN = (39.0844, -94.5761)  # University Health Truman Medical Center, Hospital Hill
KCI = (39.2976, -94.7139)  # Kansas City International Airport

# The defaults of config/default.toml, written out so the hand-worked figures below hold
# whatever the file says later.
KC = DrivingCalibration(
    circuity=1.3, speed_bands=((3_000.0, 30.0), (15_000.0, 45.0), (math.inf, 65.0))
)
RUSH = RushHours(
    windows=((clock_time(7), clock_time(9)), (clock_time(16), clock_time(18))),
    zone=CHICAGO,
    factor=1.25,
)


def straight_line_metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return geodesic(a, b).meters


def haversine_metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance on a sphere of the mean Earth radius: an independent check."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def point_east_of(origin: tuple[float, float], km: float) -> tuple[float, float]:
    """A point about ``km`` due east (good enough for ordering tests)."""
    lat, lon = origin
    return (lat, lon + km / (111.32 * math.cos(math.radians(lat))))


@pytest.fixture
def app_settings(tmp_path: Any) -> Settings:
    return load_settings(environ={}, overrides={"instance": {"path": str(tmp_path)}})


# ---------------------------------------------------------------------------------------------
# Distances


def test_one_degree_of_latitude_at_kansas_city() -> None:
    # Meridian arc of 1° at 39° N on WGS 84: M = a(1 - e²) / (1 - e² sin²φ)^1.5 ≈ 6 360 722 m,
    # times π/180 ≈ 111 016 m.
    assert straight_line_metres((38.5, -94.6), (39.5, -94.6)) == pytest.approx(111_016, abs=20)


@pytest.mark.parametrize(
    ("a", "b", "low_km", "high_km"),
    [
        (PLAZA, KU_MED, 2.0, 2.4),  # across State Line Road, about 2.2 km as the crow flies
        (PLAZA, TRUMAN, 4.5, 5.2),  # north up Main Street to Hospital Hill
        (PLAZA, KCI, 29.0, 32.0),  # across the Missouri River to the airport
    ],
)
def test_straight_line_between_kansas_city_places(a, b, low_km, high_km) -> None:
    metres = straight_line_metres(a, b)
    assert low_km * 1000 <= metres <= high_km * 1000
    # The sphere and the ellipsoid agree to within half a percent at this latitude.
    assert metres == pytest.approx(haversine_metres(a, b), rel=0.005)


def test_road_distance_is_straight_line_times_circuity() -> None:
    matrices = GeodesicTravelTimes(KC).matrices([PLAZA, KU_MED])
    assert matrices.distances[0][1] == whole(straight_line_metres(PLAZA, KU_MED) * 1.3)


# ---------------------------------------------------------------------------------------------
# Drive times


@pytest.mark.parametrize(
    ("road_km", "seconds"),
    [
        (0.0, 0.0),
        (2.0, 240.0),  # 2 km at 30 km/h = 4 min
        (3.0, 360.0),  # the whole short stretch: 6 min
        (10.0, 920.0),  # 6 min + 7 km at 45 km/h (9 min 20 s)
        (15.0, 1320.0),  # 6 min + 12 km at 45 km/h (16 min)
        (20.0, 1320.0 + 5 / 65 * 3600),  # + 5 km at 65 km/h (4 min 37 s)
    ],
)
def test_drive_time_is_charged_stretch_by_stretch(road_km: float, seconds: float) -> None:
    assert KC.seconds_for(road_km * 1000) == pytest.approx(seconds)


def test_farther_is_longer_across_the_speed_bands() -> None:
    # Every quarter kilometre out to 25 km straight line (32.5 km of road), so the 3 km and
    # 15 km band edges are crossed: time and distance must both keep growing.
    model = GeodesicTravelTimes(KC)
    legs = [model.matrices([PLAZA, point_east_of(PLAZA, 0.25 * k)]) for k in range(1, 101)]
    seconds = [leg.durations[0][1] for leg in legs]
    metres = [leg.distances[0][1] for leg in legs]
    assert all(later > earlier for earlier, later in pairwise(seconds))
    assert all(later > earlier for earlier, later in pairwise(metres))


def test_matrices_are_square_whole_symmetric_with_zero_diagonal() -> None:
    points = [PLAZA, KU_MED, TRUMAN, KCI]
    matrices = GeodesicTravelTimes(KC, RUSH).matrices(points)
    assert matrices.size == 4
    for grid in (matrices.durations, matrices.distances):
        assert len(grid) == 4 and all(len(row) == 4 for row in grid)
        assert all(isinstance(value, int) for row in grid for value in row)
        for i in range(4):
            assert grid[i][i] == 0
            for j in range(4):
                assert grid[i][j] == grid[j][i]
                assert (grid[i][j] > 0) == (i != j)


def test_two_stops_in_one_building_cost_nothing_to_drive() -> None:
    matrices = GeodesicTravelTimes(KC).matrices([PLAZA, TRUMAN, TRUMAN])
    assert matrices.durations[1][2] == matrices.distances[1][2] == 0
    assert matrices.durations[0][1] == matrices.durations[0][2] > 0


@dataclass(frozen=True)
class CountingCalibration(DrivingCalibration):
    """The real calibration, recording each pair it measures."""

    measured: list[Any] = field(default_factory=list, compare=False)

    def road_metres(self, origin: Any, destination: Any) -> float:
        self.measured.append((origin, destination))
        return super().road_metres(origin, destination)


def test_each_pair_of_places_is_measured_once_across_days() -> None:
    calibration = CountingCalibration(KC.circuity, KC.speed_bands)
    model = GeodesicTravelTimes(calibration, RUSH)
    monday = model.matrices([PLAZA, KU_MED, TRUMAN])
    assert len(calibration.measured) == 3
    tuesday = model.matrices([TRUMAN, PLAZA, KCI], datetime(2026, 3, 10, 8, 0, tzinfo=CHICAGO))
    assert len(calibration.measured) == 5  # only KCI's two pairs are new
    assert monday.distances[0][2] == tuesday.distances[1][0]  # Plaza-Truman, remembered
    assert tuesday == GeodesicTravelTimes(KC, RUSH).matrices(
        [TRUMAN, PLAZA, KCI], datetime(2026, 3, 10, 8, 0, tzinfo=CHICAGO)
    )


def test_the_pair_memory_is_bounded() -> None:
    model = GeodesicTravelTimes(KC, max_remembered_pairs=4)
    model.matrices([point_east_of(PLAZA, k) for k in range(6)])  # 15 pairs
    assert 1 <= model.remembered_pairs() <= 4


def test_no_points_and_one_point() -> None:
    assert GeodesicTravelTimes(KC).matrices([]).durations == ()
    assert GeodesicTravelTimes(KC).matrices([PLAZA]).distances == ((0,),)


@pytest.mark.parametrize(
    ("point", "problem"),
    [
        ((91.0, -94.5), "point 1: latitude"),
        ((39.0, -181.0), "point 1: longitude"),
        ((float("nan"), -94.5), "point 1: latitude"),
        (("north", -94.5), "point 1: expected (latitude, longitude)"),
        ((39.0,), "point 1: expected (latitude, longitude)"),
    ],
)
def test_bad_points_are_refused_by_index(point: Any, problem: str) -> None:
    with pytest.raises(ValueError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        GeodesicTravelTimes(KC).matrices([PLAZA, point])


KC_POINTS = st.tuples(st.floats(38.8, 39.35), st.floats(-94.85, -94.35))


@settings(max_examples=150, deadline=None)
@given(a=KC_POINTS, b=KC_POINTS, c=KC_POINTS)
def test_a_detour_is_never_quicker_than_the_direct_leg(a, b, c) -> None:
    # The optimizer relies on it: a stop in between must not shorten the trip. Stretch-wise
    # speeds make drive time concave in distance, so this holds up to rounding (1 s, 1 m).
    matrices = GeodesicTravelTimes(KC, RUSH).matrices(
        [a, b, c], datetime(2026, 3, 9, 13, 0, 0, tzinfo=UTC)
    )
    d, m = matrices.durations, matrices.distances
    assert d[0][2] <= d[0][1] + d[1][2] + 1
    assert m[0][2] <= m[0][1] + m[1][2] + 1


# ---------------------------------------------------------------------------------------------
# Rush hours, in local wall-clock time


@pytest.mark.parametrize(
    ("instant", "rush"),
    [
        # The day before spring-forward: Chicago is UTC-6.
        (datetime(2026, 3, 7, 14, 30, tzinfo=UTC), True),  # 08:30 CST
        (datetime(2026, 3, 7, 11, 30, tzinfo=UTC), False),  # 05:30 CST
        # 2026-03-08: UTC-5 from 02:00; the same UTC instants mean other local times.
        (datetime(2026, 3, 8, 14, 30, tzinfo=UTC), False),  # 09:30 CDT
        (datetime(2026, 3, 8, 13, 30, tzinfo=UTC), True),  # 08:30 CDT
        (datetime(2026, 3, 8, 12, 0, tzinfo=UTC), True),  # 07:00 CDT, the window opens
        (datetime(2026, 3, 8, 11, 59, tzinfo=UTC), False),  # 06:59 CDT
        (datetime(2026, 3, 8, 7, 59, 59, tzinfo=UTC), False),  # 01:59:59 CST, before the jump
        # Fall-back, 2026-11-01: UTC-6 again from 02:00 CDT.
        (datetime(2026, 10, 31, 23, 30, tzinfo=UTC), False),  # 18:30 CDT
        (datetime(2026, 11, 1, 23, 30, tzinfo=UTC), True),  # 17:30 CST
        (datetime(2026, 11, 1, 22, 0, tzinfo=UTC), True),  # 16:00 CST, the window opens
        (datetime(2026, 11, 2, 0, 0, tzinfo=UTC), False),  # 18:00 CST, the window has closed
        # Local times given in the practice zone directly, and in another zone.
        (datetime(2026, 11, 1, 8, 59, 59, tzinfo=CHICAGO), True),
        (datetime(2026, 11, 1, 9, 0, tzinfo=CHICAGO), False),
        (datetime(2026, 6, 1, 12, 0, tzinfo=CHICAGO), False),
        (datetime(2026, 6, 1, 8, 0, tzinfo=ZoneInfo("America/New_York")), True),  # 07:00 CDT
        (None, False),
    ],
)
def test_rush_hours_follow_the_practice_clock(instant: datetime | None, rush: bool) -> None:
    assert RUSH.applies(instant) is rush
    assert RUSH.band(instant) == ("rush" if rush else "off-peak")


def test_rush_hour_multiplies_durations_only() -> None:
    model = GeodesicTravelTimes(KC, RUSH)
    points = [PLAZA, KU_MED, TRUMAN]
    rush = model.matrices(points, datetime(2026, 3, 8, 8, 30, tzinfo=CHICAGO))
    midday = model.matrices(points, datetime(2026, 3, 8, 12, 30, tzinfo=CHICAGO))
    unknown = model.matrices(points, None)
    assert midday == unknown
    assert rush.distances == midday.distances
    for i in range(3):
        for j in range(3):
            free = KC.seconds_for(1.3 * straight_line_metres(points[i], points[j]))
            assert midday.durations[i][j] == whole(free)
            assert rush.durations[i][j] == whole(free * 1.25)


def test_a_naive_departure_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        GeodesicTravelTimes(KC, RUSH).matrices([PLAZA, KU_MED], datetime(2026, 3, 8, 8, 30))


# ---------------------------------------------------------------------------------------------
# A stand-in OSRM server


@dataclass
class StubServer:
    """An HTTP server in a thread; ``respond`` decides each answer, ``requests`` records."""

    url: str
    respond: Callable[[str], Reply]
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def osrm() -> Iterator[StubServer]:
    stub = StubServer(url="", respond=lambda path: Reply(500))

    def answer(handler: BaseHTTPRequestHandler) -> Reply:
        stub.requests.append(handler.path)
        return stub.respond(handler.path)

    with serve_http(answer) as port:
        stub.url = f"http://127.0.0.1:{port}"
        yield stub


def osrm_table(durations: list[list[Any]], distances: list[list[Any]]) -> bytes:
    return json.dumps({"code": "Ok", "durations": durations, "distances": distances}).encode()


def osrm_model(stub: StubServer, **options: Any) -> OsrmTravelTimes:
    options.setdefault("timeout_seconds", 0.5)
    options.setdefault("rush", RUSH)
    return OsrmTravelTimes(stub.url + "/", fallback=GeodesicTravelTimes(KC, RUSH), **options)


def test_osrm_answer_is_used_rounded_and_asked_for_in_its_url_form(osrm: StubServer) -> None:
    osrm.respond = lambda path: Reply(
        200,
        osrm_table(
            [[0, 100.4, 300.5], [120.6, 0, 50], [310, 60, 0.2]],
            [[0, 1000.5, 3000], [1200.4, 0, 400], [3100, 500, 0]],
        ),
    )
    matrices = osrm_model(osrm).matrices([PLAZA, KU_MED, TRUMAN])
    assert matrices.source == "osrm" and not matrices.fell_back
    assert matrices.durations == ((0, 100, 301), (121, 0, 50), (310, 60, 0))
    assert matrices.distances == ((0, 1001, 3000), (1200, 0, 400), (3100, 500, 0))

    (path,) = osrm.requests
    url = urllib.parse.urlsplit(path)
    assert url.path == (
        "/table/v1/driving/-94.592500,39.042500;-94.610100,39.056600;-94.576100,39.084400"
    )
    assert urllib.parse.parse_qs(url.query) == {"annotations": ["duration,distance"]}


def test_osrm_durations_take_the_rush_hour_factor(osrm: StubServer) -> None:
    osrm.respond = lambda path: Reply(200, osrm_table([[0, 400], [400, 0]], [[0, 5], [5, 0]]))
    matrices = osrm_model(osrm).matrices(
        [PLAZA, KU_MED], datetime(2026, 3, 8, 17, 0, tzinfo=CHICAGO)
    )
    assert matrices.durations == ((0, 500), (500, 0))
    assert matrices.distances == ((0, 5), (5, 0))


def test_legs_osrm_cannot_route_are_filled_in_offline(osrm: StubServer) -> None:
    osrm.respond = lambda path: Reply(200, osrm_table([[0, None], [100, 0]], [[0, None], [900, 0]]))
    offline = GeodesicTravelTimes(KC, RUSH).matrices([PLAZA, KU_MED])
    matrices = osrm_model(osrm).matrices([PLAZA, KU_MED])
    assert matrices.durations == ((0, offline.durations[0][1]), (100, 0))
    assert matrices.distances == ((0, offline.distances[0][1]), (900, 0))


FAILURES = {
    "http error with osrm code": (
        Reply(400, b'{"code": "InvalidQuery", "message": "Query string malformed"}'),
        "HTTP 400, code InvalidQuery",
    ),
    "server error": (Reply(500, b"<html>oops</html>"), "HTTP 500"),
    "osrm error code": (Reply(200, b'{"code": "NoTable", "message": "no"}'), "code NoTable"),
    "invalid json": (Reply(200, b'{"code": "Ok", "durations": [[0, 1'), "not JSON"),
    "json but not an object": (Reply(200, b"[1, 2, 3]"), "not a JSON object"),
    "wrong shape": (
        Reply(200, osrm_table([[0, 1, 2]], [[0, 1], [1, 0]])),
        "'durations' is missing or not a 3×3 table",
    ),
    "missing distances": (
        Reply(
            200, json.dumps({"code": "Ok", "durations": [[0, 1, 1], [1, 0, 1], [1, 1, 0]]}).encode()
        ),
        "'distances' is missing",
    ),
    "negative value": (
        Reply(
            200, osrm_table([[0, -5, 1], [1, 0, 1], [1, 1, 0]], [[0, 1, 1], [1, 0, 1], [1, 1, 0]])
        ),
        "not a number ≥ 0",
    ),
    "timeout": (
        Reply(200, osrm_table([[0, 1], [1, 0]], [[0, 1], [1, 0]]), delay=3.0),
        "no answer within 0.5 s",
    ),
}


@pytest.mark.parametrize("case", FAILURES, ids=list(FAILURES))
def test_osrm_failures_fall_back_to_the_offline_model(
    osrm: StubServer, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    reply, reason = FAILURES[case]
    osrm.respond = lambda path: reply
    depart = datetime(2026, 3, 8, 8, 0, tzinfo=CHICAGO)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="scheduler.travel"):
        matrices = osrm_model(osrm).matrices([PLAZA, KU_MED, TRUMAN], depart)
    assert time.monotonic() - started < 2.0  # the timeout cut the wait short
    assert len(osrm.requests) == 1
    offline = GeodesicTravelTimes(KC, RUSH).matrices([PLAZA, KU_MED, TRUMAN], depart)
    assert (matrices.durations, matrices.distances) == (offline.durations, offline.distances)
    assert matrices.fell_back and matrices.source == "geodesic"

    (record,) = caplog.records
    message = record.getMessage()
    assert record.levelno == logging.WARNING
    assert reason in message and osrm.url in message and "3 points" in message
    assert "39.04" not in message and "94.59" not in message  # no coordinates in logs


def test_an_unreachable_osrm_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    # Port 9 on this machine: nothing listens there (discard service is not run).
    model = OsrmTravelTimes(
        "http://127.0.0.1:9", fallback=GeodesicTravelTimes(KC), timeout_seconds=0.5
    )
    with caplog.at_level(logging.WARNING, logger="scheduler.travel"):
        matrices = model.matrices([PLAZA, KU_MED])
    assert matrices.fell_back
    assert matrices.durations == GeodesicTravelTimes(KC).matrices([PLAZA, KU_MED]).durations
    assert "could not connect" in caplog.records[0].getMessage()


def test_after_a_failure_osrm_is_left_alone_for_a_while(osrm: StubServer) -> None:
    now = [1000.0]
    osrm.respond = lambda path: Reply(503, b"")
    model = osrm_model(osrm, retry_after_seconds=60.0, clock=lambda: now[0])
    assert model.matrices([PLAZA, KU_MED]).fell_back
    now[0] += 59.0
    assert model.matrices([PLAZA, KU_MED]).fell_back
    assert len(osrm.requests) == 1  # the second day did not wait for the service

    osrm.respond = lambda path: Reply(200, osrm_table([[0, 7], [7, 0]], [[0, 9], [9, 0]]))
    now[0] += 2.0
    recovered = model.matrices([PLAZA, KU_MED])
    assert len(osrm.requests) == 2
    assert recovered.source == "osrm" and recovered.durations == ((0, 7), (7, 0))


def test_the_service_description_hides_credentials() -> None:
    model = OsrmTravelTimes(
        "https://me:secret@osrm.example.org:5000/v5/", fallback=GeodesicTravelTimes(KC)
    )
    assert model.describe_service() == "https://osrm.example.org:5000/v5"


# ---------------------------------------------------------------------------------------------
# The cache


class Counting:
    """The real geodesic model, counting how often it is asked."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.calls: list[tuple[Any, ...]] = []

    def matrices(self, points: Any, depart_at: datetime | None = None) -> Matrices:
        self.calls.append(tuple(points))
        return self.inner.matrices(points, depart_at)


def test_the_cache_answers_a_repeated_request() -> None:
    counting = Counting(GeodesicTravelTimes(KC, RUSH))
    cache = CachedTravelTimes(counting, band=RUSH.band)
    morning = datetime(2026, 3, 9, 7, 30, tzinfo=CHICAGO)
    first = cache.matrices([PLAZA, KU_MED, TRUMAN], morning)
    again = cache.matrices([PLAZA, KU_MED, TRUMAN], morning.replace(hour=8))  # same band
    nudged = cache.matrices(
        [(PLAZA[0] + 1e-7, PLAZA[1]), KU_MED, TRUMAN], morning
    )  # 1 cm away: rounded to the same key
    assert first is again is nudged
    assert len(counting.calls) == 1 and (cache.hits, cache.misses) == (2, 1)
    assert first == GeodesicTravelTimes(KC, RUSH).matrices([PLAZA, KU_MED, TRUMAN], morning)


def test_the_cache_keeps_rush_and_off_peak_apart() -> None:
    counting = Counting(GeodesicTravelTimes(KC, RUSH))
    cache = CachedTravelTimes(counting, band=RUSH.band)
    rush = cache.matrices([PLAZA, KU_MED], datetime(2026, 3, 9, 8, 0, tzinfo=CHICAGO))
    noon = cache.matrices([PLAZA, KU_MED], datetime(2026, 3, 9, 12, 0, tzinfo=CHICAGO))
    unknown = cache.matrices([PLAZA, KU_MED], None)
    assert rush.durations[0][1] > noon.durations[0][1]
    assert noon is unknown and len(counting.calls) == 2


def test_the_cache_is_bounded_and_forgets_the_least_recently_used() -> None:
    counting = Counting(GeodesicTravelTimes(KC))
    cache = CachedTravelTimes(counting, band=RUSH.band, max_entries=2)
    a, b, c = [PLAZA, KU_MED], [PLAZA, TRUMAN], [PLAZA, KCI]
    cache.matrices(a)
    cache.matrices(b)
    cache.matrices(a)  # a is now the most recent
    cache.matrices(c)  # evicts b
    assert len(cache) == 2
    cache.matrices(a)
    assert len(counting.calls) == 3
    cache.matrices(b)
    assert len(counting.calls) == 4


def test_the_cache_does_not_keep_fallback_answers(osrm: StubServer) -> None:
    osrm.respond = lambda path: Reply(500, b"")
    cache = CachedTravelTimes(osrm_model(osrm, retry_after_seconds=0.0), band=RUSH.band)
    assert cache.matrices([PLAZA, KU_MED]).fell_back
    osrm.respond = lambda path: Reply(200, osrm_table([[0, 7], [7, 0]], [[0, 9], [9, 0]]))
    assert cache.matrices([PLAZA, KU_MED]).source == "osrm"
    assert cache.matrices([PLAZA, KU_MED]).source == "osrm"
    assert len(osrm.requests) == 2 and cache.hits == 1


# ---------------------------------------------------------------------------------------------
# From settings


def test_the_default_settings_give_the_cached_offline_model(app_settings: Settings) -> None:
    model = make_travel_times(app_settings)
    assert isinstance(model, CachedTravelTimes)
    assert isinstance(model.inner, GeodesicTravelTimes)
    assert model.inner.calibration == KC
    assert model.inner.rush == RUSH
    assert calibration_from_settings(app_settings) == KC
    assert rush_hours_from_settings(app_settings) == RUSH


def test_settings_change_the_figures(tmp_path: Any) -> None:
    settings = load_settings(
        environ={},
        overrides={
            "instance": {"path": str(tmp_path)},
            "travel": {"circuity": 1.5, "rush_hours": "10:00-11:00", "rush_hour_factor": 2.0},
        },
    )
    model = make_travel_times(settings)
    at_ten = model.matrices([PLAZA, KU_MED], datetime(2026, 3, 9, 10, 30, tzinfo=CHICAGO))
    at_eight = model.matrices([PLAZA, KU_MED], datetime(2026, 3, 9, 8, 30, tzinfo=CHICAGO))
    assert at_ten.distances[0][1] == whole(straight_line_metres(PLAZA, KU_MED) * 1.5)
    assert at_ten.durations[0][1] == pytest.approx(2 * at_eight.durations[0][1], abs=1)


def test_osrm_settings_give_the_service_with_the_offline_model_behind(tmp_path: Any) -> None:
    settings = load_settings(
        environ={},
        overrides={
            "instance": {"path": str(tmp_path)},
            "travel": {
                "model": "osrm",
                "osrm_url": "http://osrm.internal:5000",
                "osrm_timeout_seconds": 2.5,
            },
        },
    )
    model = make_travel_times(settings)
    service = model.inner
    assert isinstance(service, OsrmTravelTimes)
    assert service.base_url == "http://osrm.internal:5000"
    assert service.timeout_seconds == 2.5
    assert isinstance(service.fallback, GeodesicTravelTimes)
    assert service.rush == service.fallback.rush == RUSH


@pytest.mark.parametrize(
    ("short_km", "long_km", "bands"),
    [
        (3.0, 15.0, ((3_000.0, 30.0), (15_000.0, 45.0), (math.inf, 65.0))),
        (0.0, 15.0, ((15_000.0, 45.0), (math.inf, 65.0))),  # no city stretch
        (3.0, 3.0, ((3_000.0, 30.0), (math.inf, 65.0))),  # no arterial stretch
        (0.0, 0.0, ((math.inf, 65.0),)),  # one speed for every trip
    ],
)
def test_settings_become_the_optimizers_speed_bands(
    tmp_path: Any, short_km: float, long_km: float, bands: tuple[Any, ...]
) -> None:
    settings = load_settings(
        environ={},
        overrides={
            "instance": {"path": str(tmp_path)},
            "travel": {"short_trip_km": short_km, "long_trip_km": long_km},
        },
    )
    assert calibration_from_settings(settings) == DrivingCalibration(1.3, bands)
