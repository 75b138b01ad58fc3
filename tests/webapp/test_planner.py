"""The planner page (/planner) in Chromium against a real `serve`, on SQLite and PostgreSQL:
records made in the page, in a second tab, through the API and by chat all show up live; inline
edit, complete and delete; the API's validation messages beside their fields; screenshots light
and dark, desktop and phone, each checked with axe (tests/js/webapp/planner.mjs)."""

from __future__ import annotations

import pytest

from tests.webapp.harness import SCREENSHOTS, Server

pytestmark = pytest.mark.slow  # a server process and a browser each


async def test_planner_dashboard_and_live_tables(webapp_server: Server) -> None:
    await webapp_server.run_flow("planner")
    shots = SCREENSHOTS / webapp_server.db
    for name in ("planner-filled-light-desktop", "planner-filled-dark-phone"):
        assert (shots / f"{name}.png").is_file(), name
