"""The e-mail outbox and the audit log, for the practice's admin."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from scheduler import audit, audit_search
from scheduler.delivery import outbox as outbox_rows
from scheduler.records import lists
from scheduler.records.validation import ValidationError
from web.auth import admin_required
from web.database import db, runtime
from web.pages import options, signed_in
from web.params import page_int

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
def audit_log() -> tuple[str, int]:
    """Who read or changed which record, newest first (admin), searched by record (kind and
    id: clients by id, so no patient name is ever in the URL), user, action and days."""
    admin_required()
    page = _page()
    problem = None
    try:
        search = audit_search.parse_search(request.args)
    except ValidationError as error:
        search, problem = audit_search.Search(), error
    rows, total = audit_search.searched(db(), search, runtime().settings.zone, page, PAGE_SIZE)
    query = {name: request.args[name] for name in audit_search.QUERY_FIELDS
             if request.args.get(name)} if problem is None else {}
    return render_template(
        "pages/audit.html", rows=rows, page=page, total=total, page_size=PAGE_SIZE,
        query=query, problem=problem, actions=audit.ACTIONS,
        users=options(lists.therapists(db()), lambda t: t.name, empty="Anyone"),
    ), 422 if problem else 200
