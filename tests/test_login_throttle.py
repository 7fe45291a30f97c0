"""Login throttling in the database, on both backends: limits per account and per address,
the window, what a success clears, and that the table stays small and holds only digests keyed
by the secret, which nobody without it can check a guess against."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.accounts.login_throttle import (
    Keys,
    Limits,
    record_failure,
    record_success,
    retry_after,
)
from scheduler.models import LoginFailure

T0 = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
LIMITS = Limits(per_account=5, per_address=30, window=timedelta(minutes=15))
HOME = "203.0.113.7"
KEYS = Keys("a-test-secret-for-the-throttle")


def fail(session: Session, email: str, address: str = HOME, at: datetime = T0) -> None:
    record_failure(session, KEYS, email, address, at, LIMITS)


def wait(session: Session, email: str, address: str = HOME, at: datetime = T0) -> int:
    return retry_after(session, KEYS, email, address, at, LIMITS)


def test_an_account_is_refused_at_its_limit_from_any_address(session: Session) -> None:
    for n in range(LIMITS.per_account):
        assert wait(session, "theo@example.org", f"198.51.100.{n}") == 0
        fail(session, "theo@example.org", f"198.51.100.{n}")
    assert wait(session, "theo@example.org", "192.0.2.99") == LIMITS.window.total_seconds()
    assert wait(session, "tess@example.org", "198.51.100.0") == 0  # the addresses are not


def test_the_account_key_ignores_case_and_spaces(session: Session) -> None:
    for _ in range(LIMITS.per_account):
        fail(session, " Theo@Example.ORG")
    assert wait(session, "theo@example.org", "192.0.2.1") > 0


def test_an_address_is_refused_at_its_limit_whatever_the_account(session: Session) -> None:
    for n in range(LIMITS.per_address):
        fail(session, f"guess{n}@example.org")
    assert wait(session, "someone-new@example.org") > 0
    assert wait(session, "someone-new@example.org", "192.0.2.1") == 0


def test_the_wait_lasts_until_fewer_than_the_limit_lie_within_the_window(
        session: Session) -> None:
    minute = timedelta(minutes=1)
    for n in range(LIMITS.per_account + 1):  # one more than the limit, a minute apart
        fail(session, "theo@example.org", at=T0 + n * minute)
    now = T0 + 5 * minute
    # The oldest failure leaving the window still leaves five in it: the second one decides.
    assert wait(session, "theo@example.org", at=now) == (T0 + minute + LIMITS.window
                                                         - now).total_seconds()
    assert wait(session, "theo@example.org", at=T0 + minute + LIMITS.window
                - timedelta(seconds=1)) == 1
    assert wait(session, "theo@example.org", at=T0 + minute + LIMITS.window) == 0


def test_a_success_clears_the_account_but_not_the_address(session: Session) -> None:
    limits = Limits(per_account=5, per_address=8, window=LIMITS.window)
    for _ in range(limits.per_account):
        record_failure(session, KEYS, "theo@example.org", HOME, T0, limits)
    record_success(session, KEYS, "theo@example.org", T0, limits)
    assert retry_after(session, KEYS, "theo@example.org", "192.0.2.1", T0, limits) == 0
    for _ in range(limits.per_address - limits.per_account):
        record_failure(session, KEYS, "tess@example.org", HOME, T0, limits)
    assert retry_after(session, KEYS, "ada@example.org", HOME, T0, limits) > 0


@pytest.mark.parametrize("record", ["failure", "success"])
def test_expired_rows_are_deleted_as_attempts_come_in(session: Session, record: str) -> None:
    fail(session, "old@example.org", at=T0)
    fail(session, "recent@example.org", at=T0 + timedelta(minutes=10))
    later = T0 + LIMITS.window
    if record == "failure":
        fail(session, "new@example.org", "192.0.2.1", at=later)
    else:
        record_success(session, KEYS, "new@example.org", later, LIMITS)
    keys = set(session.scalars(select(LoginFailure.key)))
    assert KEYS.account("old@example.org") not in keys
    assert KEYS.account("recent@example.org") in keys


def test_the_table_holds_digests_not_addresses(session: Session) -> None:
    fail(session, "Theo@Example.org", "2001:db8::1")
    keys = set(session.scalars(select(LoginFailure.key)))
    assert keys == {KEYS.account("theo@example.org"), KEYS.address("2001:db8::1")}
    for key in keys:
        assert "example" not in key.lower() and "2001" not in key and ":db8" not in key
        assert len(key) <= LoginFailure.__table__.c.key.type.length


def test_without_the_secret_a_guess_cannot_be_checked(session: Session) -> None:
    """Hashing a guessed e-mail or address, as anyone holding the table could, finds no row."""
    fail(session, "theo@example.org", HOME)
    stored = {key.split(":", 1)[1] for key in session.scalars(select(LoginFailure.key))}
    for guess in ("theo@example.org", HOME):
        assert hashlib.sha256(guess.encode()).hexdigest() not in stored


def test_another_secret_gives_other_digests_and_other_counts(session: Session) -> None:
    other = Keys("another-secret-entirely")
    assert other.account("theo@example.org") != KEYS.account("theo@example.org")
    assert other.address(HOME) != KEYS.address(HOME)
    for _ in range(LIMITS.per_account):
        fail(session, "theo@example.org")
    assert wait(session, "theo@example.org") > 0
    assert retry_after(session, other, "theo@example.org", HOME, T0, LIMITS) == 0


def test_an_empty_secret_is_refused() -> None:
    for secret in ("", "  ", b""):
        with pytest.raises(ValueError, match="secret key"):
            Keys(secret)


def test_naive_times_are_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="naive"):
        wait(session, "theo@example.org", at=T0.replace(tzinfo=None))
    with pytest.raises(ValueError, match="naive"):
        fail(session, "theo@example.org", at=T0.replace(tzinfo=None))
