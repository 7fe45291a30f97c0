"""The API for a treatment's last date and its changed occurrences: the routes, 422 by field,
the same access as the treatment (a therapist only for their own clients), audited reads,
and answers shaped as the OpenAPI document says."""

from __future__ import annotations

from sqlalchemy import select

from scheduler import models
from web.api.openapi import document

API = "/api/v1"
MONDAY = "2026-03-09"  # the practice's radiation is every Monday at 09:00 for 30 minutes


def _audited(runtime, action: str, entity: str) -> list[int | None]:
    with runtime.session() as s:
        return [e.entity_id for e in s.scalars(select(models.AuditEvent).where(
            models.AuditEvent.action == action, models.AuditEvent.entity == entity))]


def test_a_changed_occurrence_from_creation_to_removal(web_runtime, client, theo_api, practice):
    base = f"{API}/treatments/{practice.treatment_id}/exceptions"
    made = client.post(base, headers=theo_api, json={"original_date": MONDAY,
                                                     "action": "cancel", "reason": "sick"})
    assert made.status_code == 201, made.json
    assert made.json == {"id": made.json["id"], "version": 1,
                         "treatment_id": practice.treatment_id,
                         "original_date": MONDAY, "action": "cancel", "new_date": None,
                         "new_start_time": None, "new_duration_minutes": None,
                         "reason": "sick"}
    item = f"{API}/treatment-exceptions/{made.json['id']}"
    listed = client.get(base, headers=theo_api).json
    assert [e["id"] for e in listed["items"]] == [made.json["id"]]
    moved = client.patch(item, headers=theo_api, json={
        "action": "move", "new_start_time": "11:00", "new_duration_minutes": 45})
    assert moved.status_code == 200, moved.json
    assert (moved.json["action"], moved.json["new_start_time"],
            moved.json["new_duration_minutes"]) == ("move", "11:00", 45)
    assert client.get(item, headers=theo_api).json == moved.json
    # listed (one read row per record shown), then read on its own
    assert _audited(web_runtime, "read", "treatment_exception") == [made.json["id"]] * 2
    assert client.delete(item, headers=theo_api).status_code == 204
    assert client.get(item, headers=theo_api).status_code == 404
    assert client.get(base, headers=theo_api).json["items"] == []


def test_422_names_each_bad_field(client, theo_api, practice):
    base = f"{API}/treatments/{practice.treatment_id}/exceptions"
    bad = client.post(base, headers=theo_api, json={
        "original_date": "2026-03-10", "action": "cancel", "new_date": "2026-03-11",
        "new_duration_minutes": 0})
    assert bad.status_code == 422
    assert set(bad.json["fields"]) == {"original_date", "new_date", "new_duration_minutes"}
    assert "no occurrence on Tue 2026-03-10" in bad.json["fields"]["original_date"][0]
    resize = client.post(base, headers=theo_api, json={"original_date": MONDAY,
                                                       "action": "resize"})
    assert resize.status_code == 422 and "action" in resize.json["fields"]
    empty_move = client.post(base, headers=theo_api, json={"original_date": MONDAY,
                                                           "action": "move"})
    assert empty_move.json["fields"] == {
        "new_date": ["a move needs a new date, start time or length"]}
    assert client.post(base, headers=theo_api, json=["x"]).status_code == 422


def test_a_treatments_last_date(client, theo_api, practice):
    item = f"{API}/treatments/{practice.treatment_id}"
    assert client.get(item, headers=theo_api).json["last_date"] is None
    saved = client.patch(item, headers=theo_api, json={"last_date": "2026-06-29"})
    assert saved.status_code == 200 and saved.json["last_date"] == "2026-06-29"
    bad = client.patch(item, headers=theo_api, json={"last_date": "2025-12-01"})
    assert bad.status_code == 422 and list(bad.json["fields"]) == ["last_date"]
    after = client.post(f"{item}/exceptions", headers=theo_api,
                        json={"original_date": "2026-07-06", "action": "cancel"})
    assert after.status_code == 422 and "to 2026-06-29" in after.json["fields"][
        "original_date"][0]


def test_a_therapist_reaches_only_their_own_clients_changes(client, admin_api, theo_api,
                                                            practice):
    tess_treatment = client.post(
        f"{API}/clients/{practice.tess_client}/treatments", headers=admin_api,
        json={"kind": "dialysis", "rule": "FREQ=WEEKLY;BYDAY=MO,WE,FR", "first_date": MONDAY,
              "start_time": "06:00", "duration_minutes": 240, "policy": "during"}).json
    base = f"{API}/treatments/{tess_treatment['id']}/exceptions"
    made = client.post(base, headers=admin_api, json={"original_date": MONDAY,
                                                      "action": "move",
                                                      "new_start_time": "08:00"})
    assert made.status_code == 201, made.json
    item = f"{API}/treatment-exceptions/{made.json['id']}"
    for method, path, body in [("get", base, None), ("post", base, {"original_date": MONDAY,
                                                                    "action": "cancel"}),
                               ("get", item, None), ("patch", item, {"reason": "x"}),
                               ("delete", item, None)]:
        response = getattr(client, method)(path, json=body, headers=theo_api)
        assert response.status_code == 404, (method, path)
    assert client.get(item, headers=admin_api).json["new_start_time"] == "08:00"


def test_documented_fields_match_the_answers(client, theo_api, practice):
    made = client.post(f"{API}/treatments/{practice.treatment_id}/exceptions",
                       headers=theo_api, json={"original_date": MONDAY, "action": "cancel"})
    schemas = document()["components"]["schemas"]
    assert set(made.json) == set(schemas["TreatmentException"]["properties"]) == set(
        schemas["TreatmentException"]["required"])
    treatment = client.get(f"{API}/treatments/{practice.treatment_id}", headers=theo_api).json
    assert "last_date" in treatment and set(treatment) == set(
        schemas["Treatment"]["properties"])
    assert schemas["TreatmentExceptionInput"]["required"] == ["original_date", "action"]
    assert schemas["TreatmentException"]["properties"]["action"]["enum"] == ["cancel", "move"]
