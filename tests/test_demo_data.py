"""The Kansas City demo data file: well formed, consistent, and giving the week issue 2 asks for.

These tests read ``scheduler/demo/kansas_city.json`` as data (no database): its shape, that every
key it uses resolves, that it is large and varied enough, that its times, rules and flags are
valid, and that its calendar gives each therapist a working week of the promised size.

The calendar law tested (``test_each_therapist_has_four_to_nine_visits_on_most_working_days``):
for every anchor Monday in ANCHORS and every therapist, over the 8 weeks from the anchor,
    - on at least 90% of the therapist's working days the number of visits is in [4, 9], and
    - on no working day is it below 2 or above 12,
where a working day is a date whose weekday is in the therapist's shifts (so Saturday counts
only for the one who works Saturdays) and on which the practice is not closed (the file's
closures: Thanksgiving, Christmas Day, fixed holidays whatever the anchor), a visit is an
occurrence of a series' rule between its first date (anchor + starts_in_days) and its last
(first + lasts_days - 1), and a visit of a series without a fixed therapist counts for the
client's primary therapist when they have the required skills and work that day, else for the
first therapist in the file who does.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections import Counter
from datetime import date, datetime, time, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from dateutil.rrule import rrulestr

from scheduler.models import FacilityKind
from scheduler.records.precautions import validate_flags

CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKS = 8
_today = date.today()
ANCHORS = sorted({
    _today - timedelta(days=_today.weekday()),  # the week the demo would be loaded now
    date(2026, 3, 2),  # spring-forward week (2026-03-08) inside the 8 weeks
    date(2026, 6, 1),
    date(2026, 10, 26),  # fall-back week (2026-11-01) inside the 8 weeks
    date(2026, 11, 30),
    date(2027, 3, 8),  # starts on a clock-change week (2027-03-14)
})
LAT_BOX, LON_BOX = (38.7, 39.4), (-95.0, -94.2)
TREATMENT_KINDS = {"dialysis", "radiation", "chemotherapy", "immunotherapy", "physical_therapy",
                   "occupational_therapy", "med_pass", "wound_care", "imaging", "other"}
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

REQUIRED = {
    "facility": {"key", "name", "kind", "address", "lat", "lon", "overhead_minutes",
                 "parking_notes", "infection_control", "notes", "hours"},
    "therapist": {"key", "name", "email", "role", "home_address", "home_lat", "home_lon",
                  "skills", "shifts", "break", "max_visits_per_day", "max_hands_on_minutes",
                  "email_time"},
    "client": {"key", "first_name", "last_name", "facility", "room", "precaution_flags",
               "precaution_notes", "diagnosis", "care_contact", "primary_therapist",
               "treatments"},
    "treatment": {"key", "kind", "label", "facility", "rule", "start_time", "duration_minutes",
                  "buffer_before_minutes", "buffer_after_minutes", "policy"},
    "series": {"key", "client", "therapist", "required_skills", "rule", "duration_minutes",
               "preferred_windows", "priority", "during_treatment", "notes"},
    "closure": {"reason", "rule"},
}
OPTIONAL = {"series": {"starts_in_days", "lasts_days"}}


@cache
def _data() -> dict[str, Any]:
    text = resources.files("scheduler.demo").joinpath("kansas_city.json").read_text("utf-8")
    return json.loads(text)


@pytest.fixture
def data() -> dict[str, Any]:
    return _data()


def _treatments(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for client in data["clients"] for t in client["treatments"]]


def _minutes(text: str) -> int:
    return int(text[:2]) * 60 + int(text[3:])


# --- Shape and references ----------------------------------------------------------------------


def test_every_record_has_exactly_the_schema_keys(data: dict[str, Any]) -> None:
    assert set(data) == {"practice", "facilities", "therapists", "clients", "series",
                         "closures"}
    assert data["practice"] == {"name": "Heartland Oncology Massage (demo)",
                                "timezone": "America/Chicago"}
    records = ([("facility", r) for r in data["facilities"]]
               + [("therapist", r) for r in data["therapists"]]
               + [("client", r) for r in data["clients"]]
               + [("treatment", r) for r in _treatments(data)]
               + [("series", r) for r in data["series"]]
               + [("closure", r) for r in data["closures"]])
    for kind, record in records:
        missing = REQUIRED[kind] - set(record)
        unknown = set(record) - REQUIRED[kind] - OPTIONAL.get(kind, set())
        assert not missing and not unknown, (kind, record.get("key"), missing, unknown)


def test_keys_are_unique_and_every_reference_resolves(data: dict[str, Any]) -> None:
    tables = {name: [r["key"] for r in rows] for name, rows in (
        ("facilities", data["facilities"]), ("therapists", data["therapists"]),
        ("clients", data["clients"]), ("treatments", _treatments(data)),
        ("series", data["series"]))}
    for name, keys in tables.items():
        assert len(keys) == len(set(keys)), f"duplicate keys in {name}"
    facilities, therapists = set(tables["facilities"]), set(tables["therapists"])
    clients = {c["key"]: c for c in data["clients"]}
    for client in data["clients"]:
        assert client["facility"] in facilities, client["key"]
        assert client["primary_therapist"] in therapists, client["key"]
        for treatment in client["treatments"]:
            assert treatment["facility"] is None or treatment["facility"] in facilities
    for series in data["series"]:
        assert series["client"] in clients, series["key"]
        assert series["therapist"] is None or series["therapist"] in therapists, series["key"]


def test_during_references_point_at_the_clients_own_during_treatment(
        data: dict[str, Any]) -> None:
    clients = {c["key"]: c for c in data["clients"]}
    during = [s for s in data["series"] if s["during_treatment"]]
    assert len(during) >= 5, "a few chair-side / infusion-chair series are expected"
    for series in during:
        own = {t["key"]: t for t in clients[series["client"]]["treatments"]}
        assert series["during_treatment"] in own, series["key"]
        assert own[series["during_treatment"]]["policy"] == "during", series["key"]
    assert any(clients[s["client"]]["treatments"][0]["kind"] == "dialysis" for s in during)


def test_a_series_without_a_therapist_names_skills_someone_has(data: dict[str, Any]) -> None:
    skill_sets = [set(t["skills"]) for t in data["therapists"]]
    open_series = [s for s in data["series"] if s["therapist"] is None]
    assert len(open_series) >= 5
    for series in open_series:
        assert series["required_skills"], series["key"]
        assert any(set(series["required_skills"]) <= skills for skills in skill_sets)


# --- Size and variety --------------------------------------------------------------------------


def test_the_practice_is_as_large_as_the_issue_asks(data: dict[str, Any]) -> None:
    assert len(data["facilities"]) >= 25
    assert len(data["therapists"]) >= 3
    assert len(data["clients"]) >= 40
    assert len(data["series"]) >= 60
    recurring = [s for s in data["series"] if s["rule"]]
    assert len(recurring) >= 60


def test_facilities_lie_on_both_sides_of_the_state_line(data: dict[str, Any]) -> None:
    states = Counter(re.search(r",\s*(MO|KS)\b", f["address"]).group(1)
                     for f in data["facilities"])
    assert states["MO"] >= 8 and states["KS"] >= 8, states


def test_every_kind_of_place_is_there(data: dict[str, Any]) -> None:
    kinds = Counter(f["kind"] for f in data["facilities"])
    assert set(kinds) <= {k.value for k in FacilityKind}
    for kind in ("hospital", "cancer_center", "dialysis", "nursing_home", "assisted_living",
                 "hospice"):
        assert kinds[kind] >= 1, kind
    assert kinds["hospital"] >= 10


def test_coordinates_lie_in_the_kansas_city_metro(data: dict[str, Any]) -> None:
    points = ([(f["key"], f["lat"], f["lon"]) for f in data["facilities"]]
              + [(t["key"], t["home_lat"], t["home_lon"]) for t in data["therapists"]])
    for key, lat, lon in points:
        assert LAT_BOX[0] <= lat <= LAT_BOX[1] and LON_BOX[0] <= lon <= LON_BOX[1], key
    distinct = {(round(lat, 4), round(lon, 4)) for _, lat, lon in points}
    assert len(distinct) == len(points), "two places share coordinates"


def test_therapists_differ_in_place_skills_and_shifts(data: dict[str, Any]) -> None:
    therapists = data["therapists"]
    assert [t["role"] for t in therapists].count("admin") == 1
    assert {t["role"] for t in therapists} <= {"admin", "therapist"}
    assert len({frozenset(t["skills"]) for t in therapists}) == len(therapists)
    assert len({json.dumps(t["shifts"], sort_keys=True) for t in therapists}) >= 3
    assert any("SA" in t["shifts"] for t in therapists)
    assert any(len({tuple(v) for v in t["shifts"].values()}) > 1 for t in therapists)


def test_people_are_fictional(data: dict[str, Any]) -> None:
    for therapist in data["therapists"]:
        assert therapist["email"].endswith("@example.org"), therapist["key"]
    for client in data["clients"]:
        phones = re.findall(r"\d{3}-\d{3}-\d{4}", client["care_contact"])
        assert phones, client["key"]
        assert all(re.fullmatch(r"(816|913)-555-01\d\d", p) for p in phones), client["key"]


def test_treatment_calendars_are_realistic(data: dict[str, Any]) -> None:
    treatments = _treatments(data)
    kinds = Counter(t["kind"] for t in treatments)
    assert set(kinds) <= TREATMENT_KINDS
    for kind in ("dialysis", "radiation", "chemotherapy", "immunotherapy", "med_pass",
                 "physical_therapy"):
        assert kinds[kind] >= 2, kind
    dialysis_days = {t["rule"].split("BYDAY=")[1] for t in treatments if t["kind"] == "dialysis"}
    assert dialysis_days == {"MO,WE,FR", "TU,TH,SA"}
    assert any("INTERVAL=" in t["rule"] for t in treatments if t["kind"] == "chemotherapy")
    assert any(t["facility"] for t in treatments if t["kind"] == "radiation"), \
        "some radiation happens at another facility"


def test_series_mix_recurrences_priorities_and_lengths(data: dict[str, Any]) -> None:
    series = data["series"]
    rules = [s["rule"] or "" for s in series]
    assert sum("INTERVAL=2" in r for r in rules) >= 3
    assert sum("FREQ=MONTHLY" in r for r in rules) >= 2
    assert sum(s["rule"] is None for s in series) >= 3
    assert sum(s["therapist"] is None for s in series) >= 5
    priorities = [s["priority"] for s in series]
    assert min(priorities) <= 40 and max(priorities) >= 90


# --- Values ------------------------------------------------------------------------------------


def _check_weekly(table: dict[str, list[str]], where: str) -> None:
    assert table, f"{where}: no days"
    for code, pair in table.items():
        assert code in CODES, f"{where}: unknown weekday {code!r}"
        assert len(pair) == 2 and all(HHMM.match(t) for t in pair), f"{where}.{code}: {pair}"
        assert _minutes(pair[0]) < _minutes(pair[1]), f"{where}.{code}: opens after it closes"


def test_hours_and_shifts_are_well_formed(data: dict[str, Any]) -> None:
    for facility in data["facilities"]:
        _check_weekly(facility["hours"], facility["key"])
        assert 5 <= facility["overhead_minutes"] <= 20, facility["key"]
    for therapist in data["therapists"]:
        _check_weekly(therapist["shifts"], therapist["key"])
        pause = therapist["break"]
        assert HHMM.match(pause["start"]) and HHMM.match(pause["end"])
        window = _minutes(pause["end"]) - _minutes(pause["start"])
        assert 0 < pause["minutes"] <= window, therapist["key"]
        assert HHMM.match(therapist["email_time"])
        assert therapist["max_visits_per_day"] > 0 and therapist["max_hands_on_minutes"] > 0
    by_kind: dict[str, set[str]] = {}
    for facility in data["facilities"]:
        by_kind.setdefault(facility["kind"], set()).update(facility["hours"])
    assert by_kind["cancer_center"] <= set(CODES[:5]), "cancer centres open on weekdays"
    assert "SA" in by_kind["dialysis"] and "SU" not in by_kind["dialysis"]


def test_every_precaution_flag_is_known_and_most_clients_have_some(
        data: dict[str, Any]) -> None:
    for client in data["clients"]:
        assert validate_flags(client["precaution_flags"]) == [], client["key"]
    flagged = sum(bool(c["precaution_flags"]) for c in data["clients"])
    assert flagged >= 0.9 * len(data["clients"])


def test_rules_parse_and_numbers_are_in_range(data: dict[str, Any]) -> None:
    start = datetime(2026, 11, 30)
    for treatment in _treatments(data):
        rrulestr(treatment["rule"], dtstart=start)
        assert HHMM.match(treatment["start_time"]), treatment["key"]
        assert 0 < treatment["duration_minutes"] <= 24 * 60, treatment["key"]
        assert treatment["buffer_before_minutes"] >= 0, treatment["key"]
        assert treatment["buffer_after_minutes"] >= 0, treatment["key"]
        assert treatment["policy"] in {"avoid", "during"}, treatment["key"]
    for series in data["series"]:
        if series["rule"] is not None:
            rrulestr(series["rule"], dtstart=start)
        assert 30 <= series["duration_minutes"] <= 90, series["key"]
        assert 0 <= series["priority"] <= 100, series["key"]
        assert series.get("starts_in_days", 0) >= 0
        assert series.get("lasts_days") is None or series["lasts_days"] > 0
        for window in series["preferred_windows"]:
            assert len(window) == 2 and _minutes(window[0]) < _minutes(window[1]), series["key"]


# --- The calendar ------------------------------------------------------------------------------


def _occurrences(series: dict[str, Any], anchor: date) -> list[date]:
    """The dates of a series in the WEEKS weeks from anchor, as the loader would date them."""
    first = anchor + timedelta(days=series.get("starts_in_days", 0))
    end = anchor + timedelta(weeks=WEEKS) - timedelta(days=1)
    if series.get("lasts_days"):
        end = min(end, first + timedelta(days=series["lasts_days"] - 1))
    if series["rule"] is None:
        return [first] if first <= end else []
    hits = rrulestr(series["rule"], dtstart=datetime.combine(first, time()))
    return [d.date() for d in hits.between(datetime.combine(first, time()),
                                           datetime.combine(end, time(23, 59)), inc=True)]


def _closed_days(data: dict[str, Any], anchor: date) -> set[date]:
    """The practice's closures in the WEEKS weeks from anchor (yearly holiday rules)."""
    end = datetime.combine(anchor + timedelta(weeks=WEEKS) - timedelta(days=1), time(23, 59))
    start = datetime.combine(anchor, time())
    return {d.date() for c in data["closures"]
            for d in rrulestr(c["rule"], dtstart=start).between(start, end, inc=True)}


