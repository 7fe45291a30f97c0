"""The day plan view's map features, navigation hand-off links and the order of the day's
steps: pure functions of a :class:`DayPlanView`, tested from hand-made views."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from scheduler import models
from scheduler.plans.view import BreakView, DayPlanView, Detail, Drive, LegView, PlaceView, StopView
from scheduler.present.geojson import buildings_of, marker_label, route_geojson
from scheduler.present.navigation import handoff, home_handoff, stop_handoff

ZONE = ZoneInfo("America/Chicago")
DAY = date(2026, 12, 5)
HOME = (39.05, -94.60)
# Two buildings a few metres apart (the "4·5" and "6·7"), and a third further off.
TOWER = PlaceView(1, "Cancer Center Tower", "2316 E Meyer Blvd, Kansas City, MO",
                  (39.0100, -94.5500), "Enter by the north door", "", "")
ANNEX = PlaceView(2, "Cancer Center Annex", "2330 E Meyer Blvd, Kansas City, MO",
                  (39.0101, -94.5501), "", "", "")
HOSPICE = PlaceView(3, "Hospice House", "", (39.1000, -94.5000), "", "", "")


def _at(hour: int, minute: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=ZONE)


def _stop(number: int, place: PlaceView, start: datetime, *, drive: float = 10.0,
          state: models.StopState = models.StopState.PLANNED, same_building: bool = False,
          origin: tuple[float, float] = HOME) -> StopView:
    assert place.location is not None
    arrive = start - timedelta(minutes=10)
    return StopView(
        id=100 + number, number=number, position=number - 1, series_id=number,
        occurrence_date=DAY, state=state, pinned=False, arrive=arrive, start=start,
        end=start + timedelta(minutes=60),
        drive=Drive(origin, place.location, arrive - timedelta(minutes=drive), drive, 3.0),
        drive_minutes=drive, drive_km=3.0, overhead_minutes=10, place=place, client_id=number,
        initials="AB", name=None, room=f"{number}01", flags=(), flag_codes=(),
        precaution_notes="", window_note="", uid=f"uid-{number}", same_building=same_building)


def _view(stops: list[StopView], break_: BreakView | None = None) -> DayPlanView:
    return DayPlanView(
        plan_id=1, therapist_id=2, therapist_name="Theo", day=DAY, zone=ZONE, version=1,
        status=models.PlanStatus.PUBLISHED, created_at=_at(6), published_at=_at(6),
        replanned_at=None, home=HOME, leave_home=_at(8), back_home=_at(17), stops=tuple(stops),
        break_=break_,
        home_drive=Drive(stops[-1].place.location or HOME, HOME, stops[-1].end, 20, 9)
        if stops else None,
        left_out=(), drive_minutes=60, drive_km=20, solver={}, detail=Detail.MINIMAL,
        home_address="12 Elm St, Kansas City, MO")


# ---------------------------------------------------------------------------------------------
# The map: one marker per building, each stop with its own state


def test_stops_in_one_building_share_one_marker_with_each_stops_state():
    stops = [_stop(1, TOWER, _at(9), state=models.StopState.DONE),
             _stop(2, HOSPICE, _at(10, 30)),
             _stop(3, TOWER, _at(13), state=models.StopState.PLANNED),
             _stop(4, ANNEX, _at(14, 30), state=models.StopState.SKIPPED)]
    data = route_geojson(_view(stops))
    buildings = [f["properties"] for f in data["features"]
                 if f["properties"]["kind"] == "building"]
    # the tower's two stops share one marker; the annex a few metres away has its own
    assert [b["place"] for b in buildings] == ["Cancer Center Tower", "Hospice House",
                                               "Cancer Center Annex"]
    tower = buildings[0]
    assert [(s["number"], s["state"]) for s in tower["stops"]] == [(1, "done"), (3, "planned")]
    assert tower["label"] == "1 ✓ · 3 ○"  # not the first stop's colour for both
    assert tower["title"] == "Cancer Center Tower: stop 1 done, stop 3 to do"
    assert buildings[2]["label"] == "4 ✗"
    # each stop feature still carries its own state and says which marker it is on
    by_number = {f["properties"]["number"]: f["properties"] for f in data["features"]
                 if f["properties"]["kind"] == "stop"}
    assert by_number[1]["state"] == "done" and by_number[3]["state"] == "planned"
    assert by_number[1]["building"] == by_number[3]["building"] == 0
    assert by_number[4]["building"] == 2
    # coordinates [lon, lat]; the marker sits on its building
    tower_feature = next(f for f in data["features"] if f["properties"]["kind"] == "building")
    assert tower_feature["geometry"]["coordinates"] == [-94.55, 39.01]


def test_a_stop_without_coordinates_has_no_marker():
    nowhere = replace(HOSPICE, id=9, location=None)
    stops = [_stop(1, TOWER, _at(9)), replace(_stop(2, HOSPICE, _at(11)), place=nowhere)]
    groups = buildings_of(stops)
    assert [[s.number for s in group] for group in groups] == [[1]]
    assert marker_label(groups[0]) == "1 ○"


# ---------------------------------------------------------------------------------------------
# Navigation: from the device's position to the street address; none inside one building


def test_links_go_from_the_device_to_the_street_address():
    nav = stop_handoff(_stop(1, TOWER, _at(9)))
    assert nav is not None
    google = urlsplit(nav.google)
    assert google.netloc == "www.google.com" and google.path == "/maps/dir/"
    assert parse_qs(google.query) == {"api": ["1"], "travelmode": ["driving"],
                                      "destination": ["2316 E Meyer Blvd, Kansas City, MO"]}
    apple = urlsplit(nav.apple)
    assert apple.netloc == "maps.apple.com"
    assert parse_qs(apple.query) == {"daddr": ["2316 E Meyer Blvd, Kansas City, MO"],
                                     "dirflg": ["d"]}
    assert nav.geo == "geo:0,0?q=2316%20E%20Meyer%20Blvd%2C%20Kansas%20City%2C%20MO"
    assert nav.address == "2316 E Meyer Blvd, Kansas City, MO"
    assert nav.note == "Enter by the north door"


def test_no_link_for_a_move_inside_one_building():
    assert stop_handoff(_stop(2, TOWER, _at(11), drive=0, same_building=True)) is None


def test_without_an_address_the_coordinates_lead_and_without_either_nothing():
    nav = stop_handoff(_stop(1, HOSPICE, _at(9)))
    assert nav is not None and nav.address == ""
    assert parse_qs(urlsplit(nav.google).query)["destination"] == ["39.100000,-94.500000"]
    assert nav.geo == "geo:0,0?q=39.100000%2C-94.500000"
    assert handoff("  ", None) is None


def test_the_drive_home_goes_to_the_home_address():
    nav = home_handoff(_view([_stop(1, TOWER, _at(9))]))
    assert nav is not None
    assert parse_qs(urlsplit(nav.apple).query)["daddr"] == ["12 Elm St, Kansas City, MO"]
    assert home_handoff(_view([])) is None


# ---------------------------------------------------------------------------------------------
# The day's steps in time order: the drive before a break taken on arriving


def _described(steps: list[LegView | BreakView | StopView]) -> list[str]:
    words = []
    for step in steps:
        if isinstance(step, LegView):
            words.append(f"leave {step.at:%H:%M} to {step.stop.number}")
        elif isinstance(step, BreakView):
            words.append(f"break {step.start:%H:%M}")
        else:
            words.append(f"stop {step.number} {step.start:%H:%M}")
    return words


def test_a_break_taken_on_arriving_comes_after_the_drive_that_leads_there():
    # Stop 2: leave 11:42 (drive 38 min, arrive 12:20), break 12:30–13:00, visit at 13:00.
    first = _stop(1, TOWER, _at(9))
    second = replace(_stop(2, HOSPICE, _at(13), drive=38), arrive=_at(12, 20),
                     drive=Drive(TOWER.location or HOME, HOSPICE.location or HOME,
                                 _at(11, 42), 38, 30))
    view = _view([first, second], BreakView(_at(12, 30), _at(13)))
    assert _described(view.steps) == ["leave 08:40 to 1", "stop 1 09:00",
                                      "leave 11:42 to 2", "break 12:30", "stop 2 13:00"]


def test_a_break_before_leaving_comes_before_the_drive_and_one_after_the_last_stop_last():
    first = _stop(1, TOWER, _at(9))
    second = _stop(2, HOSPICE, _at(13), drive=20)  # leaves 12:30
    assert _described(_view([first, second], BreakView(_at(11), _at(11, 30))).steps) == [
        "leave 08:40 to 1", "stop 1 09:00", "break 11:00", "leave 12:30 to 2", "stop 2 13:00"]
    assert _described(_view([first], BreakView(_at(15), _at(15, 30))).steps)[-1] == \
        "break 15:00"


def test_a_move_inside_one_building_has_no_drive_step():
    first = _stop(1, TOWER, _at(9))
    second = _stop(2, TOWER, _at(10, 30), drive=0, same_building=True)
    assert _described(_view([first, second]).steps) == [
        "leave 08:40 to 1", "stop 1 09:00", "stop 2 10:30"]


# ---------------------------------------------------------------------------------------------
# A stop the records now forbid, in the calendar event and in the JSON of `rounds plan`


def test_a_forbidden_stop_says_so_in_its_event_title_and_in_the_plan_data(tmp_path):
    import icalendar

    from scheduler.present.calendar_file import views_ics
    from scheduler.present.text import plan_as_data
    from scheduler.settings import load_settings

    settings = load_settings(environ={}, overrides={"instance": {"path": str(tmp_path)}})
    forbidden = replace(_stop(2, ANNEX, _at(11)), do_not_visit="the dialysis does not take place")
    view = _view([_stop(1, TOWER, _at(9)), forbidden])
    events = icalendar.Calendar.from_ical(views_ics([view], settings)).walk("VEVENT")
    titles = {str(e["uid"]): str(e["summary"]) for e in events}
    assert titles == {"uid-1": "Visit AB at Cancer Center Tower",
                      "uid-2": "DO NOT VISIT: Visit AB at Cancer Center Annex"}
    described = next(str(e["description"]) for e in events if str(e["uid"]) == "uid-2")
    assert described.startswith("DO NOT VISIT: the dialysis does not take place")
    data = plan_as_data(view)
    assert [s["do_not_visit"] for s in data["stops"]] == [
        None, "the dialysis does not take place"]
