"""Edits that cannot be lost, in the API: a record's answer carries ``ETag: "<version>"`` and
``version``; a PATCH with If-Match naming another version answers 412, one with a body
``version`` that is not current 409, both holding the current record; one with neither is
taken as before. Two API clients (the admin's token and a therapist's), on both backends.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from web_support import api_token, make_practice

from scheduler import models
from web import create_app

API = "/api/v1"
DVT = "NEW: no pressure on left leg (DVT)"


@pytest.fixture
def two_clients(both_runtime):
    practice = make_practice(both_runtime)
    app = create_app(runtime=both_runtime, test_config={"TESTING": True})
    admin = {"Authorization": f"Bearer {api_token(both_runtime, practice.admin_id)}"}
    theo = {"Authorization": f"Bearer {api_token(both_runtime, practice.theo_id)}"}
    return both_runtime, practice, app.test_client(), admin, app.test_client(), theo


def test_get_and_patch_answer_the_version_as_a_strong_etag(two_clients):
    _, practice, api, admin, _, _ = two_clients
    item = f"{API}/clients/{practice.theo_clients[0]}"
    read = api.get(item, headers=admin)
    assert read.status_code == 200
    assert read.headers["ETag"] == '"1"' and read.json["version"] == 1
    changed = api.patch(item, headers={**admin, "If-Match": '"1"'}, json={"room": "6E-01"})
    assert changed.status_code == 200, changed.json
    assert changed.headers["ETag"] == '"2"' and changed.json["version"] == 2
    assert api.get(f"{API}/clients", headers=admin).json["items"][0]["version"] >= 1


def test_the_dvt_note_survives_a_stale_if_match(two_clients):
    runtime, practice, admins, admin, theos, theo = two_clients
    item = f"{API}/clients/{practice.theo_clients[0]}"
    admin_tag = admins.get(item, headers=admin).headers["ETag"]  # both read version 1
    theo_tag = theos.get(item, headers=theo).headers["ETag"]
    saved = theos.patch(item, headers={**theo, "If-Match": theo_tag},
                        json={"precaution_notes": DVT})
    assert saved.status_code == 200 and saved.headers["ETag"] == '"2"'

    refused = admins.patch(item, headers={**admin, "If-Match": admin_tag},
                           json={"room": "6E-01"})
    assert refused.status_code == 412
    assert refused.content_type == "application/problem+json"
    assert refused.json["status"] == 412 and refused.json["current_version"] == 2
    assert refused.json["current"]["precaution_notes"] == DVT
    assert refused.headers["ETag"] == '"2"'
    with runtime.session() as s:
        client = s.get(models.Client, practice.theo_clients[0])
        assert (client.precaution_notes, client.room, client.version) == (DVT, "5W-12", 2)
        reads = s.scalars(select(models.AuditEvent.entity_id).where(  # the answer is a read
            models.AuditEvent.actor_id == practice.admin_id,
            models.AuditEvent.action == "read")).all()
        assert reads.count(client.id) == 2  # the GET, and the 412 holding the record

    # With the current ETag the admin's change goes through, and keeps the note.
    again = admins.patch(item, headers={**admin, "If-Match": refused.headers["ETag"]},
                         json={"room": "6E-01"})
    assert again.status_code == 200
    assert (again.json["room"], again.json["precaution_notes"]) == ("6E-01", DVT)


def test_a_stale_body_version_answers_409_with_the_current_record(two_clients):
    runtime, practice, admins, admin, theos, theo = two_clients
    item = f"{API}/series/{practice.theo_series[0]}"
    assert theos.get(item, headers=theo).json["version"] == 1
    assert admins.patch(item, headers=admin, json={
        "notes": "Bring the wedge pillow", "priority": 90, "version": 1}).status_code == 200
    refused = admins.patch(item, headers=admin, json={"duration_minutes": 45, "version": 1})
    assert refused.status_code == 409
    assert refused.content_type == "application/problem+json"
    body = refused.json
    assert body["current_version"] == 2 and body["status"] == 409
    assert (body["current"]["notes"], body["current"]["priority"]) == (
        "Bring the wedge pillow", 90)
    with runtime.session() as s:
        assert s.get(models.AppointmentSeries, practice.theo_series[0]).duration_minutes == 60


def test_no_precondition_is_taken_as_before(two_clients):
    _, practice, admins, admin, theos, theo = two_clients
    item = f"{API}/clients/{practice.theo_clients[1]}"
    assert theos.patch(item, headers=theo, json={"room": "119"}).status_code == 200
    after = admins.patch(item, headers=admin, json={"room": "120"})
    assert after.status_code == 200 and after.json["version"] == 3


@pytest.mark.parametrize("if_match", ['"1", "2"', "*", "1"])
def test_if_match_listing_the_current_version_or_star_passes(two_clients, if_match):
    _, practice, api, admin, _, _ = two_clients
    item = f"{API}/facilities/{practice.home_id}"
    response = api.patch(item, headers={**admin, "If-Match": if_match},
                         json={"notes": "Ring twice"})
    assert response.status_code == 200, response.json
    assert response.headers["ETag"] == '"2"'


@pytest.mark.parametrize("if_match", ['W/"1"', '"2"', "garbage"])
def test_a_weak_or_other_if_match_fails(two_clients, if_match):
    runtime, practice, api, admin, _, _ = two_clients
    item = f"{API}/therapists/{practice.theo_id}"
    response = api.patch(item, headers={**admin, "If-Match": if_match},
                         json={"break_minutes": 45})
    assert response.status_code == 412
    assert response.json["current"]["break_minutes"] == 30
    assert "password_hash" not in response.json["current"]


def test_a_version_that_is_no_whole_number_answers_422_naming_it(two_clients):
    _, practice, api, admin, _, _ = two_clients
    response = api.patch(f"{API}/treatments/{practice.treatment_id}", headers=admin,
                         json={"label": "x", "version": "1"})
    assert response.status_code == 422
    assert set(response.json["fields"]) == {"version"}


def test_create_answers_an_etag_and_refuses_a_version(two_clients):
    _, practice, api, admin, _, _ = two_clients
    made = api.post(f"{API}/series/{practice.theo_series[0]}/exceptions", headers=admin,
                    json={"original_date": "2026-03-09", "action": "cancel"})
    assert made.status_code == 201 and made.headers["ETag"] == '"1"'
    refused = api.post(f"{API}/clients", headers=admin, json={
        "first_name": "A", "last_name": "B", "facility_id": practice.home_id, "version": 3})
    assert refused.status_code == 422 and "version" in refused.json["fields"]


def test_the_document_describes_etag_if_match_409_and_412(two_clients):
    _, _, api, _, _, _ = two_clients
    document = api.get(f"{API}/openapi.json").json
    patch = document["paths"]["/clients/{client_id}"]["patch"]
    assert any(p["name"] == "If-Match" and p["in"] == "header" for p in patch["parameters"])
    assert {"409", "412"} <= set(patch["responses"])
    assert "application/problem+json" in patch["responses"]["412"]["content"]
    assert "ETag" in patch["responses"]["200"]["headers"]
    get = document["paths"]["/clients/{client_id}"]["get"]
    assert "ETag" in get["responses"]["200"]["headers"]
    schemas = document["components"]["schemas"]
    assert "version" in schemas["Client"]["required"]
    assert "version" in schemas["ClientPatch"]["properties"]
    assert "version" not in schemas["ClientInput"]["properties"]
