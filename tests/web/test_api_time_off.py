"""Time off in the JSON API: list (filtered, paginated), add and remove; who may touch whose
(someone else's entry is not found, a closure is an admin's to change); 422 naming each field;
a token required; and the documented schema matching what is answered."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from web_support import api_token

from scheduler import models
from web.api.openapi import document

API = "/api/v1"
URL = f"{API}/time-off"


@pytest.fixture
def tess_api(web_runtime, practice):
    return {"Authorization": f"Bearer {api_token(web_runtime, practice.tess_id)}"}


def _add(client, headers, therapist_id, first, last=None, reason="Vacation", **extra):
    payload = {"first_day": first, "last_day": last or first, "reason": reason, **extra}
    if therapist_id != "absent":
        payload["therapist_id"] = therapist_id
    return client.post(URL, json=payload, headers=headers)


def _stored(runtime):
    with runtime.session() as s:
        rows = s.scalars(select(models.TimeOff).order_by(models.TimeOff.id)).all()
        return [(r.therapist_id, r.first_day.isoformat(), r.last_day.isoformat(), r.reason)
                for r in rows]


def _ids(response):
    assert response.status_code == 200, response.json
    return [entry["id"] for entry in response.json["items"]]


@pytest.fixture
def entries(client, admin_api, practice):
    """A closure, a vacation each for Theo and Tess, and Theo's conference in April."""
    made = {
        "closure": _add(client, admin_api, None, "2026-11-26", reason="Thanksgiving"),
        "theo": _add(client, admin_api, practice.theo_id, "2026-03-09", "2026-03-11"),
        "tess": _add(client, admin_api, practice.tess_id, "2026-03-10"),
        "theo_april": _add(client, admin_api, practice.theo_id, "2026-04-20",
                           reason="Conference"),
    }
    assert all(r.status_code == 201 for r in made.values()), [r.json for r in made.values()]
    return {name: r.json["id"] for name, r in made.items()}


def test_a_token_is_required(client, practice):
    assert client.get(URL).status_code == 401
    assert client.post(URL, json={"first_day": "2026-03-09",
                                  "last_day": "2026-03-09"}).status_code == 401
    assert client.delete(f"{URL}/1").status_code == 401
    bad = client.get(URL, headers={"Authorization": "Bearer rnd_nope"})
    assert bad.status_code == 401 and bad.json["message"].startswith("The API token")


def test_a_therapist_adds_lists_and_removes_their_own(client, theo_api, web_runtime, practice):
    made = _add(client, theo_api, practice.theo_id, "2026-12-24", "2026-12-26", " Vacation ")
    assert made.status_code == 201
    assert made.json == {"id": made.json["id"], "therapist_id": practice.theo_id,
                         "first_day": "2026-12-24", "last_day": "2026-12-26",
                         "reason": "Vacation"}
    assert _stored(web_runtime) == [(practice.theo_id, "2026-12-24", "2026-12-26", "Vacation")]
    assert _ids(client.get(URL, headers=theo_api)) == [made.json["id"]]
    assert client.delete(f"{URL}/{made.json['id']}", headers=theo_api).status_code == 204
    assert _stored(web_runtime) == []
    assert client.delete(f"{URL}/{made.json['id']}", headers=theo_api).status_code == 404


def test_changes_are_audited_as_the_api(client, theo_api, web_runtime, practice):
    made = _add(client, theo_api, practice.theo_id, "2026-12-24").json
    client.delete(f"{URL}/{made['id']}", headers=theo_api)
    with web_runtime.session() as s:
        events = s.scalars(select(models.AuditEvent).where(
            models.AuditEvent.entity == "time_off").order_by(models.AuditEvent.id)).all()
        assert [(e.action, e.entity_id, e.actor_id, e.actor_label) for e in events] == [
            ("create", made["id"], practice.theo_id, "api"),
            ("delete", made["id"], practice.theo_id, "api")]


