"""Therapists, who are also the app's users: working week, home base, skills, lunch, daily
limits, e-mail time; their password and sessions; and the rule that a practice always keeps
one active admin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler import audit, clock, models
from scheduler.accounts import password_policy
from scheduler.accounts.passwords import hash_password
from scheduler.accounts.tokens import revoke_all_access
from scheduler.audit import Actor
from scheduler.records import change
from scheduler.records.fields import EXTRA_FIELDS, describe_kind, therapist_fields
from scheduler.records.validation import Problems, check_therapist, fail

PASSWORD_MIN = password_policy.MIN_LENGTH
PASSWORD_MAX = password_policy.MAX_LENGTH


def _apply(session: Session, therapist: models.Therapist, data: Mapping[str, Any],
           creating: bool) -> set[str]:
    values, problems = change.parse("therapist", therapist_fields(session), data,
                                    creating=creating, extra=EXTRA_FIELDS["therapist"])
    shifts = change.weekly("shifts", data["shifts"], problems) if "shifts" in data else None
    password = (_password_problems(data["password"], problems, _context(therapist, data))
                if "password" in data else None)
    if "email" in values:
        values["email"] = values["email"].lower()
        taken = session.scalar(select(models.Therapist.id).where(
            func.lower(models.Therapist.email) == values["email"],
            models.Therapist.id != (therapist.id or -1)))
        problems.check(taken is None, "email", "another user has this e-mail address")
    was = (therapist.role, therapist.active)
    with session.no_autoflush:
        changed = change.assign(therapist, values)
        if shifts is not None and change.weekly_rows(therapist.shifts, "start", "end") != shifts:
            therapist.shifts = [models.Shift(weekday=d, start=s, end=e) for d, s, e in shifts]
            changed.add("shifts")
        if password is not None and not problems.found:
            therapist.password_hash = hash_password(password)
            changed.add("password")
        change.check_whole(problems, lambda: check_therapist(therapist))
        if not creating:
            _keep_an_admin(session, therapist)
    if not creating and ("password" in changed or (therapist.role, therapist.active) != was):
        end_sessions(therapist)
    if was[1] and not therapist.active:
        revoke_all_access(session, therapist, clock.utcnow())
    return changed


THERAPIST = change.Kind("therapist", _apply)


@change.all_or_nothing
def create_therapist(session: Session, actor: Actor, data: Mapping[str, Any]) -> models.Therapist:
    therapist = models.Therapist(role=models.Role.THERAPIST, active=True, session_version=1,
                                 home_address="", skills=[], break_minutes=0,
                                 email_weekdays=[], shifts=[])
    return change.create(session, actor, THERAPIST, therapist, data)


@change.all_or_nothing
def update_therapist(session: Session, actor: Actor, therapist: models.Therapist,
                     data: Mapping[str, Any]) -> models.Therapist:
    return change.update(session, actor, THERAPIST, therapist, data)


def _password_problems(raw: Any, problems: Problems, context: list[str]) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        problems.add("password", f"expected text, got {describe_kind(raw)}")
        return None
    reason = password_policy.weakness(raw, context)
    if reason:
        problems.add("password", reason)
        return None
    return raw


def _context(therapist: models.Therapist, data: Mapping[str, Any]) -> list[str]:
    """Words a password must not be made of: the user's name and e-mail address, as saved and
    as being saved."""
    words = [therapist.name or "", therapist.email or ""]
    words += [value for key in ("name", "email") if isinstance(value := data.get(key), str)]
    return words


def _keep_an_admin(session: Session, therapist: models.Therapist) -> None:
    """The practice must keep one active admin, or nobody could manage it any more."""
    if therapist.role == models.Role.ADMIN and therapist.active:
        return
    others = session.scalar(select(func.count()).select_from(models.Therapist).where(
        models.Therapist.role == models.Role.ADMIN, models.Therapist.active.is_(True),
        models.Therapist.id != therapist.id))
    if not others:
        field = "active" if not therapist.active else "role"
        raise fail(field, "the practice needs at least one active admin")


def end_sessions(therapist: models.Therapist) -> None:
    """Make every session cookie issued to this user stop working (they carry the version)."""
    therapist.session_version = (therapist.session_version or 1) + 1


@change.all_or_nothing
def change_password(session: Session, actor: Actor, therapist: models.Therapist,
                    new_password: str) -> None:
    problems = Problems()
    password = _password_problems(new_password, problems, _context(therapist, {}))
    problems.raise_if_any()
    assert password is not None
    therapist.password_hash = hash_password(password)
    end_sessions(therapist)
    audit.record(session, actor, "update", "therapist", therapist.id, ("password",))


@change.all_or_nothing
def delete_therapist(session: Session, actor: Actor, therapist: models.Therapist) -> None:
    change.refuse_if_referred(
        session,
        [models.AppointmentSeries.therapist_id == therapist.id,
         models.DayPlan.therapist_id == therapist.id,
         models.Client.primary_therapist_id == therapist.id,
         models.OutboxMessage.therapist_id == therapist.id,
         models.AuditEvent.actor_id == therapist.id],
        "series, day plans, clients or the audit log refer to this therapist; "
        "deactivate the account instead")
    therapist.active = False
    _keep_an_admin(session, therapist)
    revoke_all_access(session, therapist, clock.utcnow())
    change.delete(session, actor, THERAPIST, therapist, [], "")
