"""The audit trail from the web: list reads name each record shown, refused attempts are
recorded (who, which record, why; never a value) even when the request is rolled back, and
the admin's audit page searches the trail by record, user, action and days."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select
from web_support import PLAN_DAY, api_token, post

from scheduler import audit, audit_chain, models

API = "/api/v1"


def _events(runtime, **where):
    with runtime.session() as s:
        query = select(models.AuditEvent).order_by(models.AuditEvent.id)
        for name, value in where.items():
            query = query.where(getattr(models.AuditEvent, name) == value)
        return s.scalars(query).all()


def _chain_holds(runtime) -> bool:
    with runtime.session() as s:
        return audit_chain.verify(s).ok


def test_an_api_list_read_writes_one_row_per_record_shown(web_runtime, client, admin_api,
                                                           practice):
    listed = client.get(f"{API}/clients?per_page=200", headers=admin_api).json
    shown = sorted(item["id"] for item in listed["items"])
    assert len(shown) == 3
    reads = _events(web_runtime, action="read", entity="client")
    assert [e.entity_id for e in reads] == shown
    assert {(e.actor_id, e.actor_label, e.detail) for e in reads} == {
        (practice.admin_id, "api", "list page 1")}
    assert _events(web_runtime, action="list") == []
    assert _chain_holds(web_runtime)


def test_a_list_page_writes_one_row_per_record_shown(web_runtime, theo_client, practice):
    assert theo_client.get("/clients").status_code == 200
    assert theo_client.get("/series").status_code == 200
    clients = _events(web_runtime, action="read", entity="client", detail="list")
    assert [e.entity_id for e in clients] == sorted(practice.theo_clients)
    series = _events(web_runtime, action="read", entity="series", detail="list")
    assert [e.entity_id for e in series] == sorted(practice.theo_series)


def test_someone_elses_record_is_refused_and_recorded(web_runtime, client, theo_api, practice):
    assert client.get(f"{API}/clients/{practice.tess_client}", headers=theo_api).status_code \
        == 404
    assert client.get(f"{API}/clients/999999", headers=theo_api).status_code == 404
    refused = _events(web_runtime, action="refused")
    assert [(e.actor_id, e.actor_label, e.entity, e.entity_id, e.detail) for e in refused] == [
        (practice.theo_id, "api", "client", practice.tess_client, audit.NOT_YOURS),
        (practice.theo_id, "api", "client", 999999, audit.NOT_FOUND)]


def test_another_therapists_day_and_plan_are_refused_and_recorded(web_runtime, client,
                                                                   theo_client, practice):
    day = PLAN_DAY.isoformat()
    assert theo_client.get(f"/day/{day}?therapist={practice.tess_id}").status_code == 404
    tess_api = {"Authorization": f"Bearer {api_token(web_runtime, practice.tess_id)}"}
    assert client.get(f"{API}/day-plans/{practice.plan_id}", headers=tess_api).status_code \
        == 404
    assert client.post(f"{API}/day-plans", headers=tess_api, json={
        "date": day, "therapist_ids": [practice.theo_id]}).status_code == 404
    refused = _events(web_runtime, action="refused")
    assert [(e.actor_id, e.entity, e.entity_id, e.detail) for e in refused] == [
        (practice.theo_id, "therapist", practice.tess_id, audit.NOT_YOURS),
        (practice.tess_id, "day_plan", practice.plan_id, audit.NOT_YOURS),
        (practice.tess_id, "therapist", practice.theo_id, audit.NOT_YOURS)]


def test_a_refused_change_is_recorded_though_the_request_rolls_back(web_runtime, theo_client,
                                                                    practice):
    answer = post(theo_client, f"/clients/{practice.tess_client}/edit", {"first_name": "X"})
    assert answer.status_code == 404
    refused = _events(web_runtime, action="refused")
    assert [(e.actor_id, e.entity, e.entity_id, e.detail) for e in refused] == [
        (practice.theo_id, "client", practice.tess_client, audit.NOT_YOURS)]
    with web_runtime.session() as s:
        assert s.get(models.Client, practice.tess_client).first_name == "Amelia"
    assert _chain_holds(web_runtime)


def test_admin_only_actions_and_bad_tokens_are_recorded(web_runtime, client, theo_client,
                                                        theo_api, practice):
    assert theo_client.get("/audit").status_code == 403
    assert client.post(f"{API}/clients", headers=theo_api, json={}).status_code == 403
    assert client.get(f"{API}/clients", headers={"Authorization": "Bearer nope"}
                      ).status_code == 401
    assert client.get("/feeds/calendar/" + "n" * 43 + ".ics").status_code == 404
    refused = _events(web_runtime, action="refused")
    assert [(e.actor_id, e.actor_label, e.entity, e.detail) for e in refused] == [
        (practice.theo_id, "web", "audit_log", audit.ADMINS_ONLY),
        (practice.theo_id, "api", "create_client", audit.ADMINS_ONLY),
        (None, "api", "api_token", audit.BAD_TOKEN),
        (None, "anonymous", "calendar_feed", audit.BAD_TOKEN)]
    assert all("nope" not in e.detail and "nnn" not in e.detail for e in refused)


def _ids_on(page) -> list[int]:
    return [int(n) for n in re.findall(r"<tr>\s*<td>(\d+)</td>", page.get_data(as_text=True))]


def _last_id(runtime) -> int:
    events = _events(runtime)
    return events[-1].id if events else 0


def _seed(web_runtime, practice) -> list[int]:
    """Rows on known days (Chicago), by Theo and Tess, on clients and series; their ids."""
    before = _last_id(web_runtime)
    theo, tess = audit.Actor(practice.theo_id, "web"), audit.Actor(practice.tess_id, "web")
    with web_runtime.session() as s:
        for at, actor, action, entity, entity_id in (
            (datetime(2026, 3, 1, 18, tzinfo=UTC), theo, "read", "client", 1),   # Mar 1
            (datetime(2026, 3, 2, 4, tzinfo=UTC), theo, "update", "client", 1),  # Mar 1 local
            (datetime(2026, 3, 2, 18, tzinfo=UTC), tess, "read", "client", 2),   # Mar 2
            (datetime(2026, 3, 3, 18, tzinfo=UTC), tess, "refused", "series", 1),  # Mar 3
        ):
            audit.record(s, actor, action, entity, entity_id, at=at)
    return list(range(before + 1, _last_id(web_runtime) + 1))


def test_the_audit_page_searches_by_record_user_action_and_days(web_runtime, admin_client,
                                                                 practice):
    one, two, three, four = _seed(web_runtime, practice)
    assert _ids_on(admin_client.get("/audit?entity=client&id=1")) == [two, one]
    assert _ids_on(admin_client.get(f"/audit?user={practice.tess_id}")) == [four, three]
    assert _ids_on(admin_client.get("/audit?action=refused")) == [four]
    assert _ids_on(admin_client.get("/audit?from=2026-03-01&to=2026-03-01")) == [two, one]
    assert _ids_on(admin_client.get(
        f"/audit?entity=client&user={practice.tess_id}&from=2026-03-02&to=2026-03-02")) == [
            three]
    page = admin_client.get("/audit?entity=client&id=1").get_data(as_text=True)
    assert "2 rows." in page and "Quimby" not in page and "Harriet" not in page


def test_the_audit_page_pages_and_keeps_the_search(web_runtime, admin_client, practice):
    theo = audit.Actor(practice.theo_id, "web")
    first_id = _last_id(web_runtime) + 1
    with web_runtime.session() as s:
        audit.record_reads(s, theo, "client", range(1, 106))
    first = admin_client.get("/audit?entity=client")
    assert len(_ids_on(first)) == 100
    older = re.search(r'href="([^"]*page=2[^"]*)"', first.get_data(as_text=True))
    assert older and "entity=client" in older.group(1)
    second = admin_client.get(older.group(1).replace("&amp;", "&"))
    assert _ids_on(second) == [first_id + n for n in (4, 3, 2, 1, 0)]


def test_bad_search_fields_are_named_not_a_500(admin_client, practice):
    page = admin_client.get("/audit?from=yesterday&id=-3&action=steal")
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    for field in ("from:", "id:", "action:"):
        assert field in text
    far = admin_client.get("/audit?from=0001-01-01&to=9999-12-31")
    assert far.status_code == 422 and "to: must be from" in far.get_data(as_text=True)
    backwards = admin_client.get("/audit?from=2026-03-05&to=2026-03-01")
    assert backwards.status_code == 422 and "to: must not be before" in backwards.get_data(
        as_text=True)
