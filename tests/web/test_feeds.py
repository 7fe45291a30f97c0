"""The calendar feed at a secret, revocable address, and the GeoJSON of a day's route."""

from __future__ import annotations

import re
from datetime import date

import icalendar
from web_support import PLAN_DAY, post

from scheduler import models


def _feed_path(client) -> str:
    post(client, "/account/calendar", {"action": "renew"})
    page = client.get("/account").get_data(as_text=True)
    return re.search(r'value="http://localhost(/feeds/calendar/[^"]+\.ics)"', page).group(1)


def test_calendar_feed_has_minimal_patient_data(monkeypatch, client, theo_client, practice):
    monkeypatch.setattr("scheduler.clock.utcnow", lambda: __import__("datetime").datetime(
        2026, 3, 9, 12, tzinfo=__import__("datetime").UTC))
    path = _feed_path(theo_client)
    response = client.get(path)  # no session: calendar apps cannot sign in
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(response.data)
    events = [c for c in calendar.walk("VEVENT")]
    assert len(events) == 2
    text = response.data.decode()
    assert "HQ" in text and "5W-12" in text and "PICC" in text
    for name in ("Harriet", "Quimby", "Bessie", "Coleman", "Tires quickly"):
        assert name not in text
    assert events[0].decoded("dtstart").date() == PLAN_DAY


def test_renewing_or_revoking_the_address_stops_the_old_one(client, theo_client, practice):
    old = _feed_path(theo_client)
    new = _feed_path(theo_client)
    assert old != new
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    post(theo_client, "/account/calendar", {"action": "revoke"})
    assert client.get(new).status_code == 404


def test_feed_of_a_deactivated_therapist_stops(web_runtime, client, theo_client, practice):
    path = _feed_path(theo_client)
    with web_runtime.session() as s:
        s.get(models.Therapist, practice.theo_id).active = False
    assert client.get(path).status_code == 404


def test_feed_reads_are_audited(web_runtime, monkeypatch, client, theo_client, practice):
    from datetime import UTC, datetime

    monkeypatch.setattr("scheduler.clock.utcnow", lambda: datetime(2026, 3, 9, 12, tzinfo=UTC))
    client.get(_feed_path(theo_client))
    with web_runtime.session() as s:
        labels = {e.actor_label for e in s.query(models.AuditEvent).filter_by(action="read")}
    assert labels == {"calendar-feed"}


def test_guessed_addresses_are_not_found(client, practice):
    assert client.get("/feeds/calendar/" + "x" * 43 + ".ics").status_code == 404
    assert client.get("/feeds/calendar/short.ics").status_code == 404


def test_day_geojson(theo_client, practice):
    response = theo_client.get(f"/feeds/day/{PLAN_DAY.isoformat()}.geojson")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    data = response.json
    kinds = [f["properties"]["kind"] for f in data["features"]]
    assert kinds == ["home", "stop", "stop", "building", "building", "route"]
    stop = data["features"][1]
    assert stop["geometry"]["coordinates"] == [-94.5934, 39.0464]  # [lon, lat]
    assert stop["properties"]["number"] == 1 and stop["properties"]["initials"] == "HQ"
    line = data["features"][-1]["geometry"]["coordinates"]
    assert line[0] == line[-1] == [-94.6, 39.05]  # from home and back
    assert "Quimby" not in response.get_data(as_text=True)
    assert theo_client.get(f"/feeds/day/{date(2026, 3, 10)}.geojson").status_code == 404


def test_feed_links_follow_the_served_address_unless_base_url_is_set(
        monkeypatch, web_runtime, client, theo_client, practice):
    from dataclasses import replace
    from datetime import UTC, datetime

    from scheduler.served_address import record_served

    monkeypatch.setattr("scheduler.clock.utcnow", lambda: datetime(2026, 3, 9, 12, tzinfo=UTC))
    path = _feed_path(theo_client)
    day_link = f"/day/{PLAN_DAY.isoformat()}"

    def urls(base: str = "http://localhost") -> set[str]:
        response = client.get(path, base_url=base)
        calendar = icalendar.Calendar.from_ical(response.data)
        return {str(event.get("url")) for event in calendar.walk("VEVENT")}

    # nothing recorded (e.g. under gunicorn): the address the feed was asked at
    assert urls("http://rounds.test:8123") == {"http://rounds.test:8123" + day_link}
    # `rounds serve` recorded the address it listens on: that one, whoever asks
    with web_runtime.session() as s:
        record_served(s, "http://127.0.0.1:8123")
    assert urls("http://rounds.test:9999") == {"http://127.0.0.1:8123" + day_link}
    # a base_url in the settings wins
    settings = web_runtime.settings
    web_runtime.settings = replace(settings, practice=replace(
        settings.practice, base_url="https://rounds.example.org"))
    assert urls() == {"https://rounds.example.org" + day_link}
