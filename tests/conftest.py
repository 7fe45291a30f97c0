"""Shared fixtures: settings in a temporary instance folder, and databases on both backends.

Database tests that request ``db`` run twice: on SQLite (a fresh file per test, copied from a
migrated template so each test starts from the real schema in milliseconds) and on PostgreSQL
(a database created for this test run, migrated once, emptied after each test). The PostgreSQL
leg runs whenever the server named by ROUNDS_TEST_POSTGRES_URL answers; when it does not, those
tests are skipped with the reason printed in the summary (pytest -ra), never silently.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from scheduler import migrate, models
from scheduler.db import make_engine, make_session_factory
from scheduler.runtime import Runtime
from scheduler.settings import Settings, load_settings

POSTGRES_URL = os.environ.get(
    "ROUNDS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def make_test_settings(instance: Path, **sections: dict) -> Settings:
    overrides = {"instance": {"path": str(instance)}, "web": {"secret_key": "test-secret-key"}}
    for section, values in sections.items():
        overrides.setdefault(section, {}).update(values)
    return load_settings(environ={}, overrides=overrides)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Default settings with the instance folder in tmp_path; the environment is ignored."""
    return make_test_settings(tmp_path / "instance")


# --- SQLite ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "rounds.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


# --- PostgreSQL ------------------------------------------------------------------------------


def _postgres_unavailable_reason() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL)
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - any failure means the leg cannot run
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        return f"PostgreSQL leg skipped: no server at {POSTGRES_URL} ({first_line})"
    return None


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A database of its own for this test run, migrated to head, dropped at the end."""
    reason = _postgres_unavailable_reason()
    if reason:
        print(f"\n*** {reason} ***")
        pytest.skip(reason)
    name = f"rounds_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def empty_postgres(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in models.Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


# --- Either backend --------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated, empty database on each backend in turn."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_url")
        return
    url = request.getfixturevalue("postgres_server_url")
    yield url
    engine = make_engine(url)
    empty_postgres(engine)
    engine.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with make_session_factory(engine)() as session:
        yield session
        session.rollback()


@pytest.fixture
def sqlite_session(sqlite_url: str) -> Iterator[Session]:
    """SQLite only, for tests whose subject is not the database."""
    engine = make_engine(sqlite_url)
    with make_session_factory(engine)() as session:
        yield session
        session.rollback()
    engine.dispose()


@pytest.fixture
def runtime(settings: Settings, db_url: str) -> Iterator[Runtime]:
    """Settings plus a database on each backend, as a process would hold them."""
    from dataclasses import replace

    settings = replace(settings, database=replace(settings.database, url=db_url))
    engine = make_engine(db_url)
    yield Runtime(settings=settings, engine=engine, sessions=make_session_factory(engine))
    engine.dispose()
