"""A treatment's changed occurrences in the calendar: cancelled, moved (date, start, length),
a last date and COUNT, the days the clocks change, the rules' words and their caches.

The running example is hemodialysis Mon/Wed/Fri 06:00 for 240 minutes in Chicago, worked out
by hand: Monday 2026-12-07 is moved to 08:00–12:00, or cancelled, or moved to Tuesday. The
placements are also compared with a brute-force expansion by dateutil on random changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event
from sqlalchemy.orm import Session

from scheduler import models
from scheduler.calendar.availability import compute_availability
from scheduler.calendar.day import calendar_as_data, day_calendar, load_practice
from scheduler.calendar.treatments import (
    displaced_occurrences,
    treatment_epoch_intervals,
    treatment_intervals,
    treatment_occurrences,
)
from scheduler.calendar.visit_rules import during_bound, treatment_blocks, visit_constraints
from scheduler.cli.visits import format_visits

CHICAGO = ZoneInfo("America/Chicago")
MONDAY, TUESDAY, WEDNESDAY = date(2026, 12, 7), date(2026, 12, 8), date(2026, 12, 9)
FRIDAY_BEFORE = date(2026, 12, 4)
SPRING, FALL = date(2026, 3, 8), date(2026, 11, 1)  # Sundays the clocks change in Chicago
HOUR = 3600


@dataclass
class Change:
    original_date: date
    action: str
    new_date: date | None = None
    new_start_time: time | None = None
    new_duration_minutes: int | None = None


@dataclass
class Treatment:
    rule: str | None
    first_date: date
    start_time: time
    duration_minutes: int
    kind: str = "dialysis"
    label: str = "Hemodialysis"
    policy: str = "during"
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    facility_id: int | None = None
    last_date: date | None = None
    exceptions: list[Change] = field(default_factory=list)


def dialysis(*changes: Change, **extra: object) -> Treatment:
    return Treatment("FREQ=WEEKLY;BYDAY=MO,WE,FR", date(2026, 1, 5), time(6), 240,
                     exceptions=list(changes), **extra)  # type: ignore[arg-type]


def at(day: date, hour: int, minute: int = 0) -> int:
    return int(datetime(day.year, day.month, day.day, hour, minute,
                        tzinfo=CHICAGO).timestamp())


def hours(treatment: Treatment, day: date) -> list[tuple[str, str]]:
    """The occurrences touching ``day`` as local "HH:MM" pairs (another day's with its date)."""
    found = []
    for start, end in treatment_intervals(treatment, day, CHICAGO):
        found.append(tuple(f"{moment:%H:%M}" if moment.date() == day
                           else f"{moment:%a} {moment:%H:%M}" for moment in (start, end)))
    return found


# ---------------------------------------------------------------------------------------------
# Cancel, move, last date, COUNT


def test_a_cancelled_occurrence_is_gone_and_the_others_stay() -> None:
    treatment = dialysis(Change(MONDAY, "cancel"))
    assert hours(treatment, MONDAY) == []
    assert hours(treatment, WEDNESDAY) == [("06:00", "10:00")]
    assert hours(treatment, FRIDAY_BEFORE) == [("06:00", "10:00")]


def test_a_move_within_the_day_takes_the_new_start_and_length() -> None:
    assert hours(dialysis(Change(MONDAY, "move", None, time(8))), MONDAY) == [("08:00", "12:00")]
    longer = dialysis(Change(MONDAY, "move", None, None, 300))
    assert hours(longer, MONDAY) == [("06:00", "11:00")]
    both = dialysis(Change(MONDAY, "move", MONDAY, time(13, 30), 90))
    assert hours(both, MONDAY) == [("13:30", "15:00")]
    (occurrence,) = treatment_occurrences(both, MONDAY, CHICAGO)
    assert occurrence.moved and occurrence.original_date == occurrence.date == MONDAY


def test_a_move_to_another_date_leaves_one_day_and_reaches_the_other() -> None:
    treatment = dialysis(Change(MONDAY, "move", TUESDAY, time(8)))
    assert hours(treatment, MONDAY) == []
    assert hours(treatment, TUESDAY) == [("08:00", "12:00")]  # no dialysis on Tuesdays otherwise
    (occurrence,) = treatment_occurrences(treatment, TUESDAY, CHICAGO)
    assert (occurrence.original_date, occurrence.date, occurrence.moved) == (MONDAY, TUESDAY,
                                                                             True)


def test_a_move_from_far_away_is_found_and_one_moved_far_away_is_gone() -> None:
    # Friday 2026-12-04's session moved eleven days on, to Tuesday 2026-12-15; Monday
    # 2026-12-14's moved back to Saturday 2026-12-05.
    treatment = dialysis(Change(FRIDAY_BEFORE, "move", date(2026, 12, 15)),
                         Change(date(2026, 12, 14), "move", date(2026, 12, 5), time(9)))
    assert hours(treatment, FRIDAY_BEFORE) == []
    assert hours(treatment, date(2026, 12, 15)) == [("06:00", "10:00")]
    assert hours(treatment, date(2026, 12, 14)) == []
    assert hours(treatment, date(2026, 12, 5)) == [("09:00", "13:00")]


def test_an_occurrence_moved_next_to_another_gives_both_in_time_order() -> None:
    treatment = dialysis(Change(FRIDAY_BEFORE, "move", MONDAY, time(14)))
    assert hours(treatment, MONDAY) == [("06:00", "10:00"), ("14:00", "18:00")]


def test_changes_on_dates_the_rule_does_not_give_are_ignored() -> None:
    treatment = dialysis(Change(TUESDAY, "move", WEDNESDAY, time(14)),
                         Change(date(2026, 12, 10), "cancel"))  # a Thursday
    assert hours(treatment, WEDNESDAY) == [("06:00", "10:00")]
    assert hours(treatment, TUESDAY) == []


def test_a_last_date_ends_the_course_and_changes_after_it_are_ignored() -> None:
    treatment = dialysis(Change(WEDNESDAY, "move", TUESDAY), last_date=MONDAY)
    assert hours(treatment, MONDAY) == [("06:00", "10:00")]
    assert hours(treatment, WEDNESDAY) == []
    assert hours(treatment, TUESDAY) == []  # Wednesday's session is after the course ends
    # A session of the course moved past its last date still takes place.
    moved_late = dialysis(Change(MONDAY, "move", TUESDAY), last_date=MONDAY)
    assert hours(moved_late, TUESDAY) == [("06:00", "10:00")]


def test_count_in_the_rule_ends_it_and_changes_after_the_last_are_ignored() -> None:
    # Three sessions: Mon 12-07, Wed 12-09, Fri 12-11. The fourth (Mon 12-14) never is.
    treatment = Treatment("FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=3", MONDAY, time(6), 240,
                          exceptions=[Change(date(2026, 12, 14), "move", date(2026, 12, 15)),
                                      Change(WEDNESDAY, "move", TUESDAY, time(7))])
    assert hours(treatment, date(2026, 12, 11)) == [("06:00", "10:00")]
    assert hours(treatment, date(2026, 12, 14)) == []
    assert hours(treatment, date(2026, 12, 15)) == []
    assert hours(treatment, TUESDAY) == [("07:00", "11:00")]
    assert hours(treatment, WEDNESDAY) == []


def test_an_evening_move_reaches_the_next_day_with_its_buffer() -> None:
    treatment = dialysis(Change(MONDAY, "move", None, time(22), 180), buffer_after_minutes=60)
    assert hours(treatment, TUESDAY) == [("Mon 22:00", "01:00")]
    # 01:00 Tuesday plus the hour after it: the buffer alone also reaches a day.
    late = dialysis(Change(MONDAY, "move", None, time(21), 120), buffer_after_minutes=120)
    assert treatment_epoch_intervals(late, TUESDAY, CHICAGO) == []
    assert treatment_epoch_intervals(late, TUESDAY, CHICAGO, 0, 2 * HOUR) == [
        (at(MONDAY, 21), at(MONDAY, 23))]


# ---------------------------------------------------------------------------------------------
# The days the clocks change


def test_a_session_moved_across_the_spring_gap_lasts_its_real_length() -> None:
    # Sunday sessions at 06:00; the one of 2026-03-08 moved to 01:00 for 120 minutes:
    # 01:00 CST + 2 h = 04:00 CDT on the wall.
    treatment = Treatment("FREQ=WEEKLY;BYDAY=SU", date(2026, 1, 4), time(6), 240,
                          exceptions=[Change(SPRING, "move", None, time(1), 120)])
    ((start, end),) = treatment_intervals(treatment, SPRING, CHICAGO)
    assert (start.time(), end.time()) == (time(1), time(4))
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=2)
    (occurrence,) = treatment_occurrences(treatment, SPRING, CHICAGO)
    label = during_bound(treatment, SPRING, CHICAGO).label
    assert occurrence.moved and "moved to 01:00–04:00 on this day" in label


