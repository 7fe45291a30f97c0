"""The e-mail outbox and the audit log, for the practice's admin."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from scheduler import audit
from scheduler.delivery import outbox as outbox_rows
from web.auth import admin_required
from web.database import db
from web.pages import signed_in
from web.params import MAX_ID, page_int

bp = Blueprint("outbox", __name__)
signed_in(bp)

PAGE_SIZE = 100
MAX_PAGE = 1_000_000  # far beyond any log; keeps the offset an ordinary integer


def _page() -> int:
    return page_int("page", 1, 1, MAX_PAGE)


@bp.route("/outbox")
def outbox() -> str:
    """The itinerary e-mails: queued, sent, failed, missed (admin)."""
    admin_required()
    page = _page()
    rows, total = outbox_rows.listed(db(), page, PAGE_SIZE)
    return render_template("pages/outbox.html", rows=rows, page=page, total=total,
                           page_size=PAGE_SIZE)


@bp.route("/audit")
def audit_log() -> str:
    """Who read or changed which record, newest first (admin). Holds no record content."""
    admin_required()
    page = _page()
    entity = request.args.get("entity", "")[:40]
    entity_id = page_int("id", 0, 1, MAX_ID) or None
    rows = audit.listed(db(), page, PAGE_SIZE, entity=entity, entity_id=entity_id)
    return render_template("pages/audit.html", rows=rows, page=page, entity=entity,
                           page_size=PAGE_SIZE)
