"""Records from a spreadsheet (CSV): every row previewed with its problems, then all or none.

Each row is read by the kind's columns (:mod:`.sheets`) into the shape a form gives, and
created through the same change path as a form or the API (``records.create_client``...), so
the rules are written once and every record is audited and marks the days it touches stale.
All rows run inside one SAVEPOINT: a preview, or a file with any problem, rolls it back and
leaves the database as it was; a confirmed file without problems keeps every row, for the
caller to commit. Imports add records; a row naming a record that exists already (a facility
by its name, a client by name and facility) is refused, so importing a file twice adds
nothing the second time.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first record row 2.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler import models
from scheduler.audit import Actor
from scheduler.records import clients, facilities, series
from scheduler.records.sheets import COLUMNS, column_of, header_name, unguard
from scheduler.records.validation import ValidationError, fail

MAX_ROWS = 5000
"""Rows one file may hold: a practice's records fit; a runaway export does not."""


@dataclass(frozen=True)
class CellProblem:
    """A problem with one cell (``column`` None: with the row as a whole)."""

    row: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column!r}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class RowResult:
    number: int
    cells: dict[str, str]
    problems: tuple[CellProblem, ...]


@dataclass
class Outcome:
    """What a file holds and what is wrong with it; ``saved``: its rows were written."""

    kind: str
    columns: tuple[str, ...] = ()
    rows: list[RowResult] = field(default_factory=list)
    file_problems: list[str] = field(default_factory=list)
    saved: bool = False

    @property
    def ok(self) -> bool:
        return not self.file_problems and not any(row.problems for row in self.rows)

    @property
    def problems(self) -> list[str]:
        return self.file_problems + [str(p) for row in self.rows for p in row.problems]


def digest(content: str) -> str:
    """What the confirm step checks the re-posted file by (it must be the one previewed)."""
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def decode(raw: bytes) -> str:
    """The file's text; ValidationError naming the file when it is not UTF-8."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise fail("file", "the file is not UTF-8 text; in the spreadsheet, save it as "
                           f"'CSV UTF-8' (the byte at position {error.start} is not)") from error


def template(kind: str) -> str:
    """The header row and one example row of ``kind``'s file."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([column.name for column in COLUMNS[kind]])
    writer.writerow([column.example for column in COLUMNS[kind]])
    return out.getvalue()


def run(session: Session, actor: Actor, kind: str, content: str, *, confirm: bool) -> Outcome:
    """Read every row of ``content`` and try it; keep the rows only when ``confirm`` and no
    row has a problem. Nothing is committed here."""
    outcome = Outcome(kind)
    rows = _read(kind, content, outcome)
    if rows is None:
        return outcome
    savepoint = session.begin_nested()
    finished = False
    try:
        for number, cells in rows:
            outcome.rows.append(_try_row(session, actor, kind, number, cells))
        finished = True
    finally:
        keep = finished and confirm and outcome.ok  # an error midway keeps nothing either
        if keep:
            savepoint.commit()
        else:
            savepoint.rollback()
    outcome.saved = keep
    return outcome


