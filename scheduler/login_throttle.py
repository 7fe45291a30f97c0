"""Login throttling: a few failed attempts per account and per address, then a pause.

Failures are rows of :class:`scheduler.models.LoginFailure`, so every process of the web app
(gunicorn's workers) and the next one after a restart count the same failures: an attacker
gets the allowance once, not once per process or per restart.

Each failure is counted twice, under two keys that are digests, so that the table holds no
e-mail address or network address in clear:
- ``acct:<sha256 of the lower-cased e-mail address typed>``, whether or not such a user exists,
  so the answer to a throttled attempt is the same for every address and tells an attacker
  nothing about which ones are accounts;
- ``ip:<sha256 of the network address>``, against one source trying many accounts.
(A digest of an IPv4 address can be reversed by trying all 2^32 of them; it keeps addresses out
of sight, not secret. A row lives until the first failure or success recorded after its window.)

An attempt is refused while ``limit`` failures of either key lie within the window; a success
clears the account's failures but not the address's. Recording a failure or a success also
deletes every expired row, so the table holds about one window's worth of failures.

Checking and recording are separate steps around the (slow) password check, so requests that
run at the same moment may each pass the check: on PostgreSQL a burst of parallel attempts can
exceed the limit by up to the number of requests served at once, after which the key is
refused for the window. (On SQLite a sign-in's write transaction holds the database's write
lock from the check to the commit, so attempts are counted one after another.)

Functions take the session and the current time (aware) as arguments; they never commit, the
caller does: a failure must be committed even though the sign-in it records fails.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from scheduler.models import LoginFailure


@dataclass(frozen=True)
class Limits:
    per_account: int = 5
    per_address: int = 30
    window: timedelta = timedelta(minutes=15)


DEFAULT_LIMITS = Limits()


def account_key(email: str) -> str:
    return "acct:" + _digest(email.strip().lower())


def address_key(address: str) -> str:
    return "ip:" + _digest(address.strip().lower())


def retry_after(session: Session, email: str, address: str, now: datetime,
                limits: Limits = DEFAULT_LIMITS) -> int:
    """Seconds until another attempt is allowed for this account and address (0: now).

    Only reads, so it may run on a read-only session.
    """
    _require_aware(now)
    return max(_wait(session, account_key(email), limits.per_account, now, limits.window),
               _wait(session, address_key(address), limits.per_address, now, limits.window))


def record_failure(session: Session, email: str, address: str, now: datetime,
                   limits: Limits = DEFAULT_LIMITS) -> None:
    """Count one failed attempt against the account and the address."""
    _require_aware(now)
    _delete_expired(session, now, limits.window)
    session.add_all([LoginFailure(key=account_key(email), at=now),
                     LoginFailure(key=address_key(address), at=now)])
    session.flush()


def record_success(session: Session, email: str, now: datetime,
                   limits: Limits = DEFAULT_LIMITS) -> None:
    """Forget the account's failures (the address's still count)."""
    _require_aware(now)
    _delete_expired(session, now, limits.window)
    session.execute(delete(LoginFailure).where(LoginFailure.key == account_key(email)))


def _wait(session: Session, key: str, limit: int, now: datetime, window: timedelta) -> int:
    """Refused while ``limit`` failures lie within the window: that is, until the limit-th most
    recent one leaves it."""
    limit_th = session.scalar(
        select(LoginFailure.at)
        .where(LoginFailure.key == key, LoginFailure.at > now - window)
        .order_by(LoginFailure.at.desc())
        .offset(limit - 1)
        .limit(1)
    )
    if limit_th is None:
        return 0
    return max(1, math.ceil((limit_th + window - now).total_seconds()))


def _delete_expired(session: Session, now: datetime, window: timedelta) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.at <= now - window))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("naive datetime given where an aware one is required")
