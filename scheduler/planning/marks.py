"""A visit marked arrived, done, skipped or planned again from the day page, perhaps long
after the button was pressed.

A therapist in a hospital basement has no signal: the phone keeps the mark and sends it when
it can, minutes or hours later (``web/static/offline-marks.js``). The button was pressed on a
copy of one version of the day; by the time the mark arrives the day may have changed: planned
again (a visit cancelled, a treatment moved), or the visit marked by someone else.
:func:`mark_stop` follows the visit to the day's plan of record and saves the mark only where
it still means what the therapist saw; otherwise it refuses with the reason in words
(:class:`MarkRefused`), which the phone shows until the therapist has read it. A mark is never
moved silently onto a visit at another time, nor dropped without a word.

The time a mark was made is kept with it (``state_at``). It reaches the server as an age, "made
so many seconds ago" (:func:`made_at`), rather than as the phone's clock reading, which may be
wrong by minutes or set to another zone; the server's clock places it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.models import ExceptionAction, LeftOut, PlanStop, SeriesException, StopState
from scheduler.planning.gather import require_aware
from scheduler.planning.store import set_stop_state
from scheduler.plans.check import check_plan
from scheduler.plans.record import current_plan
from scheduler.records.validation import fail
from scheduler.settings import Settings

# A phone kept offline longer than this holds nothing worth trusting: mark the visit again.
MAX_AGE = timedelta(days=7)
# Slack for the age's own error (the request's time on the way) against a plan's creation.
SLACK = timedelta(minutes=1)

MARKED_WORDS = {StopState.ARRIVED: "arrived", StopState.DONE: "done",
               StopState.SKIPPED: "skipped", StopState.PLANNED: "back to planned"}

# Marks the records must still allow when made on a copy: arriving at, or doing, a visit the
# therapist was not warned against (see :func:`mark_stop`).
VISITING = (StopState.ARRIVED, StopState.DONE)


@dataclass(frozen=True)
class Mark:
    """What the therapist pressed, when, and on what.

    ``seen_state`` is the visit's state on the page the button was on (None: not said, as
    from a form without it). ``queued`` marks one made on a copy of the day and sent later:
    the records may have changed since, and a visit they now forbid is not marked done
    unseen (see :func:`mark_stop`).
    """

    state: StopState
    made_at: datetime
    seen_state: StopState | None = None
    queued: bool = False


class MarkRefused(Exception):
    """The mark no longer fits the day; ``reason`` says why, in words for the therapist."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def made_at(now: datetime, seconds_ago: object) -> datetime:
    """When a mark sent ``seconds_ago`` seconds after it was made was made, by our clock.

    The age is a whole number of seconds, at least 0 and under :data:`MAX_AGE`.
    """
    now = require_aware(now, "now")
    try:
        age = int(str(seconds_ago).strip())
    except ValueError:
        raise fail("made_ago", "expected a whole number of seconds") from None
    if age < 0:
        raise fail("made_ago", "must not be negative")
    if age >= MAX_AGE.total_seconds():
        raise fail("made_ago", f"a mark more than {MAX_AGE.days} days old is not taken: mark "
                               "the visit again on the day page")
    return now - timedelta(seconds=age)