def _read(kind: str, content: str, outcome: Outcome) -> list[tuple[int, dict[str, str]]] | None:
    """The rows as cells by column; None with the file's problems in ``outcome``."""
    columns = {column.name: column for column in COLUMNS[kind]}
    if "\x00" in content:
        outcome.file_problems.append("the file holds NUL characters; it is not a CSV file")
        return None
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    try:
        header = next(reader, None)
        body: list[list[str]] = []
        for record in reader:
            if len(body) >= MAX_ROWS:
                outcome.file_problems.append(
                    f"the file has more than {MAX_ROWS} rows; split it into smaller files")
                return None
            body.append(record)
    except csv.Error as error:
        outcome.file_problems.append(f"line {reader.line_num}: not readable as CSV ({error})")
        return None
    if header is None or not any(cell.strip() for cell in header):
        outcome.file_problems.append(f"the file is empty; the first row must name the columns "
                                     f"({', '.join(columns)})")
        return None
    names = [header_name(cell) for cell in header]
    outcome.columns = tuple(names)
    for name in names:
        if name not in columns:
            close = difflib.get_close_matches(name, columns, n=1, cutoff=0.75)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            outcome.file_problems.append(f"unknown column {name[:40]!r}{hint}")
    for name in (n for n in names if names.count(n) > 1):
        outcome.file_problems.append(f"column {name[:40]!r} is given twice")
        break
    missing = [c.name for c in columns.values() if c.required and c.name not in names]
    if missing:
        outcome.file_problems.append("missing column" + ("s " if len(missing) > 1 else " ")
                                     + ", ".join(repr(name) for name in missing))
    if outcome.file_problems:
        return None
    rows = []
    for index, record in enumerate(body):
        if not any(cell.strip() for cell in record):
            continue  # a blank line, as spreadsheets leave at the end
        cells = {name: unguard(record[i].strip()) if i < len(record) else ""
                 for i, name in enumerate(names)}
        if any(cell.strip() for cell in record[len(names):]):
            outcome.file_problems.append(
                f"row {index + 2} has more cells than the header has columns ({len(names)}); "
                "a cell holding a comma must be in double quotes")
        rows.append((index + 2, cells))
    if not rows and not outcome.file_problems:
        outcome.file_problems.append("the file has a header row but no records")
    return None if outcome.file_problems else rows


def _try_row(session: Session, actor: Actor, kind: str, number: int,
             cells: dict[str, str]) -> RowResult:
    """Read the row's cells into a record's input and create it (in its own SAVEPOINT, so a
    refused row leaves nothing behind); its problems, by column."""
    problems: list[CellProblem] = []
    data: dict[str, Any] = {}
    for column in COLUMNS[kind]:
        if column.field is None or not cells.get(column.name, "").strip():
            continue  # an empty cell: the field takes its default, or is named as required
        try:
            data[column.field] = column.read(session, cells, column.name)
        except ValidationError as error:
            problems.extend(CellProblem(number, p.field, p.message) for p in error.problems)
    if kind in ("treatment", "series") and "client_id" not in data and not problems:
        problems.append(CellProblem(number, "client last name",
                                    "give the client's first name, last name and facility"))
    if problems:
        return RowResult(number, cells, tuple(problems))
    duplicate = _DUPLICATES.get(kind)
    if duplicate is not None and (message := duplicate(session, data)) is not None:
        return RowResult(number, cells, (CellProblem(number, message[0], message[1]),))
    try:
        _CREATE[kind](session, actor, data)
    except ValidationError as error:
        problems.extend(CellProblem(number, column_of(kind, p.field), p.message)
                        for p in error.problems)
    return RowResult(number, cells, tuple(problems))


def _create_treatment(session: Session, actor: Actor, data: dict[str, Any]) -> Any:
    client = session.get(models.Client, data.pop("client_id"))
    assert client is not None  # looked up by its key
    return clients.create_treatment(session, actor, client, data)


_CREATE: dict[str, Callable[[Session, Actor, dict[str, Any]], Any]] = {
    "facility": facilities.create_facility, "client": clients.create_client,
    "treatment": _create_treatment, "series": series.create_series,
}


def _facility_exists(session: Session, data: Mapping[str, Any]) -> tuple[str, str] | None:
    name = str(data.get("name", "")).strip()
    if name and session.scalar(select(models.Facility.id).where(
            func.lower(models.Facility.name) == name.lower()).limit(1)) is not None:
        return "name", "a facility by this name exists already (an import adds records)"
    return None


def _client_exists(session: Session, data: Mapping[str, Any]) -> tuple[str, str] | None:
    first, last = (str(data.get(n, "")).strip().lower() for n in ("first_name", "last_name"))
    if first and last and session.scalar(select(models.Client.id).where(
            models.Client.facility_id == data.get("facility_id"),
            func.lower(models.Client.first_name) == first,
            func.lower(models.Client.last_name) == last).limit(1)) is not None:
        return "last name", ("a client by this name exists already at this facility "
                             "(an import adds records)")
    return None


_DUPLICATES: dict[str, Callable[[Session, Mapping[str, Any]], tuple[str, str] | None]] = {
    "facility": _facility_exists, "client": _client_exists,
}

__all__ = ["MAX_ROWS", "CellProblem", "Outcome", "RowResult", "decode", "digest", "run",
           "template"]
