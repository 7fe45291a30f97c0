"""Infection-control classes where people and programs read them: the client page and API,
each stop of the day page, the order rule at its top, the e-mail and the map's GeoJSON."""

from __future__ import annotations

from web_support import PLAN_DAY, api_token

from scheduler import models
from scheduler.present.itinerary import build_itinerary, render_html, render_text

DAY = PLAN_DAY.isoformat()
API = "/api/v1"


def _flags(web_runtime, practice, protect: list[str], isolation: list[str]) -> None:
    """Theo's first client neutropenic (seen at 10:30), his second on droplet isolation."""
    with web_runtime.session() as s:
        first, second = (s.get(models.Client, i) for i in practice.theo_clients)
        first.precaution_flags = [*first.precaution_flags, *protect]
        second.precaution_flags = isolation


def test_the_client_page_and_api_show_the_class(web_runtime, admin_client, client, practice):
    _flags(web_runtime, practice, ["neutropenic"], ["droplet_isolation"])
    first, second = practice.theo_clients
    page = admin_client.get(f"/clients/{first}").get_data(as_text=True)
    assert "Protect: seen before the others" in page
    page = admin_client.get(f"/clients/{second}").get_data(as_text=True)
    assert "Isolation: seen after the others" in page
    headers = {"Authorization": f"Bearer {api_token(web_runtime, practice.admin_id)}"}
    classes = {c["id"]: c["infection_class"]
               for c in client.get(f"{API}/clients", headers=headers).json["items"]}
    assert classes == {first: "protect", second: "isolation", practice.tess_client: None}


def test_the_day_page_marks_each_stop_and_states_the_order(web_runtime, theo_client, practice):
    _flags(web_runtime, practice, ["neutropenic"], ["droplet_isolation"])
    page = theo_client.get(f"/day/{DAY}").get_data(as_text=True)
    assert "Infection-control order: protect → others → isolation" in page
    first = page.index(f'id="stop-{practice.stop_ids[0]}"')
    second = page.index(f'id="stop-{practice.stop_ids[1]}"')
    assert page.index("Protect: see before the others", first) < second
    assert page.index("Isolation: see after the others", second) > second
    geojson = theo_client.get(f"/feeds/day/{DAY}.geojson").json
    stops = {f["properties"]["stop_id"]: f["properties"]["infection"]
             for f in geojson["features"] if f["properties"]["kind"] == "stop"}
    assert stops == {practice.stop_ids[0]: "protect", practice.stop_ids[1]: "isolation"}


def test_a_day_without_classed_clients_says_nothing_of_the_order(theo_client):
    page = theo_client.get(f"/day/{DAY}").get_data(as_text=True)
    assert "Infection-control order" not in page and "see before the others" not in page


def test_the_email_keeps_the_isolation_type_and_the_order(web_runtime, practice):
    _flags(web_runtime, practice, ["neutropenic"], ["droplet_isolation"])
    with web_runtime.session() as s:
        therapist = s.get(models.Therapist, practice.theo_id)
        plan = s.get(models.DayPlan, practice.plan_id)
        itinerary = build_itinerary(therapist, PLAN_DAY, plan, web_runtime.settings)
        text, html = render_text(itinerary), render_html(itinerary)
    assert "Infection-control order: protect → others → isolation." in text
    assert "Protect: see before the others" in text
    assert "Isolation: see after the others" in text
    assert "Droplet isol. (alert)" in text  # the PPE to bring
    assert "Isolation: see after the others" in html and "Droplet isol." in html
