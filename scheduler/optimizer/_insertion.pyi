"""Types of the compiled insertion loop (_insertion.c); the Python definitions are in slack.py."""

from collections.abc import Callable, Sequence
from typing import Any

KERNEL_VERSION: int

class Kernel:
    def __init__(self, *tables: Any) -> None: ...
    def cheapest(
        self,
        route: Any,
        p: int,
        best_cost: float,
        budget: int,
        random: Callable[[], float],
        blink: float,
    ) -> tuple[int, int] | None: ...
    def best(
        self,
        routes: Sequence[Any],
        vehicles: list[int],
        p: int,
        random: Callable[[], float],
        blink: float,
        slow: Callable[..., tuple[int, int] | None],
    ) -> tuple[int, int] | None: ...
    def relaxed(
        self, vehicle: int, jobs: list[int]
    ) -> tuple[list[int], list[int], list[int], list[int], int, list[int]] | None: ...
    def with_job(
        self, route: Any, p: int, k: int
    ) -> tuple[list[int], list[int], list[int], list[int], list[int], int, list[int]]: ...
