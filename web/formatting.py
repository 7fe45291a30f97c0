"""How values look on pages: local times, durations, weekday names, precaution labels.

Times are stored as aware UTC datetimes and always shown in the practice's zone.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from flask import Flask

from scheduler.records.skills import skill_words
from scheduler.records.validation import WEEKDAY_CODES
from scheduler.settings import Settings

WEEKDAY_LABELS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@lru_cache(maxsize=1)
def flag_catalogue() -> dict[str, str]:
    """Precaution flag code -> label, from :mod:`scheduler.precautions` (fixed at import)."""
    from scheduler.records.precautions import FLAGS

    labels: dict[str, str] = {}
    for code, value in dict(FLAGS).items():
        labels[code] = value if isinstance(value, str) else getattr(value, "label", str(code))
    return labels


def init_app(app: Flask, settings: Settings) -> None:
    zone = settings.zone

    def local(value: datetime | None) -> datetime | None:
        return value.astimezone(zone) if value is not None else None

    def hm(value: datetime | None) -> str:
        return f"{value.astimezone(zone):%H:%M}" if value is not None else "–"

    def minutes(value: float | int | None) -> str:
        return f"{round(value or 0)} min"

    def long_date(value: date) -> str:
        return f"{WEEKDAY_LABELS[value.weekday()]} {value:%d %B %Y}".replace(" 0", " ")

    def flag_label(code: str) -> str:
        return flag_catalogue().get(code, code.replace("_", " ").replace("-", " "))

    def words(code: object) -> str:
        """A code people typed or the app keeps ("med_pass", "login_failed") as words."""
        return str(code).replace("_", " ")

    app.jinja_env.filters.update(local=local, hm=hm, minutes=minutes, long_date=long_date,
                                 flag_label=flag_label, skills=skill_words, words=words)
    app.jinja_env.globals.update(
        practice_name=settings.practice.name,
        WEEKDAY_CODES=WEEKDAY_CODES,
        WEEKDAY_LABELS=WEEKDAY_LABELS,
        WEEKDAY_OPTIONS=list(zip(WEEKDAY_CODES, WEEKDAY_LABELS, strict=True)),
        timedelta=timedelta,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True


def local_today(settings: Settings, now: datetime) -> date:
    return now.astimezone(settings.zone).date()


def as_local(settings: Settings, value: datetime) -> Any:
    return value.astimezone(settings.zone)
