"""A kind of record as a spreadsheet (CSV): the columns the import reads (:mod:`.sheets`),
so an exported file imports as it was. Cells a spreadsheet would run as a formula are
guarded (:func:`.sheets.guard`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler import models
from scheduler.records.sheets import COLUMNS, guard


def write_csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """CSV text (RFC 4180 line ends) with every cell guarded."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([guard(cell) for cell in row] for row in rows)
    return out.getvalue()


def records_of(session: Session, kind: str) -> list[Any]:
    """Every record of ``kind``, in a stable order (by facility, name, start)."""
    queries: dict[str, Any] = {
        "facility": select(models.Facility).options(selectinload(models.Facility.hours))
        .order_by(models.Facility.name, models.Facility.id),
        "client": select(models.Client).join(models.Client.facility)
        .order_by(models.Facility.name, models.Client.last_name, models.Client.first_name,
                  models.Client.id),
        "treatment": select(models.Treatment).join(models.Treatment.client)
        .order_by(models.Client.last_name, models.Client.first_name, models.Treatment.id),
        "series": select(models.AppointmentSeries).join(models.AppointmentSeries.client)
        .order_by(models.Client.last_name, models.Client.first_name,
                  models.AppointmentSeries.id),
    }
    return list(session.scalars(queries[kind]))


def export(records: Iterable[Any], kind: str) -> str:
    """``records`` of ``kind`` as CSV text, one row each."""
    columns = COLUMNS[kind]
    return write_csv([c.name for c in columns],
                     ([c.write(record) for c in columns] for record in records))