def test_a_session_moved_into_the_autumn_change_lasts_its_real_length() -> None:
    # Saturday 2026-10-31's session moved to Sunday 2026-11-01 01:00 for 120 minutes:
    # 01:00 CDT + 2 h = 02:00 CST on the wall (01:00–02:00 happens twice).
    treatment = Treatment("FREQ=WEEKLY;BYDAY=SA", date(2026, 1, 3), time(6), 240,
                          exceptions=[Change(date(2026, 10, 31), "move", FALL, time(1), 120)])
    assert hours(treatment, date(2026, 10, 31)) == []
    ((start, end),) = treatment_intervals(treatment, FALL, CHICAGO)
    assert (start.time(), end.time()) == (time(1), time(2))
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=2)


@pytest.mark.parametrize("day", [SPRING, FALL])
def test_a_cancelled_sunday_on_a_dst_day_frees_its_hours(day: date) -> None:
    treatment = Treatment("FREQ=WEEKLY;BYDAY=SU", date(2026, 1, 4), time(6), 240,
                          policy="avoid", exceptions=[Change(day, "cancel")])
    assert treatment_blocks([treatment], day, CHICAGO) == []
    assert len(treatment_blocks([treatment], day + timedelta(days=7), CHICAGO)) == 1


# ---------------------------------------------------------------------------------------------
# The rules in words, and the caches


