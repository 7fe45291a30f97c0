"""Which stop the phone's day page opens on: the first still planned, in the day's order."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from scheduler.models import StopState
from scheduler.plans.view import PlaceView, StopView, next_stop

START = datetime(2026, 3, 9, 10, 0)


def _stop(number: int, state: StopState = StopState.PLANNED) -> StopView:
    place = PlaceView(id=1, name="Mercy", address="", location=None, parking_notes="",
                      infection_control="", notes="")
    return StopView(
        id=number, number=number, position=number - 1, series_id=1,
        occurrence_date=date(2026, 3, 9), state=state, pinned=False, arrive=START, start=START,
        end=START, drive=None, drive_minutes=0.0, drive_km=0.0, overhead_minutes=0,
        place=place, client_id=number, initials="A.B.", name=None, room="", flags=(),
        flag_codes=(), precaution_notes="", window_note="", uid=f"u{number}")


def test_the_first_planned_stop_is_next():
    stops = [_stop(1), _stop(2), _stop(3)]
    assert next_stop(stops) == stops[0]


def test_done_and_skipped_stops_are_passed_over_in_order():
    stops = [_stop(1, StopState.DONE), _stop(2, StopState.SKIPPED), _stop(3), _stop(4)]
    assert next_stop(stops) == stops[2]


def test_a_stop_put_back_to_planned_is_next_again():
    stops = [_stop(1, StopState.DONE), _stop(2)]
    assert next_stop(stops) == stops[1]
    undone = [replace(stops[0], state=StopState.PLANNED), stops[1]]
    assert next_stop(undone) == undone[0]


def test_no_next_stop_when_the_day_is_through_or_empty():
    assert next_stop([_stop(1, StopState.DONE), _stop(2, StopState.SKIPPED)]) is None
    assert next_stop([]) is None
