"""Every page renders; forms keep what was typed and show errors beside the fields; changes
made through pages are saved and audited."""

from __future__ import annotations

import re

from sqlalchemy import select
from web_support import PLAN_DAY, post

from scheduler import models
from scheduler.travel.geocoding import GeocodedPlace

DAY = PLAN_DAY.isoformat()


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_every_page_renders_for_the_admin(admin_client, practice):
    paths = [
        "/", f"/day/{DAY}?therapist={practice.theo_id}",
        f"/day/{DAY}/print?therapist={practice.theo_id}", "/week", f"/week/{DAY}",
        "/facilities", f"/facilities/{practice.hospital_id}", "/facilities/new",
        f"/facilities/{practice.hospital_id}/edit",
        "/clients", "/clients?all=1", f"/clients/{practice.tess_client}", "/clients/new",
        f"/clients/{practice.tess_client}/edit",
        f"/clients/{practice.theo_clients[0]}/treatments/new",
        f"/treatments/{practice.treatment_id}/edit",
        "/series", f"/series/{practice.tess_series}", "/series/new",
        f"/series/new?client={practice.tess_client}", f"/series/{practice.tess_series}/edit",
        f"/series/{practice.tess_series}/occurrences/{DAY}/move",
        "/therapists", f"/therapists/{practice.tess_id}", "/therapists/new",
        f"/therapists/{practice.tess_id}/edit", "/account", "/password", "/outbox", "/audit",
        "/audit?entity=client",
    ]
    for path in paths:
        response = admin_client.get(path)
        assert response.status_code == 200, (path, _text(response)[:500])
        assert "<h1" in _text(response), path


def test_day_page_shows_route_timeline_flags_and_left_out(theo_client, practice):
    text = _text(theo_client.get(f"/day/{DAY}"))
    # Timeline in order, with leave-by, arrival, visit times (local, CDT) and drive minutes.
    first, second = text.index("Harriet Quimby"), text.index("Bessie Coleman")
    assert first < second
    assert "Leave by <strong class=\"leave-by\">09:50</strong> · drive 10 min" in text
    assert "arrive 10:00" in text and "10:30–11:30" in text
    assert "Break 12:00–12:30" in text
    assert "home by 14:20" in text
    # Room, precautions (labels from scheduler.precautions, alerts marked), facility notes.
    assert "5W-12" in text
    assert 'class="flag alert">PICC line — left arm' in text
    assert "Tires quickly" in text
    assert "Garage B, level 2" in text and "Gown in 5W" in text
    assert "after radiation + 60 min" in text
    # Navigation links per drive: from where the device is (no origin) to the street address,
    # the entrance note beside them; the map's data, the left-out visit.
    assert ("https://www.google.com/maps/dir/?api=1&amp;destination=4401+Wornall+Rd%2C+Kansas"
            "+City%2C+MO&amp;travelmode=driving") in text
    assert "https://maps.apple.com/?daddr=6300+Main+St" in text
    assert 'href="geo:0,0?q=4401%20Wornall%20Rd%2C%20Kansas%20City%2C%20MO"' in text
    assert "origin=" not in text and "saddr=" not in text
    assert '<span class="entrance">(Garage B, level 2)</span>' in text
    assert 'id="route-data"' in text and '"number": 2' in text.replace('"number":2', '"number": 2')
    assert "Amelia Earhart" in text and "no time left in the shift" in text
    # Leaflet comes from this server.
    assert "/vendor/leaflet/leaflet.js" in text and "unpkg" not in text and "cdn" not in text


def test_day_page_navigation_and_empty_day(theo_client, practice):
    text = _text(theo_client.get(f"/day/{DAY}"))
    assert 'href="/day/2026-03-08"' in text and 'href="/day/2026-03-10"' in text
    empty = _text(theo_client.get("/day/2026-03-10"))
    assert "No plan for this day yet" in empty
    assert _text(theo_client.get("/day/2026-03-14")).count("does not work on Saturdays") == 1
    assert theo_client.get("/day/not-a-date").status_code == 404


