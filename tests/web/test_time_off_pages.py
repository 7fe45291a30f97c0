"""Time off in the browser: add and remove on the therapist's page, errors beside the field,
the closures page for admins, who may touch whose, CSRF, and the day page on a day off."""

from __future__ import annotations

import re

from sqlalchemy import select
from web_support import PLAN_DAY, post

from scheduler import models

DAY = PLAN_DAY.isoformat()  # Monday 2026-03-09


def _entries(runtime, therapist_id=-1):
    with runtime.session() as s:
        query = select(models.TimeOff).order_by(models.TimeOff.id)
        rows = s.scalars(query).all()
        return [(r.therapist_id, r.first_day.isoformat(), r.last_day.isoformat(), r.reason)
                for r in rows if therapist_id == -1 or r.therapist_id == therapist_id]


def _add(client, therapist_id, first, last, reason="Vacation"):
    return post(client, f"/therapists/{therapist_id}/time-off",
                {"first_day": first, "last_day": last, "reason": reason})


def test_a_therapist_adds_and_removes_their_own_time_off(theo_client, practice, web_runtime):
    response = _add(theo_client, practice.theo_id, "2026-12-24", "2026-12-26")
    assert response.status_code == 302 and response.location.endswith("#time-off")
    assert _entries(web_runtime) == [(practice.theo_id, "2026-12-24", "2026-12-26", "Vacation")]
    page = theo_client.get(f"/therapists/{practice.theo_id}").get_data(as_text=True)
    assert "Time off" in page and "Vacation" in page
    (entry_id,) = re.findall(r'/time-off/(\d+)/delete', page)
    assert post(theo_client, f"/time-off/{entry_id}/delete").status_code == 302
    assert _entries(web_runtime) == []


def test_a_rejected_form_keeps_what_was_typed_and_says_why_beside_the_field(
    theo_client, practice, web_runtime
):
    response = _add(theo_client, practice.theo_id, "2026-12-26", "2026-12-24", "Conference")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    field = page[page.index('id="f-last_day"'):]
    field = field[:field.index("</div>")]
    assert 'value="2026-12-24"' in field and 'aria-invalid="true"' in field
    assert "is before the first day (2026-12-26)" in field
    assert 'value="Conference"' in page and 'value="2026-12-26"' in page
    assert _entries(web_runtime) == []


def test_a_therapist_cannot_touch_anothers_time_off_or_the_closures(
    theo_client, admin_client, practice, web_runtime
):
    assert _add(theo_client, practice.tess_id, "2026-12-24", "2026-12-24").status_code == 404
    assert _add(admin_client, practice.tess_id, "2026-12-24", "2026-12-24").status_code == 302
    post(admin_client, "/closures", {"first_day": "2026-11-26", "last_day": "2026-11-26",
                                     "reason": "Thanksgiving"})
    with web_runtime.session() as s:
        ids = dict(s.execute(select(models.TimeOff.therapist_id, models.TimeOff.id)).all())
    assert post(theo_client, f"/time-off/{ids[practice.tess_id]}/delete").status_code == 404
    assert post(theo_client, f"/time-off/{ids[None]}/delete").status_code == 404
    assert theo_client.get("/closures").status_code == 403
    assert len(_entries(web_runtime)) == 2
    assert theo_client.get(f"/therapists/{practice.tess_id}").status_code == 404


def test_the_admin_manages_closures(admin_client, practice, web_runtime):
    assert "Practice closures" in admin_client.get("/therapists").get_data(as_text=True)
    bad = post(admin_client, "/closures", {"first_day": "2026-11-26", "last_day": "2027-12-31",
                                           "reason": "Holidays"})
    assert bad.status_code == 422 and "at most 366" in bad.get_data(as_text=True)
    ok = post(admin_client, "/closures", {"first_day": "2026-11-26", "last_day": "2026-11-26",
                                          "reason": "Thanksgiving"})
    assert ok.status_code == 302
    assert _entries(web_runtime) == [(None, "2026-11-26", "2026-11-26", "Thanksgiving")]
    page = admin_client.get("/closures").get_data(as_text=True)
    assert "Thanksgiving" in page
    (entry_id,) = re.findall(r'/time-off/(\d+)/delete', page)
    assert post(admin_client, f"/time-off/{entry_id}/delete").status_code == 302
    assert _entries(web_runtime) == []


def test_time_off_forms_refuse_a_post_without_csrf_token(theo_client, admin_client, practice,
                                                        web_runtime):
    data = {"first_day": "2026-12-24", "last_day": "2026-12-24"}
    assert theo_client.post(f"/therapists/{practice.theo_id}/time-off",
                            data=data).status_code == 400
    assert admin_client.post("/closures", data=data).status_code == 400
    _add(theo_client, practice.theo_id, "2026-12-24", "2026-12-24")
    with web_runtime.session() as s:
        entry_id = s.scalars(select(models.TimeOff.id)).one()
    assert theo_client.post(f"/time-off/{entry_id}/delete").status_code == 400
    assert len(_entries(web_runtime)) == 1


def test_the_day_page_of_a_day_off_says_so(theo_client, admin_client, practice):
    next_day = "2026-03-10"
    _add(theo_client, practice.theo_id, next_day, "2026-03-11", "Vacation")
    page = theo_client.get(f"/day/{next_day}").get_data(as_text=True)
    assert "You're off: Vacation (Mar 10–Mar 11)" in page.replace("&#39;", "'")
    assert "Nothing to plan on a day off" in page
    other = admin_client.get(f"/day/{next_day}?therapist={practice.theo_id}")
    assert "Theo is off: Vacation (Mar 10–Mar 11)" in other.get_data(as_text=True)
    assert "off:" not in theo_client.get(f"/day/{DAY}").get_data(as_text=True)
    post(admin_client, "/closures", {"first_day": DAY, "last_day": DAY, "reason": "Storm"})
    closed = theo_client.get(f"/day/{DAY}").get_data(as_text=True)
    assert "The practice is closed: Storm" in closed
