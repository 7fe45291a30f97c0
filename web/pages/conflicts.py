"""A stale save on an edit form: shown again, holding what was typed, beside what the other
person saved, so nothing is lost either way.

The domain refuses the save (:class:`scheduler.records.Conflict`); this module only shows it:
the form keeps every value the user typed, its hidden ``version`` becomes the current one (so
a deliberate second save goes through), and a box says who saved the record and when, and
lists, field by field, where their values differ from what was typed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from werkzeug.datastructures import MultiDict

from scheduler.records import Conflict, versions
from web.database import db, runtime
from web.formatting import as_local
from web.pages import attempt
from web.pages.forms import FormState

T = TypeVar("T")


@dataclass(frozen=True)
class Difference:
    label: str
    theirs: str
    yours: str


@dataclass(frozen=True)
class ConflictView:
    """What the box on a refused form says."""

    at: str  # "14:05" in the practice's zone, or "" when the audit trail has no row
    who: str  # "Theo Therapist, therapist"
    differences: list[Difference]


def version_of(form: MultiDict[str, str]) -> dict[str, Any]:
    """``{"version": n}`` from the form's hidden field, or nothing when the form has none
    (then the save is taken as before). Text that is no number is passed on, to be named."""
    raw = form.get(versions.FIELD, "").strip()
    if not raw:
        return {}
    return {versions.FIELD: int(raw) if raw.isdigit() and len(raw) < 12 else raw}


def attempt_edit(save: Callable[[], T]) -> tuple[T | None, Any, Conflict | None]:
    """:func:`web.pages.attempt`, and a :class:`Conflict` rolled back and returned too."""
    try:
        saved, error = attempt(save)
    except Conflict as conflict:
        db().rollback()
        return None, None, conflict
    return saved, error, None


def conflicted_form(submitted: MultiDict[str, str], record: Any, theirs: Mapping[str, Any],
                    conflict: Conflict, labels: Mapping[str, str],
                    choices: Mapping[str, Any] | None = None,
                    hidden: tuple[str, ...] = ()) -> tuple[FormState, ConflictView]:
    """The form as typed, carrying the record's current version, and the box's content.

    ``record`` is the record read again after the refusal; ``theirs`` its values as the form
    shows them; ``choices`` maps a field to its (value, text) options, to show texts rather
    than ids; ``hidden`` names fields never listed (a password).
    """
    values = submitted.copy()
    values[versions.FIELD] = str(record.version)
    form = FormState(values, labels=labels)
    saved = versions.last_saved(db(), conflict.kind, conflict.record_id)
    at = f"{as_local(runtime().settings, saved.at):%H:%M}" if saved is not None else ""
    who = saved.who if saved is not None else "someone"
    return form, ConflictView(at, who, differences(theirs, submitted, labels, choices or {},
                                                   hidden))


def differences(theirs: Mapping[str, Any], submitted: MultiDict[str, str],
                labels: Mapping[str, str], choices: Mapping[str, Any],
                hidden: tuple[str, ...] = ()) -> list[Difference]:
    """Field by field, where the saved values differ from those typed (as the form holds
    them: checkboxes as on/off, several boxes of one name as a set, text trimmed)."""
    saved, typed = FormState(theirs, labels=labels), FormState(submitted, labels=labels)
    found = []
    for name, raw in theirs.items():
        if name in hidden or name == versions.FIELD:
            continue
        texts = dict((str(value), text) for value, text in choices.get(name, []))
        if isinstance(raw, bool):
            theirs_text, yours_text = _yes(saved.checked(name)), _yes(typed.checked(name))
        elif isinstance(raw, list | tuple):
            mine, other = sorted(typed.values_of(name)), sorted(saved.values_of(name))
            theirs_text = ", ".join(texts.get(v, v) for v in other)
            yours_text = ", ".join(texts.get(v, v) for v in mine)
        else:
            theirs_text = texts.get(saved.value(name).strip(), saved.value(name).strip())
            yours_text = texts.get(typed.value(name).strip(), typed.value(name).strip())
        if theirs_text != yours_text:
            found.append(Difference(saved.label_of(name), theirs_text or "(empty)",
                                    yours_text or "(empty)"))
    return found


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"
