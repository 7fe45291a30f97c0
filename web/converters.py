"""URL converters. Record ids in paths are positive whole numbers that fit the database's
integer columns; anything else is simply not found (404), never an overflow error (500)."""

from __future__ import annotations

from werkzeug.exceptions import NotFound
from werkzeug.routing import BaseConverter

from scheduler.records.fields import MAX_ID


class IdConverter(BaseConverter):
    """Any run of ASCII digits matches, so an id out of range is a 404 of this rule.

    Werkzeug checks a rule's methods before its converters: had the converter refused the
    value (``ValidationError``), ``DELETE /clients/99999999999`` would fall through to "405,
    only GET and PATCH here" from the read rule of the same path. Not found it is.
    """

    regex = r"[0-9]+"

    def to_python(self, value: str) -> int:
        number = int(value) if len(value) <= 10 else 0
        if not 1 <= number <= MAX_ID:
            raise NotFound()
        return number

    def to_url(self, value: object) -> str:
        return str(int(value))  # type: ignore[call-overload]
