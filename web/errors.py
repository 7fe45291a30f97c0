"""Error pages and answers that never show patient data, and logs that never hold it.

HTML requests get short custom pages; requests under /api/ get JSON. An unexpected error is
logged with its type and the code path only: exception messages can carry values (a database
error quotes the row it failed on), so the message itself is not written to the log.
"""

from __future__ import annotations

import traceback
from types import TracebackType
from typing import Any

from flask import Flask, current_app, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from web.logs import mask

TITLES = {
    400: "The request could not be understood",
    401: "Sign-in needed",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "In use",
    413: "Too large",
    422: "Check the form",
    429: "Too many requests",
    500: "Something went wrong",
}


class RoundsFlask(Flask):
    """Flask, logging unexpected errors without their (possibly patient-bearing) messages."""

    def log_exception(
        self,
        exc_info: tuple[type[BaseException], BaseException, TracebackType | None]
        | tuple[None, None, None],
    ) -> None:
        kind, _error, tb = exc_info
        where = "".join(traceback.format_tb(tb)) if tb else ""
        name = kind.__name__ if kind else "error"
        self.logger.error("Unhandled %s on %s %s (message withheld)\n%s",
                          name, request.method, mask(request.path), where)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    # Unexpected errors reach Flask's handle_exception, which logs them (RoundsFlask below)
    # and then renders this 500 page; with TESTING they propagate to the test instead.
    app.register_error_handler(InternalServerError, _http_error)
    app.register_error_handler(StaleDataError, changed_meanwhile)


def wants_json() -> bool:
    """The API and feeds, and a page's script that asks for JSON only (the day page's marks
    sent later from a phone: web/static/offline-marks.js); browsers ask pages for HTML."""
    return (request.path.startswith("/api/") or request.path.startswith("/feeds/")
            or request.accept_mimetypes.best == "application/json")


def _csrf_error(error: CSRFError) -> Any:
    message = ("This form has expired or did not come from this site. "
               "Reload the page and try again.")
    if wants_json():
        return jsonify(error="csrf", message=message), 400
    return render_template("error.html", code=400, title="Form expired", message=message), 400


CHANGED_MEANWHILE = ("Someone else saved this record while your change was being saved, so "
                     "nothing you sent was saved. Reload the page to see their change, then "
                     "try again.")


def changed_meanwhile(_error: StaleDataError | None = None) -> Any:
    """409 for a save that lost a race on a record's version.

    The records' edit forms and API check the version the editor started from and answer with
    both sides (:mod:`scheduler.records.versions`); this covers every other write to a versioned
    row (a password change, a calendar address, a sign-in code) that meets a save committed
    between its read and its write. Nothing is saved, and nothing of the record is shown.
    """
    if wants_json():
        response = jsonify(error="Changed by someone else", message=CHANGED_MEANWHILE)
        response.status_code = 409
        return response
    return render_template("error.html", code=409, title="Changed by someone else",
                           message=CHANGED_MEANWHILE), 409


def _http_error(error: HTTPException) -> Any:
    code = error.code or 500
    title = TITLES.get(code, error.name)
    message = _public_message(error)
    if wants_json():
        response = jsonify(error=title, message=message)
        response.status_code = code
        if code == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="rounds"'
    else:
        response = make_response(render_template("error.html", code=code, title=title,
                                                 message=message), code)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        # RFC 9110: a 405 names the methods the resource does allow.
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def _public_message(error: HTTPException) -> str:
    """The generic description for the code; a view's own text only where views set safe text."""
    if error.code == 404:
        return "There is nothing here, or it is not yours to see."
    if error.code == 500:
        return "The error has been logged. Please try again, or tell the practice's admin."
    if error.code == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
        return (f"What was sent is larger than {limit // (1024 * 1024) or 1} MB, the most a form "
                "or an uploaded file may be; split a spreadsheet into smaller files.")
    return error.description or ""
