"""Infection-control order in planning: the practice's setting, each client's class, routes
that keep the order (checked from the records by plan_checks), the reasons in words when the
order leaves a visit out, re-planning after an isolation visit is done, and open visits given
to the therapist whose day can take them. Times are local Chicago (CST in December)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time

import factories as make
import pytest
from conftest import TIME_LIMIT
from plan_checks import check_infection_order, check_plan
from sqlalchemy.orm import Session

from scheduler import models
from scheduler.planning import plan_days, replan_from, set_stop_state
from scheduler.records.precautions import InfectionClass, InfectionControl
from scheduler.settings import Settings, SettingsError, load_settings

DAY = make.MONDAY
FAR = (39.0100, -94.6500)  # about 10 km south-west of MIDTOWN


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour + 6, minute, tzinfo=UTC)


def with_order(settings: Settings, order: str) -> Settings:
    return replace(settings, infection_control=replace(settings.infection_control, order=order))


def client(session: Session, place: models.Facility, first: str,
           flags: list[str]) -> models.Client:
    person = make.client(session, place, first)
    person.precaution_flags = flags
    session.flush()
    return person


# --- the setting and the classes -------------------------------------------------------------


def test_the_default_rule_and_classes() -> None:
    rule = load_settings(environ={}).infection_control.rule()
    assert rule.order == "protect-first"
    assert rule.class_of(["neutropenic", "light_pressure"]) is InfectionClass.PROTECT
    assert rule.class_of(["airborne_isolation"]) is InfectionClass.ISOLATION
    assert rule.class_of(["enteric_contact_isolation"]) is InfectionClass.ISOLATION
    assert rule.class_of(["fall_risk"]) is InfectionClass.NONE
    # a client both shielded and isolated is seen last: what they carry would reach the rest
    assert rule.class_of(["neutropenic", "contact_isolation"]) is InfectionClass.ISOLATION


@pytest.mark.parametrize(("order", "protect", "none", "isolation"), [
    ("protect-first", 0, 1, 2),
    ("isolation-last", 1, 1, 2),
    ("off", None, None, None),
])
def test_the_optimizer_class_of_each_rule(order: str, protect: int | None, none: int | None,
                                          isolation: int | None) -> None:
    rule = InfectionControl(order=order)
    assert rule.order_class(["neutropenic"]) == protect
    assert rule.order_class([]) == none
    assert rule.order_class(["droplet_isolation"]) == isolation


def test_a_practice_adds_its_own_protect_flag_and_bad_lists_are_refused() -> None:
    settings = load_settings(environ={
        "ROUNDS_INFECTION_CONTROL_PROTECT_FLAGS": "neutropenic, recent_transplant"})
    rule = settings.infection_control.rule()
    assert rule.class_of(["recent_transplant"]) is InfectionClass.PROTECT
    with pytest.raises(SettingsError, match="did you mean 'neutropenic'"):
        load_settings(environ={"ROUNDS_INFECTION_CONTROL_PROTECT_FLAGS": "neutropenc"})
    with pytest.raises(SettingsError, match="must not share a flag: contact_isolation"):
        load_settings(environ={
            "ROUNDS_INFECTION_CONTROL_PROTECT_FLAGS": "neutropenic,contact_isolation"})
    with pytest.raises(SettingsError, match="infection_control.order"):
        load_settings(environ={"ROUNDS_INFECTION_CONTROL_ORDER": "sometimes"})


# --- one therapist's day ---------------------------------------------------------------------


def _early_isolation_late_protect(session: Session) -> tuple[models.AppointmentSeries, ...]:
    """Ada (07:00-16:00, no lunch) sees two clients in one building: Iris on contact isolation,
    who may only be seen 08:00-09:00, and Nell, neutropenic, only 13:00-15:00 and more urgent
    (priority 80). Both fit the day; in that order they break the rule."""
    ada = make.therapist(session, lunch=None, shift=(time(7), time(16)))
    home = make.facility(session, "Maple Court", make.MIDTOWN)
    iris = make.series(session, client(session, home, "Iris", ["contact_isolation"]), ada,
                       minutes=60, windows=[["08:00", "09:00"]])
    nell = make.series(session, client(session, home, "Nell", ["neutropenic"]), ada,
                       minutes=60, windows=[["13:00", "15:00"]], priority=80)
    return iris, nell


def test_without_the_rule_both_visits_are_made_isolation_first(sqlite_session,
                                                               module_settings) -> None:
    iris, nell = _early_isolation_late_protect(sqlite_session)
    (plan,) = plan_days(sqlite_session, with_order(module_settings, "off"), DAY,
                        time_limit=TIME_LIMIT)
    assert [s.series_id for s in sorted(plan.stops, key=lambda s: s.start_at)] == \
        [iris.id, nell.id]
    assert check_infection_order(plan) != []  # the order the rule exists to prevent


def test_with_the_rule_the_isolation_visit_is_left_out_and_says_why(sqlite_session,
                                                                   module_settings) -> None:
    # Nell (priority 80) stays; Iris could only come before her, which the rule forbids.
    iris, nell = _early_isolation_late_protect(sqlite_session)
    (plan,) = plan_days(sqlite_session, module_settings, DAY, time_limit=TIME_LIMIT)
    assert [s.series_id for s in plan.stops] == [nell.id]
    assert check_plan(plan, module_settings.zone) == []
    (entry,) = plan.unplaced
    assert entry["series_id"] == iris.id
    assert entry["reason"] == (
        "the contact-isolation client can't be seen before the neutropenic visit NQ at 13:00 "
        "(infection-control order), and no time after it fits; it may start 08:00")


def test_isolation_last_only_keeps_protect_among_the_others(sqlite_session,
                                                            module_settings) -> None:
    # Bo (no class) may only be seen 09:00-10:00, Nell (neutropenic) 13:00-15:00: under
    # protect-first Bo may not come before Nell, under isolation-last he may.
    ada = make.therapist(sqlite_session, lunch=None, shift=(time(7), time(16)))
    home = make.facility(sqlite_session, "Maple Court", make.MIDTOWN)
    bo = make.series(sqlite_session, client(sqlite_session, home, "Bo", []), ada,
                     minutes=60, windows=[["09:00", "10:00"]])
    nell = make.series(sqlite_session, client(sqlite_session, home, "Nell", ["neutropenic"]),
                       ada, minutes=60, windows=[["13:00", "15:00"]], priority=80)
    (strict,) = plan_days(sqlite_session, module_settings, DAY, publish=False,
                          time_limit=TIME_LIMIT)
    assert [s.series_id for s in strict.stops] == [nell.id]
    assert strict.unplaced[0]["reason"].startswith(
        "this visit must come after the protected clients and before the isolation rooms "
        "(infection-control order: the neutropenic visit NQ at 13:00)")
    (lenient,) = plan_days(sqlite_session, with_order(module_settings, "isolation-last"), DAY,
                           publish=False, time_limit=TIME_LIMIT)
    assert [s.series_id for s in sorted(lenient.stops, key=lambda s: s.start_at)] == \
        [bo.id, nell.id]


def test_after_an_isolation_visit_is_done_no_protect_visit_follows(sqlite_session,
                                                                  module_settings) -> None:
    # Planned without the rule, Iris (isolation) at 08:00 and Nell (neutropenic) at 13:00.
    # Iris is done; re-planned at 09:30 under the rule, Nell can no longer be seen today.
    iris, nell = _early_isolation_late_protect(sqlite_session)
    (plan,) = plan_days(sqlite_session, with_order(module_settings, "off"), DAY, publish=True,
                        time_limit=TIME_LIMIT)
    first = min(plan.stops, key=lambda s: s.start_at)
    assert first.series_id == iris.id and first.start_at == at(8)
    set_stop_state(sqlite_session, first, models.StopState.DONE)
    new = replan_from(sqlite_session, module_settings, plan.therapist_id, DAY, at(9, 30),
                      time_limit=TIME_LIMIT)
    assert [(s.series_id, s.state) for s in new.stops] == [(iris.id, models.StopState.DONE)]
    (entry,) = new.unplaced
    assert entry["series_id"] == nell.id
    assert entry["reason"] == ("the neutropenic client can't be seen after the "
                               "contact-isolation visit at 08:00, which is done "
                               "(infection-control order)")


# --- several therapists ----------------------------------------------------------------------


def test_an_open_isolation_visit_goes_to_the_therapist_without_protect_visits(
        sqlite_session, module_settings) -> None:
    # Ada lives next to Maple Court, where an open isolation visit (Iris, 09:00-10:00, any
    # oncology therapist) waits; she also has her own neutropenic client Nell there at 13:00.
    # Ben lives 10 km away with an early visit of his own there (Cy, 07:30-08:15). Without
    # the rule Iris goes to Ada (no drive); with it Ada could not see Nell after Iris, while
    # Ben can see Iris after Cy, so Ben takes her.
    ada = make.therapist(sqlite_session, "Ada Pine", lunch=None, skills=["oncology"],
                         home=make.MIDTOWN)
    ben = make.therapist(sqlite_session, "Ben Oak", lunch=None, skills=["oncology"], home=FAR,
                         shift=(time(7), time(16)))
    home = make.facility(sqlite_session, "Maple Court", make.MIDTOWN)
    iris = make.series(sqlite_session, client(sqlite_session, home, "Iris",
                                              ["contact_isolation"]),
                       None, minutes=45, windows=[["09:00", "10:00"]], skills=["oncology"])
    make.series(sqlite_session, client(sqlite_session, home, "Nell", ["neutropenic"]), ada,
                minutes=45, windows=[["13:00", "14:00"]])
    south = make.facility(sqlite_session, "Oak Ridge", FAR)
    make.series(sqlite_session, client(sqlite_session, south, "Cy", []), ben, minutes=45,
                windows=[["07:30", "08:15"]])

    def holder(settings: Settings) -> int:
        plans = plan_days(sqlite_session, settings, DAY, publish=False, time_limit=TIME_LIMIT)
        for plan in plans:
            assert check_plan(plan, settings.zone) == [] or settings is not module_settings
        owners = [p.therapist_id for p in plans for s in p.stops if s.series_id == iris.id]
        assert len(owners) == 1, [u["reason"] for p in plans for u in p.unplaced]
        (owner,) = owners
        return owner

    assert holder(with_order(module_settings, "off")) == ada.id
    assert holder(module_settings) == ben.id