def test_the_during_bound_follows_the_moved_session_and_says_so() -> None:
    bound = during_bound(dialysis(Change(MONDAY, "move", None, time(8))), MONDAY, CHICAGO)
    assert bound.intervals == ((at(MONDAY, 8), at(MONDAY, 12)),)
    assert bound.label == ("during Hemodialysis Mon/Wed/Fri 06:00–10:00, moved to 08:00–12:00 "
                           "on this day")
    moved_in = during_bound(dialysis(Change(MONDAY, "move", TUESDAY, time(8))), TUESDAY,
                            CHICAGO)
    assert moved_in.label == ("during Hemodialysis Mon/Wed/Fri 06:00–10:00, moved from Mon "
                              "2026-12-07 to 08:00–12:00 on this day")


def test_on_a_day_its_session_is_cancelled_or_moved_away_the_during_bound_says_why() -> None:
    cancelled = during_bound(dialysis(Change(MONDAY, "cancel")), MONDAY, CHICAGO)
    assert cancelled.intervals == ()
    assert cancelled.label == ("Hemodialysis Mon/Wed/Fri 06:00–10:00 is cancelled on Mon "
                               "2026-12-07, and the visit must be during it")
    moved = during_bound(dialysis(Change(MONDAY, "move", TUESDAY, time(8))), MONDAY, CHICAGO)
    assert moved.label == ("Hemodialysis Mon/Wed/Fri 06:00–10:00 is moved from Mon 2026-12-07 "
                           "to Tue 2026-12-08 08:00–12:00, and the visit must be during it")
    none = during_bound(dialysis(), TUESDAY, CHICAGO)
    assert none.label.endswith("does not take place on Tue 2026-12-08, and the visit must be "
                               "during it")
    (gone,) = displaced_occurrences(dialysis(Change(MONDAY, "cancel")), MONDAY, CHICAGO)
    assert (gone.original_date, gone.moved_to) == (MONDAY, None)


