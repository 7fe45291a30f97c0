"""The geodesic travel model: self-checking parameters and the laws of its matrices."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.optimizer import TravelModel, travel_matrices
from scheduler.optimizer.integers import round_half_up, scale_up

KC_DOWNTOWN = (-94.5786, 39.0997)
KU_MEDICAL = (-94.6100, 39.0570)  # about 5.3 km south-west, straight line

coords = st.tuples(st.floats(-94.9, -94.3), st.floats(38.8, 39.3))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"circuity": 0.9}, "circuity"),
        ({"circuity": math.nan}, "circuity"),
        ({"speed_bands": ()}, "speed_bands"),
        ({"speed_bands": ((1000.0, 30.0), (500.0, 40.0), (math.inf, 50.0))}, "speed_bands[1]"),
        ({"speed_bands": ((1000.0, 0.0), (math.inf, 50.0))}, "speed_bands[0]"),
        ({"speed_bands": ((1000.0, 30.0),)}, "speed_bands"),
    ],
)
def test_parameters_check_themselves(kwargs, field):
    with pytest.raises(ValueError, match=field.replace("[", r"\[").replace("]", r"\]")):
        TravelModel(**kwargs)


def test_a_known_trip():
    # 5.3 km straight, x1.3 circuity = 6.9 km of road: 2 km at 25 km/h (288 s) then 4.9 km
    # at 45 km/h (about 392 s): about 11 minutes.
    durations, distances = travel_matrices([KC_DOWNTOWN, KU_MEDICAL])
    assert 6_500 < distances[0][1] < 7_300
    assert 600 < durations[0][1] < 740


def test_bands_apply_like_a_tax_table():
    model = TravelModel(circuity=1.0, speed_bands=((1000.0, 36.0), (math.inf, 72.0)))
    assert model.seconds_for(1000) == pytest.approx(100)  # 10 m/s
    assert model.seconds_for(3000) == pytest.approx(100 + 100)  # then 20 m/s


@settings(max_examples=40, deadline=None)
@given(st.lists(coords, min_size=1, max_size=6))
def test_matrix_laws(points):
    durations, distances = travel_matrices(points)
    size = len(points)
    for i in range(size):
        assert durations[i][i] == 0 and distances[i][i] == 0
        for j in range(size):
            assert durations[i][j] == durations[j][i] >= 0
            assert isinstance(durations[i][j], int) and isinstance(distances[i][j], int)
            if points[i] == points[j]:
                assert durations[i][j] == 0


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 200_000), st.floats(0, 200_000))
def test_longer_trips_never_take_less_time(a, b):
    model = TravelModel()
    short, long = sorted((a, b))
    assert model.seconds_for(short) <= model.seconds_for(long)


def test_integer_rules():
    assert round_half_up(0.5) == 1 and round_half_up(1.49) == 1 and round_half_up(2.5) == 3
    assert scale_up(0.1, 10) == 1  # binary noise does not round 1.0000000000000002 up
    assert scale_up(1.234, 100) == 124
    assert scale_up(math.sqrt(2), 100) == 142