def test_closures_are_the_fixed_holidays(data: dict[str, Any]) -> None:
    assert {c["reason"] for c in data["closures"]} == {"Thanksgiving", "Christmas Day"}
    assert _closed_days(data, date(2026, 10, 26)) == {date(2026, 11, 26)}
    assert _closed_days(data, date(2026, 11, 30)) == {date(2026, 12, 25)}
    assert _closed_days(data, date(2027, 11, 1)) == {date(2027, 11, 25), date(2027, 12, 25)}
    assert _closed_days(data, date(2026, 3, 2)) == set()


def _assignee(data: dict[str, Any], series: dict[str, Any], day: date) -> str | None:
    if series["therapist"]:
        return series["therapist"]
    client = next(c for c in data["clients"] if c["key"] == series["client"])
    order = [client["primary_therapist"]] + [t["key"] for t in data["therapists"]]
    therapists = {t["key"]: t for t in data["therapists"]}
    return next((k for k in order if set(series["required_skills"]) <= set(therapists[k]["skills"])
                 and CODES[day.weekday()] in therapists[k]["shifts"]), None)


def _visits_per_day(data: dict[str, Any], anchor: date) -> Counter[tuple[str, date]]:
    counts: Counter[tuple[str, date]] = Counter()
    for series in data["series"]:
        for day in _occurrences(series, anchor):
            who = _assignee(data, series, day)
            assert who is not None, f"{series['key']} on {day}: no therapist can take it"
            counts[who, day] += 1
    return counts


