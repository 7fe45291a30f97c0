"""The JSON API: tokens, pagination, CRUD, ownership, 422 by field, 409, day plans, and an
OpenAPI document that lists exactly the routes there are."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from web_support import PLAN_DAY, api_token

from scheduler import models
from scheduler.accounts.tokens import revoke_token
from scheduler.clock import utcnow
from scheduler.models import ApiToken
from web.api.openapi import document

API = "/api/v1"
NEW_FACILITY = {"name": "Research Medical Center", "kind": "hospital",
                "address": "2316 E Meyer Blvd, Kansas City, MO", "lat": 39.0, "lon": -94.55,
                "hours": {"MO": ["08:00", "20:00"]}}


def test_a_token_is_required(client, practice):
    assert client.get(f"{API}/facilities").status_code == 401
    bad = client.get(f"{API}/facilities", headers={"Authorization": "Bearer rnd_nope"})
    assert bad.status_code == 401 and bad.json["message"].startswith("The API token")
    basic = client.get(f"{API}/facilities", headers={"Authorization": "Basic eDp5"})
    assert basic.status_code == 401


def test_a_session_cookie_is_not_enough(theo_client, practice):
    assert theo_client.get(f"{API}/clients").status_code == 401


def test_revoked_token_and_deactivated_user_stop_working(web_runtime, client, practice):
    secret = api_token(web_runtime, practice.tess_id)
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get(f"{API}/clients", headers=headers).status_code == 200
    with web_runtime.session() as s:
        s.get(models.Therapist, practice.tess_id).active = False
    assert client.get(f"{API}/clients", headers=headers).status_code == 401
    with web_runtime.session() as s:
        s.get(models.Therapist, practice.tess_id).active = True
        revoke_token(s.scalars(select(ApiToken)).one(), utcnow())
    assert client.get(f"{API}/clients", headers=headers).status_code == 401


def test_pagination(client, admin_api, practice):
    page = client.get(f"{API}/clients?per_page=2", headers=admin_api).json
    assert (page["page"], page["per_page"], page["total"], len(page["items"])) == (1, 2, 3, 2)
    second = client.get(f"{API}/clients?per_page=2&page=2", headers=admin_api).json
    assert [c["id"] for c in second["items"]] == [practice.tess_client]
    bad = client.get(f"{API}/clients?per_page=1000&page=x", headers=admin_api)
    assert bad.status_code == 422 and set(bad.json["fields"]) == {"page", "per_page"}


def test_facility_lifecycle(client, admin_api, practice):
    created = client.post(f"{API}/facilities", json=NEW_FACILITY, headers=admin_api)
    assert created.status_code == 201
    facility = created.json
    assert facility["hours"] == {"MO": ["08:00", "20:00"]}
    assert facility["coordinate_source"] == "manual"
    path = f"{API}/facilities/{facility['id']}"
    changed = client.patch(path, json={"overhead_minutes": 20}, headers=admin_api)
    assert changed.status_code == 200 and changed.json["overhead_minutes"] == 20
    assert changed.json["name"] == NEW_FACILITY["name"]
    assert client.delete(path, headers=admin_api).status_code == 204
    assert client.get(path, headers=admin_api).status_code == 404


def test_422_names_every_bad_field(client, admin_api, practice):
    response = client.post(f"{API}/facilities", headers=admin_api, json={
        "name": "", "kind": "castle", "lat": "north", "hours": {"MO": ["9", "8:00"]},
        "extra": 1})
    assert response.status_code == 422
    fields = response.json["fields"]
    assert {"name", "kind", "lat", "extra", "address"} <= set(fields)
    assert any(key.startswith("hours.MO") for key in fields)
    # the keys are for programs; the message, for people, names the fields in words
    message = response.json["message"]
    assert "hours, Monday, start: expected a time as HH:MM" in message
    assert "hours.MO" not in message  # (the values a program must send stay as they are)
    not_json = client.post(f"{API}/facilities", headers=admin_api, data="name=x")
    assert not_json.status_code == 422 and "body" in not_json.json["fields"]


def test_409_when_in_use(client, admin_api, practice):
    response = client.delete(f"{API}/facilities/{practice.hospital_id}", headers=admin_api)
    assert response.status_code == 409 and "refer to this facility" in response.json["message"]


def test_therapist_sees_own_clients_and_404_for_others(client, theo_api, practice):
    ids = [c["id"] for c in client.get(f"{API}/clients", headers=theo_api).json["items"]]
    assert sorted(ids) == sorted(practice.theo_clients)
    for path in (f"/clients/{practice.tess_client}", f"/series/{practice.tess_series}",
                 f"/clients/{practice.tess_client}/treatments",
                 f"/series/{practice.tess_series}/exceptions",
                 f"/therapists/{practice.tess_id}"):
        assert client.get(API + path, headers=theo_api).status_code == 404, path
    assert client.patch(f"{API}/clients/{practice.tess_client}", json={"room": "1"},
                        headers=theo_api).status_code == 404


def test_admin_only_writes(client, theo_api, practice):
    for method, path, body in [
        ("post", "/facilities", NEW_FACILITY), ("post", "/clients", {}),
        ("post", "/series", {}), ("post", "/therapists", {}),
        ("patch", f"/facilities/{practice.hospital_id}", {"name": "x"}),
        ("patch", f"/series/{practice.theo_series[0]}", {"priority": 1}),
        ("delete", f"/clients/{practice.theo_clients[0]}", None),
    ]:
        response = getattr(client, method)(API + path, json=body, headers=theo_api)
        assert response.status_code == 403, (method, path)


def test_therapist_lists_only_themself(client, theo_api, practice):
    page = client.get(f"{API}/therapists", headers=theo_api).json
    assert [t["id"] for t in page["items"]] == [practice.theo_id]
    assert "password_hash" not in page["items"][0]
    assert "calendar_token" not in page["items"][0]


def test_client_treatment_series_exception(client, admin_api, theo_api, practice):
    new_client = client.post(f"{API}/clients", headers=admin_api, json={
        "first_name": "Jackie", "last_name": "Cochran", "facility_id": practice.home_id,
        "room": "301", "precaution_flags": ["fall_risk"],
        "primary_therapist_id": practice.theo_id}).json
    treatment = client.post(f"{API}/clients/{new_client['id']}/treatments", headers=theo_api,
                            json={"kind": "dialysis", "rule": "FREQ=WEEKLY;BYDAY=MO,WE,FR",
                                  "first_date": "2026-03-02", "start_time": "06:00",
                                  "duration_minutes": 240, "policy": "during"})
    assert treatment.status_code == 201, treatment.json
    series = client.post(f"{API}/series", headers=admin_api, json={
        "client_id": new_client["id"], "therapist_id": practice.theo_id,
        "rule": "FREQ=WEEKLY;BYDAY=WE", "first_date": "2026-03-04", "duration_minutes": 30,
        "during_treatment_id": treatment.json["id"]})
    assert series.status_code == 201, series.json
    exception = client.post(f"{API}/series/{series.json['id']}/exceptions", headers=theo_api,
                            json={"original_date": "2026-03-11", "action": "cancel"})
    assert exception.status_code == 201, exception.json
    listed = client.get(f"{API}/series/{series.json['id']}/exceptions", headers=theo_api).json
    assert [e["original_date"] for e in listed["items"]] == ["2026-03-11"]
    bad = client.post(f"{API}/series/{series.json['id']}/exceptions", headers=theo_api,
                      json={"original_date": "2026-03-12", "action": "cancel"})
    assert bad.status_code == 422 and "original_date" in bad.json["fields"]


def test_reads_of_patient_records_are_audited(web_runtime, client, theo_api, practice):
    client.get(f"{API}/clients/{practice.theo_clients[0]}", headers=theo_api)
    with web_runtime.session() as s:
        event = s.scalars(select(models.AuditEvent).where(
            models.AuditEvent.action == "read")).one()
        assert (event.entity, event.entity_id, event.actor_label) == (
            "client", practice.theo_clients[0], "api")


def test_day_plans(client, theo_api, admin_api, practice):
    listed = client.get(f"{API}/day-plans?date={PLAN_DAY}", headers=theo_api).json
    assert [p["id"] for p in listed["items"]] == [practice.plan_id]
    plan = listed["items"][0]
    assert plan["stops"][0]["start_at"] == "2026-03-09T10:30:00-05:00"
    assert plan["unplaced"][0]["reason"] == "no time left in the shift"
    tess = api_token_headers(client, practice)
    assert client.get(f"{API}/day-plans/{practice.plan_id}", headers=tess).status_code == 404
    made = client.post(f"{API}/day-plans", headers=theo_api,
                       json={"date": "2026-03-11", "publish": True})
    assert made.status_code == 201
    assert [p["therapist_id"] for p in made.json["items"]] == [practice.theo_id]
    assert made.json["items"][0]["status"] == "published"
    assert client.post(f"{API}/day-plans", headers=theo_api,
                       json={"date": "2026-03-11",
                             "therapist_ids": [practice.tess_id]}).status_code == 404
    replanned = client.post(f"{API}/day-plans/{practice.plan_id}/replan", headers=theo_api,
                            json={"at": "2026-03-09T12:00:00-05:00"})
    assert replanned.status_code == 201 and replanned.json["version"] == 2
    stop_id = replanned.json["stops"][0]["id"]
    marked = client.patch(f"{API}/plan-stops/{stop_id}", headers=theo_api,
                          json={"state": "done"})
    assert marked.status_code == 200 and marked.json["state"] == "done"
    bad = client.post(f"{API}/day-plans", headers=admin_api, json={"date": "tomorrow",
                                                                   "publish": "yes"})
    assert bad.status_code == 422 and set(bad.json["fields"]) == {"date", "publish"}
    naive = client.post(f"{API}/day-plans/{practice.plan_id}/replan", headers=theo_api,
                        json={"at": "2026-03-09T12:00:00", "lat": 39.0})
    assert naive.status_code == 422 and {"at", "lat"} <= set(naive.json["fields"])


def api_token_headers(client, practice):
    from flask import current_app  # noqa: F401  (the app is the test client's)

    runtime = client.application.extensions["rounds"]
    return {"Authorization": f"Bearer {api_token(runtime, practice.tess_id)}"}


def test_openapi_document_lists_exactly_the_routes(app, client):
    doc = client.get(f"{API}/openapi.json")
    assert doc.status_code == 200 and doc.json == document()
    documented = {(path, method.upper()) for path, ops in document()["paths"].items()
                  for method in ops}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API) and rule.endpoint != "api_openapi.openapi":
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len(API):])
            served |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == served


@pytest.mark.parametrize("kind", ["Facility", "Therapist", "Client", "Treatment", "Series",
                                  "SeriesException"])
def test_documented_output_fields_match_the_serializers(client, admin_api, practice, kind):
    paths = {"Facility": f"/facilities/{practice.hospital_id}",
             "Therapist": f"/therapists/{practice.theo_id}",
             "Client": f"/clients/{practice.tess_client}",
             "Treatment": f"/treatments/{practice.treatment_id}",
             "Series": f"/series/{practice.tess_series}"}
    if kind == "SeriesException":
        made = client.post(f"{API}/series/{practice.tess_series}/exceptions", headers=admin_api,
                           json={"original_date": "2026-03-09", "action": "cancel"})
        record = made.json
    else:
        record = client.get(API + paths[kind], headers=admin_api).json
    schema = document()["components"]["schemas"][kind]
    assert set(record) == set(schema["properties"]) == set(schema["required"])


def test_a_stop_marked_arrived_through_the_api(client, theo_api, practice):
    stop_id = practice.stop_ids[0]
    arrived = client.patch(f"{API}/plan-stops/{stop_id}", headers=theo_api,
                           json={"state": "arrived"})
    assert arrived.status_code == 200 and arrived.json["state"] == "arrived"
    assert arrived.json["arrived_at"] is not None
    assert arrived.json["state_at"] == arrived.json["arrived_at"]
    done = client.patch(f"{API}/plan-stops/{stop_id}", headers=theo_api, json={"state": "done"})
    assert done.status_code == 200 and done.json["state"] == "done"
    assert done.json["arrived_at"] == arrived.json["arrived_at"]
    again = client.patch(f"{API}/plan-stops/{stop_id}", headers=theo_api,
                         json={"state": "arrived"})
    assert again.status_code == 422 and "state" in again.json["fields"]
    undone = client.patch(f"{API}/plan-stops/{stop_id}", headers=theo_api,
                          json={"state": "planned"})
    assert (undone.json["state"], undone.json["arrived_at"]) == ("planned", None)
