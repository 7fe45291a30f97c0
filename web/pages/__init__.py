"""The HTML pages, for people: the day, the week, the records, the account, the outbox.

One blueprint per module (:mod:`.day`, :mod:`.week`, :mod:`.clients`, :mod:`.series`,
:mod:`.facilities`, :mod:`.therapists`, :mod:`.time_off`, :mod:`.account`, :mod:`.outbox`,
:mod:`.spreadsheets`),
each defined beside its views and registered by the app factory. Every page requires a
signed-in user (:func:`signed_in`); admin-only pages say so. What the views share is here,
and in :mod:`.forms` (a form's values and errors) and :mod:`.conflicts` (an edit form saved
from an older version of its record, shown again with both sides).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint
from flask_login import current_user, login_required

from scheduler import audit, models
from scheduler.records.validation import ValidationError
from web.database import db

T = TypeVar("T")


def signed_in(bp: Blueprint) -> None:
    """Put every page of ``bp`` behind the login."""

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