def test_print_view(theo_client, practice):
    text = _text(theo_client.get(f"/day/{DAY}/print"))
    assert 'class="print-table"' in text and "Harriet Quimby" in text
    assert 'data-action="print"' in text


def test_week_counts_and_warnings(theo_client, practice):
    text = _text(theo_client.get(f"/week/{DAY}"))
    assert "2 visits" in text and "31 min driving" in text
    assert "1 visit left out" in text


def test_week_shows_the_plan_of_record_and_counts_an_open_visit_left_out_once(
        web_runtime, admin_client, practice):
    """A newer draft does not hide the published plan; an open visit nobody could take is in
    every eligible therapist's plan, but is one visit: counted once, below the therapists."""
    with web_runtime.session() as s:
        published = s.get(models.DayPlan, practice.plan_id)
        open_entry = {"series_id": 999, "date": DAY, "original_date": DAY, "client_id": 1,
                      "open": True, "reason": "the day is full"}
        published.unplaced = [*published.unplaced, open_entry]
        s.add(models.DayPlan(therapist_id=practice.theo_id, day=PLAN_DAY, version=2,
                             status=models.PlanStatus.DRAFT, created_at=published.created_at,
                             total_drive_minutes=99.0, total_drive_km=50.0, unplaced=[]))
        s.add(models.DayPlan(therapist_id=practice.tess_id, day=PLAN_DAY, version=1,
                             status=models.PlanStatus.DRAFT, created_at=published.created_at,
                             total_drive_minutes=0.0, total_drive_km=0.0,
                             unplaced=[open_entry]))
        s.commit()
    text = _text(admin_client.get(f"/week/{DAY}"))
    assert "31 min driving" in text and "99 min driving" not in text  # the published one
    assert "1 visit left out" in text and "2 visits left out" not in text  # Theo's own only
    assert text.count("1 open visit nobody could take") == 1


def test_week_marks_time_off_and_closures(web_runtime, admin_client, practice):
    from datetime import timedelta
    with web_runtime.session() as s:
        s.add(models.TimeOff(therapist_id=practice.theo_id, first_day=PLAN_DAY + timedelta(1),
                             last_day=PLAN_DAY + timedelta(2), reason="Conference"))
        s.add(models.TimeOff(therapist_id=None, first_day=PLAN_DAY + timedelta(3),
                             last_day=PLAN_DAY + timedelta(3), reason="Staff day"))
        s.commit()
    text = _text(admin_client.get(f"/week/{DAY}"))
    assert text.count("Theo is off: Conference") == 2  # Tuesday and Wednesday
    assert text.count("practice closed: Staff day") == 3  # Thursday, for each therapist


def test_reading_a_client_is_audited(web_runtime, theo_client, practice):
    theo_client.get(f"/clients/{practice.theo_clients[0]}")
    theo_client.get(f"/day/{DAY}")
    with web_runtime.session() as s:
        reads = s.scalars(select(models.AuditEvent).where(
            models.AuditEvent.action == "read", models.AuditEvent.entity == "client")).all()
    seen = [(e.entity_id, e.actor_id) for e in reads]
    assert (practice.theo_clients[0], practice.theo_id) in seen
    assert (practice.theo_clients[1], practice.theo_id) in seen  # on the day page
    assert all("Quimby" not in e.detail for e in reads)


def test_facility_form_keeps_input_and_shows_errors_beside_fields(admin_client, practice):
    response = post(admin_client, "/facilities/new", {
        "name": "Truman Medical Center", "kind": "hospital", "address": "",
        "lat": "39.08", "lon": "", "overhead_minutes": "ten",
        "hours.MO.start": "18:00", "hours.MO.end": "08:00", "parking_notes": "Lot C"},
        page="/facilities/new")
    assert response.status_code == 422
    text = _text(response)
    assert 'value="Truman Medical Center"' in text and ">Lot C</textarea>" in text
    assert 'value="18:00"' in text
    for field in ("address", "lat", "overhead_minutes", "hours-MO"):
        assert f'id="{field}-errors"' in text, field
    assert 'aria-invalid="true"' in text and 'class="error-summary"' in text


