"""Links in e-mails and calendar events follow the address the app is served on, unless
``practice.base_url`` is set."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from mail_fixtures import add_plan, add_practice

from scheduler import models
from scheduler.db import make_engine, make_session_factory
from scheduler.delivery import itineraries, worker
from scheduler.runtime import Runtime
from scheduler.served_address import bound_url, record_served, recorded_url, with_links_at
from scheduler.settings import Settings
from web.cli import cli

DAY = date(2026, 3, 9)  # a Monday
NOW = datetime(2026, 3, 9, 11, 0, tzinfo=UTC)


def _message(runtime: Runtime) -> EmailMessage:
    with runtime.session() as session:
        practice = add_practice(session)
        therapist_id = practice.therapist_ids[0]
        add_plan(session, practice, therapist_id, DAY)
    with runtime.session() as session:
        therapist = session.get(models.Therapist, therapist_id)
        assert therapist is not None
        return itineraries.compose_itinerary(session, runtime.settings, therapist, DAY, NOW)


def _links(message: EmailMessage) -> tuple[str, str, str]:
    """The e-mail's text and HTML bodies and its calendar attachment."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    [calendar] = [a.get_content() for a in message.iter_attachments()]
    ics = calendar.decode() if isinstance(calendar, bytes) else calendar
    return text.get_content(), html.get_content(), ics.replace("\r\n ", "")


def test_the_email_follows_the_address_rounds_serve_recorded(runtime: Runtime) -> None:
    assert runtime.settings.practice.base_url == ""  # the default: follow the served address
    with runtime.session() as session:
        record_served(session, "http://127.0.0.1:8123")
    text, html, ics = _links(_message(runtime))
    assert "http://127.0.0.1:8123/day/2026-03-09" in text
    assert 'href="http://127.0.0.1:8123/day/2026-03-09"' in html
    assert "URL:http://127.0.0.1:8123/day/2026-03-09" in ics
    assert ":5000" not in text + html + ics


def test_a_set_base_url_wins_over_the_served_address(runtime: Runtime) -> None:
    runtime.settings = replace(runtime.settings, practice=replace(
        runtime.settings.practice, base_url="https://rounds.example.org"))
    with runtime.session() as session:
        record_served(session, "http://127.0.0.1:8123")
    text, html, ics = _links(_message(runtime))
    assert "https://rounds.example.org/day/2026-03-09" in text
    assert "URL:https://rounds.example.org/day/2026-03-09" in ics
    assert "8123" not in text + html + ics


def test_nothing_recorded_and_nothing_set_means_the_web_address(runtime: Runtime) -> None:
    runtime.settings = replace(runtime.settings, web=replace(runtime.settings.web, port=8200))
    text, _, _ = _links(_message(runtime))
    assert "http://127.0.0.1:8200/day/2026-03-09" in text


@pytest.mark.parametrize(("host", "port", "url"), [
    ("127.0.0.1", 8000, "http://127.0.0.1:8000"),
    ("rounds.local", 5001, "http://rounds.local:5001"),
    ("::1", 8000, "http://[::1]:8000"),
])
def test_the_bound_address_as_a_url(host: str, port: int, url: str) -> None:
    assert bound_url(host, port) == url


def test_bound_to_every_interface_the_url_names_the_machine() -> None:
    url = bound_url("0.0.0.0", 8000)
    assert url.startswith("http://") and url.endswith(":8000") and "0.0.0.0" not in url


def test_with_links_at_keeps_a_set_base_url(settings: Settings) -> None:
    assert with_links_at(settings, None).practice.base_url == "http://127.0.0.1:5000"
    assert with_links_at(settings, "http://h:1").practice.base_url == "http://h:1"
    chosen = replace(settings, practice=replace(settings.practice, base_url="https://a.example"))
    assert with_links_at(chosen, "http://h:1").practice.base_url == "https://a.example"


def test_rounds_serve_records_the_address_it_binds_to(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[tuple[str, int]] = []
    monkeypatch.setattr(Flask, "run", lambda app, host, port, **_: served.append((host, port)))
    monkeypatch.setattr(worker, "runs_in_serve", lambda settings: False)
    env = {"ROUNDS_INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": "",
           "ROUNDS_WEB_SECRET_KEY": "test-secret-key"}
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    result = runner.invoke(cli, ["serve", "--port", "8123"], env=env)
    assert result.exit_code == 0, result.output
    assert served == [("127.0.0.1", 8123)]
    engine = make_engine(f"sqlite:///{tmp_path / 'instance' / 'rounds.sqlite3'}")
    try:
        with make_session_factory(engine)() as session:
            assert recorded_url(session) == "http://127.0.0.1:8123"
    finally:
        engine.dispose()
