"""The account, API key and jobs pages in Chromium against a real `serve`, on SQLite and
PostgreSQL (flows in tests/js/webapp: accounts.mjs, jobs.mjs)."""

from __future__ import annotations

import pytest

from tests.webapp.conftest import ServeWebapp
from tests.webapp.harness import SCREENSHOTS, Server

pytestmark = pytest.mark.slow  # a server process and a browser each


async def test_accounts_sign_in_devices_keys_and_password_reset(webapp_server: Server) -> None:
    """Sign-up, a wrong password, devices, an API key shown once, and a reset by the mailed
    link (read from the server's outbox: no SMTP server is set)."""
    output = await webapp_server.run_flow("accounts", OUTBOX=str(webapp_server.data_dir / "outbox"))
    assert "OUTBOX not set" not in output  # the mailed link was followed
    shots = SCREENSHOTS / webapp_server.db
    for name in ("accounts-sign-in-wrong-password", "accounts-key-shown-once", "accounts-keys"):
        assert (shots / f"{name}.png").is_file(), name


async def test_jobs_import_a_csv_and_export_my_data(webapp_server: Server) -> None:
    await webapp_server.run_flow("jobs")
    assert (SCREENSHOTS / webapp_server.db / "jobs-import-done.png").is_file()


async def test_a_queued_job_is_canceled_from_the_list(start_webapp: ServeWebapp) -> None:
    """No job runs on this server (JOBS_IN_SERVE=false, no worker), so the export stays
    queued until the page cancels it: no race with a job that finishes first."""
    server = await start_webapp(JOBS_IN_SERVE="false")
    await server.run_flow("jobs-cancel")


async def test_email_verification_required_through_the_mailed_link(
    start_webapp: ServeWebapp,
) -> None:
    """REQUIRE_EMAIL_VERIFICATION: sign-up says to check the inbox, sign-in is refused in
    words, and the mailed link lands on the app's page, which says the email is verified."""
    server = await start_webapp(REQUIRE_EMAIL_VERIFICATION="true")
    await server.run_flow("accounts-verify", OUTBOX=str(server.data_dir / "outbox"))
