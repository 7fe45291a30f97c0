"""What a running Rounds process holds: its settings, its database engine and its sessions.

The CLI, the web app and the e-mail worker each build one at start-up (never at import) and
pass it down; nothing else is global.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db import make_engine, make_session_factory, read_only, session_scope
from scheduler.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    # Sessions for work that only reads (see scheduler.db.read_only); never write with them.
    read_sessions: sessionmaker[Session] = field(init=False)

    def __post_init__(self) -> None:
        self.read_sessions = make_session_factory(read_only(self.engine))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work; see :func:`scheduler.db.session_scope`."""
        with session_scope(self.sessions) as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()


def open_runtime(settings: Settings) -> Runtime:
    engine = make_engine(
        settings.database_url, sqlite_busy_timeout_ms=settings.database.sqlite_busy_timeout_ms
    )
    return Runtime(settings=settings, engine=engine, sessions=make_session_factory(engine))
