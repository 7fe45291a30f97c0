"""Spreadsheets in and out: the admin's import of records from CSV (preview, then confirm),
the template of each kind, and the exports of records and of a week's plans
(:mod:`scheduler.records.imports`, :mod:`scheduler.records.exports`,
:mod:`scheduler.present.plans_csv`).

The confirm step re-posts the previewed file's text in a hidden field of a multipart form
(no escaping, so it fits the form limits as the upload did) with the digest of what was
previewed: no copy of patient data is kept on the server between the steps, and none goes
into a URL or a log.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, abort, render_template, request

from scheduler import audit
from scheduler.plans.record import checked_views, plans_of_record
from scheduler.plans.view import Detail
from scheduler.present.plans_csv import plans_csv
from scheduler.records import exports, imports, lists
from scheduler.records.fields import parse_practice_date
from scheduler.records.sheets import COLUMNS, KINDS
from scheduler.records.validation import ValidationError
from web.access import is_admin
from web.auth import admin_required
from web.database import audit_db, db, runtime
from web.pages import actor, me, signed_in
from web.pages.day import local_today

bp = Blueprint("spreadsheets", __name__)
signed_in(bp)

# The URL names of the kinds (plural, as the records lists are named).
FILE_NAMES = {"facility": "facilities", "client": "clients", "treatment": "treatments",
              "series": "series"}
BY_FILE_NAME = {name: kind for kind, name in FILE_NAMES.items()}


def _csv(text: str, file_name: str) -> Response:
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{file_name}"'
    response.headers["Cache-Control"] = "no-store"  # may hold patient data
    return response


def _kind_of(raw: str | None) -> str | None:
    return raw if raw in KINDS else None


def _no_kind() -> Any:
    choices = ", ".join(KINDS)
    return _page(None, "facility", status=422,
                 file_error=f"kind: choose what the file holds ({choices})")


def _page(outcome: imports.Outcome | None, kind: str, *, content: str = "",
          status: int = 200, file_error: str | None = None) -> Any:
    return render_template("records/import.html", kinds=KINDS, kind=kind, outcome=outcome,
                           columns=COLUMNS[kind], content=content,
                           digest=imports.digest(content) if content else "",
                           file_error=file_error, max_rows=imports.MAX_ROWS), status


@bp.route("/import", methods=["GET"])
def import_form() -> Any:
    """Choose a kind and a file (admin)."""
    admin_required()
    kind = request.args.get("kind", "facility")
    return _page(None, kind if kind in KINDS else "facility")


@bp.route("/import", methods=["POST"])
def import_preview() -> Any:
    """Every row of the uploaded file with its problems; nothing is saved (admin)."""
    admin_required()
    kind = _kind_of(request.form.get("kind"))
    if kind is None:
        return _no_kind()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(None, kind, status=422, file_error="choose a CSV file to import")
    try:
        # Line ends as the confirm form will send them back: a browser posts a field's
        # line breaks as CRLF, which confirm reads as LF.
        content = imports.decode(upload.read()).replace("\r\n", "\n")
    except ValidationError as error:
        return _page(None, kind, status=422, file_error=error.problems[0].message)
    outcome = imports.run(db(), actor(), kind, content, confirm=False)
    return _page(outcome, kind, content=content if outcome.ok else "",
                 status=200 if outcome.ok else 422)


@bp.route("/import/confirm", methods=["POST"])
def import_confirm() -> Any:
    """Save every row of the previewed file, or none (admin)."""
    admin_required()
    kind = _kind_of(request.form.get("kind"))
    if kind is None:
        return _no_kind()
    content = request.form.get("content", "").replace("\r\n", "\n")
    if imports.digest(content) != request.form.get("digest"):
        return _page(None, kind, status=422,
                     file_error="the file is not the one previewed; upload it again")
    outcome = imports.run(db(), actor(), kind, content, confirm=True)
    return _page(outcome, kind, status=200 if outcome.saved else 422)


@bp.route("/import/<name>-template.csv")
def import_template(name: str) -> Any:
    """The header row and an example row of a kind's file (admin)."""
    admin_required()
    kind = BY_FILE_NAME.get(name) or abort(404)
    return _csv(imports.template(kind), f"{name}-template.csv")


@bp.route("/export/<name>.csv")
def export_records(name: str) -> Any:
    """Every record of a kind, in the columns the import takes (admin); or a week's plans."""
    if name == "plans":
        return export_plans()
    admin_required()
    kind = BY_FILE_NAME.get(name) or abort(404)
    found = exports.records_of(db(), kind)
    if kind == "client":
        audit.record_reads(audit_db(), actor(), "client", [c.id for c in found], context="export")
    elif kind in ("treatment", "series"):
        audit.record_reads(audit_db(), actor(), "client", {r.client_id for r in found},
                           context=f"{kind} export")
    return _csv(exports.export(found, kind), f"{name}.csv")


def export_plans() -> Any:
    """A week's plans of record, one row per stop: an admin's shows every therapist and
    names the clients, a therapist's their own with initials."""
    raw = request.args.get("week")
    try:
        anchor = parse_practice_date("week", raw) if raw else local_today()
    except ValidationError as error:
        abort(422, description=str(error))
    monday = anchor - timedelta(days=anchor.weekday())
    viewer = me()
    admin = is_admin(viewer)
    therapists = lists.therapists(db()) if admin else [viewer]
    plans = list(plans_of_record(db(), monday, monday + timedelta(days=6),
                                 [t.id for t in therapists]).values())
    views = checked_views(db(), plans, runtime().settings,
                          detail=Detail.NAMES if admin else Detail.MINIMAL)
    audit.record_reads(audit_db(), actor(), "client",
                       {stop.client_id for view in views for stop in view.stops},
                       context=f"plans export {monday}")
    return _csv(plans_csv(views), f"plans-{monday}.csv")
