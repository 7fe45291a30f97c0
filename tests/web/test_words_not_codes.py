"""Words, not codes: every page of the demo, as its admin and as a therapist, is read for
internal codes in the visible text: a snake_case word ("dialysis_chairside") or an index
("[0]"). Tags, scripts, styles and attributes are not read; e-mail addresses and URLs are
allowed. Forms are also sent back with mistakes, so the messages beside fields are read.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from demo_fixtures import ADMIN, MONDAY, NOW, THERAPIST
from flask import Flask
from flask.testing import FlaskClient
from web_support import csrf_token, login

from scheduler import models
from scheduler.delivery import itineraries
from scheduler.demo.loader import DEMO_PASSWORD
from scheduler.runtime import Runtime

SNAKE = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\b")
INDEX = re.compile(r"\[\d+\]")
ALLOWED = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\b\w+://\S+")  # e-mail addresses, URLs
SKIPPED = ("/logout", "/static/", "/vendor/", "/feeds/", ".ics", ".geojson")
MAX_PAGES = 600


class _VisibleText(HTMLParser):
    """The text a person sees: data outside <script>, <style> and <template>."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = 0
        self.parts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self.hidden += 1
        if tag == "a":
            self.links.extend(value for name, value in attrs if name == "href" and value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def codes_in(html: str) -> tuple[list[str], list[str]]:
    """The codes in the page's visible text, and the page's links."""
    reader = _VisibleText()
    reader.feed(html)
    text = ALLOWED.sub(" ", " ".join(reader.parts))
    return SNAKE.findall(text) + INDEX.findall(text), reader.links


def test_the_check_finds_codes_and_allows_addresses() -> None:
    found, links = codes_in('<p title="a_b">open visit (dialysis_chairside) <a href="/x_y">'
                            "Preferred times[0]</a> mail a_b@example.org or http://h/a_b</p>"
                            "<script>var x_y = 1;</script>")
    assert found == ["dialysis_chairside", "[0]"]
    assert links == ["/x_y"]



def _in_scope(path: str) -> bool:
    """Pages of this site, and of the demo's week only (day pages link on to every day)."""
    if not path.startswith("/") or path.startswith("//") or any(s in path for s in SKIPPED):
        return False
    day = re.match(r"^/(?:day|week)/(\d{4}-\d{2}-\d{2})", path)
    return day is None or MONDAY <= date.fromisoformat(day.group(1)) < MONDAY + timedelta(7)


def _walk(client: FlaskClient, starts: list[str]) -> dict[str, list[str]]:
    """Every page reachable by links from ``starts``: its codes, by path."""
    seen: set[str] = set()
    queue = list(starts)
    found: dict[str, list[str]] = {}
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        assert response.status_code in (200, 302, 403, 404), (path, response.status_code)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        codes, links = codes_in(response.get_data(as_text=True))
        if codes:
            found[path] = sorted(set(codes))
        for link in links:
            parts = urlsplit(urldefrag(link)[0])
            if parts.netloc in ("", "localhost"):
                target = parts.path + (f"?{parts.query}" if parts.query else "")
                if _in_scope(target) and target not in seen:
                    queue.append(target)
    assert len(seen) > 40, "the walk reached too few pages to mean anything"
    return found


STARTS = ["/", "/week", "/day/2026-12-02", "/day/2026-12-02/print", "/therapists", "/clients",
          "/facilities", "/series", "/closures", "/outbox", "/audit", "/account"]


@pytest.mark.parametrize("email", [ADMIN, THERAPIST])
def test_no_page_of_the_demo_shows_a_code(demo_app: Flask, email: str) -> None:
    client = demo_app.test_client()
    assert login(client, email, DEMO_PASSWORD).status_code == 302
    assert _walk(client, STARTS) == {}


def test_messages_beside_fields_name_them_in_words(demo_app: Flask) -> None:
    """A facility's hours and a series' preferred times, sent back with mistakes."""
    client = demo_app.test_client()
    assert login(client, ADMIN, DEMO_PASSWORD).status_code == 302
    facility = client.get("/facilities").get_data(as_text=True)
    facility_id = re.search(r'href="/facilities/(\d+)"', facility).group(1)
    page = f"/facilities/{facility_id}/edit"
    form = client.get(page).get_data(as_text=True)
    values = dict(re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', form))
    values.update({"csrf_token": csrf_token(client, page), "kind": "hospital",
                   "hours.MO.start": "09:00", "hours.MO.end": "25:00"})
    answer = client.post(page, data=values)
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    codes, _ = codes_in(html)
    assert codes == []
    assert "Visiting hours, Monday" in html and "hours MO" not in html

    series = client.get("/series").get_data(as_text=True)
    series_id = re.search(r'href="/series/(\d+)"', series).group(1)
    page = f"/series/{series_id}/edit"
    form = client.get(page).get_data(as_text=True)
    values = dict(re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', form))
    values.update({"csrf_token": csrf_token(client, page),
                   "preferred_windows": "12:00-09:00"})
    answer = client.post(page, data=values)
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert codes_in(html)[0] == []
    assert "Preferred times, first" in html


def test_the_demo_emails_show_no_code(demo_app: Flask, web_runtime: Runtime) -> None:
    """The morning e-mail of each therapist of the demo, text and HTML."""
    with web_runtime.session() as session:
        therapists = session.query(models.Therapist).filter_by(active=True).all()
        found = {}
        for therapist in therapists:
            message = itineraries.compose_itinerary(session, web_runtime.settings, therapist,
                                                    NOW.date(), NOW)
            text, html = message.get_body(("plain",)), message.get_body(("html",))
            assert text is not None and html is not None
            assert "/day/2026-12-02" in text.get_content()
            plain = ALLOWED.sub(" ", text.get_content())
            codes = SNAKE.findall(plain) + INDEX.findall(plain) + codes_in(html.get_content())[0]
            if codes:
                found[therapist.id] = sorted(set(codes))
    assert len(therapists) > 3 and found == {}