def test_an_avoid_block_follows_the_moved_session_and_says_so() -> None:
    treatment = dialysis(Change(MONDAY, "move", None, time(8)), policy="avoid",
                         buffer_after_minutes=60)
    (block,) = treatment_blocks([treatment], MONDAY, CHICAGO)
    assert block.interval == (at(MONDAY, 8), at(MONDAY, 12))
    assert block.span == (at(MONDAY, 8), at(MONDAY, 13))
    assert block.label == ("Hemodialysis Mon/Wed/Fri 06:00–10:00 + 60 min after, moved to "
                           "08:00–12:00 on this day")
    (usual,) = treatment_blocks([treatment], WEDNESDAY, CHICAGO)
    assert usual.label == "Hemodialysis Mon/Wed/Fri 06:00–10:00 + 60 min after"


def test_a_window_is_explained_with_the_moved_session() -> None:
    # A chair-side visit of 60 minutes may start 08:00–11:00 on the day the session moved.
    treatment = dialysis(Change(MONDAY, "move", None, time(8)))
    constraints = visit_constraints(MONDAY, CHICAGO, during=treatment)
    (window,) = compute_availability(MONDAY, CHICAGO, 60, constraints).windows
    assert (window.start_from, window.start_until) == (at(MONDAY, 8), at(MONDAY, 11))
    assert window.opened_by.endswith("moved to 08:00–12:00 on this day")
    cancelled = visit_constraints(MONDAY, CHICAGO, during=dialysis(Change(MONDAY, "cancel")))
    availability = compute_availability(MONDAY, CHICAGO, 60, cancelled)
    assert availability.windows == ()
    assert any("is cancelled on Mon 2026-12-07" in reason for reason in availability.reasons)


def test_a_change_added_to_the_same_object_is_not_served_from_the_cache() -> None:
    treatment = dialysis()
    assert during_bound(treatment, MONDAY, CHICAGO).intervals == (
        (at(MONDAY, 6), at(MONDAY, 10)),)
    treatment.exceptions.append(Change(MONDAY, "move", None, time(8)))
    assert during_bound(treatment, MONDAY, CHICAGO).intervals == (
        (at(MONDAY, 8), at(MONDAY, 12)),)
    treatment.exceptions[0] = Change(MONDAY, "cancel")
    assert during_bound(treatment, MONDAY, CHICAGO).intervals == ()
    treatment.exceptions.clear()
    treatment.last_date = FRIDAY_BEFORE
    assert during_bound(treatment, MONDAY, CHICAGO).intervals == ()


def test_the_real_models_are_accepted() -> None:
    treatment = models.Treatment(kind="dialysis", label="", rule="FREQ=WEEKLY;BYDAY=MO,WE,FR",
                                 first_date=date(2026, 1, 5), start_time=time(6),
                                 duration_minutes=240, buffer_before_minutes=0,
                                 buffer_after_minutes=0, policy=models.TreatmentPolicy.DURING)
    treatment.exceptions.append(models.TreatmentException(
        original_date=MONDAY, action=models.ExceptionAction.MOVE, new_start_time=time(8)))
    treatment.exceptions.append(models.TreatmentException(
        original_date=WEDNESDAY, action=models.ExceptionAction.CANCEL))
    assert hours(treatment, MONDAY) == [("08:00", "12:00")]  # type: ignore[arg-type]
    assert hours(treatment, WEDNESDAY) == []  # type: ignore[arg-type]
    assert "is cancelled on Wed 2026-12-09" in during_bound(treatment, WEDNESDAY, CHICAGO).label


