"""Mail senders: how a finished e-mail leaves Rounds.

Two senders stand behind the :class:`MailSender` protocol, chosen from ``[mail] backend``:

- :class:`SmtpSender` talks to a real server: STARTTLS or implicit TLS with certificate and
  host-name verification always on (extra CAs from ``smtp_ca_file``), optional login; plain
  SMTP is accepted only to this machine unless ``allow_plain_remote`` says otherwise.
- :class:`OutboxFolderSender`, the embedded default, writes each message as a ``.eml`` file under
  the instance outbox folder, so a demo never needs a mail server.

A sender only transmits. Whether a message *should* go out, and how often it was tried, is the
outbox's business (:mod:`scheduler.delivery.outbox`). So that the outbox can decide what to do next,
every failure is raised as either :class:`TransientMailError` (try again later: 4xx replies,
a dropped connection) or :class:`PermanentMailError` (trying again will not help: 5xx replies,
an untrusted certificate, a server without STARTTLS). Their messages hold the SMTP code and
the server's words, never the message's content.
"""

from __future__ import annotations

import ipaddress
import os
import smtplib
import socket
import ssl
import tempfile
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol

from scheduler.settings import MailSettings, Settings

SMTP_TIMEOUT_SECONDS = 30.0
_ERROR_TEXT_LIMIT = 200


class MailError(Exception):
    """Sending failed; ``code`` is the SMTP reply code when the server gave one."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class TransientMailError(MailError):
    """Worth trying again later (SMTP 4xx, connection lost or refused, timeout)."""


class PermanentMailError(MailError):
    """Trying again will not help (SMTP 5xx, untrusted certificate, missing STARTTLS)."""


class MailConfigError(ValueError):
    """The [mail] settings describe something Rounds refuses to do; raised at start-up."""


class MailSender(Protocol):
    """Transmits one finished message or raises a :class:`MailError`."""

    def send(self, message: EmailMessage) -> None: ...


# ---------------------------------------------------------------------------------------------
# SMTP


def is_local_host(host: str) -> bool:
    """True for this machine: ``localhost`` or a loopback address (plain SMTP is safe there)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def tls_context(ca_file: str) -> ssl.SSLContext:
    """Verification on, host names checked; ``ca_file`` adds to the system's trusted CAs."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as error:
            raise MailConfigError(
                f"setting mail.smtp_ca_file: cannot read CA file {ca_file!r} ({error})"
            ) from None
    return context


class SmtpSender:
    """Sends through the SMTP server named in the settings."""

    def __init__(self, mail: MailSettings, timeout: float = SMTP_TIMEOUT_SECONDS) -> None:
        if mail.smtp_security == "none" and not (
            is_local_host(mail.smtp_host) or mail.allow_plain_remote
        ):
            raise MailConfigError(
                f"setting mail.smtp_security: plain SMTP to {mail.smtp_host!r} would send "
                "patient data unencrypted; use starttls or tls, or set "
                "mail.allow_plain_remote = true if the network is trusted"
            )
        self.mail = mail
        self.timeout = timeout
        self.context = tls_context(mail.smtp_ca_file) if mail.smtp_security != "none" else None

    def send(self, message: EmailMessage) -> None:
        try:
            with self._connect() as smtp:
                if self.mail.smtp_username:
                    smtp.login(self.mail.smtp_username, self.mail.smtp_password)
                smtp.send_message(message)
        except MailError:
            raise
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            raise _reply_error(code, reply) from None
        except smtplib.SMTPResponseException as error:
            raise _reply_error(error.smtp_code, error.smtp_error) from None
        except smtplib.SMTPNotSupportedError as error:
            raise PermanentMailError(f"server refused a required feature: {error}") from None
        except ssl.SSLCertVerificationError as error:
            raise PermanentMailError(
                f"the server's TLS certificate is not trusted ({error.verify_message}); "
                "add its CA with mail.smtp_ca_file"
            ) from None
        except ssl.SSLError as error:
            raise PermanentMailError(f"TLS failed: {error.reason or error}") from None
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            # OSError covers refused connections, resets and timeouts.
            raise TransientMailError(
                f"cannot reach {self.mail.smtp_host}:{self.mail.smtp_port} "
                f"({type(error).__name__}: {error})"
            ) from None

    def _connect(self) -> smtplib.SMTP:
        host, port = self.mail.smtp_host, self.mail.smtp_port
        if self.mail.smtp_security == "tls":
            return smtplib.SMTP_SSL(host, port, timeout=self.timeout, context=self.context)
        smtp = smtplib.SMTP(host, port, timeout=self.timeout)
        try:
            if self.mail.smtp_security == "starttls":
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    raise PermanentMailError(
                        f"{host}:{port} does not offer STARTTLS; refusing to send in clear "
                        "(set mail.smtp_security to match the server)"
                    )
                smtp.starttls(context=self.context)
                smtp.ehlo()
        except BaseException:
            smtp.close()
            raise
        return smtp


def _reply_error(code: int, reply: bytes | str) -> MailError:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    text = " ".join(text.split())[:_ERROR_TEXT_LIMIT]
    message = f"SMTP {code}: {text}"
    if 400 <= code < 500:
        return TransientMailError(message, code)
    return PermanentMailError(message, code)


# ---------------------------------------------------------------------------------------------
# The embedded default: .eml files


class OutboxFolderSender:
    """Writes each message to ``<folder>/<Message-ID>.eml``, atomically (a reader never sees half
    a file), so the demo "sends" without a mail server."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        # Owner only: the folder and each file (mkstemp makes them 0600) hold patient details.
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = self.folder / f"{_file_stem(message)}.eml"
        try:
            handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".part")
            with os.fdopen(handle, "wb") as stream:
                stream.write(message.as_bytes())
            os.replace(temporary, target)
        except OSError as error:
            raise TransientMailError(f"cannot write to the outbox folder ({error})") from None


def _file_stem(message: EmailMessage) -> str:
    message_id = parseaddr(str(message.get("Message-ID", "")))[1] or socket.gethostname()
    return "".join(c if c.isalnum() or c in "-._" else "_" for c in message_id)[:150]


# ---------------------------------------------------------------------------------------------


def sender_from_settings(settings: Settings) -> MailSender:
    """The sender the settings ask for; raises MailConfigError for a refused configuration."""
    if settings.mail.backend == "smtp":
        return SmtpSender(settings.mail)
    return OutboxFolderSender(settings.outbox_path)
