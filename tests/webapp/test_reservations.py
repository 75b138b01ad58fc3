"""Reservations in Chromium against a real `serve`, on SQLite and PostgreSQL. An administrator
(made by `everything-app create-admin`, as an operator does) creates a service in the admin
UI, one user books its only place, a second is told the slot was just taken, the first checks
in, and the administrator's queue board calls them: "It's your turn" appears in their tab
without a reload (tests/js/webapp/reservations.mjs). And the changes and refusals a person
meets: hours that end before they start, checking in too early, moving and canceling a
booking, deleting a booked service, walk-ins skipped and advanced
(tests/js/webapp/reservations-changes.mjs)."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from tests.conftest import PASSWORD
from tests.webapp.conftest import ServeWebapp
from tests.webapp.harness import SCREENSHOTS, Server

pytestmark = pytest.mark.slow  # a server process and a browser

ADMIN_EMAIL = "front-desk-admin@example.com"
SCREENSHOT_NAMES = (
    "reservations-admin-service-form",
    "reservations-admin-services",
    "reservations-booked",
    "reservations-slot-taken",
    "reservations-checked-in",
    "reservations-admin-queue",
    "reservations-your-turn",
    "reservations-bell-open",
    "reservations-admin-users",
    "reservations-phone-dark",
    "reservations-admin-queue-phone-dark",
)


async def create_admin(server: Server, email: str, password: str) -> None:
    """`everything-app create-admin` on the server's database, the password on stdin."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "everything_app", "create-admin", email, "--name", "Front Desk",
        env=server.env, cwd=server.data_dir.parent,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(f"{password}\n".encode()), 60)
    assert process.returncode == 0, (out + err).decode()


async def test_booking_the_full_slot_and_the_admin_calling_your_turn(
    start_webapp: ServeWebapp,
) -> None:
    # Bookings start confirmed (no admin step before check-in), and check-in opens a day
    # ahead, so the flow can check in to the next free slot at any time of day.
    server = await start_webapp(
        RESERVATIONS_AUTO_CONFIRM="true", QUEUE_CHECKIN_EARLY_MINUTES="1440"
    )
    await create_admin(server, ADMIN_EMAIL, PASSWORD)
    await server.run_flow("reservations", ADMIN_EMAIL=ADMIN_EMAIL, ADMIN_PASSWORD=PASSWORD)
    for name in SCREENSHOT_NAMES:
        assert (SCREENSHOTS / server.db / f"{name}.png").is_file(), name


async def test_moving_canceling_refusals_and_a_queue_of_walk_ins(
    start_webapp: ServeWebapp,
) -> None:
    # The default check-in window (15 minutes before the slot): tomorrow's booking is early.
    server = await start_webapp(RESERVATIONS_AUTO_CONFIRM="true")
    await create_admin(server, ADMIN_EMAIL, PASSWORD)
    await server.run_flow("reservations-changes", ADMIN_EMAIL=ADMIN_EMAIL, ADMIN_PASSWORD=PASSWORD)
    assert (SCREENSHOTS / server.db / "reservations-changes-too-early.png").is_file()
