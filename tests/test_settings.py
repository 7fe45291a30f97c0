"""Settings: defaults, the instance file, the environment, and messages naming the setting."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from scheduler.settings import SettingsError, load_settings


def test_defaults_are_the_embedded_default(tmp_path: Path) -> None:
    settings = load_settings(environ={}, instance_path=tmp_path)
    assert settings.zone.key == "America/Chicago"
    assert settings.mail.backend == "outbox"
    assert settings.mail.default_send_time == time(6, 0)
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'rounds.sqlite3'}"
    assert settings.outbox_path == tmp_path.resolve() / "outbox"
    assert settings.web.proxy_hops == 0  # no proxy trusted unless one is configured


def test_instance_file_overrides_defaults_and_environment_overrides_both(tmp_path: Path) -> None:
    (tmp_path / "rounds.toml").write_text('[mail]\nsmtp_port = 2525\nbackend = "smtp"\n')
    settings = load_settings(environ={"ROUNDS_MAIL_SMTP_PORT": "587"}, instance_path=tmp_path)
    assert settings.mail.smtp_port == 587
    assert settings.mail.backend == "smtp"


def test_database_url_from_the_conventional_variable(tmp_path: Path) -> None:
    url = "postgresql+psycopg://rounds@db/rounds"
    settings = load_settings(environ={"DATABASE_URL": url}, instance_path=tmp_path)
    assert settings.database_url == url


def test_each_setting_is_converted_to_its_type(tmp_path: Path) -> None:
    settings = load_settings(
        environ={
            "ROUNDS_MAIL_ALLOW_PLAIN_REMOTE": "yes",
            "ROUNDS_TRAVEL_CIRCUITY": "1.4",
            "ROUNDS_TRAVEL_RUSH_HOURS": "06:30-08:30",
            "ROUNDS_PRACTICE_TIMEZONE": "America/Denver",
            "ROUNDS_WEB_PROXY_HOPS": "1",
        },
        instance_path=tmp_path,
    )
    assert settings.mail.allow_plain_remote is True
    assert settings.travel.circuity == 1.4
    assert settings.travel.rush_hours == ((time(6, 30), time(8, 30)),)
    assert settings.zone.key == "America/Denver"
    assert settings.web.proxy_hops == 1


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("ROUNDS_MAIL_SMTP_PORT", "abc", "mail.smtp_port"),
        ("ROUNDS_MAIL_SMTP_PORT", "70000", "mail.smtp_port"),
        ("ROUNDS_PRACTICE_TIMEZONE", "Mars/Olympus", "practice.timezone"),
        ("ROUNDS_MAIL_BACKEND", "pigeon", "mail.backend"),
        ("ROUNDS_MAIL_ALLOW_PLAIN_REMOTE", "maybe", "mail.allow_plain_remote"),
        ("ROUNDS_MAIL_DEFAULT_SEND_TIME", "6am", "mail.default_send_time"),
        ("ROUNDS_MAIL_DEFAULT_SEND_TIME", "02:30", "mail.default_send_time"),
        ("ROUNDS_TRAVEL_CIRCUITY", "0.5", "travel.circuity"),
        ("ROUNDS_TRAVEL_RUSH_HOURS", "09:00-07:00", "travel.rush_hours"),
        ("ROUNDS_PRACTICE_BASE_URL", "example.org", "practice.base_url"),
        ("ROUNDS_WEB_PROXY_HOPS", "6", "web.proxy_hops"),
        ("ROUNDS_WEB_PROXY_HOPS", "-1", "web.proxy_hops"),
        ("ROUNDS_WEB_PROXY_HOPS", "yes", "web.proxy_hops"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_setting(
    tmp_path: Path, variable: str, value: str, named: str
) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(environ={variable: value}, instance_path=tmp_path)
    assert named in str(error.value)


def test_unknown_keys_in_the_instance_file_are_refused(tmp_path: Path) -> None:
    (tmp_path / "rounds.toml").write_text("[mail]\nsmtp_prot = 25\n")
    with pytest.raises(SettingsError, match="unknown setting mail.smtp_prot"):
        load_settings(environ={}, instance_path=tmp_path)


def test_osrm_needs_its_url(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="travel.osrm_url"):
        load_settings(environ={"ROUNDS_TRAVEL_MODEL": "osrm"}, instance_path=tmp_path)
