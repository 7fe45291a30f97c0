"""A stale save on an edit form: shown again, holding what was typed, beside what the other
person saved, so nothing is lost either way.

The domain refuses the save (:class:`scheduler.records.Conflict`); this module only shows it:
its hidden ``version`` becomes the current one (so a deliberate second save goes through),
and a box says who saved the record and when, and lists, field by field, where their values
differ from what was typed.

Which fields the user changed is known too: an edit form also carries ``opened_as``, a short
digest of each field's value as the form was opened (digests, not values: the page needs no
second copy of the record). In the form shown again, a field the user changed holds what
they typed; a field they left as it was holds the other person's value, since keeping the
old one there would quietly undo the other save when the form is sent again (the DVT note an
admin never touched). The box says which is which.
"""

from __future__ import annotations

import hashlib
import json
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
OPENED_AS = "opened_as"  # the hidden field holding the digests of the values opened


@dataclass(frozen=True)
class Difference:
    label: str
    theirs: str
    yours: str
    kept: str = "yours"  # what the form shown again holds: "yours" or "theirs"


@dataclass(frozen=True)
class ConflictView:
    """What the box on a refused form says."""

    at: str  # "14:05" in the practice's zone, or "" when the audit trail has no row
    who: str  # "Theo Therapist, therapist"
    differences: list[Difference]


def opened(values: Mapping[str, Any], version: int) -> dict[str, Any]:
    """An edit form's values as it opens: the record's, its version, and the digests of
    each field's value (``opened_as``), to tell later which fields the user changed."""
    state = FormState(values)
    digests = {name: _digest(_normal(state, name, raw)) for name, raw in values.items()}
    return {**values, versions.FIELD: version,
            OPENED_AS: json.dumps(digests, separators=(",", ":"), sort_keys=True)}


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
                    choices: Mapping[str, Any] | None = None) -> tuple[FormState, ConflictView]:
    """The form to show again, carrying the record's current version, and the box.

    ``record`` is the record read again after the refusal; ``theirs`` its values as the form
    shows them; ``choices`` maps a field to its (value, text) options, to show texts rather
    than ids. A field the user left as opened takes the other person's value; one they
    changed keeps what they typed.
    """
    base = _opened_as(submitted)
    saved_state, typed_state = FormState(theirs), FormState(submitted)
    label_of = FormState(labels=labels).label_of
    values = submitted.copy()
    found = []
    for name in [*theirs, *(n for n in base if n not in theirs)]:
        if name in (versions.FIELD, OPENED_AS):
            continue
        raw = theirs.get(name, "")
        mine, other = _normal(typed_state, name, raw), _normal(saved_state, name, raw)
        if mine == other:
            continue
        untouched = name in base and _digest(mine) == base[name]
        if untouched:
            _put(values, name, raw)
        texts = {str(value): text for value, text in (choices or {}).get(name, [])}
        found.append(Difference(label_of(name), _shown(other, raw, texts),
                                _shown(mine, raw, texts),
                                "theirs" if untouched else "yours"))
    values[versions.FIELD] = str(record.version)
    values[OPENED_AS] = json.dumps(
        {name: _digest(_normal(saved_state, name, raw)) for name, raw in theirs.items()},
        separators=(",", ":"), sort_keys=True)
    form = FormState(values, labels=labels)
    saved = versions.last_saved(db(), conflict.kind, conflict.record_id)
    at = f"{as_local(runtime().settings, saved.at):%H:%M}" if saved is not None else ""
    who = saved.who if saved is not None else "someone"
    return form, ConflictView(at, who, found)


def _opened_as(submitted: MultiDict[str, str]) -> dict[str, str]:
    """The digests the form was opened with; none when missing or not ours (then every
    field keeps what was typed)."""
    try:
        found = json.loads(submitted.get(OPENED_AS, "") or "{}")
    except ValueError:
        return {}
    if not isinstance(found, dict):
        return {}
    return {str(k): v for k, v in found.items() if isinstance(v, str)}


def _normal(state: FormState, name: str, raw: Any) -> str:
    """A field's value as the form holds it, in one text: checkboxes as on/off, several
    boxes of one name as a sorted set, text trimmed. ``raw`` (the record's value) says
    which of these the field is."""
    if isinstance(raw, bool):
        return "1" if state.checked(name) else ""
    if isinstance(raw, list | tuple):
        return "\n".join(sorted(state.values_of(name)))
    return state.value(name).replace("\r\n", "\n").strip()  # browsers send CRLF


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _put(values: MultiDict[str, str], name: str, raw: Any) -> None:
    """Set the field ``name`` of the form to the record's value ``raw``."""
    if isinstance(raw, bool):
        if raw:
            values[name] = "1"
        else:
            values.poplist(name)
    elif isinstance(raw, list | tuple):
        values.setlist(name, [str(item) for item in raw])
    else:
        values[name] = "" if raw is None else str(raw)


def _shown(normal: str, raw: Any, texts: Mapping[str, str]) -> str:
    if isinstance(raw, bool):
        return "yes" if normal else "no"
    if isinstance(raw, list | tuple):
        return ", ".join(texts.get(v, v) for v in normal.split("\n") if v) or "(empty)"
    return texts.get(normal, normal) or "(empty)"
