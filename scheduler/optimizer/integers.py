"""The one rule for turning values into the integers OR-Tools takes.

OR-Tools works in signed 64-bit integers. The contract already gives integer seconds, often as
Unix epoch seconds (about 1.79e9 in 2026): those fit, but sums of penalties and horizons built
on top of them would waste range, so the OR-Tools model subtracts an *origin* (the earliest
time in the problem) and works with day-relative seconds. Every value handed to OR-Tools must
stay below :data:`MAX_VALUE`; the model checks and raises :class:`OverflowError` with the
culprit rather than let OR-Tools wrap around.

Fractional inputs (the geodesic model, Solomon's Euclidean distances) are turned into integers
by a named rounding here, never ad hoc: :func:`round_half_up` for estimates (travel model),
:func:`scale_up` (ceiling after scaling) where rounding must never make an infeasible schedule
look feasible.
"""

from __future__ import annotations

import math
import warnings

MAX_VALUE = 2**53
"""Largest magnitude any time, cost or penalty may reach inside the OR-Tools model.

2**53 leaves a factor 1000 of headroom under int64 for OR-Tools' own sums, and is also the
largest integer a JSON reader using doubles (JavaScript) keeps exactly.
"""


def round_half_up(value: float) -> int:
    """Nearest integer, halves away from zero for positives (0.5 -> 1), unlike ``round``."""
    return math.floor(value + 0.5)


def scale_up(value: float, scale: int) -> int:
    """``ceil(value * scale)``: scaled integer never below the true value.

    Used for fractional travel times: summed along a route, the integers bound the true times
    from above, so a schedule feasible in integers is feasible in real numbers too. A tiny
    tolerance absorbs binary noise (``0.1 * 10`` must give 1, not 2).
    """
    scaled = value * scale
    nearest = round(scaled)
    if abs(scaled - nearest) < 1e-9 * max(1.0, abs(scaled)):
        return int(nearest)
    return math.ceil(scaled)


def check_range(name: str, value: int) -> int:
    """Return ``value`` or raise :class:`OverflowError` naming it when outside the model's range."""
    if abs(value) > MAX_VALUE:
        raise OverflowError(f"{name} = {value} exceeds the optimizer's integer range 2**53")
    return value


def warn_scaled(what: str, scale: int) -> None:
    """Say once, loudly, that fractional values were scaled (the answer is in scaled units)."""
    warnings.warn(
        f"{what} were fractional and have been multiplied by {scale} and rounded up",
        UserWarning,
        stacklevel=3,
    )
