"""The issue's whole journey through the web app in Chromium, on SQLite and PostgreSQL:
sign-up, a streamed chat answer, history after a reload, a task made by a chat sentence
appearing live in another tab, a booking called by the administrator's queue board ("your
turn" without a reload), an API key shown once (tests/js/webapp/journey.mjs)."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.webapp.conftest import ServeWebapp
from tests.webapp.harness import SCREENSHOTS

pytestmark = pytest.mark.slow  # a server process and a browser

ADMIN_EMAIL = "journey-admin@example.com"


async def test_the_journey_through_every_page(start_webapp: ServeWebapp) -> None:
    # Bookings confirmed at once and check-in open a day ahead: the flow books the next free
    # slot and checks in at any time of day.
    server = await start_webapp(
        RESERVATIONS_AUTO_CONFIRM="true", QUEUE_CHECKIN_EARLY_MINUTES="1440"
    )
    await server.create_admin(ADMIN_EMAIL, PASSWORD)
    await server.run_flow("journey", ADMIN_EMAIL=ADMIN_EMAIL, ADMIN_PASSWORD=PASSWORD)
    shots = sorted(p.name for p in (SCREENSHOTS / server.db).glob("journey-*.png"))
    assert "journey-8-your-turn.png" in shots
    assert "journey-10-key-prefix-only.png" in shots
