"""Text a request carries outside a JSON body (query string, form fields) holds no NUL.

PostgreSQL's text columns cannot hold a NUL character: a query or an insert with one fails
in the driver, which would be a 500 (a sign-in with ``%00`` in the address did exactly that).
No field of ours has a use for one, so every query parameter and form field is checked once,
here, before any view runs: a 422 naming the field (JSON under /api/, an error page
elsewhere); a path with one (the calendar feed's secret address) is not found. JSON bodies
are checked by :mod:`web.api.json_input`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, jsonify, request

from web.errors import wants_json

MESSAGE = "must not contain NUL characters"


def init_app(app: Flask) -> None:
    app.before_request(_refuse_nul)


def _refuse_nul() -> Any:
    if any(isinstance(value, str) and "\x00" in value
           for value in (request.view_args or {}).values()):
        abort(404)  # a path with a NUL in it names nothing
    names = sorted({_printable(name) for source in (request.args, request.form)
                    for name, value in source.items(multi=True)
                    if "\x00" in name or "\x00" in value})
    if not names:
        return None
    if wants_json():
        return jsonify(error="validation", message=f"{', '.join(names)}: {MESSAGE}",
                       fields={name: [MESSAGE] for name in names}), 422
    abort(422, description=f"The field(s) {', '.join(names)} {MESSAGE}.")


def _printable(name: str) -> str:
    return name.replace("\x00", "\\x00")[:60]