def test_facility_created_through_the_form(web_runtime, admin_client, practice):
    response = post(admin_client, "/facilities/new", {
        "name": "Truman Medical Center", "kind": "hospital",
        "address": "2301 Holmes St, Kansas City, MO", "lat": "39.0847", "lon": "-94.5760",
        "overhead_minutes": "12", "hours.MO.start": "08:00", "hours.MO.end": "18:00"},
        page="/facilities/new")
    assert response.status_code == 302
    with web_runtime.session() as s:
        facility = s.scalar(select(models.Facility).where(
            models.Facility.name == "Truman Medical Center"))
        assert facility.overhead_minutes == 12 and len(facility.hours) == 1
        assert facility.coordinate_source == models.CoordinateSource.MANUAL


def test_geocode_button_uses_the_geocoder(app, web_runtime, admin_client, practice):
    class FakeGeocoder:
        def __init__(self):
            self.asked = []

        def lookup(self, address):
            self.asked.append(address)
            return GeocodedPlace(39.1, -94.6, "somewhere")

    fake = FakeGeocoder()
    app.extensions["rounds_geocoder"] = fake
    response = post(admin_client, f"/facilities/{practice.home_id}/geocode")
    assert response.status_code == 302
    assert fake.asked == ["6300 Main St, Kansas City, MO"]
    with web_runtime.session() as s:
        home = s.get(models.Facility, practice.home_id)
        assert (home.lat, home.lon, home.coordinate_source) == (
            39.1, -94.6, models.CoordinateSource.GEOCODED)
        assert home.version == 2  # an edit form opened before cannot put the old ones back


def test_therapist_edits_own_clients_room_and_precautions(web_runtime, theo_client, practice):
    client_id = practice.theo_clients[1]
    form = _text(theo_client.get(f"/clients/{client_id}/edit"))
    facility = re.search(r'<option value="(\d+)" selected>', form).group(1)
    response = post(theo_client, f"/clients/{client_id}/edit", {
        "first_name": "Bessie", "last_name": "Coleman", "facility_id": facility,
        "room": "120", "active": "1", "precaution_flags": ["fall_risk", "oxygen"]})
    assert response.status_code == 302
    with web_runtime.session() as s:
        client = s.get(models.Client, client_id)
        assert client.room == "120" and client.precaution_flags == ["fall_risk", "oxygen"]


def test_client_form_refuses_unknown_flag_and_missing_name(theo_client, practice):
    client_id = practice.theo_clients[1]
    response = post(theo_client, f"/clients/{client_id}/edit", {
        "first_name": "", "last_name": "Coleman", "facility_id": str(practice.home_id),
        "precaution_flags": ["not_a_flag"]})
    assert response.status_code == 422
    text = _text(response)
    assert 'id="first_name-errors"' in text and 'id="precaution_flags-errors"' in text


def test_series_created_with_the_recurrence_editor(web_runtime, admin_client, practice):
    response = post(admin_client, "/series/new", {
        "client_id": str(practice.tess_client), "therapist_id": str(practice.tess_id),
        "rule_mode": "weekly", "rule_days": ["TU", "TH"], "rule_interval": "2",
        "rule_end": "count", "rule_count": "6", "first_date": "2026-03-03",
        "duration_minutes": "45", "priority": "70", "preferred_windows": "09:00-12:00",
        "active": "1"}, page="/series/new")
    assert response.status_code == 302, _text(response)[:3000]
    with web_runtime.session() as s:
        series = s.scalars(select(models.AppointmentSeries).order_by(
            models.AppointmentSeries.id.desc())).first()
        assert series.rule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;COUNT=6"
        assert series.preferred_windows == [["09:00", "12:00"]]
    edit = _text(admin_client.get(f"/series/{series.id}/edit"))
    assert 'value="TU" checked' in edit and 'value="count" checked' in edit


