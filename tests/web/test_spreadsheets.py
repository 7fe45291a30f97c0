"""Spreadsheets in and out: records imported from CSV (preview, then all rows or none) and
exported in the same columns; a week's plans exported; the pages admin-only.

The import runs every row through the records' one change path, so these tests check what
the file adds (exact records, audit rows, nothing on any problem) on both backends; the
pages' tests check the web's share (upload, confirm, 403, file problems, guarded cells).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select
from web_support import PLAN_DAY, csrf_token, make_practice, post

from scheduler import models
from scheduler.audit import Actor
from scheduler.records import exports, imports
from scheduler.records.sheets import COLUMNS
from scheduler.records.validation import ValidationError

ACTOR = Actor(None, "test")

FACILITIES = (
    "name,kind,address,lat,lon,overhead minutes,hours,parking notes,infection control,notes\r\n"
    "Research Medical Center,hospital,\"2316 E Meyer Blvd, Kansas City, MO\",39.0073,-94.5527,"
    "15,MO 08:00-20:00; WE 09:00-17:30,Lot C,,=1+1\r\n"
    "Villa Ventura,nursing_home,\"12550 Wornall Rd, Kansas City, MO\",,,5,,,,\r\n"
)
CLIENTS = (
    "first_name,last_name,facility,room,active,precaution_flags,precaution_notes,diagnosis,"
    "care_contact,primary_therapist\r\n"
    "Nellie,Bly,Saint Luke's Hospital,4N-2,yes,neutropenic fall_risk,Mask on,,,"
    "theo@example.org\r\n"
    "Ida,Wells,Brookside Nursing Home,12,no,,,,,\r\n"
)
TREATMENTS = (
    "client first name,client last name,client facility,kind,label,facility,rule,first date,"
    "last date,start time,duration minutes,buffer before minutes,buffer after minutes,policy\r\n"
    "Bessie,Coleman,Brookside Nursing Home,dialysis,Chair 4,Saint Luke's Hospital,"
    "\"FREQ=WEEKLY;BYDAY=TU,TH\",2026-03-03,2026-06-30,07:00,240,30,60,avoid\r\n"
)
SERIES = (
    "client first name,client last name,client facility,therapist,required skills,rule,"
    "first date,last date,duration minutes,preferred windows,priority,notes,active\r\n"
    "Bessie,Coleman,Brookside Nursing Home,tess@example.org,,FREQ=WEEKLY;BYDAY=TU,2026-03-03,,"
    "45,\"09:00-11:00, 14:00-16:00\",70,Knock twice,yes\r\n"
    "Amelia,Earhart,Brookside Nursing Home,,oncology,,2026-03-05,,30,,50,,yes\r\n"
)
DURING = (
    "client first name,client last name,client facility,therapist,rule,first date,"
    "duration minutes,during treatment\r\n"
    "Harriet,Quimby,Saint Luke's Hospital,theo@example.org,FREQ=WEEKLY;BYDAY=MO,2026-03-02,30,"
    "Radiation\r\n"
)

# The bad rows: a wrong flag and an unknown facility (clients), a window that ends
# before it starts and a bad rule (series); each file has a good row too, saved neither.
BAD_CLIENTS = (
    "first name,last name,facility,precaution flags\r\n"
    "Good,Row,Saint Luke's Hospital,light_pressure\r\n"
    "Wrong,Flag,Saint Luke's Hospital,neutropenc\r\n"
    "Unknown,Facility,Saint Lukes Hospitl,\r\n"
)
BAD_SERIES = (
    "client first name,client last name,client facility,therapist,rule,first date,"
    "duration minutes,preferred windows\r\n"
    "Bessie,Coleman,Brookside Nursing Home,theo@example.org,FREQ=WEEKLY;BYDAY=FR,2026-03-06,"
    "45,09:00-11:00\r\n"
    "Bessie,Coleman,Brookside Nursing Home,theo@example.org,,2026-03-06,45,11:00-09:00\r\n"
    "Bessie,Coleman,Brookside Nursing Home,theo@example.org,FREQ=FORTNIGHTLY,2026-03-06,45,\r\n"
)


def _counts(session):
    return {model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (models.Facility, models.Client, models.Treatment,
                          models.AppointmentSeries, models.AuditEvent, models.StaleDay)}


def _rows(text):
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize(("kind", "text", "model", "added"), [
    ("facility", FACILITIES, models.Facility, 2),
    ("client", CLIENTS, models.Client, 2),
    ("treatment", TREATMENTS, models.Treatment, 1),
    ("series", SERIES, models.AppointmentSeries, 2),
])
def test_a_good_file_imports_exactly_and_round_trips(both_runtime, kind, text, model, added):
    make_practice(both_runtime)
    with both_runtime.session() as s:
        before = {r.id for r in exports.records_of(s, kind)}
        counts = _counts(s)
        preview = imports.run(s, ACTOR, kind, text, confirm=False)
        assert preview.ok and not preview.saved, preview.problems
        s.commit()
        assert _counts(s) == counts  # the preview wrote nothing, audit rows included
        assert counts[model.__name__] == len(before)
        outcome = imports.run(s, ACTOR, kind, text, confirm=True)
        assert outcome.ok and outcome.saved, outcome.problems
        s.commit()
    with both_runtime.session() as s:
        found = exports.records_of(s, kind)
        new = sorted((r for r in found if r.id not in before), key=lambda r: r.id)
        assert len(new) == added
        created = s.scalars(select(models.AuditEvent).where(
            models.AuditEvent.action == "create", models.AuditEvent.entity == kind)).all()
        assert sorted(e.entity_id for e in created) == sorted(r.id for r in new)
        exported = _rows(exports.export(new, kind))
    # What went in comes out, cell by cell (headers may be written with '_' or ' ').
    given = [{key.replace("_", " "): value for key, value in row.items()} for row in _rows(text)]
    for row_in, row_out in zip(given, exported, strict=True):
        for column, value in row_in.items():
            out = row_out[column].lstrip("'") if value.startswith("=") else row_out[column]
            assert out == value or _same(column, value, out), (column, value, out)


def _same(column, given, exported):
    """Cells the export writes in a normal form: a missing lat as empty, 5 as '5'..."""
    if column in ("lat", "lon"):
        return float(given or "nan") == float(exported or "nan") or given == exported
    return False


def test_imported_records_hold_the_values(both_runtime):
    make_practice(both_runtime)
    with both_runtime.session() as s:
        for kind, text in (("facility", FACILITIES), ("client", CLIENTS), ("series", SERIES)):
            assert imports.run(s, ACTOR, kind, text, confirm=True).saved
        s.commit()
    with both_runtime.session() as s:
        center = s.scalars(select(models.Facility).where(
            models.Facility.name == "Research Medical Center")).one()
        assert [(h.weekday, h.open, h.close) for h in center.hours] == [
            (0, time(8), time(20)), (2, time(9), time(17, 30))]
        assert center.notes == "=1+1" and center.overhead_minutes == 15
        nellie = s.scalars(select(models.Client).where(models.Client.last_name == "Bly")).one()
        assert nellie.precaution_flags == ["neutropenic", "fall_risk"]
        assert nellie.facility.name == "Saint Luke's Hospital" and nellie.active
        assert s.get(models.Therapist, nellie.primary_therapist_id).email == "theo@example.org"
        ida = s.scalars(select(models.Client).where(models.Client.last_name == "Wells")).one()
        assert ida.active is False
        visit = s.scalars(select(models.AppointmentSeries).where(
            models.AppointmentSeries.notes == "Knock twice")).one()
        assert visit.preferred_windows == [["09:00", "11:00"], ["14:00", "16:00"]]
        assert (visit.rule, visit.first_date, visit.priority) == (
            "FREQ=WEEKLY;BYDAY=TU", date(2026, 3, 3), 70)
        once = s.scalars(select(models.AppointmentSeries).where(
            models.AppointmentSeries.first_date == date(2026, 3, 5))).one()
        assert once.rule is None and once.therapist_id is None
        assert once.required_skills == ["oncology"]


@pytest.mark.parametrize(("kind", "text", "expected"), [
    ("client", BAD_CLIENTS, [
        "row 3, column 'precaution flags': unknown precaution flag 'neutropenc'; "
        "did you mean 'neutropenic'?",
        "row 4, column 'facility': no facility is named 'Saint Lukes Hospitl'",
    ]),
    ("series", BAD_SERIES, [
        "row 3, column 'preferred windows': ends (09:00) before it starts (11:00)",
        "row 4, column 'rule': ",
    ]),
])
def test_bad_rows_are_named_by_row_and_column_and_nothing_is_saved(both_runtime, kind, text,
                                                                    expected):
    make_practice(both_runtime)
    with both_runtime.session() as s:
        before = _counts(s)
        outcome = imports.run(s, ACTOR, kind, text, confirm=True)
        s.commit()
        assert not outcome.saved and not outcome.ok
        assert [row.number for row in outcome.rows if row.problems] == [3, 4]
        assert not outcome.rows[0].problems  # the good row is fine, and not saved either
        for message, found in zip(expected, outcome.problems, strict=True):
            assert found.startswith(message), found
    with both_runtime.session() as s:
        assert _counts(s) == before


def test_a_second_import_of_the_same_file_adds_nothing(both_runtime):
    make_practice(both_runtime)
    with both_runtime.session() as s:
        assert imports.run(s, ACTOR, "facility", FACILITIES, confirm=True).saved
        s.commit()
        before = _counts(s)
        again = imports.run(s, ACTOR, "facility", FACILITIES, confirm=True)
        assert not again.saved
        assert again.problems[0] == ("row 2, column 'name': a facility by this name exists "
                                     "already (an import adds records)")
        s.commit()
        assert _counts(s) == before


def test_rows_repeating_each_other_in_one_file_are_refused(sqlite_session):
    twice = "name,kind,address\r\nA,hospital,1 Main St\r\na,hospital,2 Main St\r\n"
    outcome = imports.run(sqlite_session, ACTOR, "facility", twice, confirm=True)
    assert not outcome.saved
    assert [str(p) for r in outcome.rows for p in r.problems] == [
        "row 3, column 'name': a facility by this name exists already (an import adds records)"]


def test_an_imported_series_marks_planned_days_stale(both_runtime, monkeypatch):
    monkeypatch.setattr("scheduler.clock.utcnow", lambda: datetime(2026, 3, 8, 12, tzinfo=UTC))
    make_practice(both_runtime)  # Theo's plan of PLAN_DAY (a Monday)
    monday = (f"client first name,client last name,client facility,therapist,rule,first date,"
              f"duration minutes\r\nBessie,Coleman,Brookside Nursing Home,theo@example.org,"
              f"FREQ=WEEKLY;BYDAY=MO,{PLAN_DAY},30\r\n")
    with both_runtime.session() as s:
        assert imports.run(s, ACTOR, "series", monday, confirm=True).saved
        s.commit()
        days = s.scalars(select(models.StaleDay.day)).all()
        assert PLAN_DAY in days


@pytest.mark.parametrize(("text", "message"), [
    ("", "the file is empty"),
    ("name,kind\r\nA,hospital\r\n", "missing column 'address'"),
    ("name,kind,adress,address\r\n", "unknown column 'adress' (did you mean 'address'?)"),
    ("name,kind,address,name\r\n", "column 'name' is given twice"),
    ("name,kind,address\r\n", "the file has a header row but no records"),
    ("name,kind,address\r\nA,hospital,\x00\r\n", "the file holds NUL characters"),
    ("name,kind,address\r\nA,hospital,1 Main St, Suite 4\r\n",
     "row 2 has more cells than the header has columns (3)"),
    ("name,kind,address\r\nA,hospital,\"1 Main St\r\n",
     "line 2: not readable as CSV (unexpected end of data)"),
    ("name,kind,address\r\n" + "A,hospital,B\r\n" * (imports.MAX_ROWS + 1),
     f"the file has more than {imports.MAX_ROWS} rows"),
])
def test_file_problems_are_named_and_nothing_is_tried(sqlite_session, text, message):
    outcome = imports.run(sqlite_session, ACTOR, "facility", text, confirm=True)
    assert not outcome.saved and not outcome.rows
    assert outcome.file_problems[0].startswith(message), outcome.file_problems


def test_a_file_not_in_utf8_is_named():
    with pytest.raises(ValidationError) as raised:
        imports.decode("name\r\nCaf\xe9\r\n".encode("latin-1"))
    assert "not UTF-8" in raised.value.problems[0].message


def test_every_template_imports_as_the_example_it_shows():
    for kind, columns in COLUMNS.items():
        header, example = _rows_plain(imports.template(kind))
        assert header == [c.name for c in columns]
        assert all(example[i] for i, c in enumerate(columns) if c.required), kind


def _rows_plain(text):
    return list(csv.reader(io.StringIO(text)))


# ---------------------------------------------------------------------------------------------
# The pages


def _upload(client, kind, text, name="records.csv"):
    return post(client, "/import", {"kind": kind, "file": (io.BytesIO(text.encode()), name)},
                page="/import", content_type="multipart/form-data")


def test_preview_then_confirm_imports_every_row(admin_client, web_runtime):
    page = _upload(admin_client, "facility", FACILITIES)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Research Medical Center" in html and "ready" in html
    with web_runtime.session() as s:
        assert s.scalar(select(func.count()).select_from(models.Facility)) == 2
    digest = imports.digest(FACILITIES.replace("\r\n", "\n"))
    assert f'value="{digest}"' in html
    # The browser sends the hidden field's line breaks back as CRLF.
    done = post(admin_client, "/import/confirm",
                {"kind": "facility", "digest": digest, "content": FACILITIES},
                page="/import", content_type="multipart/form-data")
    assert done.status_code == 200, done.get_data(as_text=True)
    assert "Imported 2 facilities" in done.get_data(as_text=True)
    with web_runtime.session() as s:
        assert s.scalar(select(func.count()).select_from(models.Facility)) == 4


def test_confirm_refuses_a_file_other_than_the_one_previewed(admin_client, web_runtime):
    digest = imports.digest(FACILITIES.replace("\r\n", "\n"))
    other = FACILITIES.replace("Villa Ventura", "Villa Other")
    page = post(admin_client, "/import/confirm",
                {"kind": "facility", "digest": digest, "content": other},
                page="/import", content_type="multipart/form-data")
    assert page.status_code == 422
    assert "not the one previewed" in page.get_data(as_text=True)
    with web_runtime.session() as s:
        assert s.scalar(select(func.count()).select_from(models.Facility)) == 2


def test_the_preview_page_names_bad_rows_and_offers_no_confirm(admin_client):
    page = _upload(admin_client, "client", BAD_CLIENTS)
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert "row 3, column &#39;precaution flags&#39;: unknown precaution flag" in html
    assert "row 4, column &#39;facility&#39;: no facility is named" in html
    assert "/import/confirm" not in html


@pytest.mark.parametrize(("body", "message"), [
    ("name\r\nCaf\xe9\r\n".encode("latin-1"), "not UTF-8"),
    (b"", "the file is empty"),
    (b"name,colour\r\n", "unknown column"),
])
def test_file_problems_are_a_page_not_a_500(admin_client, body, message):
    page = post(admin_client, "/import", {"kind": "facility",
                                          "file": (io.BytesIO(body), "f.csv")},
                page="/import", content_type="multipart/form-data")
    assert page.status_code == 422
    assert message in page.get_data(as_text=True)


def test_a_huge_file_is_413(admin_client):
    # The multipart body made here, not by the test client (which would spool it to a
    # temporary file that a refused request never closes).
    token = csrf_token(admin_client, "/import")
    parts = [("csrf_token", token.encode()), ("kind", b"facility")]
    body = b"".join(b"--b\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                    % (name.encode(), value) for name, value in parts)
    body += (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.csv\"\r\n"
             b"Content-Type: text/csv\r\n\r\nname,kind,address\r\n"
             + b"A,hospital,B\r\n" * 100_000 + b"\r\n--b--\r\n")
    page = admin_client.post("/import", data=body,
                             content_type="multipart/form-data; boundary=b")
    assert page.status_code == 413
    assert "larger than" in page.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/import", "/import/clients-template.csv",
                                  "/export/clients.csv", "/export/facilities.csv",
                                  "/export/series.csv", "/export/treatments.csv"])
def test_a_therapist_is_refused(theo_client, path):
    assert theo_client.get(path).status_code == 403


def test_a_therapist_cannot_post_an_import(theo_client, web_runtime):
    page = theo_client.post("/import", data={"kind": "facility"})
    assert page.status_code in (400, 403)  # no CSRF token either way; never saved
    with web_runtime.session() as s:
        assert s.scalar(select(func.count()).select_from(models.Facility)) == 2


def test_templates_download_with_header_and_example(admin_client):
    page = admin_client.get("/import/series-template.csv")
    assert page.status_code == 200 and page.mimetype == "text/csv"
    assert "attachment" in page.headers["Content-Disposition"]
    header, example = _rows_plain(page.get_data(as_text=True))
    assert header[:3] == ["client first name", "client last name", "client facility"]
    assert len(example) == len(header)


def test_exports_guard_cells_against_formulas(admin_client, web_runtime):
    with web_runtime.session() as s:
        home = s.scalars(select(models.Facility).where(
            models.Facility.name == "Brookside Nursing Home")).one()
        home.notes, home.parking_notes = "=HYPERLINK(\"http://x\")", "@SUM(A1)"
        home.address = "+1 Main St"
        s.commit()
    page = admin_client.get("/export/facilities.csv")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    row = next(r for r in _rows(page.get_data(as_text=True))
               if r["name"] == "Brookside Nursing Home")
    assert row["notes"] == "'=HYPERLINK(\"http://x\")"
    assert row["parking notes"] == "'@SUM(A1)" and row["address"] == "'+1 Main St"
    assert row["lon"] == "-94.593"  # a negative number is no formula


def test_a_client_export_is_audited_as_reads(admin_client, web_runtime, practice):
    assert admin_client.get("/export/clients.csv").status_code == 200
    with web_runtime.session() as s:
        read = s.scalars(select(models.AuditEvent.entity_id).where(
            models.AuditEvent.action == "read", models.AuditEvent.entity == "client",
            models.AuditEvent.detail == "export")).all()
    assert sorted(read) == sorted([*practice.theo_clients, practice.tess_client])


def test_plans_export_names_clients_for_an_admin_and_initials_for_a_therapist(
        admin_client, theo_client):
    week = f"/export/plans.csv?week={PLAN_DAY}"
    admin_rows = _rows(admin_client.get(week).get_data(as_text=True))
    theo_rows = _rows(theo_client.get(week).get_data(as_text=True))
    assert [r["client"] for r in admin_rows] == ["Harriet Quimby", "Bessie Coleman"]
    assert [r["client"] for r in theo_rows] == ["HQ", "BC"]
    first = theo_rows[0]
    assert (first["day"], first["therapist"], first["order"], first["facility"],
            first["room"]) == (str(PLAN_DAY), "Theo Therapist", "1", "Saint Luke's Hospital",
                               "5W-12")
    assert first["precaution flags"] == "picc_left_arm fall_risk"


@pytest.mark.parametrize("week", ["2026-02-30", "next", "1999-12-31"])
def test_a_bad_week_is_named(admin_client, week):
    page = admin_client.get(f"/export/plans.csv?week={week}")
    assert page.status_code == 422
    assert "week: " in page.get_data(as_text=True)


def test_a_therapists_plans_export_holds_only_their_own_plans(web_runtime, app, practice):
    from web_support import login
    tess = app.test_client()
    assert login(tess, "tess@example.org").status_code == 302
    page = tess.get(f"/export/plans.csv?week={PLAN_DAY}")
    assert page.status_code == 200
    assert _rows(page.get_data(as_text=True)) == []  # only Theo has a plan that week


@pytest.mark.parametrize(("kind", "text", "expected"), [
    ("facility", "name,kind,address,hours\r\nA,,1 Main St,\r\n",
     "row 2, column 'kind': is required"),
    ("facility", "name,kind,address,hours\r\nA,hospital,1 Main St,Monday 9-5\r\n",
     "row 2, column 'hours': expected a day and hours such as 'MO 09:00-17:00', got 'Monday 9-5'"),
    ("facility", "name,kind,address,hours\r\nA,hospital,1 Main St,XX 09:00-17:00\r\n",
     "row 2, column 'hours': "),
    ("client", "first name,last name,facility,active\r\nA,B,Saint Luke's Hospital,maybe\r\n",
     "row 2, column 'active': expected yes or no, got 'maybe'"),
    ("client", "first name,last name,facility,primary therapist\r\n"
               "A,B,Saint Luke's Hospital,nobody@example.org\r\n",
     "row 2, column 'primary therapist': no therapist has the e-mail 'nobody@example.org'"),
    ("series", "client first name,client last name,client facility,therapist,first date,"
               "duration minutes\r\nNo,Body,Brookside Nursing Home,theo@example.org,2026-03-06,"
               "45\r\n",
     "row 2, column 'client last name': no client is named N. B. at that facility"),
    ("series", "client first name,client last name,client facility,therapist,first date,"
               "duration minutes\r\nBessie,Coleman,Brookside Nursing Home,theo@example.org,"
               "2026-02-30,45\r\n",
     "row 2, column 'first date': "),
    ("treatment", "client first name,client last name,client facility,kind,rule,first date,"
                  "start time,duration minutes,policy\r\nBessie,Coleman,Brookside Nursing Home,"
                  "dialysis,FREQ=WEEKLY,2026-03-02,7am,240,sometimes\r\n",
     "row 2, column 'start time': "),
])
def test_each_bad_cell_is_named_by_row_and_column(web_runtime, kind, text, expected):
    make_practice(web_runtime)
    with web_runtime.session() as s:
        outcome = imports.run(s, ACTOR, kind, text, confirm=True)
        assert not outcome.saved
        assert any(p.startswith(expected) for p in outcome.problems), outcome.problems


def test_a_series_during_a_treatment_names_it_by_kind(both_runtime):
    make_practice(both_runtime)
    with both_runtime.session() as s:
        treatment = s.scalars(select(models.Treatment)).one()
        treatment.policy = models.TreatmentPolicy.DURING
        treatment.duration_minutes = 90
        s.commit()
        outcome = imports.run(s, ACTOR, "series", DURING, confirm=True)
        assert outcome.saved, outcome.problems
        s.commit()
        visit = s.scalars(select(models.AppointmentSeries).where(
            models.AppointmentSeries.during_treatment_id.is_not(None))).one()
        assert visit.during_treatment_id == treatment.id
        assert _rows(exports.export([visit], "series"))[0]["during treatment"] == "radiation"


def test_a_treatment_the_client_does_not_have_is_named(web_runtime):
    make_practice(web_runtime)
    with web_runtime.session() as s:
        outcome = imports.run(s, ACTOR, "series", DURING.replace("Radiation", "Dialysis"),
                              confirm=True)
    assert outcome.problems == [
        "row 2, column 'during treatment': no treatment of the client is of the kind "
        "'Dialysis'"]


def test_an_error_midway_keeps_no_row(both_runtime, monkeypatch):
    make_practice(both_runtime)
    create = imports._CREATE["facility"]
    calls = []

    def failing_second(session, actor, data):
        calls.append(data["name"])
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return create(session, actor, data)

    monkeypatch.setitem(imports._CREATE, "facility", failing_second)
    with both_runtime.session() as s:
        before = _counts(s)
        with pytest.raises(RuntimeError):
            imports.run(s, ACTOR, "facility", FACILITIES, confirm=True)
        s.commit()
        assert _counts(s) == before and len(calls) == 2


@pytest.mark.parametrize("path", ["/import", "/import/confirm"])
def test_an_unknown_kind_is_named(admin_client, path):
    page = post(admin_client, path, {"kind": "patients"}, page="/import",
                content_type="multipart/form-data")
    assert page.status_code == 422
    assert "kind: choose what the file holds" in page.get_data(as_text=True)
