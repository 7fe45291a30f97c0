"""Sending through a real SMTP server (aiosmtpd on 127.0.0.1): what arrives, what is retried,
what is refused."""

from __future__ import annotations

import email
import email.policy
import logging
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path

import icalendar
import pytest
from mail_fixtures import (
    PATIENT_WORDS,
    SmtpServer,
    add_plan,
    add_practice,
    free_port,
    local,
    smtp_settings,
    start_smtp,
    with_mail,
)
from sqlalchemy import select

from scheduler import models
from scheduler.delivery import itineraries, senders
from scheduler.delivery.outbox import Outcome
from scheduler.delivery.senders import (
    MailConfigError,
    OutboxFolderSender,
    PermanentMailError,
    SmtpSender,
    TransientMailError,
    sender_from_settings,
)
from scheduler.runtime import Runtime
from scheduler.settings import Settings

DAY = date(2026, 3, 9)  # a Monday
SEND = local(DAY, 6)


def _context(runtime: Runtime) -> itineraries.WorkerContext:
    return itineraries.WorkerContext(
        runtime, senders.sender_from_settings(runtime.settings), "test-worker")


def _rows(runtime: Runtime) -> list[models.OutboxMessage]:
    with runtime.session() as session:
        return list(session.scalars(select(models.OutboxMessage).order_by(models.OutboxMessage.id)))


@pytest.fixture
def practice_runtime(runtime: Runtime, smtp_server: SmtpServer) -> Runtime:
    """Two therapists with a published plan each for DAY, mail through the test server."""
    with runtime.session() as session:
        practice = add_practice(session, therapists=2)
        for therapist_id in practice.therapist_ids:
            add_plan(session, practice, therapist_id, DAY)
    return with_mail(runtime, **smtp_settings(smtp_server))


