"""The e-mail outbox and the audit log, for the practice's admin."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import func, select

from scheduler import models
from web.auth import admin_required
from web.database import db
from web.pages import bp

PAGE_SIZE = 100


def _page() -> int:
    raw = request.args.get("page", "1")
    return max(1, int(raw)) if raw.isdigit() else 1


@bp.route("/outbox")
def outbox() -> str:
    """The itinerary e-mails: queued, sent, failed, missed (admin)."""
    admin_required()
    page = _page()
    total = db().scalar(select(func.count()).select_from(models.OutboxMessage)) or 0
    rows = db().execute(
        select(models.OutboxMessage, models.Therapist.name)
        .join(models.Therapist, models.Therapist.id == models.OutboxMessage.therapist_id)
        .order_by(models.OutboxMessage.day.desc(), models.OutboxMessage.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("pages/outbox.html", rows=rows, page=page, total=total,
                           page_size=PAGE_SIZE)


@bp.route("/audit")
def audit_log() -> str:
    """Who read or changed which record, newest first (admin). Holds no record content."""
    admin_required()
    page = _page()
    query = select(models.AuditEvent, models.Therapist.name).outerjoin(
        models.Therapist, models.Therapist.id == models.AuditEvent.actor_id)
    entity = request.args.get("entity", "")
    if entity:
        query = query.where(models.AuditEvent.entity == entity)
    if request.args.get("id", "").isdigit():
        query = query.where(models.AuditEvent.entity_id == int(request.args["id"]))
    rows = db().execute(query.order_by(models.AuditEvent.id.desc()).limit(PAGE_SIZE)
                        .offset((page - 1) * PAGE_SIZE)).all()
    return render_template("pages/audit.html", rows=rows, page=page, entity=entity,
                           page_size=PAGE_SIZE)