# ---------------------------------------------------------------------------------------------
# Against a brute-force expansion


def brute_force(treatment: Treatment, day: date) -> list[tuple[int, int]]:
    """Every occurrence from dateutil over a wide range, changes applied, those touching."""
    rule = rrulestr(treatment.rule or "", dtstart=datetime.combine(treatment.first_date,
                                                                   time()))
    changes = {c.original_date: c for c in treatment.exceptions}
    found = []
    for naive in rule.between(datetime(2026, 10, 1), datetime(2027, 2, 1), inc=True):
        original = naive.date()
        if treatment.last_date is not None and original > treatment.last_date:
            continue
        where, start, length = original, treatment.start_time, treatment.duration_minutes
        change = changes.get(original)
        if change is not None and change.action == "cancel":
            continue
        if change is not None:
            where = change.new_date or where
            start = change.new_start_time or start
            length = change.new_duration_minutes or length
        begin = datetime.combine(where, start, tzinfo=CHICAGO).astimezone(UTC)
        found.append((int(begin.timestamp()), int(begin.timestamp()) + length * 60))
    day_start = datetime.combine(day, time(), tzinfo=CHICAGO).timestamp()
    day_end = datetime.combine(day + timedelta(days=1), time(), tzinfo=CHICAGO).timestamp()
    return sorted((a, b) for a, b in found if a < day_end and b > day_start)


DAYS = st.dates(date(2026, 10, 25), date(2026, 12, 20))
CHANGES = st.builds(
    Change, DAYS, st.sampled_from(["cancel", "move"]), st.none() | DAYS,
    st.none() | st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    st.none() | st.integers(1, 24 * 60))


@settings(max_examples=200, deadline=None)
@given(rule=st.sampled_from(["FREQ=WEEKLY;BYDAY=MO,WE,FR", "FREQ=DAILY", "FREQ=WEEKLY;BYDAY=SU",
                             "FREQ=DAILY;INTERVAL=3;COUNT=20"]),
       start=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
       minutes=st.integers(1, 24 * 60), changes=st.lists(CHANGES, max_size=6),
       last=st.none() | DAYS, day=DAYS)
def test_placements_agree_with_a_brute_force_expansion(rule: str, start: time, minutes: int,
                                                       changes: list[Change],
                                                       last: date | None, day: date) -> None:
    treatment = Treatment(rule, date(2026, 10, 26), start, minutes, last_date=last,
                          exceptions=list({c.original_date: c for c in changes}.values()))
    assert treatment_epoch_intervals(treatment, day, CHICAGO) == brute_force(treatment, day)


# ---------------------------------------------------------------------------------------------
# From the database: loaded in a handful of queries, and `rounds visits` explains the window


