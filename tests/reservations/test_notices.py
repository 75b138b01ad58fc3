"""What holders are told: the reminder before a confirmed slot, and the queue's notices.

The handlers run here directly (tests/job_context.py), the way a worker runs them; the jobs
that booking, canceling, moving and the queue enqueue are checked in test_notice_jobs.py,
end to end in test_notices_end_to_end.py. The app's own engine runs the queue's notices here
too, at the same time: a notice sent by both is one notification (its key)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
from fastapi import FastAPI

from everything_app.reservations.notices import (
    YOUR_TURN,
    QueueNoticeArgs,
    ReminderArgs,
    send_queue_notice,
    send_reminder,
)
from tests.conftest import SignedIn
from tests.job_context import RecordingJobContext
from tests.reservations.conftest import Clock, ServiceFactory, at, book, iso, user_id_of


async def _confirmed(
    admin: httpx.AsyncClient, user: httpx.AsyncClient, service: dict[str, Any], slot: datetime
) -> str:
    reservation_id: str = (await book(user, service, slot)).json()["id"]
    confirmed = await admin.patch(
        f"/api/reservations/{reservation_id}", json={"status": "confirmed"}
    )
    assert confirmed.status_code == 200, confirmed.text
    return reservation_id


async def _context(app: FastAPI, user: httpx.AsyncClient, **extra: Any) -> RecordingJobContext:
    return RecordingJobContext(app, user_id=uuid.UUID(await user_id_of(user)), **extra)


async def _remind(ctx: RecordingJobContext, reservation_id: str, start: datetime) -> Any:
    return await send_reminder(
        ctx, ReminderArgs(reservation_id=uuid.UUID(reservation_id), start=start)
    )


async def _notes(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = (await client.get("/api/notifications")).json()["data"]
    return notes


async def test_a_reminder_notifies_once_however_often_it_runs(
    app: FastAPI, admin: httpx.AsyncClient, signed_in: SignedIn, make_service: ServiceFactory
) -> None:
    service = await make_service(name="Haircut")
    user = await signed_in()
    reservation_id = await _confirmed(admin, user, service, at(11))
    ctx = await _context(app, user)
    sent = await _remind(ctx, reservation_id, at(11))
    assert sent["sent"] is True
    redelivered = await _remind(
        await _context(app, user, job_id=ctx.job_id, attempt=2), reservation_id, at(11)
    )
    assert redelivered == sent  # the same notification, not a second one
    [note] = await _notes(user)
    assert note["id"] == sent["notification_id"]
    assert note["kind"] == "reservation.reminder"
    assert "Haircut" in note["title"]
    assert "2030-01-07 11:00 (UTC)" in note["body"]
    assert note["data"] == {
        "reservation_id": reservation_id,
        "service_id": service["id"],
        "time_slot": iso(at(11)),
    }
    assert await _notes(admin) == []


async def test_no_reminder_after_cancellation(
    app: FastAPI, admin: httpx.AsyncClient, signed_in: SignedIn, make_service: ServiceFactory
) -> None:
    service = await make_service()
    user = await signed_in()
    reservation_id = await _confirmed(admin, user, service, at(11))
    canceled = await user.patch(f"/api/reservations/{reservation_id}", json={"status": "canceled"})
    assert canceled.status_code == 200
    # Even if the canceled job ran anyway (it was already handed to a worker): nothing.
    skipped = await _remind(await _context(app, user), reservation_id, at(11))
    assert skipped == {"sent": False, "reason": "reservation_canceled"}
    assert await _notes(user) == []


async def test_no_reminder_for_a_pending_or_vanished_reservation(
    app: FastAPI, signed_in: SignedIn, make_service: ServiceFactory
) -> None:
    service = await make_service()
    user = await signed_in()
    pending = (await book(user, service, at(11))).json()["id"]
    ctx = await _context(app, user)
    assert (await _remind(ctx, pending, at(11)))["reason"] == "reservation_pending"
    assert (await _remind(ctx, str(uuid.uuid4()), at(11)))["reason"] == "reservation_gone"
    assert await _notes(user) == []


async def test_a_moved_reservation_is_reminded_of_its_new_slot_only(
    app: FastAPI, admin: httpx.AsyncClient, signed_in: SignedIn, make_service: ServiceFactory
) -> None:
    service = await make_service()
    user = await signed_in()
    reservation_id = await _confirmed(admin, user, service, at(11))
    moved = await user.patch(f"/api/reservations/{reservation_id}", json={"time_slot": iso(at(14))})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["time_slot"], moved.json()["status"]) == (iso(at(14)), "confirmed")
    ctx = await _context(app, user)
    assert await _remind(ctx, reservation_id, at(11)) == {
        "sent": False,
        "reason": "reservation_moved",
    }
    assert (await _remind(ctx, reservation_id, at(14)))["sent"] is True
    [note] = await _notes(user)
    assert note["data"]["time_slot"] == iso(at(14))


async def test_another_users_reservation_is_never_reminded_to_them(
    app: FastAPI, admin: httpx.AsyncClient, signed_in: SignedIn, make_service: ServiceFactory
) -> None:
    """A job runs for the reservation's holder; one forged for another user finds nothing
    (row-level security on PostgreSQL, the owner check on both)."""
    service = await make_service()
    alice, mallory = await signed_in(), await signed_in()
    reservation_id = await _confirmed(admin, alice, service, at(11))
    forged = await _remind(await _context(app, mallory), reservation_id, at(11))
    assert forged["sent"] is False
    assert await _notes(mallory) == []


async def _queue_of_three(
    admin: httpx.AsyncClient, signed_in: SignedIn, make_service: ServiceFactory, clock: Clock
) -> tuple[dict[str, Any], list[httpx.AsyncClient], list[dict[str, Any]]]:
    service = await make_service(capacity=5)
    users = [await signed_in() for _ in range(3)]
    for user in users:
        await _confirmed(admin, user, service, at(9))
    clock.now = at(9)
    entries = []
    for user in users:
        joined = await user.post(f"/api/queues/{service['id']}/join")
        assert joined.status_code == 201, joined.text
        entries.append(joined.json())
    return service, users, entries


async def test_queue_notices_hold_only_while_true(
    app: FastAPI,
    admin: httpx.AsyncClient,
    signed_in: SignedIn,
    make_service: ServiceFactory,
    clock: Clock,
) -> None:
    service, users, entries = await _queue_of_three(admin, signed_in, make_service, clock)
    first, second, third = users
    url = f"/api/queues/{service['id']}"

    # Nobody is in service yet: "your turn" for the first holds not.
    ctx = await _context(app, first)
    early = await send_queue_notice(
        ctx, QueueNoticeArgs(entry_id=entries[0]["id"], place=YOUR_TURN)
    )
    assert early == {"sent": False, "reason": "entry_waiting"}
    assert (await admin.post(f"{url}/advance")).status_code == 200
    turn = await send_queue_notice(ctx, QueueNoticeArgs(entry_id=entries[0]["id"], place=YOUR_TURN))
    assert turn["sent"] is True
    again = await send_queue_notice(
        ctx, QueueNoticeArgs(entry_id=entries[0]["id"], place=YOUR_TURN)
    )
    assert again == turn
    [note] = await _notes(first)
    assert (note["kind"], note["data"]["position"]) == ("queue.turn", 1)

    # The third is 2nd in line now (the second is next).
    near = await send_queue_notice(
        await _context(app, third), QueueNoticeArgs(entry_id=entries[2]["id"], place=2)
    )
    assert near["sent"] is True
    [note] = await _notes(third)
    assert note["kind"] == "queue.place"
    assert note["data"]["place"] == 2
    assert "2nd in line" in note["body"]

    # Once called, a "nearly there" notice no longer holds.
    await admin.post(f"{url}/advance")
    late = await send_queue_notice(
        await _context(app, second), QueueNoticeArgs(entry_id=entries[1]["id"], place=2)
    )
    assert late == {"sent": False, "reason": "entry_in_service"}
    # And nobody is told about another's entry.
    forged = await send_queue_notice(
        await _context(app, third), QueueNoticeArgs(entry_id=entries[1]["id"], place=YOUR_TURN)
    )
    assert forged == {"sent": False, "reason": "entry_gone"}
    assert [n["kind"] for n in await _notes(third)] == ["queue.place"]
