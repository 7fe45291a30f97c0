"""axe-core, run inside a page that Playwright drives, and its findings in words.

axe-core comes from PyPI: the package ``axe-playwright-python`` (the ``test`` extra) ships
axe's own ``axe.min.js``; it is read from there and evaluated in the page, so no CDN is
involved. ``page.evaluate`` runs as the browser's developer tools do, which the app's
Content-Security-Policy (no inline script) does not block, and nothing in the app changes
for the test.

A finding of impact "serious" or "critical" fails a test; "moderate" and "minor" findings are
listed (:func:`describe`) but allowed.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

BLOCKING = ("serious", "critical")


@cache
def axe_source() -> str:
    return (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")


def axe_version() -> str:
    """The bundled axe-core's version, from the banner at the top of axe.min.js."""
    first = axe_source().splitlines()[0]  # "/*! axe v4.12.1"
    return first.split(" v", 1)[1].strip()


def findings(page: Any) -> list[dict[str, Any]]:
    """Every rule the page as shown now breaks: axe's ``violations``, each with its id,
    impact, help text and the nodes (CSS target, HTML) that break it."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return list(result["violations"])


def blocking(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [finding for finding in found if finding["impact"] in BLOCKING]


def describe(where: str, found: list[dict[str, Any]], *, nodes: int = 6) -> list[str]:
    """One line per finding: where, rule id, impact, what the rule wants, and the CSS
    targets of the elements that break it (the first few), so a failure says what to fix."""
    lines = []
    for finding in found:
        targets = [" ".join(map(str, node["target"])) for node in finding["nodes"]]
        more = f" (+{len(targets) - nodes} more)" if len(targets) > nodes else ""
        lines.append(f"{where}: {finding['id']} [{finding['impact']}] {finding['help']}: "
                     f"{', '.join(targets[:nodes])}{more}")
    return lines
