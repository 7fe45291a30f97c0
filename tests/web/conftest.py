"""Fixtures for the web tests (defined in web_support.py, shared with the browser tests).

This folder is named like the app's package, and pytest puts tests/ on sys.path, so a bare
``import web`` could find this folder (as a namespace package) before the installed app. The
project root goes first on sys.path so that ``web`` is always the app.
"""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from demo_fixtures import demo_app, demo_served  # noqa: E402, F401  (fixtures are found by name)
from web_support import (  # noqa: E402, F401  (fixtures are found by name)
    admin_api,
    admin_client,
    app,
    both_runtime,
    client,
    practice,
    theo_api,
    theo_client,
    web_runtime,
)
