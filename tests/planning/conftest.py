"""Fixtures for the planning tests: the demo practice in a SQLite file per test module.

Loading the demo takes a few seconds (every demo user gets a real password hash), so each
module loads it once into its own file, copied from the migrated template, and commits it;
each test then works in a session that is rolled back at its end, so tests do not see each
other's plans.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from scheduler.db import make_engine, make_session_factory
from scheduler.demo.loader import load_demo
from scheduler.settings import Settings, load_settings

TIME_LIMIT = 30.0
"""Optimizer seconds per planned day in tests: only a cap. The assignment of open visits stops
on its work limit (``strategy.ASSIGN_SOLUTIONS``) and each therapist's route is solved exactly,
so the plans do not depend on the machine's load; a cap small enough to bind (it was 0.15 s)
left a therapist with 2 visits instead of 5 on a busy CI machine."""

DEMO_ANCHOR = date(2026, 11, 30)  # a Monday


def demo_engine(template: Path, folder: Path, anchor: date,
                change: Callable[[Session], None] | None = None) -> Engine:
    """A SQLite file holding the demo anchored on ``anchor`` (and ``change`` applied)."""
    path = folder / "demo.sqlite3"
    shutil.copyfile(template, path)
    engine = make_engine(f"sqlite:///{path}")
    with make_session_factory(engine)() as session:
        load_demo(session, anchor=anchor)
        if change is not None:
            change(session)
        session.commit()
    return engine


@pytest.fixture(scope="module")
def module_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Default settings (the environment ignored), instance folder in a temporary place."""
    folder = tmp_path_factory.mktemp("instance")
    return load_settings(environ={}, overrides={"instance": {"path": str(folder)},
                                                "web": {"secret_key": "test-secret-key"}})


@pytest.fixture(scope="module")
def demo_db(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The demo practice anchored on DEMO_ANCHOR, committed, for the whole module."""
    engine = demo_engine(sqlite_template, tmp_path_factory.mktemp("demo"), DEMO_ANCHOR)
    yield engine
    engine.dispose()


@pytest.fixture
def demo_session(demo_db: Engine) -> Iterator[Session]:
    """A session on the module's demo database, rolled back after the test."""
    with make_session_factory(demo_db)() as session:
        yield session
        session.rollback()


@pytest.fixture
def settings_for(module_settings: Settings) -> Callable[[str], Settings]:
    """Settings pointing at a database URL (for code that opens its own runtime)."""
    def make(url: str) -> Settings:
        return replace(module_settings, database=replace(module_settings.database, url=url))

    return make