def test_a_therapist_sees_their_own_and_the_closures_an_admin_everything(
    client, admin_api, theo_api, tess_api, entries
):
    assert _ids(client.get(URL, headers=theo_api)) == [
        entries["theo"], entries["theo_april"], entries["closure"]]
    assert _ids(client.get(URL, headers=tess_api)) == [entries["tess"], entries["closure"]]
    assert _ids(client.get(URL, headers=admin_api)) == [
        entries["theo"], entries["tess"], entries["theo_april"], entries["closure"]]


def test_filters_by_therapist_and_days(client, admin_api, theo_api, entries, practice):
    by_tess = client.get(f"{URL}?therapist_id={practice.tess_id}", headers=admin_api)
    assert _ids(by_tess) == [entries["tess"], entries["closure"]]
    march = client.get(f"{URL}?from=2026-03-11&to=2026-03-31", headers=admin_api)
    assert _ids(march) == [entries["theo"]]  # touches the 11th; Tess's 10th does not
    assert _ids(client.get(f"{URL}?from=2026-04-20", headers=admin_api)) == [
        entries["theo_april"], entries["closure"]]
    assert _ids(client.get(f"{URL}?to=2026-03-10", headers=admin_api)) == [
        entries["theo"], entries["tess"]]
    # A therapist's filter stays within what they may see: asking for Tess's shows no more.
    assert _ids(client.get(f"{URL}?therapist_id={practice.tess_id}", headers=theo_api)) == [
        entries["closure"]]


def test_pagination(client, admin_api, entries):
    page = client.get(f"{URL}?per_page=3", headers=admin_api).json
    assert (page["page"], page["per_page"], page["total"], len(page["items"])) == (1, 3, 4, 3)
    second = client.get(f"{URL}?per_page=3&page=2", headers=admin_api).json
    assert [e["id"] for e in second["items"]] == [entries["closure"]]
    assert second["total"] == 4
    bad = client.get(f"{URL}?per_page=1000&page=0", headers=admin_api)
    assert bad.status_code == 422 and set(bad.json["fields"]) == {"page", "per_page"}


def test_bad_filters_are_named(client, admin_api, practice):
    bad = client.get(f"{URL}?therapist_id=x&from=soon&to=2026-13-01", headers=admin_api)
    assert bad.status_code == 422
    assert set(bad.json["fields"]) == {"therapist_id", "from", "to"}
    backwards = client.get(f"{URL}?from=2026-03-10&to=2026-03-09", headers=admin_api)
    assert backwards.status_code == 422
    assert backwards.json["fields"] == {"to": ["is before from (2026-03-10)"]}


def test_closures_are_an_admins_to_add_and_remove(client, admin_api, theo_api, web_runtime,
                                                  entries, practice):
    for therapist_id in (None, "absent"):
        refused = _add(client, theo_api, therapist_id, "2026-12-25", reason="Christmas")
        assert refused.status_code == 403, therapist_id
    assert client.delete(f"{URL}/{entries['closure']}", headers=theo_api).status_code == 403
    assert len(_stored(web_runtime)) == 4
    absent = _add(client, admin_api, "absent", "2026-12-25", reason="Christmas")
    assert absent.status_code == 201 and absent.json["therapist_id"] is None
    assert client.delete(f"{URL}/{entries['closure']}", headers=admin_api).status_code == 204
    assert (None, "2026-11-26", "2026-11-26", "Thanksgiving") not in _stored(web_runtime)


def test_someone_elses_time_off_is_not_found(client, admin_api, theo_api, web_runtime,
                                             entries, practice):
    assert client.delete(f"{URL}/{entries['tess']}", headers=theo_api).status_code == 404
    other = _add(client, theo_api, practice.tess_id, "2026-12-24")
    assert other.status_code == 404
    assert len(_stored(web_runtime)) == 4
    # An admin adds and removes anyone's.
    assert _add(client, admin_api, practice.tess_id, "2026-12-24").status_code == 201
    assert client.delete(f"{URL}/{entries['tess']}", headers=admin_api).status_code == 204


