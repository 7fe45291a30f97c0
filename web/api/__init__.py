"""The JSON API under /api/v1: the practice's records and day plans, for programs.

- Authentication: ``Authorization: Bearer <token>`` (tokens from the account page; see
  :mod:`scheduler.tokens`). Cookies are ignored here, which is why the API needs no CSRF token.
  A token acts with its therapist's role and the same ownership rules as the pages.
- Lists are paginated: ``?page=1&per_page=50`` (at most 200), answered as
  ``{"items": [...], "page", "per_page", "total"}``.
- Bad input answers 422 with every problem by field: ``{"error": "validation",
  "message": "...", "fields": {"name": ["is required"]}}``; records others refer to answer 409.
- The OpenAPI 3 document at /api/v1/openapi.json describes all of it (:mod:`web.api.openapi`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, g, jsonify, request
from sqlalchemy import Select, func, select, update
from werkzeug.exceptions import Unauthorized

from scheduler import audit, models
from scheduler.accounts.tokens import find_token
from scheduler.clock import utcnow
from scheduler.models import ApiToken
from scheduler.records import InUse
from scheduler.records.validation import FieldProblem, ValidationError
from web.database import audit_db, db
from web.security import csrf

bp = Blueprint("api", __name__)
csrf.exempt(bp)

PUBLIC_ENDPOINTS = {"api.openapi"}
MAX_PER_PAGE = 200
LAST_USED_GRANULARITY = timedelta(minutes=5)


@bp.before_request
def _authenticate() -> None:
    """Every endpoint but the OpenAPI document needs a live bearer token."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("Send an API token as 'Authorization: Bearer <token>'.")
    now = utcnow()
    token = find_token(db(), secret.strip(), now)
    if token is None:
        raise Unauthorized("The API token is unknown, revoked or expired.")
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_GRANULARITY:
        # Through audit_db: on GET this request's own session only reads.
        audit_db().execute(update(ApiToken).where(ApiToken.id == token.id)
                           .values(last_used_at=now))
    g.api_user_therapist = token.therapist
    g.api_actor = audit.Actor(token.therapist.id, "api")


def user() -> models.Therapist:
    return g.api_user_therapist


def actor() -> audit.Actor:
    return g.api_actor


def is_admin() -> bool:
    return user().role == models.Role.ADMIN


@bp.errorhandler(ValidationError)
def _invalid(error: ValidationError) -> Any:
    db().rollback()
    return jsonify(error="validation", message=str(error), fields=error.by_field()), 422


@bp.errorhandler(InUse)
def _in_use(error: InUse) -> Any:
    db().rollback()
    return jsonify(error="in use", message=str(error)), 409


def body() -> dict[str, Any]:
    """The request's JSON object, or a 422 naming the body."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError([FieldProblem("body", "expected a JSON object "
                                                    "(Content-Type: application/json)")])
    return data


def query_int(name: str, default: int, minimum: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not minimum <= int(raw) <= maximum:
        raise ValidationError([FieldProblem(name, f"must be a whole number from {minimum} to "
                                                  f"{maximum}, got {raw!r}")])
    return int(raw)


def paginated(query: Select[Any], render: Any) -> Any:
    """One page of ``query``'s rows as ``{"items", "page", "per_page", "total"}``."""
    problems: list[FieldProblem] = []
    page, per_page = 1, 50
    try:
        page = query_int("page", 1, 1, 1_000_000)
    except ValidationError as error:
        problems.extend(error.problems)
    try:
        per_page = query_int("per_page", 50, 1, MAX_PER_PAGE)
    except ValidationError as error:
        problems.extend(error.problems)
    if problems:
        raise ValidationError(problems)
    total = db().scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = db().scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": [render(row) for row in rows], "page": page, "per_page": per_page,
            "total": total}


def forbid_unless_admin() -> None:
    if not is_admin():
        from flask import abort

        abort(403, "Only an admin may do this.")


from web.api import openapi, plans, resources, time_off  # noqa: E402  (register the endpoints)

__all__ = ["bp", "openapi", "plans", "resources", "time_off"]