def _practice_rows(session: Session, clients: int) -> models.Therapist:
    """A therapist working 05:00–17:00 with a chair-side visit per client on Mondays, each
    client on hemodialysis 06:00–10:00 whose Monday 2026-12-07 session moved to 08:00."""
    home = models.Facility(
        name="Unit", kind=models.FacilityKind.DIALYSIS, address="1 Main St", lat=39.05,
        lon=-94.59, overhead_minutes=0,
        hours=[models.VisitingHours(weekday=d, open=time(5), close=time(20)) for d in range(7)])
    email = f"dana{session.query(models.Therapist).count()}@example.org"
    therapist = models.Therapist(name="Dana", email=email, home_lat=39.0,
                                 home_lon=-94.6, skills=[],
                                 shifts=[models.Shift(weekday=d, start=time(5), end=time(17))
                                         for d in range(5)])
    session.add_all([home, therapist])
    for index in range(clients):
        client = models.Client(first_name="Ada", last_name=f"Quill{index}", facility=home,
                               room=str(index))
        chair = models.Treatment(client=client, kind="dialysis", label="Hemodialysis",
                                 rule="FREQ=WEEKLY;BYDAY=MO,WE,FR", first_date=date(2026, 11, 2),
                                 start_time=time(6), duration_minutes=240,
                                 policy=models.TreatmentPolicy.DURING)
        chair.exceptions = [models.TreatmentException(
            original_date=MONDAY, action=models.ExceptionAction.MOVE, new_start_time=time(8)),
            models.TreatmentException(original_date=WEDNESDAY,
                                      action=models.ExceptionAction.CANCEL)]
        models.Treatment(client=client, kind="med pass", rule="FREQ=DAILY",
                         first_date=date(2026, 11, 2), start_time=time(13),
                         duration_minutes=20).exceptions = [models.TreatmentException(
                             original_date=MONDAY, action=models.ExceptionAction.MOVE,
                             new_start_time=time(9))]
        session.add(models.AppointmentSeries(client=client, therapist=therapist,
                                             rule="FREQ=WEEKLY;BYDAY=MO,WE",
                                             first_date=date(2026, 11, 30), duration_minutes=60,
                                             during_treatment=chair))
    session.commit()
    return therapist


def _queries(session: Session) -> int:
    statements: list[str] = []
    listen = event.listens_for(session.get_bind(), "before_cursor_execute")
    listen(lambda *args: statements.append(args[2]))
    session.expunge_all()
    load_practice(session)
    return sum(statement.lstrip().upper().startswith("SELECT") for statement in statements)


def test_load_practice_reads_the_changes_in_the_same_handful_of_queries(session) -> None:
    _practice_rows(session, 1)
    one = _queries(session)
    _practice_rows(session, 0)  # another therapist, no clients
    session.execute(delete(models.TreatmentException))
    session.commit()
    assert _queries(session) == one <= 12  # two of them for the treatments' changes
    for extra in range(3):
        _practice_rows(session, 2 + extra)
    assert _queries(session) == one


def test_rounds_visits_explains_the_window_with_the_moved_session(session) -> None:
    _practice_rows(session, 1)
    session.expunge_all()
    snapshot = load_practice(session)
    text = format_visits(calendar_as_data(day_calendar(snapshot, MONDAY, CHICAGO)))
    # The visit must be inside the chair time, moved to 08:00–12:00, and may not touch the
    # med pass, moved from 13:00 to 09:00–09:20.
    assert "may start 08:00–08:00 (free 08:00–09:00: after during Hemodialysis " in text
    assert "moved to 08:00–12:00 on this day" in text
    assert "not 09:00–09:20: med pass every day 13:00–13:20, moved to 09:00–09:20 on this day" \
        in text
    cancelled = format_visits(calendar_as_data(day_calendar(snapshot, WEDNESDAY, CHICAGO)))
    assert "NO WINDOW: " in cancelled
    assert ("Hemodialysis Mon/Wed/Fri 06:00–10:00 is cancelled on Wed 2026-12-09, and the "
            "visit must be during it (takes 05:00–17:00)") in cancelled


def test_a_session_moved_into_the_spring_gap_is_worded_as_the_clocks_show_it() -> None:
    # 02:30 does not exist on 2026-03-08 in Chicago: it is read as 03:30 CDT.
    treatment = Treatment("FREQ=WEEKLY;BYDAY=SU", date(2026, 1, 4), time(6), 60,
                          exceptions=[Change(SPRING, "move", None, time(2, 30))])
    assert hours(treatment, SPRING) == [("03:30", "04:30")]
    assert during_bound(treatment, SPRING, CHICAGO).label.endswith(
        "moved to 03:30–04:30 on this day")
