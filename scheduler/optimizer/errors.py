"""The one error the optimizer raises for bad input, with the JSON path of the culprit."""

from __future__ import annotations


class ProblemError(ValueError):
    """The problem cannot be solved as given; ``field`` is a JSON path like ``jobs[3].priority``.

    The solution JSON reports it as ``{"code": 2, "error": "<field>: <problem>"}``, VROOM's
    code for an input error.
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem
