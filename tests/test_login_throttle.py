"""Login throttling in the database, on both backends: growing delays per account and
address (never a lockout of the account from everywhere), a looser limit per address, the
window, what a success clears, and that the table stays small and holds only digests keyed by
the secret, which nobody without it can check a guess against."""

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
LIMITS = Limits(free=3, max_delay=timedelta(minutes=5), per_address=30,
                window=timedelta(minutes=60))
HOME = "203.0.113.7"
KEYS = Keys("a-test-secret-for-the-throttle")


def fail(session: Session, email: str, address: str = HOME, at: datetime = T0) -> None:
    record_failure(session, KEYS, email, address, at, LIMITS)


def wait(session: Session, email: str, address: str = HOME, at: datetime = T0) -> int:
    return retry_after(session, KEYS, email, address, at, LIMITS)


def test_the_delays_grow_after_the_free_failures_up_to_the_cap() -> None:
    assert [LIMITS.delay(n).total_seconds() for n in range(12)] == [
        0, 0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert LIMITS.delay(10_000) == LIMITS.max_delay


def test_each_attempt_waits_its_delay_after_the_last_failure(session: Session) -> None:
    now = T0
    for _ in range(LIMITS.free):  # the free ones: no wait at all
        assert wait(session, "theo@example.org", at=now) == 0
        fail(session, "theo@example.org", at=now)
    for expected in (2, 4, 8, 16):
        assert wait(session, "theo@example.org", at=now) == expected
        assert wait(session, "theo@example.org",
                    at=now + timedelta(seconds=expected - 1)) == 1
        now += timedelta(seconds=expected)
        assert wait(session, "theo@example.org", at=now) == 0
        fail(session, "theo@example.org", at=now)


def test_failures_from_one_address_do_not_slow_the_account_elsewhere(session: Session) -> None:
    """The attacker who knows her e-mail address cannot keep the therapist out."""
    for n in range(50):
        fail(session, "theo@example.org", "198.51.100.66", at=T0 + n * timedelta(seconds=1))
    assert wait(session, "theo@example.org", "198.51.100.66", at=T0 + timedelta(minutes=1)) > 0
    assert wait(session, "theo@example.org", HOME, at=T0 + timedelta(minutes=1)) == 0


def test_the_account_key_ignores_case_and_spaces(session: Session) -> None:
    for _ in range(LIMITS.free):
        fail(session, " Theo@Example.ORG")
    assert wait(session, "theo@example.org") > 0


def test_an_address_is_refused_at_its_limit_whatever_the_account(session: Session) -> None:
    for n in range(LIMITS.per_address):
        fail(session, f"guess{n}@example.org")
    assert wait(session, "someone-new@example.org") > 0
    assert wait(session, "someone-new@example.org", "192.0.2.1") == 0


def test_the_address_wait_lasts_until_fewer_than_the_limit_lie_within_the_window(
        session: Session) -> None:
    limits = Limits(free=100, per_address=5, window=timedelta(minutes=15))
    minute = timedelta(minutes=1)
    for n in range(limits.per_address + 1):  # one more than the limit, a minute apart
        record_failure(session, KEYS, f"guess{n}@example.org", HOME, T0 + n * minute, limits)
    now = T0 + 5 * minute
    # The oldest failure leaving the window still leaves five in it: the second one decides.
    assert retry_after(session, KEYS, "x@example.org", HOME, now, limits) == (
        T0 + minute + limits.window - now).total_seconds()
    end = T0 + minute + limits.window
    assert retry_after(session, KEYS, "x@example.org", HOME, end - timedelta(seconds=1),
                       limits) == 1
    assert retry_after(session, KEYS, "x@example.org", HOME, end, limits) == 0


def test_failures_older_than_the_window_no_longer_count(session: Session) -> None:
    for _ in range(8):
        fail(session, "theo@example.org")
    assert wait(session, "theo@example.org", at=T0 + LIMITS.max_delay) == 0
    later = T0 + LIMITS.window
    fail(session, "theo@example.org", at=later)  # one failure, alone in the window
    assert wait(session, "theo@example.org", at=later) == 0


def test_a_success_clears_the_pair_but_not_the_address(session: Session) -> None:
    limits = Limits(free=3, per_address=8, window=LIMITS.window)
    for _ in range(5):
        record_failure(session, KEYS, "theo@example.org", HOME, T0, limits)
    assert retry_after(session, KEYS, "theo@example.org", HOME, T0, limits) > 0
    record_success(session, KEYS, "theo@example.org", HOME, T0, limits)
    assert retry_after(session, KEYS, "theo@example.org", HOME, T0, limits) == 0
    for _ in range(limits.per_address - 5):
        record_failure(session, KEYS, "tess@example.org", "192.0.2.8", T0, limits)
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
        record_success(session, KEYS, "new@example.org", HOME, later, LIMITS)
    keys = set(session.scalars(select(LoginFailure.key)))
    assert KEYS.pair("old@example.org", HOME) not in keys
    assert KEYS.pair("recent@example.org", HOME) in keys


def test_the_table_holds_digests_not_addresses(session: Session) -> None:
    fail(session, "Theo@Example.org", "2001:db8::1")
    keys = set(session.scalars(select(LoginFailure.key)))
    assert keys == {KEYS.pair("theo@example.org", "2001:db8::1"), KEYS.address("2001:db8::1")}
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
    assert other.pair("theo@example.org", HOME) != KEYS.pair("theo@example.org", HOME)
    assert other.address(HOME) != KEYS.address(HOME)
    for _ in range(LIMITS.free):
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
