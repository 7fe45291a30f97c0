"""The day page's buttons, through the real planner: plan, cancel a visit and re-plan,
mark done, running late, publish."""

from __future__ import annotations

from sqlalchemy import select
from web_support import PLAN_DAY, post

from scheduler import models, planning

DAY = PLAN_DAY.isoformat()


def _plans(runtime, therapist_id):
    with runtime.session() as s:
        return [(p.version, p.status, [st.client_id for st in p.stops], p.unplaced)
                for p in s.scalars(select(models.DayPlan).where(
                    models.DayPlan.therapist_id == therapist_id,
                    models.DayPlan.day == PLAN_DAY).order_by(models.DayPlan.version))]


def test_replan_a_published_day_publishes_the_new_version(web_runtime, theo_client, practice):
    response = post(theo_client, f"/day/{DAY}/plan")
    assert response.status_code == 302
    plans = _plans(web_runtime, practice.theo_id)
    assert [(v, s) for v, s, _, _ in plans] == [
        (1, models.PlanStatus.SUPERSEDED), (2, models.PlanStatus.PUBLISHED)]
    assert sorted(plans[-1][2]) == sorted(practice.theo_clients)
    page = theo_client.get(f"/day/{DAY}").get_data(as_text=True)
    assert "version 2" in page


def test_cancel_then_replan_removes_the_stop(web_runtime, theo_client, practice):
    cancelled = practice.theo_clients[1]
    series_id = practice.theo_series[1]
    post(theo_client, f"/series/{series_id}/occurrences/{DAY}/cancel", {"next": f"/day/{DAY}"})
    post(theo_client, f"/day/{DAY}/plan")
    version, status, clients, _ = _plans(web_runtime, practice.theo_id)[-1]
    assert cancelled not in clients and practice.theo_clients[0] in clients
    page = theo_client.get(f"/day/{DAY}").get_data(as_text=True)
    timeline = page[page.index('<ol class="timeline">'):]
    assert "Bessie Coleman" not in timeline and "Harriet Quimby" in timeline
    changes = page[page.index('id="changes"'):page.index('<ol class="timeline">')]
    assert "Bessie Coleman at 12:50 dropped: no longer on the calendar" in changes


def test_mark_done_and_undo(web_runtime, theo_client, practice):
    stop_id = practice.stop_ids[0]
    assert post(theo_client, f"/stops/{stop_id}/state", {"state": "done"}).status_code == 302
    with web_runtime.session() as s:
        assert s.get(models.PlanStop, stop_id).state == models.StopState.DONE
    page = theo_client.get(f"/day/{DAY}").get_data(as_text=True)
    assert 'class="stop state-done"' in page
    assert post(theo_client, f"/stops/{stop_id}/state", {"state": "bogus"}).status_code == 400
    post(theo_client, f"/stops/{stop_id}/state", {"state": "planned"})
    with web_runtime.session() as s:
        assert s.get(models.PlanStop, stop_id).state == models.StopState.PLANNED


def test_running_late_replans_from_now_keeping_done_stops(monkeypatch, web_runtime,
                                                          theo_client, practice):
    from datetime import UTC, datetime

    now = datetime(2026, 3, 9, 17, 0, tzinfo=UTC)  # 12:00 in Chicago
    monkeypatch.setattr("scheduler.clock.utcnow", lambda: now)
    post(theo_client, f"/stops/{practice.stop_ids[0]}/state", {"state": "done"})
    page = theo_client.get(f"/day/{DAY}").get_data(as_text=True)
    assert "Running late" in page  # offered on today's page only
    response = post(theo_client, f"/day/{DAY}/late", {"lat": "39.0464", "lon": "-94.5934"})
    assert response.status_code == 302
    with web_runtime.session() as s:
        plan = s.scalars(select(models.DayPlan).where(
            models.DayPlan.therapist_id == practice.theo_id).order_by(
            models.DayPlan.version.desc())).first()
        assert plan.status == models.PlanStatus.PUBLISHED and plan.version == 2
        assert plan.replanned_at == now
        done = [st for st in plan.stops if st.state == models.StopState.DONE]
        assert [st.client_id for st in done] == [practice.theo_clients[0]]
        rest = [st for st in plan.stops if st.state != models.StopState.DONE]
        assert rest and all(st.start_at >= now for st in rest)


