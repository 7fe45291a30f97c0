"""A write to a versioned record that meets a save committed between its read and its write
answers 409 and saves nothing; it never becomes a 500.

The records' edit forms and API compare versions themselves (test_record_versions.py,
test_edit_conflict_pages.py). This is the net under every other write to such a row, here
the therapist's own calendar address made while an admin saves the same therapist.
PostgreSQL only: on SQLite every write transaction holds the write lock from its first read
(BEGIN IMMEDIATE), so the admin's save waits for the request and the race cannot happen.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from web_support import login, make_practice, post

from scheduler import models
from web import create_app
from web.pages import account


@pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)
def test_a_calendar_address_made_while_an_admin_saves_the_therapist_is_refused(
        both_runtime, monkeypatch):
    practice = make_practice(both_runtime)
    app = create_app(runtime=both_runtime, test_config={"TESTING": True})
    client = app.test_client()
    assert login(client, "theo@example.org").status_code == 302
    real_token = account.secrets.token_urlsafe
    saved_meanwhile = []

    def admin_saves_meanwhile(nbytes: int) -> str:
        # the request has read Theo's row; the admin's save commits before its write
        with both_runtime.engine.begin() as connection:
            connection.execute(text("UPDATE therapists SET version = version + 1, "
                                    "name = 'Theo Renamed' WHERE id = :id"),
                               {"id": practice.theo_id})
        saved_meanwhile.append(True)
        return real_token(nbytes)

    monkeypatch.setattr(account.secrets, "token_urlsafe", admin_saves_meanwhile)
    answer = post(client, "/account/calendar", {"action": "renew"})

    assert saved_meanwhile, "the race was not staged: the view no longer makes a token here"
    assert answer.status_code == 409
    assert "Someone else saved this record" in answer.get_data(as_text=True)
    with both_runtime.session() as s:
        theo = s.get(models.Therapist, practice.theo_id)
        assert (theo.version, theo.name, theo.calendar_token) == (2, "Theo Renamed", None)
    assert client.get("/account").status_code == 200  # the session goes on
