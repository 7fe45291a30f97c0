"""A JSON request body read at the edge, bounded before any field parser sees it.

The body's size is bounded by ``MAX_CONTENT_LENGTH`` (413, read by Werkzeug). Here:
- nesting deeper than :data:`MAX_DEPTH` is refused (422 naming where). Python's parser
  recurses: 50,000 nested ``[`` raise RecursionError, caught here as well;
- strings (values and keys) must be encodable as UTF-8 (JSON's ``"\\ud800"`` decodes to a
  lone surrogate, which no database driver can store) and hold no NUL (PostgreSQL's text
  cannot);
- numbers must be finite (``NaN``, ``Infinity`` and ``1e400`` are not JSON numbers a record
  can hold) and integers within 64 bits, so no parser or driver overflows;
and each problem names the field by its path (``hours.mo[0]``), as the parsers do.

Why not ``request.get_json``: it turns every one of these into either a 400 without a field
or a value that fails later, deep in the records code, as a 500.
"""

from __future__ import annotations

import json
import math
from typing import Any

from scheduler.records.validation import FieldProblem, ValidationError

MAX_DEPTH = 32  # the deepest real body (weekly hours: object, object, list, list) is 4
MAX_INTEGER = 2**63 - 1


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_object(raw: bytes) -> dict[str, Any]:
    """``raw`` as a JSON object whose every value is storable; ValidationError otherwise."""
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise _invalid("body", f"is nested more than {MAX_DEPTH} levels deep") from None
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise _invalid("body", "is not valid JSON (UTF-8)") from None
    if not isinstance(data, dict):
        raise _invalid("body", "expected a JSON object (Content-Type: application/json)")
    problems = list(_problems(data))
    if problems:
        raise ValidationError(problems)
    return data


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError([FieldProblem(field, message)])


def _problems(data: dict[str, Any]) -> Any:
    """Every value that cannot be stored, by path; iterative, so depth costs no stack."""
    stack: list[tuple[str, Any, int]] = [("", data, 0)]
    while stack:
        path, value, depth = stack.pop()
        field = path or "body"
        if depth > MAX_DEPTH:
            yield FieldProblem(field, f"is nested more than {MAX_DEPTH} levels deep")
            continue
        if isinstance(value, dict):
            for key, item in value.items():
                if not _storable_text(key) or "\x00" in key:
                    yield FieldProblem(_printable(f"{path}.{key}" if path else key),
                                       "the field's name is not valid Unicode text "
                                                                 "or holds a NUL")
                    continue
                stack.append((f"{path}.{key}" if path else key, item, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{field}[{index}]", item, depth + 1)
                         for index, item in enumerate(value))
        elif isinstance(value, str) and not _storable_text(value):
            yield FieldProblem(_printable(field), "is not valid Unicode text (a lone surrogate "
                                                  "such as \\ud800)")
        elif isinstance(value, str) and "\x00" in value:
            yield FieldProblem(field, "must not contain NUL characters")
        elif isinstance(value, float) and not math.isfinite(value):
            yield FieldProblem(field, "must be a finite number")
        elif (isinstance(value, int) and not isinstance(value, bool)
              and not -MAX_INTEGER <= value <= MAX_INTEGER):
            yield FieldProblem(field, f"must be a whole number within ±{MAX_INTEGER}")


def _storable_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(text: str) -> str:
    """A field path with any lone surrogate escaped, so the answer itself can be encoded."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
