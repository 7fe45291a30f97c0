"""When a client's recurring treatment happens on a local day, as Unix-second intervals."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo

from scheduler.calendar.expand import compile_rule
from scheduler.calendar.local_time import from_epoch, local_day_epochs, local_epoch

# ---------------------------------------------------------------------------------------------
# Treatments


class TreatmentLike(Protocol):
    """What is read from a :class:`scheduler.models.Treatment` to place it in time.

    ``last_date`` is read too when present (a treatment course that ends). The availability
    builders also read ``kind``, ``label``, ``policy``, ``buffer_before_minutes``,
    ``buffer_after_minutes`` and ``facility_id``.
    """

    @property
    def rule(self) -> str | None: ...
    @property
    def first_date(self) -> date: ...
    @property
    def start_time(self) -> time: ...
    @property
    def duration_minutes(self) -> int: ...


def treatment_epoch_intervals(
    treatment: TreatmentLike, day: date, zone: ZoneInfo,
    reach_before: int = 0, reach_after: int = 0,
) -> list[tuple[int, int]]:
    """The treatment's occurrences, as Unix-second [start, end) pairs, that touch local ``day``.

    An occurrence touches the day if [start − reach_before, end + reach_after) overlaps it
    (the reaches are seconds, for buffers): one starting at 23:00 the day before and running
    past midnight counts. A length is real elapsed time, so a 4-hour treatment across the
    spring-forward gap ends 5 wall-clock hours after it starts.
    """
    length = treatment.duration_minutes * 60
    rule, first, start_time = treatment.rule, treatment.first_date, treatment.start_time
    # Which days' occurrences can reach into this one: the day itself, earlier days when the
    # treatment and its buffer run past midnight, the next day when its buffer before starts
    # before midnight. An hour of slack covers the days the clocks change.
    clock = start_time.hour * 3600 + start_time.minute * 60 + start_time.second
    ordinal = day.toordinal()
    low = ordinal - (clock + length + reach_after + 3600) // 86_400
    high = ordinal + (reach_before - clock + 3600 + 86_399) // 86_400 if reach_before else ordinal
    first_ordinal = first.toordinal()
    if low < first_ordinal:
        low = first_ordinal
    last = getattr(treatment, "last_date", None)  # models.Treatment has none
    if last is not None and last.toordinal() < high:
        high = last.toordinal()
    if rule is None:
        candidates = [first_ordinal] if low <= first_ordinal <= high else []
    else:
        occurs = compile_rule(rule, first, zone).occurs
        candidates = [o for o in range(low, high + 1) if occurs(o)]
    if not candidates:
        return []
    day_start, day_end = local_day_epochs(day, zone)
    found = []
    for other in candidates:
        start = local_epoch(date.fromordinal(other), start_time, zone)
        if start - reach_before < day_end and start + length + reach_after > day_start:
            found.append((start, start + length))
    return found


def treatment_intervals(treatment: TreatmentLike, day: date,
                        zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """Aware (start, end) of the treatment's occurrences that touch the local ``day``."""
    return [(from_epoch(start, zone), from_epoch(end, zone))
            for start, end in treatment_epoch_intervals(treatment, day, zone)]
