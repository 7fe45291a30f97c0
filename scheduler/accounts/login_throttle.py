"""Login throttling: growing delays per account and address, and a looser limit per address.

The old rule, five failures for an e-mail address and the account was shut for everyone for
15 minutes, let anyone who knew a therapist's address keep her out of her day page. Now:

- Per (account, network address) pair, ``free`` failures are forgiven; after that each next
  attempt from that address for that account must wait 2, 4, 8 ... seconds after the last
  failure, up to ``max_delay``. The delay is enforced by refusing an early attempt with the
  seconds left ("Try again in N seconds"); the server never sleeps. A guesser from one
  address gets a few dozen tries an hour, while the real user signing in from her own address
  is not slowed at all by failures elsewhere.
- Per network address across accounts, ``per_address`` failures within the window refuse that
  address until they age out: one source spraying many accounts is stopped.
- A guesser spread over many addresses is slowed by each address's allowance and by argon2's
  cost, not stopped: nothing counts one account's failures across addresses, on purpose,
  because such a count is exactly what lets a stranger lock the account. Two-factor sign-in
  (:mod:`scheduler.accounts.totp`) is the defence there.

Failures are rows of :class:`scheduler.models.LoginFailure`, so every process of the web app
(gunicorn's workers) and the next one after a restart count the same failures: an attacker
gets the allowance once, not once per process or per restart.

Each failure is counted twice, under two keys that are keyed digests (HMAC-SHA256), so that
the table holds no e-mail address or network address in clear:
- ``pair:<HMAC of the lower-cased e-mail address typed and the network address>``, whether
  or not such a user exists, so the answer to a throttled attempt is the same for every
  address and tells an attacker nothing about which ones are accounts;
- ``ip:<HMAC of the network address>``, against one source trying many accounts.
The HMAC key is derived from the web app's secret key (:class:`Keys`), which the caller passes
in. A plain hash would not do: every IPv4 address is only 2^32 guesses, and a list of staff
e-mail addresses fewer still, so anyone holding a copy of the table could read it back. Keyed,
the digests tell nothing to someone without the secret. Changing the secret key orphans the
rows (their keys no longer match): the counts start again, and the old rows are deleted once
their window has passed. Every process must therefore use the same secret key, as it must
for sessions anyway.

A failure counts for ``window``; a success clears the pair's failures but not the address's.
Recording a failure or a success also deletes every expired row, so the table holds about one
window's worth of failures.

Checking and recording are separate steps around the (slow) password check, so requests that
run at the same moment may each pass the check: on PostgreSQL a burst of parallel attempts can
exceed the allowance by up to the number of requests served at once. (On SQLite a sign-in's
write transaction holds the database's write lock from the check to the commit, so attempts
are counted one after another.)

Functions take the session, the :class:`Keys` and the current time (aware) as arguments; they
never commit, the caller does: a failure must be committed even though the sign-in it records
fails.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from scheduler.models import LoginFailure


@dataclass(frozen=True)
class Limits:
    free: int = 3  # failures of one (account, address) pair before the delays start
    max_delay: timedelta = timedelta(minutes=5)  # the longest delay between two attempts
    per_address: int = 30  # failures of one address, any accounts, within the window
    window: timedelta = timedelta(minutes=60)  # how long a failure counts

    def delay(self, failures: int) -> timedelta:
        """How long after the last of ``failures`` failures the next attempt must wait: none
        up to ``free``, then 2 s doubling with each failure, capped at ``max_delay``."""
        if failures < self.free:
            return timedelta(0)
        exponent = min(failures - self.free + 1, 40)  # 2^40 s is past any cap
        return min(timedelta(seconds=2 ** exponent), self.max_delay)


DEFAULT_LIMITS = Limits()


class Keys:
    """Turns e-mail and network addresses into the keys stored in the table.

    Built from the web app's secret key (this module knows nothing of Flask); the HMAC key is
    derived from it for this one purpose, so the digests can never be mistaken for, or help
    forge, anything else the secret signs (sessions, CSRF tokens).
    """

    PURPOSE = b"rounds login throttle v1"

    def __init__(self, secret: str | bytes) -> None:
        raw = secret.encode("utf-8") if isinstance(secret, str) else secret
        if not raw.strip():
            raise ValueError("the login throttle needs a secret key to key its digests")
        self._key = hmac.new(raw, self.PURPOSE, hashlib.sha256).digest()

    def pair(self, email: str, address: str) -> str:
        """One key for this account typed from this address (a newline joins them: it can be
        in neither)."""
        return "pair:" + self._digest(email.strip() + "\n" + address.strip())

    def address(self, address: str) -> str:
        return "ip:" + self._digest(address)

    def _digest(self, text: str) -> str:
        normalised = text.strip().lower().encode("utf-8")
        return hmac.new(self._key, normalised, hashlib.sha256).hexdigest()


def retry_after(session: Session, keys: Keys, email: str, address: str, now: datetime,
                limits: Limits = DEFAULT_LIMITS) -> int:
    """Seconds until another attempt is allowed for this account and address (0: now).

    Only reads, so it may run on a read-only session.
    """
    _require_aware(now)
    return max(_delay_left(session, keys.pair(email, address), now, limits),
               _wait(session, keys.address(address), limits.per_address, now, limits.window))


def record_failure(session: Session, keys: Keys, email: str, address: str, now: datetime,
                   limits: Limits = DEFAULT_LIMITS) -> None:
    """Count one failed attempt against the account from this address, and the address."""
    _require_aware(now)
    _delete_expired(session, now, limits.window)
    session.add_all([LoginFailure(key=keys.pair(email, address), at=now),
                     LoginFailure(key=keys.address(address), at=now)])
    session.flush()


def record_success(session: Session, keys: Keys, email: str, address: str, now: datetime,
                   limits: Limits = DEFAULT_LIMITS) -> None:
    """Forget the failures of this account from this address (the address's still count)."""
    _require_aware(now)
    _delete_expired(session, now, limits.window)
    session.execute(delete(LoginFailure).where(LoginFailure.key == keys.pair(email, address)))


def _delay_left(session: Session, key: str, now: datetime, limits: Limits) -> int:
    """Seconds left of the delay that the pair's failures within the window impose."""
    count, last = session.execute(
        select(func.count(), func.max(LoginFailure.at))
        .where(LoginFailure.key == key, LoginFailure.at > now - limits.window)
    ).one()
    if last is None:
        return 0
    left = (last + limits.delay(count) - now).total_seconds()
    return max(0, math.ceil(left))


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


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("naive datetime given where an aware one is required")
