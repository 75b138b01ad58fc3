"""Reminders and queue notices end to end: the write enqueues, the jobs engine (embedded in
the app, as in `serve`) runs the handler, the notification reaches the user's live query."""

from __future__ import annotations

import asyncio
import email
import email.policy
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from everything_app.core.jobs import Job
from everything_app.reservations.deps import notices as notices_dependency
from everything_app.reservations.notices import (
    Notices,
    QueueNoticeArgs,
    ReminderArgs,
    send_queue_notice,
    send_reminder,
)
from tests.conftest import AppWith, Running, make_admin, privileged_db, sign_up
from tests.job_context import RecordingJobContext
from tests.jobs.conftest import FAST, wait_for
from tests.realtime.support import Instance, live, new_user, serve_instance
from tests.reservations.conftest import at, book, fix_clock, promote

pytestmark = pytest.mark.slow  # apps, a real server, jobs that wait for their time

EVERY_DAY = {
    day: [{"open": "00:00", "close": "24:00"}]
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}
DONE = ("succeeded", "failed", "canceled")


async def _jobs(app: FastAPI, kind: str) -> list[Job]:
    async with privileged_db(app) as db:
        query = select(Job).where(Job.kind == kind).order_by(Job.created_at)
        return list((await db.execute(query)).scalars())


async def _all_done(app: FastAPI, kind: str) -> list[Job]:
    async def check() -> list[Job] | None:
        jobs = await _jobs(app, kind)
        return jobs if jobs and all(str(j.status) in DONE for j in jobs) else None

    found: list[Job] = await wait_for(check, what=f"every {kind} job finished")
    return found


async def _kinds(client: httpx.AsyncClient) -> list[str]:
    notes = (await client.get("/api/notifications")).json()["data"]
    return sorted(n["kind"] for n in notes)


@pytest.fixture
async def instance(app_with: AppWith) -> AsyncIterator[Instance]:
    async with AsyncExitStack() as stack:
        yield await serve_instance(stack, (await app_with(**FAST)).app)


async def test_a_reminder_runs_on_time_and_a_canceled_one_never(instance: Instance) -> None:
    admin, alice, bob = await new_user(instance), await new_user(instance), await new_user(instance)
    await make_admin(instance.app, admin.id)
    async with (
        instance.http(**admin.bearer) as desk,
        instance.http(**alice.bearer) as alices,
        instance.http(**bob.bearer) as bobs,
        live(instance, user=alice) as phone,
    ):
        service = await desk.post(
            "/api/services",
            json={
                "name": "Dentist",
                "duration_minutes": 1,
                "capacity": 2,
                "opening_hours": EVERY_DAY,
            },
        )
        assert service.status_code == 201, service.text
        slot = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=3)
        held = []
        for client in (alices, bobs):
            booked = await book(client, service.json(), slot)
            assert booked.status_code == 201, booked.text
            held.append(booked.json()["id"])
        await phone.subscribe("n", "notifications.list")
        # Reminders due two seconds from now (as if RESERVATION_REMINDER_BEFORE said so).
        before = slot - datetime.now(UTC) - timedelta(seconds=2)
        instance.app.dependency_overrides[notices_dependency] = lambda: Notices(before, 2)
        for reservation_id in held:
            confirmed = await desk.patch(
                f"/api/reservations/{reservation_id}", json={"status": "confirmed"}
            )
            assert confirmed.status_code == 200, confirmed.text
        canceled = await bobs.patch(f"/api/reservations/{held[1]}", json={"status": "canceled"})
        assert canceled.status_code == 200

        seen = await phone.result("n", lambda d: len(d["data"]) == 1)
        [note] = seen["data"]["data"]
        assert note["kind"] == "reservation.reminder"
        assert note["data"]["reservation_id"] == held[0]
        jobs = await _all_done(instance.app, "reservations.remind")
        outcome = {j.args["reservation_id"]: (str(j.status), j.result) for j in jobs}
        assert outcome[held[0]] == ("succeeded", {"sent": True, "notification_id": note["id"]})
        assert outcome[held[1]][0] == "canceled"
        assert (await bobs.get("/api/notifications")).json()["data"] == []
        # Redelivered, the job sends nothing new; run for the canceled one, nothing at all.
        again = await send_reminder(
            RecordingJobContext(instance.app, user_id=alice.id, attempt=2),
            ReminderArgs(reservation_id=uuid.UUID(held[0]), start=slot),
        )
        assert again == {"sent": True, "notification_id": note["id"]}
        late = await send_reminder(
            RecordingJobContext(instance.app, user_id=bob.id),
            ReminderArgs(reservation_id=uuid.UUID(held[1]), start=slot),
        )
        assert late == {"sent": False, "reason": "reservation_canceled"}
        assert len((await alices.get("/api/notifications")).json()["data"]) == 1
        # The reminder is mailed too, once (redelivery included), to Alice only: with no
        # SMTP_URL the message lands in DATA_DIR's outbox.
        [mail] = await _all_done(instance.app, "mail.send")
        assert (str(mail.status), mail.user_id) == ("succeeded", alice.id)
        assert mail.args == {}  # mail's arguments are secret (links): emptied once sent
        outbox = instance.app.state.settings.data_dir / "outbox"
        [message] = [
            email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in outbox.glob("*.eml")
        ]
        assert message["To"] == alice.email
        assert message["Subject"] == note["title"]
        body = message.get_body(("plain",))
        assert body is not None
        assert note["body"] in body.get_content()


