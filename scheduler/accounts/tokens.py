"""API tokens: long random secrets a program presents as ``Authorization: Bearer <token>``.

Only a SHA-256 digest of each token is stored. A token is 32 random bytes, so a fast digest is
enough (a slow password hash protects guessable secrets, which these are not), and lookup is one
indexed query. A token acts with its therapist's role and stops working when it is revoked,
when it expires, or when its therapist is deactivated.

The table is :class:`scheduler.models.ApiToken`. The calendar feed's secret address is found
here too (:func:`therapist_by_feed_token`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scheduler.models import ApiToken, Therapist

TOKEN_PREFIX = "rnd_"


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: Session, therapist: Therapist, name: str, now: datetime,
                lifetime: timedelta | None = None) -> tuple[ApiToken, str]:
    """A new token for ``therapist``; returns the row and the secret, shown once only."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(therapist_id=therapist.id, name=name.strip()[:80] or "token",
                   digest=digest_of(secret), created_at=now,
                   expires_at=now + lifetime if lifetime else None)
    session.add(row)
    session.flush()
    return row, secret


def find_token(session: Session, secret: str, now: datetime) -> ApiToken | None:
    """The live token with this secret (not revoked, not expired, therapist active), or None."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.digest == digest_of(secret)))
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    if not row.therapist.active:
        return None
    return row


def revoke_token(row: ApiToken, now: datetime) -> None:
    if row.revoked_at is None:
        row.revoked_at = now


def revoke_all_access(session: Session, therapist: Therapist, now: datetime) -> None:
    """Deactivation: revoke every API token of ``therapist`` and turn the calendar feed off.

    For good: reactivating the account later brings neither back (a token revoked stays
    revoked; the feed needs a new address, made on the account page), so a secret copied
    while the account was live cannot come back to life with it.
    """
    session.execute(update(ApiToken).where(ApiToken.therapist_id == therapist.id,
                                           ApiToken.revoked_at.is_(None))
                    .values(revoked_at=now))
    therapist.calendar_token = None


def therapist_by_feed_token(session: Session, token: str) -> Therapist | None:
    """The active therapist whose calendar feed lives at ``token``, or None."""
    if len(token) < 20 or len(token) > 100:
        return None
    therapist = session.scalar(select(Therapist).where(Therapist.calendar_token == token))
    # The lookup found it by equality; compare again in constant time for good measure.
    if therapist is None or not therapist.active or not hmac.compare_digest(
            therapist.calendar_token or "", token):
        return None
    return therapist


LAST_USED_GRANULARITY = timedelta(minutes=5)


def note_use(session: Session, token: ApiToken, now: datetime) -> None:
    """Record that ``token`` was used (to the nearest few minutes, so a busy script does not
    write on every request)."""
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_GRANULARITY:
        session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))


def tokens_of(session: Session, therapist_id: int) -> Sequence[ApiToken]:
    """The therapist's API tokens, newest first."""
    return session.scalars(select(ApiToken).where(ApiToken.therapist_id == therapist_id)
                           .order_by(ApiToken.created_at.desc())).all()


def token_of(session: Session, therapist_id: int, token_id: int) -> ApiToken | None:
    """One of the therapist's own tokens, or None."""
    return session.scalar(select(ApiToken).where(ApiToken.id == token_id,
                                                 ApiToken.therapist_id == therapist_id))
