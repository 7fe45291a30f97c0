"""Edits that cannot be lost, in a real browser: the admin and the therapist each open a
client's edit form in their own browser (two Playwright contexts: two cookie jars); the
therapist saves a DVT precaution; the admin saves the form opened before with a new room.
The admin sees the conflict box with the therapist's note and the room they typed, the note
is still saved, the form now holds the note (the admin never touched it) and their room, and
the admin's deliberate second save keeps both. A screenshot of the box
is kept in test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from test_browser import ARTIFACTS, browser  # noqa: F401  (a fixture, found by name)
from web_support import PASSWORD, make_practice, make_runtime, serving

from scheduler import models
from web import create_app

pytestmark = pytest.mark.browser

DVT = "NEW: no pressure on left leg (DVT)"


@pytest.fixture
def served(settings, sqlite_url) -> Iterator[tuple[str, object, object]]:
    """The app on 127.0.0.1 (a free port) in a thread; its base URL, practice and runtime."""
    runtime = make_runtime(replace(settings, web=replace(settings.web, tile_url="")),
                           sqlite_url)
    practice = make_practice(runtime)
    try:
        with serving(create_app(runtime=runtime)) as base:
            yield base, practice, runtime
    finally:
        runtime.close()


def _signed_in(browser, base: str, email: str, errors: list[str]):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return context, page


def test_two_browsers_editing_one_client_lose_nothing(served, browser):  # noqa: F811
    base, practice, runtime = served
    client_id = practice.theo_clients[0]
    edit = f"{base}/clients/{client_id}/edit"
    errors: list[str] = []
    admin_context, admin = _signed_in(browser, base, "ada@example.org", errors)
    theo_context, theo = _signed_in(browser, base, "theo@example.org", errors)
    try:
        admin.goto(edit)  # the admin opens the form ...
        theo.goto(edit)  # ... and so does the therapist
        theo.fill("#f-precaution_notes", DVT)
        theo.click("form.record-form button[type=submit]")
        theo.wait_for_url(f"{base}/clients/{client_id}")
        assert DVT in theo.inner_text("main")

        admin.fill("#f-room", "6E-01")  # only the room, on the form opened before
        admin.click("form.record-form button[type=submit]")
        admin.wait_for_selector(".conflict-box")
        box = admin.inner_text(".conflict-box")
        assert "Someone else saved this record at" in box
        assert "Theo Therapist, therapist" in box and DVT in box
        assert admin.input_value("#f-room") == "6E-01"  # what the admin typed is kept
        ARTIFACTS.mkdir(exist_ok=True)
        admin.screenshot(path=str(ARTIFACTS / "edit-conflict.png"), full_page=True)
        with runtime.session() as s:
            client = s.get(models.Client, client_id)
            assert (client.precaution_notes, client.room) == (DVT, "5W-12")

        # The note the admin never touched holds the therapist's now; saving keeps both.
        assert admin.input_value("#f-precaution_notes") == DVT
        admin.click("form.record-form button[type=submit]")
        admin.wait_for_url(f"{base}/clients/{client_id}")
        with runtime.session() as s:
            client = s.get(models.Client, client_id)
            assert (client.precaution_notes, client.room, client.version) == (DVT, "6E-01", 3)
    finally:
        admin_context.close()
        theo_context.close()
    assert errors == [], errors
