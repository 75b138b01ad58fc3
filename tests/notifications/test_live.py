"""A notification reaches the user's live `notifications.list` the moment it is stored, and
nobody else's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

import pytest

from everything_app.reservations.notices import ReminderArgs, send_reminder
from tests.conftest import AppWith, make_admin
from tests.job_context import RecordingJobContext
from tests.notifications.test_notifications import send
from tests.realtime.support import Instance, ids, live, new_user, serve_instance


@pytest.fixture
async def instance(app_with: AppWith) -> AsyncIterator[Instance]:
    async with AsyncExitStack() as stack:
        yield await serve_instance(stack, (await app_with()).app)


async def test_a_notification_is_seen_live_by_its_user_only(instance: Instance) -> None:
    user, other = await new_user(instance), await new_user(instance)
    async with live(instance, user=user) as phone, live(instance, user=other) as bystander:
        first = await phone.subscribe("n", "notifications.list")
        assert first["data"] == {"data": [], "next_cursor": None}
        await phone.subscribe("unread", "notifications.list", unread=True)
        await bystander.subscribe("n", "notifications.list")

        sent = await send(instance.app, user.id, "hello")
        seen = await phone.result("n", lambda d: ids(d) == [str(sent)])
        assert seen["data"]["data"][0]["title"] == "hello"
        await phone.result("unread", lambda d: ids(d) == [str(sent)])

        async with instance.http(**user.bearer) as http:
            assert (await http.post(f"/api/notifications/{sent}/read")).status_code == 200
        await phone.result("unread", lambda d: d["data"] == [])
        read = await phone.result("n", lambda d: d["data"][0]["read_at"] is not None)
        assert ids(read["data"]) == [str(sent)]
        assert await bystander.barrier() == []
        bad = await phone.subscribe("bad", "notifications.list", limit=0)
        assert bad["code"] == "invalid_args"


async def test_a_reminder_arrives_live(instance: Instance) -> None:
    admin, user = await new_user(instance), await new_user(instance)
    await make_admin(instance.app, admin.id)
    every_day = {
        d: [{"open": "00:00", "close": "24:00"}]
        for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    }
    slot = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    async with instance.http(**admin.bearer) as desk, instance.http(**user.bearer) as http:
        service = await desk.post(
            "/api/services",
            json={"name": "Dentist", "duration_minutes": 60, "opening_hours": every_day},
        )
        assert service.status_code == 201, service.text
        booked = await http.post(
            "/api/reservations",
            json={"service_id": service.json()["id"], "time_slot": slot.isoformat()},
        )
        assert booked.status_code == 201, booked.text
        reservation = booked.json()
        confirmed = await desk.patch(
            f"/api/reservations/{reservation['id']}", json={"status": "confirmed"}
        )
        assert confirmed.status_code == 200
        async with live(instance, user=user) as phone:
            await phone.subscribe("n", "notifications.list")
            ctx = RecordingJobContext(instance.app, user_id=user.id)
            done = await send_reminder(
                ctx, ReminderArgs(reservation_id=reservation["id"], start=slot)
            )
            assert done["sent"] is True
            seen = await phone.result("n", lambda d: len(d["data"]) == 1)
            [note] = seen["data"]["data"]
            assert (note["id"], note["kind"]) == (done["notification_id"], "reservation.reminder")
            assert "Dentist" in note["title"]
