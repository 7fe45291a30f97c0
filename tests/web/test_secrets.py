"""Secrets kept secret: the calendar feed's address masked in the logs of a real server, a new
API token that never rides in the session cookie, tokens and feeds revoked for good when an
account is deactivated, and weak passwords refused with the reason beside the field."""

from __future__ import annotations

import logging
import re
import threading
import urllib.request

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select
from web_support import PASSWORD, login, post
from werkzeug.serving import make_server

from scheduler import models, records
from scheduler.audit import Actor
from scheduler.records.validation import ValidationError
from web.logs import mask


def _feed_path(client) -> str:
    post(client, "/account/calendar", {"action": "renew"})
    page = client.get("/account").get_data(as_text=True)
    return re.search(r'value="http://localhost(/feeds/calendar/[^"]+\.ics)"', page).group(1)


def _secret_of(path: str) -> str:
    return path.rsplit("/", 1)[1].removesuffix(".ics")


# --- logs ----------------------------------------------------------------------------------


def test_the_feed_secret_is_masked_in_the_access_log_of_a_real_server(
        app: Flask, theo_client, practice, caplog: pytest.LogCaptureFixture) -> None:
    """`rounds serve`'s server (werkzeug) logs each request line; the secret is not in it."""
    path = _feed_path(theo_client)
    secret = _secret_of(path)
    server = make_server("127.0.0.1", 0, app)
    serving = threading.Thread(target=server.handle_request, daemon=True)
    serving.start()
    caplog.set_level(logging.INFO, logger="werkzeug")
    url = f"http://127.0.0.1:{server.server_port}{path}?x=1"
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
    serving.join(timeout=30)
    server.server_close()
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("/feeds/calendar/[secret].ics?x=1" in line and " 200 " in line for line in lines)
    assert not any(secret in line for line in lines)


def test_an_unexpected_error_on_a_feed_address_is_logged_masked(
        app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    secret = "s3cr3t-feed-address-0123456789abcdef"
    with app.test_request_context(f"/feeds/calendar/{secret}.ics"):
        try:
            raise RuntimeError(secret)
        except RuntimeError:
            import sys

            app.log_exception(sys.exc_info())
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "/feeds/calendar/[secret].ics" in text and secret not in text


def test_gunicorn_access_log_of_a_real_request_is_masked(web_runtime, practice, tmp_path) -> None:
    """Gunicorn run as the README says, serving a feed: its access log is masked too (the
    filter is put on its logger when the app is made in the worker)."""
    import os
    import socket
    import subprocess
    import sys

    secret = "gUnIcOrN-feed-secret-0123456789abcdefghij"
    with web_runtime.session() as s:
        s.get(models.Therapist, practice.theo_id).calendar_token = secret
    log = tmp_path / "access.log"
    listener = socket.create_server(("127.0.0.1", 0))  # listening before gunicorn starts, so
    port = listener.getsockname()[1]                    # the request waits for it: no polling
    env = {**os.environ, "DATABASE_URL": web_runtime.settings.database_url,
           "ROUNDS_INSTANCE_PATH": str(tmp_path / "instance"),
           "ROUNDS_WEB_SECRET_KEY": "k" * 64}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind",
         f"fd://{listener.fileno()}", "--access-logfile", str(log), "web:create_app()"],
        env=env, pass_fds=(listener.fileno(),), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/feeds/calendar/{secret}.ics"
        with urllib.request.urlopen(url, timeout=120) as response:
            assert response.status == 200
    finally:
        server.terminate()
        server.wait(timeout=120)
        listener.close()
    text = log.read_text()
    assert '"GET /feeds/calendar/[secret].ics HTTP/1.1" 200' in text
    assert secret not in text