def test_messages_arrive_with_both_parts_and_the_calendar_and_no_patient_names(
        practice_runtime: Runtime, smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    context = _context(practice_runtime)
    outcomes = [itineraries.settle_therapist(context, therapist_id, SEND + timedelta(seconds=1))
                for therapist_id in (1, 2)]

    assert outcomes == [Outcome.SENT, Outcome.SENT]
    messages = smtp_server.handler.messages()
    assert sorted(m["To"] for m in messages) == ["therapist1@example.org",
                                                "therapist2@example.org"]
    for message in messages:
        assert message.get_body(("plain",)) is not None
        assert message.get_body(("html",)) is not None
        (attachment,) = message.iter_attachments()
        assert attachment.get_content_type() == "text/calendar"
        calendar = icalendar.Calendar.from_ical(attachment.get_content())
        assert len(calendar.walk("VEVENT")) == 2
        assert message["Message-ID"]
        raw = message.as_string()
        for word in PATIENT_WORDS:
            assert word not in raw
        assert "MQ" not in message["Subject"] and "412B" not in message["Subject"]
    assert all(word not in caplog.text for word in PATIENT_WORDS)
    rows = _rows(practice_runtime)
    assert [(r.state, r.attempts, r.sent_at) for r in rows] == [
        (models.OutboxState.SENT, 1, SEND + timedelta(seconds=1))] * 2
    assert {r.message_id for r in rows} == {m["Message-ID"] for m in messages}


def test_451_twice_then_success_delivers_once(practice_runtime: Runtime,
                                              smtp_server: SmtpServer) -> None:
    smtp_server.handler.replies = ["451 4.3.0 Try again later", "451 4.3.0 Try again later"]
    context = _context(practice_runtime)

    now = SEND
    assert itineraries.settle_therapist(context, 1, now) == Outcome.RETRY
    (row,) = _rows(practice_runtime)
    assert row.state == models.OutboxState.QUEUED and row.attempts == 1
    assert "451" in row.last_error and row.next_attempt_at == now + timedelta(minutes=2)

    itineraries.retry_due(context, now + timedelta(minutes=1))  # backoff not over: nothing happens
    assert smtp_server.handler.data_commands == 1

    now += timedelta(minutes=2)
    itineraries.retry_due(context, now)
    (row,) = _rows(practice_runtime)
    assert row.attempts == 2 and row.next_attempt_at == now + timedelta(minutes=4)

    now += timedelta(minutes=4)
    itineraries.retry_due(context, now)
    itineraries.retry_due(context, now + timedelta(hours=1))  # and nothing more afterwards

    (row,) = _rows(practice_runtime)
    assert (row.state, row.attempts, row.sent_at) == (models.OutboxState.SENT, 3, now)
    assert smtp_server.handler.data_commands == 3
    assert len(smtp_server.handler.received) == 1


def test_550_marks_failed_without_retrying(practice_runtime: Runtime, smtp_server: SmtpServer,
                                           caplog: pytest.LogCaptureFixture) -> None:
    smtp_server.handler.replies = ["550 5.1.1 Mailbox unavailable"]
    context = _context(practice_runtime)

    assert itineraries.settle_therapist(context, 1, SEND) == Outcome.FAILED
    for minutes in (5, 30, 120):
        itineraries.retry_due(context, SEND + timedelta(minutes=minutes))
        itineraries.settle_therapist(context, 1, SEND + timedelta(minutes=minutes))

    (row,) = _rows(practice_runtime)
    assert (row.state, row.attempts) == (models.OutboxState.FAILED, 1)
    assert row.last_error.startswith("SMTP 550")
    assert smtp_server.handler.data_commands == 1 and smtp_server.handler.received == []
    assert "failed, not retried: SMTP 550" in caplog.text
    assert "therapist 1 on 2026-03-09" in caplog.text
    assert all(word not in caplog.text for word in PATIENT_WORDS)


def test_retries_stop_at_the_cutoff(practice_runtime: Runtime, smtp_server: SmtpServer) -> None:
    smtp_server.handler.replies = ["421 4.7.0 Busy"] * 100
    context = _context(practice_runtime)
    now = local(DAY, 10, 59)  # the cut-off is 11:00: a retry 2 minutes later is too late
    assert itineraries.settle_therapist(context, 1, now) == Outcome.FAILED
    (row,) = _rows(practice_runtime)
    assert row.state == models.OutboxState.FAILED and "gave up after 1 attempts" in row.last_error


# --- TLS -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A self-signed certificate for localhost / 127.0.0.1, made with the openssl CLI."""
    if shutil.which("openssl") is None:
        pytest.fail("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    yield cert, key


def _server_context(cert_and_key: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*cert_and_key)
    return context


def _simple_message() -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "r@localhost", "t@example.org", "x"
    message["Message-ID"] = "<tls-test@localhost>"
    message.set_content("hello")
    return message


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_tls_with_a_self_signed_certificate_is_refused_unless_its_ca_is_trusted(
        settings: Settings, self_signed: tuple[Path, Path], security: str) -> None:
    tls = _server_context(self_signed)
    options = ({"tls_context": tls, "require_starttls": True} if security == "starttls"
               else {"ssl_context": tls})
    server = start_smtp(**options)
    try:
        untrusted = with_mail_settings(settings, smtp_settings(server, smtp_security=security))
        with pytest.raises(PermanentMailError, match="not trusted"):
            SmtpSender(untrusted.mail).send(_simple_message())
        assert server.handler.received == []

        trusted = with_mail_settings(settings, smtp_settings(
            server, smtp_security=security, smtp_ca_file=str(self_signed[0])))
        SmtpSender(trusted.mail).send(_simple_message())
        assert len(server.handler.received) == 1
    finally:
        server.controller.stop()


def test_starttls_required_but_not_offered_is_refused(settings: Settings,
                                                      smtp_server: SmtpServer) -> None:
    config = with_mail_settings(settings, smtp_settings(smtp_server, smtp_security="starttls"))
    with pytest.raises(PermanentMailError, match="does not offer STARTTLS"):
        SmtpSender(config.mail).send(_simple_message())
    assert smtp_server.handler.received == []


def with_mail_settings(settings: Settings, mail: dict[str, object]) -> Settings:
    return replace(settings, mail=replace(settings.mail, **mail))


@pytest.mark.parametrize(
    ("host", "allow", "refused"),
    [("mail.example.org", False, True), ("mail.example.org", True, False),
     ("10.0.0.5", False, True), ("localhost", False, False), ("127.0.0.1", False, False),
     ("::1", False, False)],
)
def test_plain_smtp_to_another_host_is_refused_unless_allowed(
        settings: Settings, host: str, allow: bool, refused: bool) -> None:
    config = with_mail_settings(settings, {"backend": "smtp", "smtp_host": host,
                                           "smtp_security": "none", "allow_plain_remote": allow})
    if refused:
        with pytest.raises(MailConfigError, match="mail.allow_plain_remote"):
            sender_from_settings(config)
    else:
        assert isinstance(sender_from_settings(config), SmtpSender)


def test_unreadable_ca_file_is_a_config_error(settings: Settings, tmp_path: Path) -> None:
    config = with_mail_settings(settings, {"backend": "smtp",
                                           "smtp_ca_file": str(tmp_path / "missing.pem")})
    with pytest.raises(MailConfigError, match="mail.smtp_ca_file"):
        sender_from_settings(config)


def test_connection_refused_is_transient(settings: Settings) -> None:
    config = with_mail_settings(settings, {"backend": "smtp", "smtp_host": "127.0.0.1",
                                           "smtp_port": free_port(), "smtp_security": "none"})
    with pytest.raises(TransientMailError, match="cannot reach"):
        SmtpSender(config.mail, timeout=2).send(_simple_message())


def test_embedded_default_writes_eml_files(runtime: Runtime) -> None:
    assert isinstance(sender_from_settings(runtime.settings), OutboxFolderSender)
    with runtime.session() as session:
        practice = add_practice(session)
        add_plan(session, practice, practice.therapist_ids[0], DAY)
    context = _context(runtime)
    assert itineraries.settle_therapist(context, 1, SEND) == Outcome.SENT
    assert (itineraries.settle_therapist(context, 1, SEND + timedelta(minutes=5))
            == Outcome.NOT_CLAIMED)
    files = list(runtime.settings.outbox_path.glob("*.eml"))
    assert len(files) == 1 and not list(runtime.settings.outbox_path.glob("*.part"))
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["To"] == "therapist1@example.org"
    assert message.get_body(("html",)) is not None


def test_outbox_files_and_folder_are_the_owners_only(tmp_path: Path) -> None:
    """An .eml holds a day's visits: readable by the owner alone, whatever the umask."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        folder = tmp_path / "outbox"
        OutboxFolderSender(folder).send(_simple_message())
    finally:
        os.umask(old)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = list(folder.glob("*.eml"))
    assert files and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
