"""API tokens: long random secrets a program presents as ``Authorization: Bearer <token>``.

Only a SHA-256 digest of each token is stored. A token is 32 random bytes, so a fast digest is
enough (a slow password hash protects guessable secrets, which these are not), and lookup is one
indexed query. A token acts with its therapist's role and stops working when it is revoked,
when it expires, or when its therapist is deactivated.

The table is :class:`scheduler.models.ApiToken`.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
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
