"""Login throttling in the database, on both backends: limits per account and per address,
the window, what a success clears, and that the table stays small and holds no addresses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import login_throttle
from scheduler.login_throttle import Limits, record_failure, record_success, retry_after
from scheduler.models import LoginFailure

T0 = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
LIMITS = Limits(per_account=5, per_address=30, window=timedelta(minutes=15))
HOME = "203.0.113.7"


def fail(session: Session, email: str, address: str = HOME, at: datetime = T0) -> None:
    record_failure(session, email, address, at, LIMITS)


def wait(session: Session, email: str, address: str = HOME, at: datetime = T0) -> int:
    return retry_after(session, email, address, at, LIMITS)


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
        record_failure(session, "theo@example.org", HOME, T0, limits)
    record_success(session, "theo@example.org", T0, limits)
    assert retry_after(session, "theo@example.org", "192.0.2.1", T0, limits) == 0
    for _ in range(limits.per_address - limits.per_account):
        record_failure(session, "tess@example.org", HOME, T0, limits)
    assert retry_after(session, "ada@example.org", HOME, T0, limits) > 0


@pytest.mark.parametrize("record", ["failure", "success"])
def test_expired_rows_are_deleted_as_attempts_come_in(session: Session, record: str) -> None:
    fail(session, "old@example.org", at=T0)
    fail(session, "recent@example.org", at=T0 + timedelta(minutes=10))
    later = T0 + LIMITS.window
    if record == "failure":
        fail(session, "new@example.org", "192.0.2.1", at=later)
    else:
        record_success(session, "new@example.org", later, LIMITS)
    keys = set(session.scalars(select(LoginFailure.key)))
    assert login_throttle.account_key("old@example.org") not in keys
    assert login_throttle.account_key("recent@example.org") in keys


def test_the_table_holds_digests_not_addresses(session: Session) -> None:
    fail(session, "Theo@Example.org", "2001:db8::1")
    keys = list(session.scalars(select(LoginFailure.key)))
    assert len(keys) == 2
    for key in keys:
        assert "example" not in key.lower() and "2001" not in key and ":db8" not in key
        assert len(key) <= LoginFailure.__table__.c.key.type.length


def test_naive_times_are_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="naive"):
        wait(session, "theo@example.org", at=T0.replace(tzinfo=None))
    with pytest.raises(ValueError, match="naive"):
        fail(session, "theo@example.org", at=T0.replace(tzinfo=None))