def test_422_names_every_bad_field(client, admin_api, web_runtime, practice):
    response = _add(client, admin_api, practice.theo_id, "2026-12-26", "2026-12-24",
                    reason="x" * 81, extra=1)
    assert response.status_code == 422
    fields = response.json["fields"]
    assert set(fields) == {"last_day", "reason", "extra"}
    assert fields["last_day"] == ["is before the first day (2026-12-26)"]
    assert fields["reason"] == ["must be at most 80 characters"]
    assert fields["extra"] == ["unknown field"]
    missing = client.post(URL, json={"therapist_id": practice.theo_id}, headers=admin_api)
    assert missing.status_code == 422
    assert missing.json["fields"] == {"first_day": ["is required"], "last_day": ["is required"]}
    assert _stored(web_runtime) == []


def test_422_for_dates_that_are_not_iso_or_too_long(client, admin_api, practice):
    response = _add(client, admin_api, practice.theo_id, "12/24/2026", "2027-12-24")
    assert response.status_code == 422
    assert set(response.json["fields"]) == {"first_day"}
    long = _add(client, admin_api, practice.theo_id, "2026-01-01", "2027-06-30")
    assert long.status_code == 422 and "at most 366" in long.json["fields"]["last_day"][0]
    number = _add(client, admin_api, practice.theo_id, 20261224)
    assert number.status_code == 422
    assert set(number.json["fields"]) == {"first_day", "last_day"}


def test_422_for_a_date_that_does_not_exist_says_why(client, admin_api, web_runtime, practice):
    response = _add(client, admin_api, practice.theo_id, "2027-02-29", "2027-03-02")
    assert response.status_code == 422
    assert response.json["fields"] == {
        "first_day": ["2027-02-29 is not a date: February 2027 has 28 days"]}
    assert _stored(web_runtime) == []


def test_a_bad_therapist_id_is_named_with_the_other_fields(client, admin_api, theo_api,
                                                          web_runtime, practice):
    for headers in (admin_api, theo_api):
        response = _add(client, headers, "theo", "soon", "2026-12-24")
        assert response.status_code == 422
        assert set(response.json["fields"]) == {"therapist_id", "first_day"}
    good_days = _add(client, admin_api, True, "2026-12-24")
    assert good_days.status_code == 422 and set(good_days.json["fields"]) == {"therapist_id"}
    unknown = _add(client, admin_api, 999_999, "2026-12-24", "2026-12-01")
    assert unknown.status_code == 422
    assert unknown.json["fields"] == {"therapist_id": ["no therapist with id 999999"],
                                      "last_day": ["is before the first day (2026-12-24)"]}
    assert _stored(web_runtime) == []  # the checks kept nothing, not even in the audit log
    with web_runtime.session() as s:
        assert s.scalars(select(models.AuditEvent).where(
            models.AuditEvent.entity == "time_off")).all() == []


def test_not_a_json_object(client, admin_api, practice):
    response = client.post(URL, data="first_day=2026-12-24", headers=admin_api)
    assert response.status_code == 422 and "body" in response.json["fields"]


def test_documented_fields_match_what_is_answered(client, admin_api, practice):
    made = _add(client, admin_api, practice.theo_id, "2026-12-24").json
    schemas = document()["components"]["schemas"]
    assert set(made) == set(schemas["TimeOff"]["properties"]) == set(
        schemas["TimeOff"]["required"])
    assert set(schemas["TimeOffInput"]["properties"]) == set(made) - {"id"}
    assert set(schemas["TimeOffInput"]["required"]) == {"first_day", "last_day"}
    paths = document()["paths"]
    assert set(paths["/time-off"]) == {"get", "post"}
    assert set(paths["/time-off/{time_off_id}"]) == {"delete"}
