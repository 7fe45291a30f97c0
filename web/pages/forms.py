"""The little a server-rendered form needs: what was typed, and the problems beside each field.

Forms are parsed into the same shape the JSON API takes and saved through
:mod:`scheduler.records`, so a page and the API accept and refuse exactly the same things;
the field names in a :class:`~scheduler.validation.ValidationError` ("hours.MO.end",
"preferred_windows[0]") are the form's input names, so each message lands beside its input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from werkzeug.datastructures import MultiDict

from scheduler.records.validation import WEEKDAY_CODES, ValidationError
from web.field_words import field_words


class FormState:
    """Values to show in the inputs and the errors to show beside them."""

    def __init__(self, values: Mapping[str, Any] | MultiDict[str, str] | None = None,
                 errors: Mapping[str, list[str]] | None = None,
                 labels: Mapping[str, str] | None = None) -> None:
        self.values: Any = values if values is not None else {}
        self.errors: dict[str, list[str]] = dict(errors or {})
        self.labels = dict(labels or {})

    @classmethod
    def rejected(cls, submitted: MultiDict[str, str], error: ValidationError,
                 labels: Mapping[str, str]) -> FormState:
        return cls(submitted, error.by_field(), labels)

    def value(self, name: str) -> str:
        raw = self.values.get(name, "")
        return "" if raw is None else str(raw)

    def values_of(self, name: str) -> list[str]:
        if isinstance(self.values, MultiDict):
            return self.values.getlist(name)
        raw = self.values.get(name) or []
        return [str(item) for item in raw]

    def checked(self, name: str) -> bool:
        raw = self.values.get(name)
        return raw not in (None, "", False, "0", "false")

    def errors_for(self, name: str) -> list[str]:
        """Messages for ``name`` and the parts inside it ("hours.MO" has "hours.MO.end")."""
        found = []
        for key, messages in self.errors.items():
            if key == name or key.startswith(name + ".") or key.startswith(name + "["):
                found.extend(messages)
        return found

    def own_errors(self, name: str) -> list[str]:
        return list(self.errors.get(name, []))

    def label_of(self, name: str) -> str:
        return field_words(name, self.labels)




# ---------------------------------------------------------------------------------------------
# From submitted text to the API's shape. Empty text becomes None (the field is cleared), and
# anything that cannot be converted is passed on as typed, so that records names the problem.


def text(form: MultiDict[str, str], name: str) -> str:
    return form.get(name, "").strip()


def optional(form: MultiDict[str, str], name: str) -> str | None:
    value = form.get(name, "").strip()
    return value or None


def whole(form: MultiDict[str, str], name: str) -> int | str | None:
    value = form.get(name, "").strip()
    if not value:
        return None
    return int(value) if re.fullmatch(r"-?\d+", value) else value


def reference(form: MultiDict[str, str], name: str) -> int | str | None:
    return whole(form, name)


def flag(form: MultiDict[str, str], name: str) -> bool:
    return form.get(name) in ("1", "on", "true", "yes")


def words(form: MultiDict[str, str], name: str) -> list[str]:
    """Comma- or space-separated words, or several checkboxes of the same name."""
    items: list[str] = []
    for raw in form.getlist(name):
        items.extend(part for part in re.split(r"[,\s]+", raw) if part)
    return items


def weekly(form: MultiDict[str, str], name: str) -> dict[str, list[str]]:
    """The rows of a weekly hours grid; a day with both boxes empty is left out (closed)."""
    found = {}
    for code in WEEKDAY_CODES:
        start = form.get(f"{name}.{code}.start", "").strip()
        end = form.get(f"{name}.{code}.end", "").strip()
        if start or end:
            found[code] = [start, end]
    return found


def weekly_values(rows: Iterable[Any], name: str, start: str, end: str) -> dict[str, str]:
    """A record's weekly rows as grid input values."""
    values = {}
    for row in rows:
        code = WEEKDAY_CODES[row.weekday]
        values[f"{name}.{code}.start"] = f"{getattr(row, start):%H:%M}"
        values[f"{name}.{code}.end"] = f"{getattr(row, end):%H:%M}"
    return values


def windows(form: MultiDict[str, str], name: str) -> list[list[str]]:
    """'09:00-11:00, 14:00-16:00' -> [['09:00', '11:00'], ['14:00', '16:00']]."""
    pairs = []
    for part in re.split(r"[,;]", form.get(name, "")):
        if part.strip():
            start, _, end = part.strip().partition("-")
            pairs.append([start.strip(), end.strip()])
    return pairs


def windows_text(pairs: Iterable[Iterable[str]]) -> str:
    return ", ".join("-".join(pair) for pair in pairs)


def hhmm(value: Any) -> str:
    return f"{value:%H:%M}" if value is not None else ""


# ---------------------------------------------------------------------------------------------
# The recurrence editor: weekdays, every N weeks, until a date or a number of times; any other
# RFC 5545 rule can be typed as text ("custom").


def rule_from_form(form: MultiDict[str, str], *, allow_once: bool) -> str | None:
    """The RRULE the editor describes (None: a single appointment on the first date)."""
    mode = form.get("rule_mode", "weekly")
    if mode == "once" and allow_once:
        return None
    if mode == "custom":
        return form.get("rule_text", "").strip() or ""
    parts = ["FREQ=WEEKLY"]
    interval = form.get("rule_interval", "1").strip() or "1"
    if interval != "1":
        parts.append(f"INTERVAL={interval}")
    days = [code for code in WEEKDAY_CODES if code in form.getlist("rule_days")]
    if days:
        parts.append("BYDAY=" + ",".join(days))
    end = form.get("rule_end", "never")
    if end == "count":
        parts.append(f"COUNT={form.get('rule_count', '').strip()}")
    elif end == "until":
        parts.append("UNTIL=" + form.get("rule_until", "").strip().replace("-", ""))
    return ";".join(parts)


def rule_values(rule: str | None) -> dict[str, Any]:
    """Editor inputs for a stored rule; rules the simple editor cannot show become "custom"."""
    from scheduler.calendar.rules import RuleError, parse_rule

    if rule is None:
        return {"rule_mode": "once", "rule_interval": "1", "rule_end": "never"}
    try:
        parsed = parse_rule(rule)
    except RuleError:
        return {"rule_mode": "custom", "rule_text": rule}
    simple = (parsed.freq == "WEEKLY" and not parsed.by_month and not parsed.by_month_day
              and not parsed.by_set_pos and parsed.wkst == 0
              and all(n is None for n, _ in parsed.by_day) and parsed.until_time is None)
    if not simple:
        return {"rule_mode": "custom", "rule_text": parsed.text, "rule_interval": "1",
                "rule_end": "never"}
    values: dict[str, Any] = {
        "rule_mode": "weekly", "rule_interval": str(parsed.interval),
        "rule_days": [WEEKDAY_CODES[day] for _, day in parsed.by_day],
        "rule_end": "never", "rule_text": parsed.text,
    }
    if parsed.count is not None:
        values.update(rule_end="count", rule_count=str(parsed.count))
    elif parsed.until is not None:
        values.update(rule_end="until", rule_until=parsed.until.isoformat())
    return values