async def _queue(running: Running, size: int) -> tuple[str, list[httpx.AsyncClient]]:
    admin = running.client()
    await sign_up(admin)
    await promote(running.app, admin)
    service = (
        await admin.post(
            "/api/services", json={"name": "Desk", "duration_minutes": 60, "capacity": size}
        )
    ).json()
    users = []
    for _ in range(size):
        user = running.client()
        await sign_up(user)
        reservation = (await book(user, service, at(9))).json()
        confirmed = await admin.patch(
            f"/api/reservations/{reservation['id']}", json={"status": "confirmed"}
        )
        assert confirmed.status_code == 200
        users.append(user)
    return service["id"], users


async def test_queue_notices_arrive_once_each(app_with: AppWith) -> None:
    running = await app_with(**FAST)
    clock = fix_clock(running.app)
    service_id, users = await _queue(running, 5)
    clock.now = at(9)
    entries = []
    for user in users:
        joined = await user.post(f"/api/queues/{service_id}/join")
        assert joined.status_code == 201, joined.text
        entries.append(joined.json())
    desk, other_desk = running.client(), running.client()
    for client in (desk, other_desk):
        await sign_up(client)
        await promote(running.app, client)
    url = f"/api/queues/{service_id}/advance"

    assert (await desk.post(url)).status_code == 200  # 1st called; the 3rd is now 2nd in line
    await _all_done(running.app, "reservations.queue_notice")
    assert [await _kinds(u) for u in users] == [
        ["queue.turn"],
        [],
        ["queue.place"],
        [],
        [],
    ]
    # Two admins at once: the 2nd, then the 3rd called; the 4th and the 5th each 2nd in line.
    answers = await asyncio.gather(desk.post(url), other_desk.post(url))
    assert [a.status_code for a in answers] == [200, 200]
    jobs = await _all_done(running.app, "reservations.queue_notice")
    kinds = [await _kinds(u) for u in users]
    assert kinds[0] == ["queue.turn"]
    # The 2nd's turn may be over before its notice runs: then it says nothing (not "your
    # turn" to someone already served).
    assert kinds[1] in (["queue.turn"], [])
    assert kinds[2:] == [["queue.place", "queue.turn"], ["queue.place"], ["queue.place"]]
    assert all(str(j.status) == "succeeded" for j in jobs)

    # Every notice delivered again (a worker died after sending): nothing new.
    for job in jobs:
        owner = next(e for e in entries if e["id"] == job.args["entry_id"])
        ctx = RecordingJobContext(running.app, user_id=uuid.UUID(owner["user_id"]), attempt=2)
        await send_queue_notice(ctx, QueueNoticeArgs.model_validate(job.args))
    assert [await _kinds(u) for u in users] == kinds
