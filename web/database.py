"""One SQLAlchemy session per request: opened on first use, committed or rolled back at the end.

The commit happens in ``after_request``, before the response leaves, so that a failed commit
turns into an error page instead of a "saved" page for a change that was lost. Responses with
an error status (4xx/5xx) roll back: a form rejected with 422 saves nothing it had started to
change. Views that must keep a row despite an error status (a failed-login audit row) commit
it themselves. Teardown closes the session whatever happened.

GET and HEAD requests only read: their session comes from the runtime's read-only sessions
(DEFERRED transactions on SQLite, which take no lock), so pages never queue behind each
other. What such a request still has to write, its audit rows and a token's last use, goes
through :func:`audit_db`: a second, short write transaction committed after the reads end.
A read session that was written to anyway is a bug, and fails the request loudly.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from scheduler import audit_chain
from scheduler.runtime import Runtime
from web import errors, refusals

EXTENSION = "rounds"


def init_app(app: Flask, runtime: Runtime) -> None:
    app.extensions[EXTENSION] = runtime
    app.after_request(_finish)
    app.teardown_appcontext(_close)


def runtime() -> Runtime:
    return current_app.extensions[EXTENSION]


_READING = frozenset({"GET", "HEAD"})


def db() -> Session:
    """This request's session (read-only on GET and HEAD)."""
    if "db_session" not in g:
        reading = request.method in _READING
        g.db_reading = reading
        g.db_session = (runtime().read_sessions if reading else runtime().sessions)()
    return g.db_session


def audit_db() -> Session:
    """Where this request writes its audit rows: its own session, or on GET and HEAD a
    separate write session committed when the request ends."""
    if request.method not in _READING:
        return db()
    if "audit_session" not in g:
        g.audit_session = runtime().sessions()
    return g.audit_session


def end_transaction() -> None:
    """Commit what the request has written so far, before rendering.

    A page's reads take no lock (see above), but its audit rows are a write: on SQLite that
    holds the database's write lock until commit, so a busy page commits them once its data
    is in hand rather than keeping every other writer waiting for its template.
    """
    audit: Session | None = g.get("audit_session")
    if audit is not None:
        audit.commit()
    session: Session | None = g.get("db_session")
    if session is not None and not g.get("db_reading"):
        session.commit()


def _finish(response: Response) -> Response:
    refused = refusals.pending(response.status_code)
    session: Session | None = g.get("db_session")
    if session is not None and g.get("db_reading"):
        if session.new or session.dirty or session.deleted or audit_chain.pending(session):
            raise RuntimeError(f"{request.method} {request.url_rule} changed records through "
                               "its read-only session; write through audit_db()")
        session.rollback()  # ends the read transaction before the write one begins
    elif session is not None:
        if response.status_code < 400:
            try:
                session.commit()
            except StaleDataError:  # a versioned row changed since this request read it
                session.rollback()
                response = current_app.make_response(errors.changed_meanwhile())
        else:
            session.rollback()
    audit: Session | None = g.get("audit_session")
    if audit is not None:
        audit.commit()  # reads are recorded whatever the status: a refused read is a read
    refusals.write(runtime().sessions, refused)  # after the locks above are let go
    return response


def _close(_error: BaseException | None) -> None:
    for name in ("db_session", "audit_session"):
        session: Session | None = g.pop(name, None)
        if session is not None:
            session.rollback()
            session.close()
