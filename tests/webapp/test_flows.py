"""The web app in Chromium against a real `serve`, on SQLite and PostgreSQL: one test per
flow of tests/js/webapp (see tests/webapp/harness.py for how to add one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.webapp.conftest import ServeWebapp
from tests.webapp.harness import SCREENSHOTS, Server
from tests.webapp.standin import write_standin_build

pytestmark = pytest.mark.slow  # a server process and a browser each


async def test_smoke(webapp_server: Server) -> None:
    await webapp_server.run_flow("smoke")
    assert (SCREENSHOTS / webapp_server.db / "smoke-home.png").is_file()


async def test_smoke_on_the_standin_build(standin_server: Server, tmp_path: Path) -> None:
    """The harness works whatever the state of web/: the smoke flow on a stand-in build (its
    screenshots kept apart from the real app's)."""
    await standin_server.run_flow("smoke", SCREENSHOT_DIR=str(tmp_path / "shots"))
    assert (tmp_path / "shots" / "smoke-home.png").is_file()


async def test_the_harness_signs_up_checks_a11y_and_sees_csp_violations(
    standin_server: Server, tmp_path: Path
) -> None:
    await standin_server.run_flow("harness", SCREENSHOT_DIR=str(tmp_path / "shots"))


async def test_a_failing_flow_fails_with_its_message_and_a_screenshot(
    start_webapp: ServeWebapp, tmp_path: Path
) -> None:
    build = write_standin_build(tmp_path / "standin-build")
    api_only = await start_webapp(build=build, APP_ENABLED="false")  # `/` is a JSON 404
    with pytest.raises(AssertionError) as failed:
        await api_only.run_flow("smoke", SCREENSHOT_DIR=str(tmp_path / "shots"))
    message = str(failed.value)
    assert f"flow smoke failed (exit 1) on {api_only.db}" in message
    assert "flow smoke: FAILED" in message
    assert "GET /" in message  # the flow's own assertion message
    assert "smoke-failure-0.png" in message
    assert (tmp_path / "shots" / "smoke-failure-0.png").is_file()
    assert "--- server log" in message
