"""The HTML pages, for people: the day, the week, the records, the account, the outbox.

One blueprint; its views live in one module per part of the app (imported at the bottom so
their routes register). Every page requires a signed-in user; admin-only pages say so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint
from flask_login import current_user, login_required

from scheduler import audit, models
from scheduler.records.validation import ValidationError
from web.database import db

bp = Blueprint("pages", __name__)

T = TypeVar("T")


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every page is behind the login."""


def me() -> models.Therapist:
    return current_user.therapist


def actor() -> audit.Actor:
    return current_user.actor


def attempt(save: Callable[[], T]) -> tuple[T | None, ValidationError | None]:
    """Run a save; on a validation error roll back, so nothing already saved is touched."""
    try:
        return save(), None
    except ValidationError as error:
        db().rollback()
        return None, error


def options(rows: Any, label: Callable[[Any], str], *, empty: str | None = None) -> list[Any]:
    found = [("", empty)] if empty is not None else []
    return found + [(row.id, label(row)) for row in rows]


from web.pages import (  # noqa: E402  (the views register themselves on bp)
    account,
    clients,
    day,
    facilities,
    outbox,
    series,
    therapists,
    time_off,
    week,
)

__all__ = ["account", "bp", "clients", "day", "facilities", "outbox", "series", "therapists",
           "time_off", "week"]
