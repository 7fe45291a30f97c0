"""One SQLAlchemy session per request: opened on first use, committed or rolled back at the end.

The commit happens in ``after_request``, before the response leaves, so that a failed commit
turns into an error page instead of a "saved" page for a change that was lost. Responses with
an error status (4xx/5xx) roll back: a form rejected with 422 saves nothing it had started to
change. Views that must keep a row despite an error status (a failed-login audit row) commit
it themselves. Teardown closes the session whatever happened.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, g
from sqlalchemy.orm import Session

from scheduler.runtime import Runtime

EXTENSION = "rounds"


def init_app(app: Flask, runtime: Runtime) -> None:
    app.extensions[EXTENSION] = runtime
    app.after_request(_finish)
    app.teardown_appcontext(_close)


def runtime() -> Runtime:
    return current_app.extensions[EXTENSION]


def db() -> Session:
    """This request's session."""
    if "db_session" not in g:
        g.db_session = runtime().sessions()
    return g.db_session


def end_transaction() -> None:
    """Commit now, before rendering: what follows only reads objects already loaded.

    On SQLite every transaction holds the database's write lock from its first statement
    (scheduler.db begins them IMMEDIATE), so a page that renders inside its transaction makes
    every other request wait for its template. Busy pages call this once their data (and
    audit rows) are in hand.
    """
    session: Session | None = g.get("db_session")
    if session is not None:
        session.commit()


def _finish(response: Response) -> Response:
    session: Session | None = g.get("db_session")
    if session is not None:
        if response.status_code < 400:
            session.commit()
        else:
            session.rollback()
    return response


def _close(_error: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()