@pytest.mark.parametrize("anchor", ANCHORS, ids=str)
def test_each_therapist_has_four_to_nine_visits_on_most_working_days(
        data: dict[str, Any], anchor: date) -> None:
    counts = _visits_per_day(data, anchor)
    days = [anchor + timedelta(days=i) for i in range(7 * WEEKS)]
    closed = _closed_days(data, anchor)
    for therapist in data["therapists"]:
        shift_days = [d for d in days if CODES[d.weekday()] in therapist["shifts"]]
        working = [d for d in shift_days if d not in closed]
        per_day = [counts[therapist["key"], d] for d in working]
        in_range = sum(4 <= n <= 9 for n in per_day)
        assert in_range >= 0.9 * len(working), (therapist["key"], Counter(per_day))
        assert all(2 <= n <= 12 for n in per_day), (therapist["key"], Counter(per_day))
        off = [d for d in days if d not in shift_days and counts[therapist["key"], d]]
        assert not off, f"{therapist['key']} has visits on days off: {off[:3]}"


@pytest.mark.parametrize("anchor", ANCHORS, ids=str)
def test_visits_fall_on_days_the_facility_is_open(data: dict[str, Any], anchor: date) -> None:
    facility_of = {c["key"]: c["facility"] for c in data["clients"]}
    hours = {f["key"]: f["hours"] for f in data["facilities"]}
    for series in data["series"]:
        for day in _occurrences(series, anchor):
            assert CODES[day.weekday()] in hours[facility_of[series["client"]]], \
                (series["key"], day)


