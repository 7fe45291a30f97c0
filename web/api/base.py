"""What every API endpoint shares: authentication, errors, bodies, paging.

- Authentication: ``Authorization: Bearer <token>`` (tokens from the account page; see
  :mod:`scheduler.accounts.tokens`). Cookies are ignored here, which is why the API needs no
  CSRF token. A token acts with its therapist's role and the same ownership rules as the pages.
- Lists are paginated: ``?page=1&per_page=50`` (at most 200), answered as
  ``{"items": [...], "page", "per_page", "total"}``.
- Bad input answers 422 with every problem by field: ``{"error": "validation",
  "message": "...", "fields": {"name": ["is required"]}}``; records others refer to answer 409.
- Edits that cannot be lost: a record's answer carries ``ETag: "<version>"`` and its JSON
  ``version``. A change sent with ``If-Match`` naming another version answers 412, one whose
  body's ``version`` is another answers 409; both as ``application/problem+json`` naming the
  current version and holding the current record (:func:`edit_conflict`). A change with
  neither is taken as before.
- The OpenAPI 3 document at /api/v1/openapi.json describes all of it (:mod:`web.api.openapi`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from sqlalchemy import Select
from werkzeug.exceptions import Unauthorized

from scheduler import audit, clock, models
from scheduler.accounts.tokens import find_token, note_use
from scheduler.db import paginate
from scheduler.records import InUse
from scheduler.records.validation import FieldProblem, ValidationError
from web import refusals
from web.api import json_input
from web.database import audit_db, db
from web.field_words import problems_in_words
from web.params import query_int
from web.security import csrf

MAX_PER_PAGE = 200


def api_blueprint(name: str, *, public: bool = False) -> Blueprint:
    """A blueprint of the API: JSON errors, no CSRF (cookies are ignored here), and unless
    ``public`` a live bearer token on every request."""
    bp = Blueprint(name, __name__)
    csrf.exempt(bp)
    if not public:
        bp.before_request(_authenticate)
    bp.register_error_handler(ValidationError, _invalid)
    bp.register_error_handler(InUse, _in_use)
    return bp


def _authenticate() -> None:
    """A live bearer token, or 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        refusals.note("api_token", None, audit.BAD_TOKEN)
        raise Unauthorized("Send an API token as 'Authorization: Bearer <token>'.")
    now = clock.utcnow()
    token = find_token(db(), secret.strip(), now)
    if token is None:
        refusals.note("api_token", None, audit.BAD_TOKEN)
        raise Unauthorized("The API token is unknown, revoked or expired.")
    note_use(audit_db(), token, now)  # through audit_db: on GET this session only reads
    g.api_user_therapist = token.therapist
    g.api_actor = audit.Actor(token.therapist.id, "api")


def user() -> models.Therapist:
    return g.api_user_therapist


def actor() -> audit.Actor:
    return g.api_actor


def is_admin() -> bool:
    return user().role == models.Role.ADMIN


def _invalid(error: ValidationError) -> Any:
    db().rollback()
    # the message is for people (fields in words); ``fields`` keeps the keys for programs
    return jsonify(error="validation", message=problems_in_words(error.problems),
                   fields=error.by_field()), 422


def _in_use(error: InUse) -> Any:
    db().rollback()
    return jsonify(error="in use", message=str(error)), 409


def body() -> dict[str, Any]:
    """The request's JSON object, bounded (:mod:`web.api.json_input`), or a 422 naming the
    body or the field; a body over ``MAX_CONTENT_LENGTH`` is a 413."""
    if not request.is_json:
        raise ValidationError([FieldProblem("body", "expected a JSON object "
                                                    "(Content-Type: application/json)")])
    return json_input.parse_object(request.get_data(cache=True))


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
    rows, total = paginate(db(), query, page, per_page)
    return {"items": [render(row) for row in rows], "page": page, "per_page": per_page,
            "total": total}


def forbid_unless_admin() -> None:
    if not is_admin():
        from flask import abort

        abort(403, "Only an admin may do this.")



def created(payload: dict[str, Any]) -> Any:
    return tagged(payload, 201)


def tagged(payload: dict[str, Any], status: int = 200) -> Response:
    """A record's JSON with its version as a strong ETag (``"3"``), when it has one."""
    response = jsonify(payload)
    response.status_code = status
    if isinstance(payload.get("version"), int):
        response.set_etag(str(payload["version"]))
    return response


def if_match_fails(version: int) -> bool:
    """RFC 9110's If-Match against the record's ETag ``"<version>"``: absent or ``*`` passes;
    otherwise one of the listed tags must equal it (strong comparison: a weak tag never
    does)."""
    tags = request.if_match
    return bool(tags) and not tags.star_tag and not tags.contains(str(version))


def has_if_match() -> bool:
    return bool(request.if_match)


PROBLEM_JSON = "application/problem+json"


def edit_conflict(status: int, message: str, current: dict[str, Any]) -> Response:
    """The answer to a change made from an older version (RFC 9457 problem details): 412
    for a failed If-Match, 409 for a body's ``version``; ``current`` is the record now."""
    title = ("The record changed since the version named in If-Match" if status == 412
             else "Someone else saved this record since the version given")
    response = jsonify(type="urn:rounds:problem:edit-conflict", title=title, status=status,
                       detail=message, error="conflict", message=message,
                       current_version=current.get("version"), current=current)
    response.status_code = status
    response.content_type = PROBLEM_JSON
    if isinstance(current.get("version"), int):
        response.set_etag(str(current["version"]))
    return response


def no_content() -> Response:
    return Response(status=204)
