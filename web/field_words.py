"""A field's path as a person reads it, for the messages beside form fields and the API's
error message: "hours.MO.end" is "Visiting hours, Monday, end", "preferred_windows[0]" is
"Preferred times, first". The paths stay the inputs' names and the API's ``fields`` keys;
only the words shown change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from scheduler.records.validation import WEEKDAY_CODES, FieldProblem

_WEEKDAYS = dict(zip(WEEKDAY_CODES, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                     "Saturday", "Sunday"), strict=True))
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
             "ninth", "tenth")
_PART = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def field_words(name: str, labels: Mapping[str, str]) -> str:
    """``name`` in words, its first part by ``labels`` (else its own words)."""
    root = re.split(r"[.\[]", name, maxsplit=1)[0]
    words = [labels.get(root, root.replace("_", " "))]
    for key, index in _PART.findall(name[len(root):]):
        if index:
            number = int(index)
            words.append(_ORDINALS[number] if number < len(_ORDINALS) else f"no. {number + 1}")
        else:
            words.append(_WEEKDAYS.get(key, key.replace("_", " ")))
    return ", ".join(words)


def problems_in_words(problems: Iterable[FieldProblem]) -> str:
    """Every problem as "field in words: message", for a message people read."""
    return "; ".join(f"{field_words(p.field, {})}: {p.message}" for p in problems)