def test_some_days_are_overbooked_but_only_a_few(data: dict[str, Any]) -> None:
    """Overbooked before any driving: hands-on minutes + one overhead per facility + the break
    exceed the shift. A few such days must exist (the optimizer has to choose), not many."""
    anchor = date(2026, 11, 30)
    therapists = {t["key"]: t for t in data["therapists"]}
    client = {c["key"]: c for c in data["clients"]}
    overhead = {f["key"]: f["overhead_minutes"] for f in data["facilities"]}
    days: dict[tuple[str, date], list[dict[str, Any]]] = {}
    for series in data["series"]:
        for day in _occurrences(series, anchor):
            days.setdefault((_assignee(data, series, day), day), []).append(series)
    overbooked = 0
    for (key, day), booked in days.items():
        shift = therapists[key]["shifts"][CODES[day.weekday()]]
        need = (sum(s["duration_minutes"] for s in booked)
                + sum(overhead[f] for f in {client[s["client"]]["facility"] for s in booked})
                + therapists[key]["break"]["minutes"])
        overbooked += need > _minutes(shift[1]) - _minutes(shift[0])
    assert 1 <= overbooked <= 0.15 * len(days), overbooked


# --- Windows, through scripts/check_demo_load.py -----------------------------------------------


@cache
def _checker() -> ModuleType:
    """scripts/check_demo_load.py as a module (scripts/ is not a package)."""
    path = Path(__file__).resolve().parent.parent / "scripts" / "check_demo_load.py"
    spec = importlib.util.spec_from_file_location("check_demo_load", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def test_every_visit_has_a_window_and_some_fit_only_a_narrow_gap(data: dict[str, Any]) -> None:
    checker = _checker()
    anchor = date(2026, 11, 30)
    demo = checker.Demo(data, anchor)
    visits = [v for i in range(7 * WEEKS) for v in demo.visits(anchor + timedelta(days=i))]
    assert visits and all(v.therapist for v in visits)
    no_window = [(v.series, v.day) for v in visits if not v.windows]
    assert not no_window, no_window[:5]
    narrow = {v.series for v in visits if v.widest - v.minutes < checker.NARROW_SLACK}
    assert len(narrow) >= 3, narrow
