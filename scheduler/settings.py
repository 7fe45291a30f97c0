"""Settings: `config/default.toml`, then the instance file, then `ROUNDS_*` environment variables.

Each setting is declared once below with its type; the value from any source is converted by
the converter of that type (never guessed from the string) and checked when Rounds starts, so
a typo stops start-up with a message naming the setting rather than failing at 06:00 when the
e-mail job runs.

Why not a settings library (pydantic-settings was weighed): three sources layered section by
section, environment names like ``ROUNDS_MAIL_SMTP_PORT``, unknown keys refused with their
file, and messages in words that name the setting and its variable ("setting mail.smtp_port
(ROUNDS_MAIL_SMTP_PORT): expected a whole number ...") would each need a custom source or
error formatter there; what is left here is one converter per kind of value and one
declaration per setting, which a library would not make shorter.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from scheduler.records.precautions import InfectionControl

DEFAULT_FILE = Path(__file__).resolve().parents[1] / "config" / "default.toml"
INSTANCE_FILE_NAME = "rounds.toml"


class SettingsError(ValueError):
    """A setting has a value Rounds cannot use; the message names the setting."""


# ---------------------------------------------------------------------------------------------
# Converters: one per kind of value. Each takes the raw value (a TOML value or an environment
# string) and returns the typed value or raises ValueError with the problem in words.


def _to_str(raw: Any) -> str:
    if not isinstance(raw, str):
        raise ValueError(f"expected text, got {raw!r}")
    return raw


def _to_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if isinstance(raw, str) and raw.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {raw!r}")


def _integer(minimum: int, maximum: int) -> Callable[[Any], int]:
    def convert(raw: Any) -> int:
        if isinstance(raw, bool):
            raise ValueError(f"expected a whole number, got {raw!r}")
        try:
            value = int(raw.strip()) if isinstance(raw, str) else int(raw)
        except (TypeError, ValueError):
            raise ValueError(f"expected a whole number, got {raw!r}") from None
        if isinstance(raw, float) and raw != value:
            raise ValueError(f"expected a whole number, got {raw!r}")
        if not minimum <= value <= maximum:
            raise ValueError(f"must be between {minimum} and {maximum}, got {value}")
        return value

    return convert


def _number(minimum: float, maximum: float) -> Callable[[Any], float]:
    def convert(raw: Any) -> float:
        if isinstance(raw, bool):
            raise ValueError(f"expected a number, got {raw!r}")
        try:
            value = float(raw.strip()) if isinstance(raw, str) else float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"expected a number, got {raw!r}") from None
        if not minimum <= value <= maximum:
            raise ValueError(f"must be between {minimum} and {maximum}, got {value}")
        return value

    return convert


def _choice(*allowed: str) -> Callable[[Any], str]:
    def convert(raw: Any) -> str:
        value = _to_str(raw).strip().lower()
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}, got {raw!r}")
        return value

    return convert


_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_hhmm(raw: Any) -> time:
    """Parse "HH:MM" (24-hour clock) into a time; the one time format settings accept."""
    match = _HHMM.match(_to_str(raw).strip())
    if not match:
        raise ValueError(f"expected a time as HH:MM (24-hour), got {raw!r}")
    return time(int(match.group(1)), int(match.group(2)))


def _time_ranges(raw: Any) -> tuple[tuple[time, time], ...]:
    text = _to_str(raw).strip()
    if not text:
        return ()
    ranges = []
    for part in text.split(","):
        start_text, sep, end_text = part.strip().partition("-")
        if not sep:
            raise ValueError(f"expected ranges like 07:00-09:00, got {part.strip()!r}")
        start, end = parse_hhmm(start_text), parse_hhmm(end_text)
        if end <= start:
            raise ValueError(f"range {part.strip()!r} ends before it starts")
        ranges.append((start, end))
    return tuple(ranges)


def _zone(raw: Any) -> ZoneInfo:
    name = _to_str(raw).strip()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {raw!r}") from None


def _url_or_empty(raw: Any) -> str:
    value = _to_str(raw).strip()
    if value and not re.match(r"^[a-z][a-z0-9+.-]*://", value):
        raise ValueError(f"expected a URL with a scheme (https://...), got {raw!r}")
    return value


def _flag_codes(raw: Any) -> tuple[str, ...]:
    """Precaution flag codes, as a TOML list or a comma-separated string; each must be in the
    catalogue (:mod:`scheduler.records.precautions`)."""
    from scheduler.records.precautions import validate_flags

    if isinstance(raw, str):
        codes = [part.strip() for part in raw.split(",") if part.strip()]
    elif isinstance(raw, list) and all(isinstance(item, str) for item in raw):
        codes = [item.strip() for item in raw]
    else:
        raise ValueError(f"expected a list of precaution flag codes, got {raw!r}")
    problems = validate_flags(codes)
    if problems:
        raise ValueError("; ".join(problems))
    return tuple(codes)


def _setting(convert: Callable[[Any], Any]) -> Any:
    return field(metadata={"convert": convert})


# ---------------------------------------------------------------------------------------------
# The settings, section by section. Defaults live in config/default.toml, not here, so that the
# commented file is the single place a reader learns what can be set.


@dataclass(frozen=True)
class PracticeSettings:
    name: str = _setting(_to_str)
    timezone: ZoneInfo = _setting(_zone)
    base_url: str = _setting(_url_or_empty)


@dataclass(frozen=True)
class InstanceSettings:
    path: str = _setting(_to_str)


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = _setting(_to_str)
    sqlite_busy_timeout_ms: int = _setting(_integer(0, 600_000))


@dataclass(frozen=True)
class WebSettings:
    secret_key: str = _setting(_to_str)
    session_idle_minutes: int = _setting(_integer(1, 24 * 60))
    session_max_hours: int = _setting(_integer(1, 24 * 7))
    tile_url: str = _setting(_to_str)
    tile_attribution: str = _setting(_to_str)
    host: str = _setting(_to_str)
    port: int = _setting(_integer(1, 65535))
    proxy_hops: int = _setting(_integer(0, 5))
    login_failures_before_delay: int = _setting(_integer(1, 1000))
    login_max_delay_seconds: int = _setting(_integer(1, 24 * 3600))
    login_failures_per_address: int = _setting(_integer(1, 100_000))
    login_window_minutes: int = _setting(_integer(1, 24 * 60))
    totp_required_for_admins: bool = _setting(_to_bool)


@dataclass(frozen=True)
class MailSettings:
    backend: str = _setting(_choice("outbox", "smtp"))
    from_address: str = _setting(_to_str)
    smtp_host: str = _setting(_to_str)
    smtp_port: int = _setting(_integer(1, 65535))
    smtp_security: str = _setting(_choice("starttls", "tls", "none"))
    smtp_username: str = _setting(_to_str)
    smtp_password: str = _setting(_to_str)
    smtp_ca_file: str = _setting(_to_str)
    allow_plain_remote: bool = _setting(_to_bool)
    default_send_time: time = _setting(parse_hhmm)
    catch_up_cutoff: time = _setting(parse_hhmm)
    patient_detail: str = _setting(_choice("minimal", "full"))


@dataclass(frozen=True)
class TravelSettings:
    model: str = _setting(_choice("geodesic", "osrm"))
    circuity: float = _setting(_number(1.0, 3.0))
    speed_short_kmh: float = _setting(_number(1.0, 200.0))
    speed_medium_kmh: float = _setting(_number(1.0, 200.0))
    speed_long_kmh: float = _setting(_number(1.0, 200.0))
    short_trip_km: float = _setting(_number(0.0, 1000.0))
    long_trip_km: float = _setting(_number(0.0, 1000.0))
    rush_hour_factor: float = _setting(_number(1.0, 5.0))
    rush_hours: tuple[tuple[time, time], ...] = _setting(_time_ranges)
    osrm_url: str = _setting(_url_or_empty)
    osrm_timeout_seconds: float = _setting(_number(0.1, 120.0))


@dataclass(frozen=True)
class GeocodingSettings:
    user_agent: str = _setting(_to_str)
    nominatim_domain: str = _setting(_to_str)
    nominatim_scheme: str = _setting(_choice("https", "http"))
    timeout_seconds: float = _setting(_number(0.1, 120.0))
    min_delay_seconds: float = _setting(_number(0.0, 60.0))


@dataclass(frozen=True)
class PlanningSettings:
    time_limit_seconds: float = _setting(_number(0.05, 600.0))


@dataclass(frozen=True)
class InfectionControlSettings:
    order: str = _setting(_choice("protect-first", "isolation-last", "off"))
    protect_flags: tuple[str, ...] = _setting(_flag_codes)
    isolation_flags: tuple[str, ...] = _setting(_flag_codes)

    def rule(self) -> InfectionControl:
        from scheduler.records.precautions import InfectionControl

        return InfectionControl(self.order, self.protect_flags, self.isolation_flags)


@dataclass(frozen=True)
class Settings:
    practice: PracticeSettings
    instance: InstanceSettings
    database: DatabaseSettings
    web: WebSettings
    mail: MailSettings
    travel: TravelSettings
    geocoding: GeocodingSettings
    planning: PlanningSettings
    infection_control: InfectionControlSettings

    @property
    def zone(self) -> ZoneInfo:
        return self.practice.timezone

    @property
    def instance_path(self) -> Path:
        return Path(self.instance.path).resolve()

    @property
    def database_url(self) -> str:
        """The configured URL, or SQLite inside the instance folder."""
        if self.database.url:
            return self.database.url
        return f"sqlite:///{self.instance_path / 'rounds.sqlite3'}"

    @property
    def outbox_path(self) -> Path:
        return self.instance_path / "outbox"


_SECTIONS: dict[str, type] = {f.name: f.type for f in fields(Settings)}  # type: ignore[misc]


def _section_classes() -> dict[str, type]:
    # Settings uses postponed annotations; resolve the section classes by name.
    return {name: globals()[str(annotation)] for name, annotation in _SECTIONS.items()}


def load_settings(
    environ: Mapping[str, str] | None = None,
    instance_path: str | Path | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Settings:
    """Read, merge, convert and check every setting.

    ``overrides`` (used by tests and the app factory) has the layout of the TOML file and wins
    over everything else. Raises SettingsError naming the first bad setting.
    """
    environ = os.environ if environ is None else environ
    raw = _read_toml(DEFAULT_FILE)

    instance_dir = instance_path or environ.get("ROUNDS_INSTANCE_PATH") or raw["instance"]["path"]
    if overrides and "instance" in overrides and "path" in overrides["instance"]:
        instance_dir = overrides["instance"]["path"]
    raw["instance"]["path"] = str(instance_dir)
    instance_file = Path(instance_dir) / INSTANCE_FILE_NAME
    if instance_file.exists():
        _merge(raw, _read_toml(instance_file), source=str(instance_file))

    _merge(raw, _from_environment(environ), source="environment")
    if overrides:
        _merge(raw, {k: dict(v) for k, v in overrides.items()}, source="overrides")
    return _convert(raw)


def _read_toml(path: Path) -> dict[str, dict[str, Any]]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path}: not valid TOML ({error})") from None


def _merge(base: dict[str, dict[str, Any]], extra: Mapping[str, Any], source: str) -> None:
    for section, values in extra.items():
        if section not in base or not isinstance(values, Mapping):
            raise SettingsError(f"{source}: unknown settings section [{section}]")
        for key, value in values.items():
            if key not in base[section]:
                raise SettingsError(f"{source}: unknown setting {section}.{key}")
            base[section][key] = value


def _from_environment(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for section, cls in _section_classes().items():
        for f in fields(cls):
            name = f"ROUNDS_{section}_{f.name}".upper()
            if name in environ:
                found.setdefault(section, {})[f.name] = environ[name]
    if "DATABASE_URL" in environ and "ROUNDS_DATABASE_URL" not in environ:
        found.setdefault("database", {})["url"] = environ["DATABASE_URL"]
    return found


def _convert(raw: dict[str, dict[str, Any]]) -> Settings:
    sections = {}
    for section, cls in _section_classes().items():
        values = {}
        for f in fields(cls):
            if f.name not in raw.get(section, {}):
                raise SettingsError(f"setting {section}.{f.name} is missing from {DEFAULT_FILE}")
            try:
                values[f.name] = f.metadata["convert"](raw[section][f.name])
            except ValueError as error:
                env_name = f"ROUNDS_{section}_{f.name}".upper()
                raise SettingsError(f"setting {section}.{f.name} ({env_name}): {error}") from None
        sections[section] = cls(**values)
    settings = Settings(**sections)
    _check_together(settings)
    return settings


def _check_together(settings: Settings) -> None:
    """Rules that involve more than one setting."""
    travel = settings.travel
    if travel.long_trip_km < travel.short_trip_km:
        raise SettingsError("setting travel.long_trip_km must not be below travel.short_trip_km")
    if travel.model == "osrm" and not travel.osrm_url:
        raise SettingsError("setting travel.osrm_url is required when travel.model is osrm")
    both = set(settings.infection_control.protect_flags) & set(
        settings.infection_control.isolation_flags)
    if both:
        raise SettingsError(
            "settings infection_control.protect_flags and isolation_flags must not share a "
            f"flag: {', '.join(sorted(both))}")
    if settings.mail.default_send_time < time(3, 0):
        raise SettingsError(
            "setting mail.default_send_time must be 03:00 or later "
            "(the clocks change between 02:00 and 03:00)"
        )