def test_series_form_errors_for_a_bad_rule(admin_client, practice):
    response = post(admin_client, "/series/new", {
        "client_id": str(practice.tess_client), "therapist_id": str(practice.tess_id),
        "rule_mode": "custom", "rule_text": "FREQ=FORTNIGHTLY", "first_date": "2026-03-03",
        "duration_minutes": "45"}, page="/series/new")
    assert response.status_code == 422
    text = _text(response)
    assert 'id="rule-errors"' in text and 'value="FREQ=FORTNIGHTLY"' in text


def test_cancel_an_occurrence_from_the_day_page_and_restore_it(web_runtime, theo_client,
                                                               practice):
    series_id = practice.theo_series[1]
    response = post(theo_client, f"/series/{series_id}/occurrences/{DAY}/cancel",
                    {"next": f"/day/{DAY}"})
    assert response.status_code == 302 and response.headers["Location"] == f"/day/{DAY}"
    with web_runtime.session() as s:
        exception = s.scalar(select(models.SeriesException).where(
            models.SeriesException.series_id == series_id))
        assert exception.action == models.ExceptionAction.CANCEL
        assert exception.original_date == PLAN_DAY
    page = _text(theo_client.get(f"/series/{series_id}?from=2026-03-02"))
    assert "cancelled" in page
    assert post(theo_client, f"/exceptions/{exception.id}/delete").status_code == 302
    with web_runtime.session() as s:
        assert s.get(models.SeriesException, exception.id) is None


def test_move_an_occurrence(web_runtime, theo_client, practice):
    series_id = practice.theo_series[0]
    bad = post(theo_client, f"/series/{series_id}/occurrences/{DAY}/move",
               {"new_date": "", "new_start_time": ""})
    assert bad.status_code == 422 and 'class="error-summary"' in _text(bad)
    good = post(theo_client, f"/series/{series_id}/occurrences/{DAY}/move",
                {"new_date": "2026-03-10", "new_start_time": "14:00"})
    assert good.status_code == 302
    with web_runtime.session() as s:
        exception = s.scalar(select(models.SeriesException).where(
            models.SeriesException.series_id == series_id))
        assert str(exception.new_date) == "2026-03-10"


def test_therapist_form_never_echoes_the_password(admin_client, practice):
    response = post(admin_client, "/therapists/new", {
        "name": "", "email": "new@example.org", "password": "a secret password",
        "home_lat": "39", "home_lon": "-94.5"}, page="/therapists/new")
    assert response.status_code == 422
    text = _text(response)
    assert "a secret password" not in text and 'value="new@example.org"' in text


def test_calendar_feed_address_and_api_tokens_on_the_account_page(web_runtime, theo_client,
                                                                   practice):
    post(theo_client, "/account/calendar", {"action": "renew"})
    text = _text(theo_client.get("/account"))
    assert "/feeds/calendar/" in text
    created = post(theo_client, "/account/tokens", {"name": "script"})
    assert created.status_code == 200  # shown in the answer to the POST itself
    secret = re.search(r'value="(rnd_[^"]+)"', _text(created)).group(1)
    assert "rnd_" not in _text(theo_client.get("/account"))  # shown once only
    assert theo_client.get("/api/v1/clients",
                           headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    with web_runtime.session() as s:
        token_id = s.scalar(select(models.AuditEvent.entity_id).where(
            models.AuditEvent.entity == "api_token"))
    post(theo_client, f"/account/tokens/{token_id}/revoke")
    assert theo_client.get("/api/v1/clients",
                           headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_outbox_lists_messages(web_runtime, admin_client, practice):
    from scheduler.clock import utcnow

    with web_runtime.session() as s:
        s.add(models.OutboxMessage(therapist_id=practice.theo_id, day=PLAN_DAY,
                                   kind="itinerary", state=models.OutboxState.FAILED,
                                   attempts=3, subject="Your day: 2 visits",
                                   last_error="550 mailbox unavailable",
                                   created_at=utcnow(), updated_at=utcnow()))
    text = _text(admin_client.get("/outbox"))
    assert "Theo Therapist" in text and "550 mailbox unavailable" in text and "failed" in text