def test_draft_is_offered_for_publishing(web_runtime, admin_client, practice):
    from scheduler.clock import utcnow

    with web_runtime.session() as s:
        draft = planning.plan_days(s, web_runtime.settings, PLAN_DAY, [practice.theo_id],
                                   publish=False, now=utcnow())[0]
        draft_id = draft.id
    page = admin_client.get(f"/day/{DAY}?therapist={practice.theo_id}").get_data(as_text=True)
    assert "A newer draft (version 2) is waiting" in page
    response = post(admin_client, f"/plans/{draft_id}/publish")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/day/{DAY}?therapist={practice.theo_id}"
    with web_runtime.session() as s:
        assert s.get(models.DayPlan, draft_id).status == models.PlanStatus.PUBLISHED


def test_plan_an_unplanned_day(web_runtime, theo_client, practice):
    response = post(theo_client, "/day/2026-03-11/plan")
    assert response.status_code == 302
    page = theo_client.get("/day/2026-03-11").get_data(as_text=True)
    assert "draft" in page and "Harriet Quimby" in page


def _card(page: str) -> str:
    start = page.index('id="next-stop"')
    return page[start:page.index("</section>", start)]


def _buttons(html: str) -> list[str]:
    import re
    return re.findall(r'name="state" value="(\w+)"><button type="submit"[^>]*>([^<]+)</button>',
                      html)


def test_arrived_then_done_on_the_next_stops_card(monkeypatch, web_runtime, theo_client,
                                                  practice):
    from datetime import UTC, datetime

    arrived = datetime(2026, 3, 9, 15, 2, tzinfo=UTC)  # 10:02 in Chicago, before the 10:30 visit
    monkeypatch.setattr("scheduler.clock.utcnow", lambda: arrived)
    stop_id = practice.stop_ids[0]
    page = theo_client.get(f"/day/{DAY}").get_data(as_text=True)
    assert 'data-stop-number="1"' in _card(page)
    assert [label for _, label in _buttons(_card(page))] == ["Arrived", "Done", "Skipped"]
    row = page[page.index(f'id="stop-{stop_id}"'):]
    assert [label for _, label in _buttons(row)][:3] == ["Arrived", "Done", "Skipped"]

    assert post(theo_client, f"/stops/{stop_id}/state", {"state": "arrived"}).status_code == 302
    with web_runtime.session() as s:
        stop = s.get(models.PlanStop, stop_id)
        assert (stop.state, stop.arrived_at) == (models.StopState.ARRIVED, arrived)
    page = theo_client.get(f"/day/{DAY}").get_data(as_text=True)
    card = _card(page)
    assert 'data-stop-number="1"' in card  # the card stays on the visit under way
    assert "Arrived at <strong>10:02</strong>" in card
    assert [label for _, label in _buttons(card)] == ["Done", "Skipped", "Undo"]
    assert 'class="stop state-arrived"' in page and ">Arrived 10:02</span>" in page
    assert ">arrived<" not in page  # words, not the code

    # Done before the visit's planned start: no question, the therapist is there
    monkeypatch.setattr("scheduler.clock.utcnow", lambda: arrived.replace(minute=25))
    assert post(theo_client, f"/stops/{stop_id}/state", {"state": "done"}).status_code == 302
    page = theo_client.get(f"/day/{DAY}").get_data(as_text=True)
    assert 'data-stop-number="2"' in _card(page)  # now the card moves on
    assert ">Done 10:25 (arrived 10:02)</span>" in page


def test_arrived_is_refused_on_a_visit_already_done_and_undo_goes_back_to_planned(
        web_runtime, theo_client, practice):
    stop_id = practice.stop_ids[0]
    post(theo_client, f"/stops/{stop_id}/state", {"state": "done"})
    page = post(theo_client, f"/stops/{stop_id}/state", {"state": "arrived"},
                follow_redirects=True).get_data(as_text=True)
    assert "The mark was not saved: it was marked done at" in page
    assert "only a visit still planned can be marked arrived" in page
    post(theo_client, f"/stops/{stop_id}/state", {"state": "planned"})
    post(theo_client, f"/stops/{stop_id}/state", {"state": "arrived"})
    post(theo_client, f"/stops/{stop_id}/state", {"state": "planned"})
    with web_runtime.session() as s:
        stop = s.get(models.PlanStop, stop_id)
        assert (stop.state, stop.state_at, stop.arrived_at) == (models.StopState.PLANNED,
                                                                None, None)
