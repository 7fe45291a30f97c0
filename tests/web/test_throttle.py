"""Sign-in throttling through the app: growing delays per account and address, never a
lockout from everywhere; the count lives in the database, so separate app processes share it
and a restart keeps it; behind a proxy (``web.proxy_hops``) each client is
counted under its own forwarded address, and without that setting the header is ignored; on
both backends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from web_support import PASSWORD, Clock, login, make_practice, make_runtime

from scheduler.accounts.login_throttle import Keys
from scheduler.models import LoginFailure
from scheduler.runtime import Runtime
from scheduler.settings import Settings
from web import create_app

T0 = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
FREE = 3  # the default web.login_failures_before_delay


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(T0)
    monkeypatch.setattr("scheduler.clock.utcnow", clock)
    return clock


class Processes:
    """Apps built on one database the way separate server processes build theirs: each with
    its own runtime (engine, pool, sessions) and nothing else in common."""

    def __init__(self, settings: Settings, url: str) -> None:
        self.settings, self.url = settings, url
        self.runtimes: list[Runtime] = []

    def start(self) -> Flask:
        runtime = make_runtime(self.settings, self.url)
        self.runtimes.append(runtime)
        return create_app(runtime=runtime, test_config={"TESTING": True})

    def stop(self, app: Flask) -> None:
        app.extensions["rounds"].close()


@contextmanager
def practice_database(settings: Settings, url: str) -> Iterator[Processes]:
    """The test practice in the database at ``url``, and a way to start apps on it."""
    processes = Processes(settings, url)
    setup = make_runtime(settings, url)
    make_practice(setup)
    setup.close()
    try:
        yield processes
    finally:
        for runtime in processes.runtimes:
            runtime.close()


@pytest.fixture
def processes(settings: Settings, db_url: str) -> Iterator[Processes]:
    with practice_database(settings, db_url) as processes:
        yield processes


def _fail(app: Flask, email: str = "theo@example.org") -> int:
    return login(app.test_client(), email, "wrong password").status_code


def test_two_processes_share_one_count(processes: Processes, clock: Clock) -> None:
    first, second = processes.start(), processes.start()
    statuses = [_fail(first), _fail(second), _fail(first)]
    assert statuses == [401] * FREE  # three failures in all, two here and one there
    for app in (first, second):
        assert login(app.test_client(), "theo@example.org").status_code == 429


def test_the_count_survives_a_restart(processes: Processes, clock: Clock) -> None:
    app = processes.start()
    for _ in range(FREE):
        assert _fail(app) == 401
    processes.stop(app)
    restarted = processes.start()
    assert login(restarted.test_client(), "theo@example.org").status_code == 429


def test_the_delay_grows_and_ends(processes: Processes, clock: Clock) -> None:
    app = processes.start()
    for _ in range(FREE):
        assert _fail(app) == 401
    for delay in (2, 4, 8):
        clock.now += timedelta(seconds=delay - 1)
        refused = login(app.test_client(), "theo@example.org")
        assert refused.status_code == 429
        assert "Try again in 1 second." in _page(refused)
        clock.now += timedelta(seconds=1)
        assert _fail(app) == 401
    clock.now += timedelta(seconds=16)
    assert login(app.test_client(), "theo@example.org").status_code == 302


def test_an_attacker_elsewhere_does_not_keep_the_user_out(processes: Processes,
                                                          clock: Clock) -> None:
    """Anyone who knows her e-mail address can fail as often as the delays let them; she
    still signs in from her own address at once."""
    app = processes.start()
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "198.51.100.66"
    for _ in range(12):  # each after the longest delay (300 s): always let through
        assert login(attacker, "theo@example.org", "wrong password").status_code == 401
        clock.now += timedelta(seconds=300)
    clock.now -= timedelta(seconds=1)
    assert login(attacker, "theo@example.org", "wrong password").status_code == 429
    assert login(app.test_client(), "theo@example.org").status_code == 302


def test_known_and_unknown_addresses_get_the_same_pause(processes: Processes,
                                                        clock: Clock) -> None:
    app = processes.start()
    answers = {}
    for email in ("theo@example.org", "ghost@example.org"):
        for _ in range(FREE):
            assert _fail(app, email) == 401
        response = login(app.test_client(), email, PASSWORD)
        assert response.status_code == 429
        answers[email] = _page(response).replace(email, "X")
    assert "Too many failed attempts. Try again in 2 seconds." in answers["theo@example.org"]
    assert answers["theo@example.org"] == answers["ghost@example.org"]


def test_a_success_clears_the_account_count(processes: Processes, clock: Clock) -> None:
    app = processes.start()
    for _ in range(FREE - 1):
        assert _fail(app) == 401
    assert login(app.test_client(), "theo@example.org").status_code == 302
    for _ in range(FREE - 1):
        assert _fail(app) == 401
    assert login(app.test_client(), "theo@example.org").status_code == 302


def test_one_address_trying_many_accounts_is_paused(settings: Settings, db_url: str,
                                                    clock: Clock) -> None:
    settings = replace(settings, web=replace(settings.web, login_failures_per_address=3))
    with practice_database(settings, db_url) as processes:
        app = processes.start()
        for n in range(3):
            assert _fail(app, f"guess{n}@example.org") == 401
        assert login(app.test_client(), "theo@example.org").status_code == 429
        elsewhere = app.test_client()
        elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.50"
        assert login(elsewhere, "theo@example.org").status_code == 302


PROXY = "127.0.0.1"  # the test client's REMOTE_ADDR: the proxy, as gunicorn would see it


def _through_proxy(app: Flask, client_address: str) -> FlaskClient:
    """A client whose requests carry the X-Forwarded-For a proxy adds (or a forger writes)."""
    client = app.test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = client_address
    return client


def _stored_keys(processes: Processes) -> set[str]:
    with processes.runtimes[-1].session() as session:
        return set(session.scalars(select(LoginFailure.key)))


def _with_proxy_hops(settings: Settings, hops: int) -> Settings:
    web = replace(settings.web, proxy_hops=hops, login_failures_per_address=3)
    return replace(settings, web=web)


def test_behind_a_proxy_each_forwarded_address_is_counted_on_its_own(
        settings: Settings, db_url: str, clock: Clock) -> None:
    with practice_database(_with_proxy_hops(settings, 1), db_url) as processes:
        app = processes.start()
        for n in range(3):
            assert login(_through_proxy(app, "198.51.100.7"), f"guess{n}@example.org",
                         "wrong password").status_code == 401
        assert login(_through_proxy(app, "198.51.100.7"), "theo@example.org").status_code == 429
        assert login(_through_proxy(app, "203.0.113.9"), "theo@example.org").status_code == 302
        keys = Keys(app.secret_key)
        stored = _stored_keys(processes)
        assert keys.address("198.51.100.7") in stored  # the forwarded address was counted
        assert keys.address(PROXY) not in stored  # and not the proxy's


def test_without_proxy_hops_a_forged_header_does_not_dodge_the_limit(
        settings: Settings, db_url: str, clock: Clock) -> None:
    with practice_database(_with_proxy_hops(settings, 0), db_url) as processes:
        app = processes.start()
        for n in range(3):  # each attempt claims another address
            assert login(_through_proxy(app, f"198.51.100.{n}"), f"guess{n}@example.org",
                         "wrong password").status_code == 401
        assert login(_through_proxy(app, "203.0.113.9"), "theo@example.org").status_code == 429
        stored = _stored_keys(processes)
        keys = Keys(app.secret_key)
        assert keys.address(PROXY) in stored
        assert not any(keys.address(f"198.51.100.{n}") in stored for n in range(3))


def test_the_table_is_keyed_by_the_apps_secret(processes: Processes, clock: Clock) -> None:
    app = processes.start()
    assert _fail(app, "Theo@Example.org") == 401
    stored = _stored_keys(processes)
    assert stored == {Keys(app.secret_key).pair("theo@example.org", PROXY),
                      Keys(app.secret_key).address(PROXY)}
    assert Keys("some-other-secret-key").pair("theo@example.org", PROXY) not in stored


def _page(response) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", response.get_data(as_text=True))
