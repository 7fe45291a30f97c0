"""Signing in and out: one answer for every failure, throttling, sessions that really end."""

from __future__ import annotations

import re

import pytest
from web_support import PASSWORD, PLAN_DAY, csrf_token, login, post

from scheduler import models, records
from scheduler.audit import Actor

DAY = f"/day/{PLAN_DAY.isoformat()}"


def _body(response) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", response.get_data(as_text=True))


def test_pages_need_a_login(client, practice):
    for path in ("/", DAY, "/week", "/clients", f"/clients/{practice.tess_client}",
                 "/facilities", "/account", "/therapists", "/outbox"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login"), path


def test_login_and_logout(client, practice):
    response = login(client, "theo@example.org")
    assert response.status_code == 302
    assert client.get(DAY).status_code == 200
    response = post(client, "/logout")
    assert response.status_code == 302
    assert client.get(DAY).status_code == 302


def test_unknown_user_and_wrong_password_get_the_same_answer(client, practice):
    wrong = login(client, "theo@example.org", "not the password")
    unknown = login(client, "nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert _body(wrong).replace("theo@example.org", "X") == _body(unknown).replace(
        "nobody@example.org", "X")


def test_inactive_account_gets_the_same_answer(web_runtime, client, practice):
    with web_runtime.session() as s:
        s.get(models.Therapist, practice.tess_id).active = False
    assert login(client, "tess@example.org").status_code == 401


def test_slowed_after_three_failures_whether_or_not_the_user_exists(monkeypatch, client,
                                                                    practice):
    from datetime import UTC, datetime

    monkeypatch.setattr("scheduler.clock.utcnow", lambda: datetime(2026, 3, 9, 12, tzinfo=UTC))
    for email in ("theo@example.org", "ghost@example.org"):
        for _ in range(3):
            assert login(client, email, "wrong password").status_code == 401
        assert login(client, email, "wrong password").status_code == 429
        # The right password does not get through while the delay lasts either.
        response = login(client, email, PASSWORD)
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "2"
        assert "Too many failed attempts. Try again in 2 seconds." in response.get_data(
            as_text=True)


def test_login_needs_the_csrf_token(client, practice):
    response = client.post("/login", data={"email": "theo@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_logout_makes_a_copied_cookie_useless(app, theo_client, practice):
    cookie = theo_client.get_cookie("rounds_session")
    thief = app.test_client()
    thief.set_cookie("rounds_session", cookie.value)
    assert thief.get(DAY).status_code == 200  # the copy works while the session lives
    post(theo_client, "/logout")
    assert thief.get(DAY).status_code == 302


def test_password_change_ends_other_sessions_but_not_this_one(app, theo_client, practice):
    other = app.test_client()
    login(other, "theo@example.org")
    response = post(theo_client, "/password", {"current": PASSWORD, "new": "a brand new secret",
                                               "confirm": "a brand new secret"},
                    page="/password")
    assert response.status_code == 302
    assert theo_client.get(DAY).status_code == 200
    assert other.get(DAY).status_code == 302
    assert login(app.test_client(), "theo@example.org", "a brand new secret").status_code == 302


def test_password_change_errors_beside_the_fields(theo_client, practice):
    response = post(theo_client, "/password", {"current": "wrong", "new": "short",
                                               "confirm": "different"}, page="/password")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'id="current-errors"' in text and 'id="confirm-errors"' in text


def test_deactivated_account_is_signed_out(web_runtime, theo_client, practice):
    with web_runtime.session() as s:
        theo = s.get(models.Therapist, practice.theo_id)
        records.update_therapist(s, Actor(practice.admin_id, "test"), theo, {"active": False})
    assert theo_client.get(DAY).status_code == 302


@pytest.mark.parametrize(("idle_minutes", "alive"), [(29, True), (31, False)])
def test_idle_timeout(monkeypatch, theo_client, practice, idle_minutes, alive):
    import time as real_time

    start = real_time.time()
    monkeypatch.setattr("web.auth.time.time", lambda: start + idle_minutes * 60)
    assert (theo_client.get(DAY).status_code == 200) is alive


def test_absolute_timeout_however_active(monkeypatch, theo_client, practice):
    import time as real_time

    start = real_time.time()
    for minutes in range(20, 12 * 60, 20):  # active every 20 minutes for 12 hours
        monkeypatch.setattr("web.auth.time.time", lambda m=minutes: start + m * 60)
        assert theo_client.get(DAY).status_code == 200, minutes
    monkeypatch.setattr("web.auth.time.time", lambda: start + 12 * 3600 + 60)
    assert theo_client.get(DAY).status_code == 302


def test_login_redirects_only_within_the_site(client, practice):
    token = csrf_token(client)
    response = client.post("/login?next=//evil.example/x",
                           data={"email": "theo@example.org", "password": PASSWORD,
                                 "csrf_token": token})
    assert response.headers["Location"] == "/"
    post(client, "/logout")
    token = csrf_token(client)
    response = client.post(f"/login?next={DAY}", data={"email": "theo@example.org",
                                                       "password": PASSWORD,
                                                       "csrf_token": token})
    assert response.headers["Location"] == DAY


def test_failed_and_successful_logins_are_audited(web_runtime, client, practice):
    login(client, "theo@example.org", "wrong password")
    login(client, "theo@example.org")
    with web_runtime.session() as s:
        actions = [e.action for e in s.query(models.AuditEvent).order_by(models.AuditEvent.id)]
    assert actions[:2] == ["login_failed", "login"]
