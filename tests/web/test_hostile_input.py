"""Hostile input answers 4xx, never 500, and no redirect leaves the site (issue 15, parts 2
and 3): redirect targets, query-string numbers, JSON bodies, re-plan moments, methods.

The app runs with TESTING, so an unexpected exception fails the test instead of hiding
behind a 500 page.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from web_support import PASSWORD, PLAN_DAY, api_token, csrf_token, login, make_practice, post

from scheduler.records.validation import ValidationError
from web import create_app
from web.api.json_input import MAX_DEPTH, parse_object
from web.redirects import on_site_path

BIG = "9" * 20  # beyond SQLite's 64-bit and PostgreSQL's 32-bit integers

HOSTILE_TARGETS = [
    "/%09/evil.example/phish",      # a tab: the browser drops it and reads //evil.example
    "/%0a/evil.example", "/%0d/evil.example", "/%0d%0a/evil.example",
    "/%5Cevil.example",             # /\evil.example: a backslash is a slash to the browser
    "/%5C%5Cevil.example", "%5C%5Cevil.example", "/%09%5Cevil.example",
    "///evil.example", "//evil.example", "%2F%2Fevil.example",
    "https:evil.example", "https://evil.example", "javascript:alert(1)",
    "%20//evil.example", "/%01/evil.example", "/%1F/evil.example", "/%7F/evil.example",
    "evil.example", "",
]


def _browser_reads(location: str) -> tuple[str, str]:
    """The scheme and host a browser takes from a Location header (WHATWG: tab/CR/LF
    dropped, surrounding controls and spaces trimmed, backslash read as slash)."""
    cleaned = location.translate(dict.fromkeys(map(ord, "\t\n\r"))).strip("".join(
        chr(c) for c in range(0x21))).replace("\\", "/")
    parts = urlsplit(cleaned)
    return parts.scheme, parts.netloc


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_sign_in_never_redirects_off_site(app, practice, target):
    client = app.test_client()
    token = csrf_token(client)
    signed_in = client.post(f"/login?next={target}", data={
        "email": "ada@example.org", "password": PASSWORD, "csrf_token": token})
    assert signed_in.status_code == 302
    location = signed_in.headers["Location"]
    assert _browser_reads(location) == ("", "") and not location.startswith("//"), location
    # Signed in already, the same target is refused the same way.
    again = client.get(f"/login?next={target}")
    assert again.status_code == 302
    assert _browser_reads(again.headers["Location"]) == ("", ""), again.headers["Location"]


@pytest.mark.parametrize("target", ["%00//evil.example", "/%00/evil.example"])
def test_a_target_with_nul_is_refused_without_redirect(app, practice, target):
    client = app.test_client()
    token = csrf_token(client)
    answer = client.post(f"/login?next={target}", data={
        "email": "ada@example.org", "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 422 and "Location" not in answer.headers


def test_sign_in_still_returns_to_the_page_asked_for(app, practice):
    client = app.test_client()
    token = csrf_token(client)
    answer = client.post(f"/login?next=/clients/{practice.theo_clients[0]}?all=1", data={
        "email": "ada@example.org", "password": PASSWORD, "csrf_token": token})
    assert answer.headers["Location"] == f"/clients/{practice.theo_clients[0]}?all=1"


@pytest.mark.parametrize(("target", "kept"), [
    ("/day/2026-03-09", "/day/2026-03-09"),
    ("/day/2026-03-09\t", "/day/2026-03-09"),        # as the browser reads it
    ("/a\\b", "/a/b"),
    ("/\t/evil.example", None), ("/\n/evil.example", None), ("/\\evil.example", None),
    (" //evil.example", None), ("/\x7f", None), ("/\u200b/x", None), ("/\ud800", None),
    ("http://localhost/day", None), ("mailto:x@example.org", None), (None, None),
])
def test_on_site_path(target, kept):
    assert on_site_path(target) == kept


def test_a_forms_next_cannot_leave_the_site(admin_client, practice):
    answer = post(admin_client, f"/series/{practice.theo_series[0]}/occurrences/"
                                f"{PLAN_DAY.isoformat()}/cancel",
                  {"next": "/\t/evil.example", "reason": "x"})
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/series/{practice.theo_series[0]}"


# --- pages: query-string numbers ---------------------------------------------------------


@pytest.mark.parametrize(("path", "status"), [
    (f"/audit?page={BIG}", 422), (f"/audit?id={BIG}", 422), ("/audit?page=-1", 422),
    ("/audit?page=abc", 422), ("/audit?page=%C2%B2", 422), ("/audit?id=0", 422),
    (f"/outbox?page={BIG}", 422), ("/outbox?page=1e3", 422),
    (f"/day/{PLAN_DAY}?therapist={BIG}", 404), (f"/day/{PLAN_DAY}?therapist=-3", 404),
    (f"/day/{PLAN_DAY}?therapist=%C2%B2", 404), (f"/day/{PLAN_DAY}.geojson?therapist={BIG}", 404),
    (f"/day/{PLAN_DAY}/print?therapist={BIG}", 404),
    (f"/clients/{BIG}", 404), (f"/series/{BIG}/edit", 404), ("/day/0254-03-09", 404),
    ("/day/20260309", 404),
])
def test_pages_answer_garbage_numbers_with_4xx(admin_client, practice, path, status):
    answer = admin_client.get(path)
    assert answer.status_code == status
    page = answer.get_data(as_text=True)
    assert BIG not in page and "Quimby" not in page


def test_a_bad_page_number_is_named(admin_client, practice):
    page = admin_client.get(f"/audit?page={BIG}").get_data(as_text=True)
    assert "&#39;page&#39; must be a whole number from 1 to" in page


@pytest.mark.parametrize("client_id", [BIG, "%C2%B2", "-1", "abc"])
def test_booking_form_takes_any_client_parameter(admin_client, practice, client_id):
    assert admin_client.get(f"/series/new?client={client_id}").status_code == 200


# --- the treatment form and API (the 238 schemathesis 500s) ----------------------


@pytest.mark.parametrize("body", [
    {"kind": ""}, {"kind": "radiation", "rule": "FREQ=WEEKLY;BYDAY=MO", "first_date":
                   "2026-03-02", "start_time": "09:00", "duration_minutes": -5},
    {"kind": None}, {"kind": "x" * 41},
])
def test_treatment_bodies_answer_422(client, admin_api, practice, body):
    answer = client.post(f"/api/v1/clients/{practice.theo_clients[0]}/treatments",
                         headers=admin_api, json=body)
    assert answer.status_code == 422
    assert answer.get_json()["error"] == "validation"


def test_treatment_form_answers_422(admin_client, practice):
    answer = post(admin_client, f"/clients/{practice.theo_clients[0]}/treatments/new",
                  {"kind": "", "duration_minutes": "-5"})
    assert answer.status_code == 422


# --- API: JSON bodies -----------------------------------------------------------------


def _post_raw(client, headers, path, raw):
    return client.post(path, headers={**headers, "Content-Type": "application/json"},
                       data=raw)


@pytest.mark.parametrize(("raw", "field"), [
    ('{"name": "\\ud800", "kind": "hospital", "address": "x"}', "name"),
    ('{"name": "a\\udfffb", "kind": "hospital", "address": "x"}', "name"),
    ('{"name": "x", "kind": "hospital", "address": "x", "hours": {"MO": ["\\ud800", "x"]}}',
     "hours.MO[0]"),
    ('{"\\ud800": 1}', "\\ud800"),
    ('{"name": "x", "kind": "hospital", "address": "x", "lat": NaN}', "body"),
    ('{"name": "x", "kind": "hospital", "address": "x", "lat": 1e400}', "lat"),
    ('{"name": "x", "kind": "hospital", "address": "x", "lat": ' + "9" * 400 + "}", "lat"),
    ('{"name": "x", "overhead_minutes": -' + "9" * 30 + "}", "overhead_minutes"),
    ("[" * 50_000 + "]" * 50_000, "body"),
    ('{"a": ' * 50_000 + "1" + "}" * 50_000, "body"),
    ('{"a": ' * 40 + "1" + "}" * 40, "a." * 32 + "a"),
    ("[1, 2]", "body"), ('"text"', "body"), ("{", "body"), (b'{"name": "\xff"}', "body"),
])
def test_json_bodies_are_bounded_and_named(client, admin_api, practice, raw, field):
    answer = _post_raw(client, admin_api, "/api/v1/facilities", raw)
    assert answer.status_code == 422, answer.get_data(as_text=True)[:300]
    assert field in answer.get_json()["fields"], answer.get_json()


def test_nesting_up_to_the_limit_is_read():
    nested = '{"a": ' * MAX_DEPTH + "1" + "}" * MAX_DEPTH
    assert parse_object(nested.encode())["a"]
    with pytest.raises(ValidationError):
        parse_object(('{"a": ' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1)).encode())
    assert parse_object(b'{"n": 9223372036854775807, "m": -9223372036854775807}')["n"] > 0
    with pytest.raises(ValidationError):
        parse_object(b'{"n": 9223372036854775808}')


def test_a_body_over_the_limit_is_413(client, admin_api, practice):
    raw = json.dumps({"name": "x", "notes": "n" * (1024 * 1024)})
    answer = _post_raw(client, admin_api, "/api/v1/facilities", raw)
    assert answer.status_code == 413
    assert answer.get_json()["error"] == "Too large"


def test_a_body_within_the_limits_is_taken(client, admin_api, practice):
    answer = client.post("/api/v1/facilities", headers=admin_api, json={
        "name": "Ünïcödé ✓ 𝄞 Hospital", "kind": "hospital", "address": "1 Main St",
        "hours": {"MO": ["08:00", "17:00"]}})
    assert answer.status_code == 201
    assert answer.get_json()["name"] == "Ünïcödé ✓ 𝄞 Hospital"


# --- API: query strings, path ids, methods ------------------------------------------------


@pytest.mark.parametrize(("path", "field"), [
    (f"/api/v1/clients?page={BIG}", "page"), ("/api/v1/clients?per_page=%C2%B2", "per_page"),
    ("/api/v1/clients?page=-1", "page"), (f"/api/v1/day-plans?therapist_id={BIG}",
                                          "therapist_id"),
    (f"/api/v1/time-off?therapist_id={BIG}", "therapist_id"),
    ("/api/v1/time-off?from=0254-01-01", "from"), ("/api/v1/day-plans?date=20260309", "date"),
    ("/api/v1/clients?therapist=3", "therapist"),          # not a parameter of the list
    ("/api/v1/day-plans?therapist=3&page=1", "therapist"),
])
def test_api_query_parameters_are_bounded_and_named(client, admin_api, practice, path, field):
    answer = client.get(path, headers=admin_api)
    assert answer.status_code == 422
    assert field in answer.get_json()["fields"]


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
@pytest.mark.parametrize("number", ["3654033945", BIG, "0"])
def test_an_id_out_of_range_is_not_found(client, admin_api, practice, method, number):
    answer = client.open(f"/api/v1/clients/{number}", method=method, headers=admin_api,
                         json={})
    assert answer.status_code == 404


@pytest.mark.parametrize(("path", "allowed"), [
    ("/api/v1/clients", {"GET", "POST"}), ("/login", {"GET", "POST"}),
    ("/api/v1/time-off/1", {"DELETE"}),
])
def test_trace_and_other_methods_answer_405_with_allow(client, practice, path, allowed):
    for method in ("TRACE", "PUT"):
        answer = client.open(path, method=method)
        assert answer.status_code == 405
        assert allowed <= {m.strip() for m in answer.headers["Allow"].split(",")}


# --- API: re-plan moment ----------------------------------------------------------------


@pytest.mark.parametrize("at", ["0254-03-09T10:00:00Z", "9999-03-09T10:00:00Z",
                                "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00",
                                "2026-03-10T10:00:00-05:00", "2026-03-09T04:59:00Z"])
def test_replan_from_a_moment_off_the_plans_day_is_422(client, admin_api, practice, at):
    answer = client.post(f"/api/v1/day-plans/{practice.plan_id}/replan", headers=admin_api,
                         json={"at": at})
    assert answer.status_code == 422
    assert "plan's day" in answer.get_json()["fields"]["at"][0]


def test_replan_from_a_moment_on_the_plans_day_is_taken(client, admin_api, practice):
    answer = client.post(f"/api/v1/day-plans/{practice.plan_id}/replan", headers=admin_api,
                         json={"at": "2026-03-09T10:15:00-05:00"})
    assert answer.status_code == 201


# --- the document states the limits ------------------------------------------------------


def test_the_document_states_the_limits(client):
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    first_date = schemas["TreatmentInput"]["properties"]["first_date"]
    assert first_date["format"] == "date" and first_date["pattern"].startswith("^20")
    assert "2000-01-01" in first_date["description"]
    assert schemas["ClientInput"]["properties"]["first_name"]["maxLength"] == 80
    assert schemas["TreatmentInput"]["properties"]["kind"]["maxLength"] == 40
    at = schemas["ReplanRequest"]["properties"]["at"]
    assert "plan's day" in at["description"]
    page = next(p for p in document["paths"]["/clients"]["get"]["parameters"]
                if p["name"] == "page")
    assert page["schema"]["maximum"] == 1_000_000
    created = document["paths"]["/facilities"]["post"]["responses"]
    assert "413" in created and "422" in created
    assert "nested" in document["info"]["description"]


# --- both databases: numbers at the edges of their integer columns ------------------------


@pytest.mark.parametrize("number", [2**31, 2**63, 2**64])
def test_numbers_beyond_the_columns_on_each_database(both_runtime, number):
    """PostgreSQL's ``integer`` ends at 2**31 - 1 and SQLite's at 2**63 - 1: a number past
    either is refused at the edge on both, never sent to the database."""
    app = create_app(runtime=both_runtime, test_config={"TESTING": True})
    practice = make_practice(both_runtime)
    headers = {"Authorization": f"Bearer {api_token(both_runtime, practice.admin_id)}"}
    client = app.test_client()
    listed = client.get(f"/api/v1/day-plans?therapist_id={number}", headers=headers)
    assert listed.status_code == 422
    planned = client.post("/api/v1/day-plans", headers=headers, json={
        "date": PLAN_DAY.isoformat(), "therapist_ids": [number]})
    assert planned.status_code == 422
    assert all(name.startswith("therapist_ids") for name in planned.get_json()["fields"])
    booked = client.post("/api/v1/clients", headers=headers, json={
        "first_name": "A", "last_name": "B", "facility_id": number})
    assert booked.status_code == 422 and "facility_id" in booked.get_json()["fields"]
    assert client.get(f"/api/v1/clients/{number}", headers=headers).status_code == 404
    page = app.test_client()
    assert login(page, "ada@example.org").status_code == 302
    assert page.get(f"/day/{PLAN_DAY}?therapist={number}").status_code == 404
    assert page.get(f"/audit?id={number}").status_code == 422


def test_nul_characters_are_refused_before_the_database(both_runtime):
    """PostgreSQL's text cannot hold NUL: a sign-in, a filter, a form field or a JSON string
    with one is a 422 naming the field, on both databases (on PostgreSQL it was a 500)."""
    app = create_app(runtime=both_runtime, test_config={"TESTING": True})
    practice = make_practice(both_runtime)
    headers = {"Authorization": f"Bearer {api_token(both_runtime, practice.admin_id)}"}
    browser = app.test_client()
    token = csrf_token(browser)
    signed_in = browser.post("/login", data={"email": "ada\x00@example.org",
                                             "password": PASSWORD, "csrf_token": token})
    assert signed_in.status_code == 422
    assert "email" in signed_in.get_data(as_text=True)
    assert login(browser, "ada@example.org").status_code == 302
    assert browser.get("/audit?entity=cl%00ient").status_code == 422
    assert post(browser, "/account/tokens", {"name": "a\x00b"}).status_code == 422
    feed = app.test_client().get("/feeds/calendar/" + "a" * 30 + "%00.ics")
    assert feed.status_code == 404
    api = app.test_client()
    named = api.get("/api/v1/clients?page=1%00", headers=headers)
    assert named.status_code == 422 and named.get_json()["fields"] == {
        "page": ["must not contain NUL characters"]}
    for body, field in (({"first_day": "2026-04-06", "reason": "a\x00b",
                          "therapist_id": practice.tess_id}, "reason"),
                        ({"rule": "FREQ=WEEKLY\x00"}, "rule"), ({"a\x00": 1}, "a\\x00")):
        answer = api.post("/api/v1/time-off", headers=headers, json=body)
        assert answer.status_code == 422 and field in answer.get_json()["fields"], body


# --- every page, every hostile query value ---------------------------------------------

QUERY_NAMES = ("page", "id", "entity", "therapist", "client", "from", "day", "all", "changes",
               "mine", "next")
HOSTILE_VALUES = (BIG, "-1", "%C2%B2", "abc", "2026-02-30", "0254-01-01", "%E2%80%AE", "%FF",
                  "1e308", "9" * 5000)


def _page_paths(app, practice):
    """Every GET page of the app (not the API, not static files) with real ids in its path."""
    ids = {"client_id": practice.theo_clients[0], "treatment_id": practice.treatment_id,
           "series_id": practice.theo_series[0], "facility_id": practice.hospital_id,
           "therapist_id": practice.theo_id, "day": PLAN_DAY.isoformat(), "token": "x",
           "name": "clients"}  # a spreadsheet: /export/clients.csv
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.rule.startswith(("/api/", "/static", "/vendor")):
            path = rule.rule
            for name in rule.arguments:
                path = path.replace(f"<{name}>", str(ids[name]))
                path = path.replace(f"<id:{name}>", str(ids[name]))
            yield path


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_every_page_answers_hostile_query_values_without_a_server_error(
        admin_client, app, practice, value):
    _sweep_pages(admin_client, app, practice, value)


@pytest.mark.parametrize("value", [BIG, "2147483648", "x" * 300])
def test_every_page_on_each_database(both_runtime, value):
    app = create_app(runtime=both_runtime, test_config={"TESTING": True})
    practice = make_practice(both_runtime)
    browser = app.test_client()
    assert login(browser, "ada@example.org").status_code == 302
    _sweep_pages(browser, app, practice, value)


def _sweep_pages(admin_client, app, practice, value):
    paths = list(_page_paths(app, practice))
    assert len(paths) >= 30
    for path in paths:
        query = "&".join(f"{name}={value}" for name in QUERY_NAMES)
        answer = admin_client.get(f"{path}?{query}")
        assert answer.status_code < 500, path
        if answer.status_code >= 400:
            assert "Quimby" not in answer.get_data(as_text=True), path


@pytest.mark.parametrize("day", ["2026-02-30", BIG, "0001-01-01", "9999-12-31", "%E2%80%AE",
                                 "2026-3-9", "20260309"])
def test_day_pages_answer_garbage_days_with_404(admin_client, practice, day):
    for path in (f"/day/{day}", f"/day/{day}/print", f"/week/{day}",
                 f"/series/{practice.theo_series[0]}/occurrences/{day}/move"):
        assert admin_client.get(path).status_code == 404, path


FORM_NAMES = (
    "action active address break_end break_minutes break_start buffer_after_minutes "
    "buffer_before_minutes care_contact client_id confirm confirmed current diagnosis "
    "duration_minutes during_treatment_id email email_time facility_id first_date first_name "
    "home_address home_lat home_lon infection_control kind label last_date last_name lat lon "
    "max_hands_on_minutes max_visits_per_day name new new_date new_duration_minutes "
    "new_start_time next notes original_date overhead_minutes parking_notes password policy "
    "precaution_flags precaution_notes preferred_windows primary_therapist_id priority reason "
    "required_skills role room rule_mode rule_interval rule_text rule_end rule_until "
    "rule_count rule_days skills start_time state therapist therapist_id first_day last_day "
    "hours.MO.start hours.MO.end shifts.MO.start shifts.MO.end").split()
FORM_VALUES = (BIG, "-" + BIG, "²", "2026-02-30", "0254-01-01", "25:61", "1e308", "nan",
               "‮", "x" * 5000)


@pytest.mark.parametrize("value", FORM_VALUES)
def test_every_form_answers_hostile_values_without_a_server_error(app, practice, value):
    _sweep_forms(app, practice, value)


@pytest.mark.parametrize("value", [BIG, "x" * 5000])
def test_every_form_on_each_database(both_runtime, value):
    """PostgreSQL checks what SQLite lets by (the length of a varchar, a 32-bit integer)."""
    app = create_app(runtime=both_runtime, test_config={"TESTING": True})
    _sweep_forms(app, make_practice(both_runtime), value)


def _sweep_forms(app, practice, value):
    """Every POST page (sign-out aside), every field it may read set to one hostile value:
    an answer below 500 (deletions last, so the others find their records)."""
    browser = app.test_client()
    assert login(browser, "ada@example.org").status_code == 302
    ids = {"client_id": practice.theo_clients[0], "treatment_id": practice.treatment_id,
           "series_id": practice.theo_series[0], "facility_id": practice.home_id,
           "therapist_id": practice.tess_id, "day": PLAN_DAY.isoformat(),
           "plan_id": practice.plan_id, "stop_id": practice.stop_ids[0], "exception_id": 1,
           "entry_id": 1, "token_id": 1}
    rules = sorted((rule for rule in app.url_map.iter_rules()
                    if "POST" in rule.methods and not rule.rule.startswith("/api/")
                    and rule.rule not in ("/logout", "/login")),
                   key=lambda rule: "delete" in rule.rule)
    assert len(rules) >= 20
    token = csrf_token(browser, "/account")
    form = {name: value for name in FORM_NAMES}
    for rule in rules:
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<id:{name}>", str(ids[name])).replace(f"<{name}>",
                                                                       str(ids[name]))
        answer = browser.post(path, data={**form, "csrf_token": token})
        assert answer.status_code < 500, path
        assert "evil" not in answer.headers.get("Location", "")
