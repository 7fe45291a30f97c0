"""`rounds solve PROBLEM.json`: run the optimizer on a VROOM-style file and print the solution.

Put on the ``rounds`` group by :mod:`scheduler.cli`.
Exit status 0 on success, 2 when the problem file cannot be read or is invalid (the solution
JSON, with ``code`` 2 and an ``error`` naming the field, is still printed), never a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from scheduler.optimizer import solve
from scheduler.optimizer.solution import INPUT_ERROR, Solution


@click.command("solve")
@click.argument("problem_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the solution JSON here instead of standard output.",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds for the whole solve: a bound, and the search uses it (the answer then "
         "depends on the machine's speed). Without it the search stops on work limits that "
         "grow with the problem's size, and the same input and seed give the same answer.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed, for reproducibility.")
def solve_command(
    problem_file: Path, output: Path | None, time_limit: float | None, seed: int
) -> None:
    """Solve PROBLEM_FILE (VROOM's JSON) and print the solution JSON."""
    solution = _solve_file(problem_file, time_limit, seed)
    text = json.dumps(solution, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as error:
            click.echo(f"Error: cannot write {output}: {error.strerror}", err=True)
            sys.exit(1)
    if solution.get("code", 0) != 0:
        click.echo(f"Error: {solution['error']}", err=True)
        sys.exit(INPUT_ERROR)


def _solve_file(path: Path, time_limit: float | None, seed: int) -> dict:
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        return Solution.failure(f"{path}: cannot read the file ({reason})").to_json()
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        return Solution.failure(
            f"{path}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ).to_json()
    return solve(data, time_limit=time_limit, seed=seed).to_json()