def mark_stop(session: Session, settings: Settings, stop: PlanStop, mark: Mark,
              now: datetime) -> PlanStop:
    """Save ``mark`` on the visit of ``stop`` as the day stands now; the stop that holds it.

    - A mark made on a copy cannot be dated before the version it was made on existed, nor
      after now.
    - When the day was planned again since, the mark goes to the same visit (series and
      occurrence date) in the plan of record, if it is there at the same time; a visit gone
      from the day, or moved, refuses the mark, saying what happened.
    - A visit already in the state asked for is left as it is (a mark sent twice).
    - When ``seen_state`` is given, a visit marked otherwise meanwhile refuses the mark.
    - Arrived is only for a visit still planned: one marked done or skipped (meanwhile, or
      by this mark's own earlier press) refuses it, saying when.
    - A mark made on a copy (``queued``) does not mark arrived or done a visit the records
      now forbid ("do not visit: ..."): the therapist has not seen that warning. On the
      page, where the warning shows, marking it again is then deliberate.
    """
    zone = settings.zone
    if mark.queued:
        _check_time(stop, mark.made_at, now)
    target = _same_visit_now(session, stop, zone)
    if target.state == mark.state:
        return target
    if mark.seen_state is not None and target.state != mark.seen_state:
        raise MarkRefused(_marked_meanwhile(target, zone))
    if mark.state == StopState.ARRIVED and target.state != StopState.PLANNED:
        raise MarkRefused(_marked_meanwhile(target, zone).removesuffix(" meanwhile")
                          + ": only a visit still planned can be marked arrived")
    if mark.queued and mark.state in VISITING:
        problem = check_plan(session, target.plan, settings).get(target.id)
        if problem:
            raise MarkRefused(f"do not visit: {problem}")
    set_stop_state(session, target, mark.state, mark.made_at)
    return target


def _check_time(stop: PlanStop, moment: datetime, now: datetime) -> None:
    moment, now = require_aware(moment, "made_at"), require_aware(now, "now")
    if moment > now + SLACK:
        raise fail("made_ago", "the mark is dated after now")
    if moment < stop.plan.created_at - SLACK:
        raise fail("made_ago", "the mark is dated before the plan it was made on")


def _same_visit_now(session: Session, stop: PlanStop, zone: ZoneInfo) -> PlanStop:
    """``stop``'s visit in the day's plan of record (``stop`` itself when its version is
    still the plan of record), or :class:`MarkRefused` saying where it went."""
    plan = stop.plan
    current = current_plan(session, plan.therapist_id, plan.day)
    if current is None:
        raise MarkRefused("the day has no plan any more")
    if current.id == plan.id:
        return stop
    again = f"the day was planned again at {_hm(current.created_at, zone)}"
    same = next((s for s in current.stops if s.series_id == stop.series_id
                 and s.occurrence_date == stop.occurrence_date), None)
    if same is None:
        _refuse_gone(session, stop, current.left_out, again)
    if same.start_at != stop.start_at and same.state == StopState.PLANNED:
        raise MarkRefused(f"{again} and this visit is now at {_hm(same.start_at, zone)}, not "
                          f"{_hm(stop.start_at, zone)}: look at the day and mark it again")
    return same


def _refuse_gone(session: Session, stop: PlanStop, left_out: Sequence[LeftOut],
                 again: str) -> NoReturn:
    """Refuse a mark on a visit gone from the day, saying why: cancelled, moved to another
    day, left out of the new plan (its reason), or simply no longer there."""
    change = session.scalar(select(SeriesException).where(
        SeriesException.series_id == stop.series_id,
        SeriesException.original_date == stop.occurrence_date))
    if change is not None and change.action == ExceptionAction.CANCEL:
        why = "the visit was cancelled" + (f" ({change.reason})" if change.reason else "")
    elif (change is not None and change.action == ExceptionAction.MOVE
          and change.new_date not in (None, stop.occurrence_date)):
        moved = change.new_date
        assert moved is not None  # the condition above
        why = f"the visit was moved to {moved:%A} {moved.day} {moved:%B}"
    else:
        entry = next((e for e in left_out if e.series_id == stop.series_id
                      and e.original_date == stop.occurrence_date), None)
        why = (f"the visit was left out of the day: {entry.reason}" if entry is not None
               else "the visit is no longer in the day's plan")
    raise MarkRefused(f"{why}; {again}")


def _marked_meanwhile(stop: PlanStop, zone: ZoneInfo) -> str:
    words = MARKED_WORDS[stop.state]
    if stop.state == StopState.PLANNED:
        return f"it was set {words} meanwhile"
    at = f" at {_hm(stop.state_at, zone)}" if stop.state_at is not None else ""
    return f"it was marked {words}{at} meanwhile"


def _hm(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%H:%M}"
