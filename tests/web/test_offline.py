"""The server's side of the day without signal: the app manifest and icons, the service
worker's address and headers, what a day page tells the worker it may keep (and until when),
logging out clearing the phone, the CSP, and marks sent late from a phone's queue.

The browser's side (the worker keeping and serving copies, the queue) is driven in Chromium
by test_browser_offline.py.
"""

from __future__ import annotations

import json
import re
import struct
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from web_support import PLAN_DAY, csrf_token, login, make_practice, make_runtime, post

from scheduler import models
from web import create_app, offline

NOW = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)  # 09:00 in Kansas City, on PLAN_DAY
DAY = PLAN_DAY.isoformat()
SESSION_SECONDS = 12 * 3600  # config/default.toml web.session_max_hours
JSON = {"Accept": "application/json"}


@pytest.fixture
def at_nine(monkeypatch):
    monkeypatch.setattr("scheduler.clock.utcnow", lambda: NOW)


def test_the_manifest_installs_the_app_on_the_day(client: FlaskClient):
    response = client.get("/manifest.webmanifest")  # no sign-in: browsers fetch it without
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.data)
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/", "/", "standalone")
    assert manifest["name"] == manifest["short_name"] == "Rounds"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    sizes = {}
    for icon in manifest["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200, icon["src"]
        assert image.mimetype == icon["type"], icon["src"]
        if icon["type"] == "image/png":
            assert image.data[:8] == b"\x89PNG\r\n\x1a\n"
            width, height = struct.unpack(">II", image.data[16:24])
            sizes[icon["sizes"]] = f"{width}x{height}"
        image.close()
    assert sizes == {"192x192": "192x192", "512x512": "512x512"}
    assert {icon.get("purpose", "any") for icon in manifest["icons"]} == {"any", "maskable"}


def test_the_service_worker_is_served_for_the_whole_site_and_never_cached(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    assert "/*ROUNDS:" not in text  # its list of files and its version are written in
    assets = json.loads(re.search(r"var ASSETS = (\[.*?\]);", text).group(1))
    version = json.loads(re.search(r"var VERSION = (\".*?\");", text).group(1))
    assert re.fullmatch(r"[0-9a-f]{16}", version)
    assert {"/static/app.css", "/static/app.js", "/static/offline.js",
            "/static/offline-marks.js", "/static/day-map.js", "/vendor/leaflet/leaflet.js",
            "/vendor/leaflet/leaflet.css", "/manifest.webmanifest"} <= set(assets)
    for url in assets:
        file = client.get(url)
        assert file.status_code == 200, url
        file.close()
    # every patient page is left to the network: nothing outside the day pages is kept
    assert "/api/" not in text and "/clients" not in text


def test_a_new_worker_or_file_is_a_new_version(app, monkeypatch):
    with app.test_request_context():
        before = offline._version(offline.asset_urls())
        source = offline._worker_source()
        monkeypatch.setattr(offline, "_worker_source", lambda: source + "\n// changed\n")
        assert offline._version(offline.asset_urls()) != before


@pytest.fixture
def strict_app(settings, sqlite_url):
    """The practice requires two-factor sign-in of admins."""
    settings = replace(settings, web=replace(settings.web, totp_required_for_admins=True))
    runtime = make_runtime(settings, sqlite_url)
    make_practice(runtime)
    yield create_app(runtime=runtime, test_config={"TESTING": True})
    runtime.close()


def test_an_admin_sent_to_set_up_two_factor_still_gets_the_worker(strict_app):
    admin = strict_app.test_client()
    assert login(admin, "ada@example.org").headers["Location"] == "/account"
    assert admin.get("/day/2026-03-09").status_code == 302  # pages wait for the set-up
    for path in ("/sw.js", "/manifest.webmanifest"):
        assert admin.get(path).status_code == 200, path


def _offline_headers(response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items()
            if name.startswith("Rounds-")}


def test_todays_and_tomorrows_own_day_may_be_kept_until_the_sign_in_ends(
        at_nine, theo_client, admin_client, practice):
    signed_in = time.time()
    for path in ("/", f"/day/{DAY}"):
        today = theo_client.get(path)
        assert today.status_code == 200
        headers = _offline_headers(today)
        assert headers.pop("Rounds-Offline-Day") == DAY
        assert headers.pop("Rounds-Offline-Keep") == f"{DAY} 2026-03-10"
        assert headers.pop("Rounds-Offline-Next") == "/day/2026-03-10"  # fetched ahead
        ends = int(headers.pop("Rounds-Session-Ends"))
        assert abs(ends - (signed_in + SESSION_SECONDS)) < 60
        assert headers == {}
        assert today.headers["Cache-Control"] == "no-store"  # the browser's own cache: never
    tomorrow = _offline_headers(theo_client.get("/day/2026-03-10"))
    assert tomorrow["Rounds-Offline-Day"] == "2026-03-10" and "Rounds-Offline-Next" not in tomorrow
    # other days, the printed day and someone else's day are never kept
    for path in ("/day/2026-03-08", "/day/2026-03-11", f"/day/{DAY}/print",
                 f"/day/{DAY}?therapist={practice.theo_id}"):
        assert _offline_headers(theo_client.get(path)) == {}, path
    assert _offline_headers(admin_client.get(f"/day/{DAY}?therapist={practice.theo_id}")) == {}
    assert _offline_headers(admin_client.get(f"/day/{DAY}"))["Rounds-Offline-Day"] == DAY
    # signed out, nothing
    assert _offline_headers(theo_client.application.test_client().get("/")) == {}


def test_the_day_page_carries_its_stops_for_the_offline_script(at_nine, theo_client, practice):
    page = theo_client.get(f"/day/{DAY}").get_data(as_text=True)
    found = re.search(r'<script type="application/json" id="offline-day">(.*?)</script>', page)
    data = json.loads(found.group(1))
    assert (data["day"], data["today"], data["tomorrow"], data["zone"]) == (
        DAY, DAY, "2026-03-10", "America/Chicago")
    first, second = (str(stop_id) for stop_id in practice.stop_ids)
    assert data["stops"][first] == {"number": 1, "start": "2026-03-09T10:30:00-05:00",
                                    "state": "planned"}
    assert data["stops"][second]["number"] == 2
    assert f'name="rounds-user" content="{practice.theo_id}"' in page
    assert 'rel="manifest" href="/manifest.webmanifest"' in page


def test_logging_out_clears_the_phone(theo_client, practice):
    response = post(theo_client, "/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
    login_page = theo_client.get("/login").get_data(as_text=True)
    assert 'name="rounds-user" content=""' in login_page  # offline.js drops day copies there


def test_the_csp_allows_our_own_worker_and_manifest_only(theo_client, practice):
    csp = theo_client.get("/account").headers["Content-Security-Policy"]
    assert "worker-src 'self';" in csp and "manifest-src 'self';" in csp
    assert "unsafe" not in csp


# --- Marks sent late from the phone's queue --------------------------------------------------

def _send(client, stop_id: int, page: str = "/account", **fields) -> object:
    data = {"csrf_token": csrf_token(client, page), "confirmed": "1", **fields}
    return client.post(f"/stops/{stop_id}/state", data=data, headers=JSON)


def _stop(runtime, stop_id: int) -> models.PlanStop:
    with runtime.session() as s:
        stop = s.get(models.PlanStop, stop_id)
        s.expunge(stop)
        return stop


def test_a_mark_sent_late_keeps_the_time_it_was_made(at_nine, web_runtime, theo_client,
                                                     practice):
    stop_id = practice.stop_ids[0]
    response = _send(theo_client, stop_id, state="done", seen_state="planned",
                     made_ago="600", by=str(practice.theo_id))
    assert response.status_code == 200
    assert response.get_json() == {"saved": True, "stop_id": stop_id, "state": "done"}
    stop = _stop(web_runtime, stop_id)
    assert stop.state == models.StopState.DONE
    assert stop.state_at == NOW - timedelta(minutes=10)
    # sent again (the phone lost the answer): saved once, the first time kept
    again = _send(theo_client, stop_id, state="done", seen_state="planned", made_ago="5")
    assert again.status_code == 200 and _stop(web_runtime, stop_id).state_at == stop.state_at


def test_a_mark_that_no_longer_fits_is_refused_in_words(at_nine, web_runtime, theo_client,
                                                        practice):
    stop_id = practice.stop_ids[0]
    post(theo_client, f"/stops/{stop_id}/state", {"state": "skipped"})  # on another device
    response = _send(theo_client, stop_id, state="done", seen_state="planned", made_ago="60")
    assert response.status_code == 409
    assert response.get_json() == {"saved": False,
                                   "reason": "it was marked skipped at 09:00 meanwhile"}
    assert _stop(web_runtime, stop_id).state == models.StopState.SKIPPED
    # the same without the script: the day again, with the reason
    form = post(theo_client, f"/stops/{stop_id}/state",
                {"state": "done", "seen_state": "planned", "made_ago": "60", "confirmed": "1"})
    assert form.status_code == 302 and form.headers["Location"] == f"/day/{DAY}"
    page = theo_client.get(f"/day/{DAY}").get_data(as_text=True)
    assert "The mark was not saved: it was marked skipped at 09:00 meanwhile." in page


def test_a_mark_with_a_bad_age_is_refused_without_codes(at_nine, web_runtime, theo_client,
                                                        practice):
    stop_id = practice.stop_ids[0]
    for age, words in (("-1", "must not be negative"), ("later", "expected a whole number of "
                                                                  "seconds")):
        response = _send(theo_client, stop_id, state="done", made_ago=age)
        assert response.status_code == 422
        assert response.get_json() == {"saved": False, "reason": words}
    # dated before the plan it was made on (written at 06:00)
    old = _send(theo_client, stop_id, state="done", made_ago=str(4 * 3600))
    assert old.status_code == 422
    assert old.get_json()["reason"] == "the mark is dated before the plan it was made on"
    assert _stop(web_runtime, stop_id).state == models.StopState.PLANNED


def test_a_mark_made_under_another_sign_in_waits_for_it(at_nine, web_runtime, admin_client,
                                                        practice):
    """Theo's marks, still on a shared phone when Ada signs in, are not saved as Ada's."""
    stop_id = practice.stop_ids[0]
    response = _send(admin_client, stop_id, state="done", made_ago="30",
                     by=str(practice.theo_id))
    assert response.status_code == 403
    assert response.get_json()["sign_in"] is True
    assert _stop(web_runtime, stop_id).state == models.StopState.PLANNED


def test_a_script_asking_for_json_gets_json_errors(at_nine, theo_client, practice):
    response = theo_client.post(f"/stops/{practice.stop_ids[0]}/state",
                                data={"state": "done"}, headers=JSON)  # no CSRF token
    assert response.status_code == 400 and response.get_json()["error"] == "csrf"
    bad = _send(theo_client, practice.stop_ids[0], state="finished")
    assert bad.status_code == 400 and "state must be" in bad.get_json()["message"]
    page = theo_client.post(f"/stops/{practice.stop_ids[0]}/state", data={"state": "done"})
    assert page.status_code == 400 and page.mimetype == "text/html"  # a browser's form
