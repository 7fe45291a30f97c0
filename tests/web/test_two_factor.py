"""Two-factor sign-in (TOTP): enrolling on the account page, the code asked after the password,
each code accepted once, wrong codes throttled like passwords, and a practice that requires it
of admins. Codes come from pyotp at a driven time (``scheduler.clock.utcnow``), never a sleep."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from web_support import Clock, csrf_token, login, make_practice, make_runtime, post

from scheduler import models
from scheduler.settings import Settings
from web import create_app

T0 = datetime(2026, 3, 9, 14, 0, 5, tzinfo=UTC)
DAY = "/day/2026-03-09"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(T0)
    monkeypatch.setattr("scheduler.clock.utcnow", clock)
    return clock


def enrol(client: FlaskClient, clock: Clock) -> str:
    """Set up two-factor sign-in on the account page; the secret the page showed."""
    page = post(client, "/account/two-factor")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    secret = re.search(r'id="totp-secret" class="copy" readonly value="([A-Z2-7]+)"', text).group(1)
    assert "otpauth://totp/" in text and "<svg" in text
    wrong = post(client, "/account/two-factor/confirm", {"code": "000000"})
    assert wrong.status_code == 422 and "is not the code your app shows now" in wrong.get_data(
        as_text=True)
    done = post(client, "/account/two-factor/confirm",
                {"code": pyotp.TOTP(secret).at(clock.now)})
    assert done.status_code == 302
    return secret


def send_code(client: FlaskClient, code: str) -> object:
    return client.post("/login/code", data={"code": code,
                                            "csrf_token": csrf_token(client, "/login")})


def test_after_enrolling_sign_in_needs_the_code(web_runtime, app: Flask, theo_client,
                                                practice, clock: Clock) -> None:
    secret = enrol(theo_client, clock)
    with web_runtime.session() as s:
        theo = s.get(models.Therapist, practice.theo_id)
        assert theo.totp_enabled and theo.totp_secret == secret
    clock.now += timedelta(minutes=1)
    client = app.test_client()
    first = login(client, "theo@example.org")
    assert first.status_code == 302 and first.headers["Location"] == "/login/code"
    # Half signed in: the session cookie names no user, and no page opens.
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    session = SecureCookieSessionInterface().get_signing_serializer(app).loads(cookie.value)
    assert "_user_id" not in session and secret not in repr(session)
    assert client.get(DAY).status_code == 302
    assert send_code(client, "123456").status_code == 401
    code = pyotp.TOTP(secret).at(clock.now)
    assert send_code(client, code).status_code == 302
    assert client.get(DAY).status_code == 200
    # The same code a second time (read over a shoulder) does not work.
    again = app.test_client()
    assert login(again, "theo@example.org").status_code == 302
    assert send_code(again, code).status_code == 401
    # A code of a step before the one used is refused too; the next step's works.
    assert send_code(again, pyotp.TOTP(secret).at(clock.now - timedelta(seconds=30))
                     ).status_code == 401
    clock.now += timedelta(seconds=30)
    assert send_code(again, pyotp.TOTP(secret).at(clock.now)).status_code == 302


def test_wrong_codes_are_slowed_like_wrong_passwords(app: Flask, theo_client, practice,
                                                     clock: Clock) -> None:
    secret = enrol(theo_client, clock)
    clock.now += timedelta(minutes=1)
    client = app.test_client()
    assert login(client, "theo@example.org").status_code == 302
    for guess in ("111111", "222222", "333333"):
        assert send_code(client, guess).status_code == 401
    refused = send_code(client, pyotp.TOTP(secret).at(clock.now))
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "2"
    clock.now += timedelta(seconds=2)
    assert send_code(client, pyotp.TOTP(secret).at(clock.now)).status_code == 302


def test_the_code_must_follow_the_password_within_five_minutes(app: Flask, theo_client,
                                                               practice, clock: Clock) -> None:
    secret = enrol(theo_client, clock)
    client = app.test_client()
    assert login(client, "theo@example.org").status_code == 302
    clock.now += timedelta(minutes=5, seconds=1)
    late = send_code(client, pyotp.TOTP(secret).at(clock.now))
    assert late.status_code == 302 and late.headers["Location"] == "/login"
    assert client.get(DAY).status_code == 302


def test_turning_it_off_needs_a_code(web_runtime, theo_client, practice, clock: Clock) -> None:
    secret = enrol(theo_client, clock)
    clock.now += timedelta(minutes=1)
    refused = post(theo_client, "/account/two-factor/disable", {"code": "000000"})
    assert refused.status_code == 422
    done = post(theo_client, "/account/two-factor/disable",
                {"code": pyotp.TOTP(secret).at(clock.now)})
    assert done.status_code == 302
    with web_runtime.session() as s:
        theo = s.get(models.Therapist, practice.theo_id)
        assert not theo.totp_enabled and theo.totp_secret is None


@pytest.fixture
def strict_app(settings: Settings, sqlite_url: str):
    """The practice requires two-factor sign-in of admins."""
    settings = replace(settings, web=replace(settings.web, totp_required_for_admins=True))
    runtime = make_runtime(settings, sqlite_url)
    make_practice(runtime)
    yield create_app(runtime=runtime, test_config={"TESTING": True})
    runtime.close()


def test_an_admin_without_it_is_sent_to_set_it_up(strict_app: Flask, clock: Clock) -> None:
    admin = strict_app.test_client()
    signed = login(admin, "ada@example.org")
    assert signed.status_code == 302 and signed.headers["Location"] == "/account"
    blocked = admin.get("/therapists")
    assert blocked.status_code == 302 and blocked.headers["Location"] == "/account"
    assert "requires two-factor sign-in for admins" in admin.get("/account").get_data(
        as_text=True)
    secret = enrol(admin, clock)
    assert admin.get("/therapists").status_code == 200
    # It stays on: an admin may not turn it off here.
    clock.now += timedelta(minutes=1)
    refused = post(admin, "/account/two-factor/disable",
                   {"code": pyotp.TOTP(secret).at(clock.now)})
    assert refused.status_code == 422
    assert "requires it for admins, so it stays on" in refused.get_data(as_text=True)
    # A therapist is not asked.
    theo = strict_app.test_client()
    assert login(theo, "theo@example.org").headers["Location"] == "/"
    assert theo.get(DAY).status_code == 200


def test_an_admin_can_turn_it_off_for_a_user_who_lost_their_phone(
        app: Flask, theo_client, admin_client, practice, clock: Clock) -> None:
    enrol(theo_client, clock)
    path = f"/therapists/{practice.theo_id}/two-factor/reset"
    assert post(theo_client, path).status_code == 403  # not by the user (a stolen session)
    assert "Turn it off (lost phone)" in admin_client.get(
        f"/therapists/{practice.theo_id}").get_data(as_text=True)
    assert post(admin_client, path).status_code == 302
    assert theo_client.get(DAY).status_code == 302  # her sessions ended
    again = app.test_client()
    assert login(again, "theo@example.org").headers["Location"] == "/"  # password alone
