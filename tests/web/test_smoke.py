"""First look: the app builds, the login works, the day page shows the plan."""

from __future__ import annotations

from web_support import PLAN_DAY


def test_day_page_shows_plan(theo_client, practice):
    page = theo_client.get(f"/day/{PLAN_DAY.isoformat()}")
    assert page.status_code == 200, page.get_data(as_text=True)[:2000]
    text = page.get_data(as_text=True)
    assert "Harriet Quimby" in text
    assert "after radiation + 60 min" in text
