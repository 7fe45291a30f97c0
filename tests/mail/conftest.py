"""Fixtures for the morning e-mail tests; the helpers they use live in mail_fixtures.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mail_fixtures import SmtpServer, start_smtp
from sqlalchemy import text

from scheduler.runtime import Runtime


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 that records what it accepts."""
    server = start_smtp()
    yield server
    server.controller.stop()


@pytest.fixture
def drop_job_table(runtime: Runtime) -> Iterator[None]:
    """Leave APScheduler's table (created by the migrations) empty for the next test."""
    yield
    with runtime.engine.begin() as connection:
        connection.execute(text("DELETE FROM apscheduler_jobs"))
