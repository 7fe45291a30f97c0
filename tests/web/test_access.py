"""Roles and ownership: an admin sees the practice; a therapist sees their own clients and
days, and other people's record ids answer 404 exactly as ids that do not exist."""

from __future__ import annotations

import pytest
from web_support import PLAN_DAY, post

DAY = PLAN_DAY.isoformat()


def _others(practice):
    """Pages about records that are Tess's, not Theo's."""
    return [
        f"/clients/{practice.tess_client}",
        f"/clients/{practice.tess_client}/edit",
        f"/clients/{practice.tess_client}/treatments/new",
        f"/series/{practice.tess_series}",
        f"/series/{practice.tess_series}/occurrences/{DAY}/move",
        f"/therapists/{practice.tess_id}",
        f"/day/{DAY}?therapist={practice.tess_id}",
        f"/day/{DAY}/print?therapist={practice.tess_id}",
        f"/feeds/day/{DAY}.geojson?therapist={practice.tess_id}",
    ]


def test_others_records_are_not_found_for_a_therapist(theo_client, practice):
    for path in _others(practice):
        assert theo_client.get(path).status_code == 404, path


def test_others_records_are_found_for_the_admin(admin_client, practice):
    for path in _others(practice):
        response = admin_client.get(path)
        expected = 404 if path.endswith(f".geojson?therapist={practice.tess_id}") else 200
        assert response.status_code == expected, path  # Tess has no plan: no GeoJSON


def test_a_therapist_sees_own_clients_only(theo_client, practice):
    text = theo_client.get("/clients").get_data(as_text=True)
    assert "Quimby" in text and "Coleman" in text and "Earhart" not in text
    text = theo_client.get("/series").get_data(as_text=True)
    assert "Earhart" not in text


def test_a_therapist_cannot_change_others_records(theo_client, practice):
    treatment_id = practice.treatment_id  # Harriet's: Theo's client
    refused = [
        (f"/clients/{practice.tess_client}/edit", {"first_name": "X"}),
        (f"/series/{practice.tess_series}/occurrences/{DAY}/cancel", {}),
        ("/stops/999999/state", {"state": "done"}),
    ]
    for path, data in refused:
        assert post(theo_client, path, data).status_code == 404, path
    assert theo_client.get(f"/treatments/{treatment_id}/edit").status_code == 200


@pytest.mark.parametrize("path", ["/therapists", "/therapists/new", "/outbox", "/audit",
                                  "/facilities/new", "/clients/new", "/series/new"])
def test_admin_pages_are_forbidden_to_therapists(theo_client, practice, path):
    assert theo_client.get(path).status_code == 403


@pytest.mark.parametrize("path", ["/therapists", "/therapists/new", "/outbox", "/audit",
                                  "/facilities/new", "/clients/new", "/series/new"])
def test_admin_pages_open_for_the_admin(admin_client, practice, path):
    assert admin_client.get(path).status_code == 200


def test_admin_only_actions_are_refused_to_therapists(theo_client, practice):
    for path in (f"/facilities/{practice.hospital_id}/edit",
                 f"/facilities/{practice.hospital_id}/delete",
                 f"/facilities/{practice.hospital_id}/geocode",
                 f"/clients/{practice.theo_clients[0]}/delete",
                 f"/series/{practice.theo_series[0]}/edit",
                 f"/series/{practice.theo_series[0]}/delete",
                 f"/treatments/{practice.treatment_id}/delete",
                 f"/therapists/{practice.theo_id}/edit"):
        assert post(theo_client, path, {}).status_code == 403, path


def test_a_therapist_may_see_their_own_account_page(theo_client, practice):
    assert theo_client.get(f"/therapists/{practice.theo_id}").status_code == 200


def test_every_form_refuses_a_post_without_csrf_token(theo_client, admin_client, practice):
    for client, path in [
        (theo_client, "/logout"),
        (theo_client, f"/day/{DAY}/plan"),
        (theo_client, f"/stops/{practice.stop_ids[0]}/state"),
        (theo_client, f"/series/{practice.theo_series[0]}/occurrences/{DAY}/cancel"),
        (theo_client, "/account/calendar"),
        (theo_client, "/account/tokens"),
        (theo_client, "/password"),
        (admin_client, "/facilities/new"),
        (admin_client, f"/clients/{practice.theo_clients[0]}/edit"),
        (admin_client, "/therapists/new"),
        (admin_client, "/series/new"),
    ]:
        response = client.post(path, data={"state": "done"})
        assert response.status_code == 400, path
        assert "Form expired" in response.get_data(as_text=True), path


def test_a_wrong_csrf_token_is_refused(theo_client, practice):
    response = theo_client.post("/account/calendar", data={"csrf_token": "forged"})
    assert response.status_code == 400
