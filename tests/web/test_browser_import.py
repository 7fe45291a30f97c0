"""A spreadsheet imported in a real browser: the admin opens the import from the facilities
list, uploads a file, sees the preview, confirms, and the facilities are there, with a cell
that holds a line break, quotes and a comma kept exactly (the confirm step re-posts the file
in a hidden field, which Chromium sends back with CRLF line breaks). A screenshot of the
preview is kept in test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select
from test_browser import ARTIFACTS, browser  # noqa: F401  (a fixture, found by name)
from web_support import PASSWORD, make_practice, make_runtime, serving

from scheduler import models
from web import create_app

pytestmark = pytest.mark.browser

NOTES = 'Ring "B" at the side door,\nthen wait'
FILE = ("name,kind,address,notes\r\n"
        "Research Medical Center,hospital,\"2316 E Meyer Blvd, Kansas City\","
        "\"Ring \"\"B\"\" at the side door,\nthen wait\"\r\n"
        "Villa Ventura,nursing_home,12550 Wornall Rd,\r\n")


@pytest.fixture
def served(settings, sqlite_url) -> Iterator[tuple[str, object]]:
    """The app on 127.0.0.1 (a free port) in a thread; its base URL and runtime."""
    runtime = make_runtime(replace(settings, web=replace(settings.web, tile_url="")),
                           sqlite_url)
    make_practice(runtime)
    try:
        with serving(create_app(runtime=runtime)) as base:
            yield base, runtime
    finally:
        runtime.close()


def test_preview_and_confirm_in_the_browser(served, browser):  # noqa: F811
    base, runtime = served
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/login")
    page.fill("#email", "ada@example.org")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/facilities")
    page.click("text=Import from a spreadsheet")
    page.wait_for_url(f"{base}/import?kind=facility")
    page.set_input_files("#file", files=[{"name": "facilities.csv", "mimeType": "text/csv",
                                          "buffer": FILE.encode()}])
    page.click("button:has-text('Preview')")
    page.wait_for_selector("#preview-head")
    assert "2 rows of facilities" in page.inner_text("#preview-head")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "import-preview.png"), full_page=True)
    with runtime.session() as s:
        assert len(s.scalars(select(models.Facility)).all()) == 2  # the preview saved nothing

    page.click("button:has-text('Import all 2 rows')")
    page.wait_for_selector(".flash.success")
    assert "Imported 2 facilities" in page.inner_text(".flash.success")
    with runtime.session() as s:
        center = s.scalars(select(models.Facility).where(
            models.Facility.name == "Research Medical Center")).one()
        assert center.notes == NOTES
        assert center.address == "2316 E Meyer Blvd, Kansas City"
        assert len(s.scalars(select(models.Facility)).all()) == 4
