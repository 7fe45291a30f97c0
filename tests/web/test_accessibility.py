"""Accessibility of every kind of page, checked by axe-core in a real headless Chromium.

The demo week is served (:func:`demo_fixtures.demo_served`) and each kind of page is opened
as a person would see it: the sign-in page and the sign-in code page, then, as the demo's
admin, one page of each kind reachable by links from the main pages (the day, the week, the
lists, every record page and its edit form, import, outbox, audit, account...), found by
walking the links as :mod:`test_words_not_codes` does; then pages only a form leads to (a
rejected form, the import preview, "mark done?", setting up two-factor sign-in, not found).
The busiest day of the demo is checked on a phone (390×844) and a desktop as its therapist.

No finding of impact "serious" or "critical" is allowed. A failure lists every such finding
with the page, the rule id, its impact and the CSS targets of the elements at fault. The
"moderate" and "minor" findings are listed too, in test-artifacts/axe-<test name>.txt.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urldefrag, urlsplit

import pyotp
import pytest
from axe_check import axe_version, blocking, describe, findings
from demo_fixtures import ADMIN, NOW, busiest_day
from flask import Flask
from sqlalchemy import select
from test_browser import ARTIFACTS, browser  # noqa: F401  (a fixture, found by name)
from test_words_not_codes import SKIPPED, STARTS, codes_in
from web_support import DESKTOP, PHONE, login

from scheduler import models
from scheduler.demo.loader import DEMO_PASSWORD

pytestmark = pytest.mark.browser



def page_kind(path: str) -> str:
    """A path with its ids and dates made general, and its query's names without values:
    /clients/19/edit and /clients/7/edit are one kind, /clients/N/edit."""
    parts = urlsplit(path)
    general = re.sub(r"(?<=/)\d+(?=/|$)", "N", parts.path)
    general = re.sub(r"\d{4}-\d{2}-\d{2}", "D", general)
    names = sorted({pair.split("=", 1)[0] for pair in parts.query.split("&") if pair})
    return general + ("?" + "&".join(names) if names else "")


def _in_scope(path: str) -> bool:
    return (path.startswith("/") and not path.startswith("//")
            and not any(skipped in path for skipped in SKIPPED))


def pages_of_each_kind(app: Flask, email: str) -> list[str]:
    """One path of each kind reachable by links from the main pages, as ``email`` sees them
    (read through Flask's test client: quick, and the same database as the browser's)."""
    client = app.test_client()
    assert login(client, email, DEMO_PASSWORD).status_code == 302
    queued = {page_kind(path) for path in STARTS}
    queue, found = list(STARTS), []
    while queue:
        path = queue.pop(0)
        response = client.get(path)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        found.append(path)
        for link in codes_in(response.get_data(as_text=True))[1]:
            parts = urlsplit(urldefrag(link)[0])
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if parts.netloc == "" and _in_scope(target) and page_kind(target) not in queued:
                queued.add(page_kind(target))
                queue.append(target)
    return found


class Report:
    """The findings of every page checked: serious and critical ones fail the test."""

    def __init__(self) -> None:
        self.failing: list[str] = []
        self.allowed: list[str] = []
        self.pages = 0

    def check(self, page, where: str) -> None:  # noqa: ANN001 - a Playwright page
        found = findings(page)
        self.pages += 1
        self.failing += describe(where, blocking(found))
        self.allowed += describe(where, [f for f in found if f not in blocking(found)])

    def write(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        with (ARTIFACTS / f"axe-{name}.txt").open("w", encoding="utf-8") as out:
            out.write(f"# {name}: axe-core {axe_version()}, {self.pages} pages, "
                      f"{len(self.failing)} serious or critical, {len(self.allowed)} other\n")
            out.writelines(line + "\n" for line in self.failing + self.allowed)

    def assert_clean(self) -> None:
        assert self.failing == [], (f"{len(self.failing)} serious or critical accessibility "
                                    "findings:\n" + "\n".join(self.failing))


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Iterator[Report]:
    found = Report()
    yield found
    found.write(request.node.name)


def _open(page, url: str) -> None:  # noqa: ANN001 - a Playwright page
    page.goto(url)
    if page.locator("#map").count():
        page.wait_for_selector("#map[data-map-ready]")


def _sign_in(page, base: str, email: str) -> None:  # noqa: ANN001
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: not url.endswith("/login"))


def test_sign_in_pages(demo_served, browser, report: Report) -> None:  # noqa: F811
    base, _, runtime = demo_served
    with runtime.session() as session:
        therapist = session.scalars(select(models.Therapist).where(
            models.Therapist.email != ADMIN, models.Therapist.active)).first()
        therapist.totp_secret, therapist.totp_enabled = pyotp.random_base32(), True
        email = therapist.email
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{base}/login")
    report.check(page, "sign-in")
    page.fill("#email", email)
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    page.wait_for_selector("#login-error")
    report.check(page, "sign-in, refused")
    _sign_in(page, base, email)
    page.wait_for_url(f"{base}/login/code")
    report.check(page, "sign-in code")
    report.assert_clean()


def test_every_kind_of_page_as_the_admin(demo_served, browser, report: Report) -> None:  # noqa: F811
    base, app, _ = demo_served
    paths = pages_of_each_kind(app, ADMIN)
    assert len(paths) > 30, paths
    page = browser.new_page(viewport=DESKTOP)
    page.on("dialog", lambda dialog: dialog.accept())
    _sign_in(page, base, ADMIN)
    for path in paths:
        _open(page, base + path)
        report.check(page, path)

    # Pages only a form leads to.
    client_edit = next(path for path in paths if page_kind(path) == "/clients/N/edit")
    _open(page, base + client_edit)
    page.fill("#f-first_name", "")
    page.click("button:has-text('Save')")
    page.wait_for_selector(".error-summary")
    report.check(page, f"{client_edit}, rejected")

    _open(page, f"{base}/import?kind=facility")
    page.set_input_files("#file", files=[{
        "name": "facilities.csv", "mimeType": "text/csv",
        "buffer": b"name,kind,address\nNew Place,hospital,1 Main St\nBad,castle,\n"}])
    page.click("button:has-text('Preview')")
    page.wait_for_selector("#preview-head")
    report.check(page, "/import, preview")

    _open(page, f"{base}/account")
    page.click("button:has-text('Set up two-factor sign-in')")
    page.wait_for_selector("#totp-secret")
    report.check(page, "/account/two-factor")

    page.goto(f"{base}/clients/999999")
    report.check(page, "not found")
    assert report.pages > 30
    report.assert_clean()


def test_the_busiest_day_on_a_phone_and_a_desktop(demo_served, browser,  # noqa: F811
                                                 report: Report) -> None:
    base, _, runtime = demo_served
    email, day = busiest_day(runtime)
    assert day > NOW.date(), "the busiest day should lie ahead, for the 'Mark done?' page"
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = browser.new_page(viewport=viewport)
        _sign_in(page, base, email)
        _open(page, f"{base}/day/{day.isoformat()}")
        report.check(page, f"/day/{day.isoformat()} ({name})")
        page.locator("details.stop-row").first.evaluate("row => { row.open = true; }")
        page.locator("header.site details.menu").evaluate("menu => { menu.open = true; }")
        report.check(page, f"/day/{day.isoformat()} ({name}, the menu and a row open)")
        _open(page, f"{base}/week")
        report.check(page, f"/week ({name})")
        # "Mark done?": Done on a visit whose start is still ahead asks first.
        _open(page, f"{base}/day/{day.isoformat()}")
        page.locator("#next-stop").get_by_role("button", name="Done", exact=True).click()
        page.wait_for_selector("#confirm-done")
        report.check(page, f"mark done? ({name})")
        page.close()
    report.assert_clean()