@pytest.mark.parametrize(("line", "masked"), [
    ('"GET /feeds/calendar/abc_DEF-123.ics HTTP/1.1" 200',
     '"GET /feeds/calendar/[secret].ics HTTP/1.1" 200'),
    ("GET /feeds/calendar/abc?x=1", "GET /feeds/calendar/[secret]?x=1"),
    ("Authorization: Bearer rnd_abc-DEF_123", "Authorization: Bearer rnd_[secret]"),
    ("GET /day/2026-03-09 HTTP/1.1", "GET /day/2026-03-09 HTTP/1.1"),
])
def test_mask(line: str, masked: str) -> None:
    assert mask(line) == masked


# --- a new API token -------------------------------------------------------------------------


def test_a_new_token_is_shown_once_and_never_in_the_session_cookie(app: Flask, theo_client,
                                                                   practice) -> None:
    response = post(theo_client, "/account/tokens", {"name": "script"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    secret = re.search(r'value="(rnd_[^"]+)"', response.get_data(as_text=True)).group(1)
    cookie = theo_client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    session = serializer.loads(cookie.value)
    assert "_user_id" in session  # the cookie was decoded: it is the signed-in session
    assert secret not in repr(session) and "rnd_" not in repr(session)
    assert "rnd_" not in theo_client.get("/account").get_data(as_text=True)


# --- deactivation ----------------------------------------------------------------------------


ACTOR = Actor(None, "test")


def test_deactivation_revokes_tokens_and_feed_for_good(web_runtime, app: Flask, client,
                                                       theo_client, practice) -> None:
    feed = _feed_path(theo_client)
    created = post(theo_client, "/account/tokens", {"name": "script"})
    token = re.search(r'value="(rnd_[^"]+)"', created.get_data(as_text=True)).group(1)
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/clients", headers=bearer).status_code == 200
    with web_runtime.session() as s:
        records.update_therapist(s, ACTOR, s.get(models.Therapist, practice.theo_id),
                                 {"active": False})
    with web_runtime.session() as s:
        records.update_therapist(s, ACTOR, s.get(models.Therapist, practice.theo_id),
                                 {"active": True})
    assert client.get("/api/v1/clients", headers=bearer).status_code == 401
    assert client.get(feed).status_code == 404
    with web_runtime.session() as s:
        theo = s.get(models.Therapist, practice.theo_id)
        assert theo.calendar_token is None
        rows = s.scalars(select(models.ApiToken).where(
            models.ApiToken.therapist_id == theo.id)).all()
        assert rows and all(row.revoked_at is not None for row in rows)
    # Signed in again, she can make a new feed address and token, which work.
    again = app.test_client()
    assert login(again, "theo@example.org").status_code == 302
    assert client.get(_feed_path(again)).status_code == 200


# --- passwords -------------------------------------------------------------------------------


@pytest.mark.parametrize(("password", "reason"), [
    ("password123", "most common passwords"),
    ("aaaaaaaaaa", "repeats the same few characters"),
    ("1234567890", "most common passwords"),
    ("0987654321", "consecutive characters"),
    ("short", "at least 10 characters"),
    ("Theo Therapist 1", "your name, your e-mail address"),
    ("baseball2024!", "digits or symbols added"),
])
def test_weak_passwords_are_refused_with_the_reason(web_runtime, practice, password: str,
                                                    reason: str) -> None:
    with web_runtime.session() as s:
        theo = s.get(models.Therapist, practice.theo_id)
        with pytest.raises(ValidationError) as raised:
            records.update_therapist(s, ACTOR, theo, {"password": password})
        assert reason in " ".join(raised.value.by_field()["password"])


def test_the_reason_is_shown_beside_the_field_on_the_password_form(theo_client,
                                                                  practice) -> None:
    response = post(theo_client, "/password", {"current": PASSWORD, "new": "password123",
                                               "confirm": "password123"}, page="/password")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "one of the most common passwords" in text
    assert login(theo_client.application.test_client(), "theo@example.org").status_code == 302


def test_a_long_uncommon_passphrase_is_accepted(web_runtime, practice) -> None:
    with web_runtime.session() as s:
        theo = s.get(models.Therapist, practice.theo_id)
        records.update_therapist(s, ACTOR, theo, {"password": "kettle lantern orbit " * 3})
