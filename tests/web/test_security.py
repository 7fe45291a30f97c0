"""Security headers, cookies, the secret key rule, error pages and logs without patient data."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from web_support import PLAN_DAY, login

from scheduler import models
from scheduler.demo.loader import is_demo_database
from scheduler.settings import SettingsError
from web import create_app

DAY = f"/day/{PLAN_DAY.isoformat()}"


def _without_key(runtime):
    web = replace(runtime.settings.web, secret_key="")
    return replace(runtime, settings=replace(runtime.settings, web=web))


def test_refuses_to_start_without_a_secret_key_outside_the_demo(web_runtime):
    with pytest.raises(SettingsError, match="web.secret_key"):
        create_app(runtime=_without_key(web_runtime))


@pytest.mark.parametrize("key", ["changeme", "short", "secret"])
def test_refuses_placeholder_keys(web_runtime, key):
    web = replace(web_runtime.settings.web, secret_key=key)
    runtime = replace(web_runtime, settings=replace(web_runtime.settings, web=web))
    with pytest.raises(SettingsError, match="placeholder or too short"):
        create_app(runtime=runtime)


def test_the_demo_runs_with_a_generated_key_kept_in_the_instance(web_runtime):
    with web_runtime.session() as s:
        s.add(models.PracticeMeta(key="demo_practice", value="true"))
    with web_runtime.session() as s:
        assert is_demo_database(s)
    runtime = _without_key(web_runtime)
    first = create_app(runtime=runtime).config["SECRET_KEY"]
    second = create_app(runtime=runtime).config["SECRET_KEY"]
    assert first == second and len(first) >= 40
    key_file = runtime.settings.instance_path / "secret_key"
    assert key_file.read_text().strip() == first
    assert key_file.stat().st_mode & 0o077 == 0


def test_headers_on_a_patient_page(theo_client, practice):
    response = theo_client.get(DAY)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "https://tile.openstreetmap.org" in csp  # the tiles, and nothing else outside
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP here


def test_no_inline_script_in_any_page(theo_client, practice):
    import re

    for path in (DAY, f"{DAY}/print", "/week", "/clients", "/account", "/series"):
        text = theo_client.get(path).get_data(as_text=True)
        for tag in re.findall(r"<script[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, (path, tag)
        assert " onclick=" not in text and " style=" not in text, path


def test_hsts_and_secure_cookie_over_https(app, practice):
    client = app.test_client()
    page = client.get("/login", base_url="https://rounds.example")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = page.headers.get("Set-Cookie", "")
    # The login page already holds a CSRF token in the session.
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def _with_proxy_hops(runtime, hops):
    web = replace(runtime.settings.web, proxy_hops=hops)
    return replace(runtime, settings=replace(runtime.settings, web=web))


@pytest.mark.parametrize(("hops", "secure"), [(1, True), (0, False)])
def test_the_proxys_word_on_https_counts_only_with_proxy_hops(web_runtime, practice, hops,
                                                               secure):
    """The address and the scheme are read from the same proxy, or neither is read at all."""
    app = create_app(runtime=_with_proxy_hops(web_runtime, hops), test_config={"TESTING": True})
    page = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert page.status_code == 200
    assert ("Strict-Transport-Security" in page.headers) is secure
    assert ("Secure" in page.headers.get("Set-Cookie", "")) is secure


def test_session_cookie_flags_over_http(client, practice):
    response = login(client, "theo@example.org")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_static_files_may_be_cached_but_pages_not(client):
    for path in ("/vendor/leaflet/leaflet.js", "/vendor/leaflet/images/marker-icon.png",
                 "/static/app.css", "/static/day-map.js"):
        response = client.get(path)
        try:
            assert response.status_code == 200, path
            assert "no-store" not in response.headers.get("Cache-Control", ""), path
            if path.endswith("leaflet.js"):
                assert b"Leaflet" in response.data[:2000]
        finally:
            response.close()


def test_custom_404_page_says_nothing_of_records(theo_client, practice):
    response = theo_client.get(f"/clients/{practice.tess_client}")
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert "Not found" in text and "Earhart" not in text and "Traceback" not in text


def test_500_page_and_log_hold_no_patient_data(web_runtime, practice, caplog):
    app = create_app(runtime=web_runtime)

    @app.get("/boom")
    def boom():
        from web.database import db

        client = db().get(models.Client, practice.theo_clients[0])  # patient data at run time
        raise RuntimeError(f"failed on client {client.first_name} {client.last_name}")

    client = app.test_client()
    with caplog.at_level(logging.ERROR):
        response = client.get("/boom")
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "Something went wrong" in text
    assert "Quimby" not in text and "Traceback" not in text
    assert "RuntimeError" in caplog.text and "Quimby" not in caplog.text


def test_api_errors_are_json(client):
    response = client.get("/api/v1/clients")
    assert response.status_code == 401
    assert response.is_json and response.json["error"] == "Sign-in needed"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_urls_on_pages_carry_ids_not_names(theo_client, practice):
    import re

    for path in (DAY, "/clients", "/series", "/week"):
        text = theo_client.get(path).get_data(as_text=True)
        for url in re.findall(r'(?:href|action)="([^"]+)"', text):
            for name in ("Harriet", "Quimby", "Bessie", "Coleman"):
                assert name not in url, (path, url)
