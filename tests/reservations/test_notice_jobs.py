"""The jobs behind reminders and queue notices: enqueued (and canceled) with the writes that
cause them, keyed so that each happens once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from everything_app.core.jobs import Job
from tests.conftest import AppWith, SignedIn, privileged_db, sign_up
from tests.reservations.conftest import (
    Clock,
    ServiceFactory,
    at,
    book,
    fix_clock,
    iso,
    promote,
    user_id_of,
)


async def _jobs(app: FastAPI, kind: str | None = None) -> list[Job]:
    async with privileged_db(app) as db:
        query = select(Job).order_by(Job.created_at, Job.key)
        if kind is not None:
            query = query.where(Job.kind == kind)
        return list((await db.execute(query)).scalars())


def _summary(jobs: list[Job]) -> list[tuple[str, str, Any]]:
    return [(job.key or "", str(job.status), job.run_at) for job in jobs]


async def _confirm(admin: httpx.AsyncClient, reservation_id: str) -> None:
    confirmed = await admin.patch(
        f"/api/reservations/{reservation_id}", json={"status": "confirmed"}
    )
    assert confirmed.status_code == 200, confirmed.text


async def test_confirming_enqueues_the_reminder_due_before_the_slot(
    app: FastAPI,
    admin: httpx.AsyncClient,
    signed_in: SignedIn,
    make_service: ServiceFactory,
    clock: Clock,
) -> None:
    service = await make_service()
    user = await signed_in()
    reservation = (await book(user, service, at(11))).json()
    assert await _jobs(app) == []  # pending: no reminder yet
    await _confirm(admin, reservation["id"])
    [job] = await _jobs(app)
    assert job.kind == "reservations.remind"
    assert (job.key or "").startswith(f"reservation:{reservation['id']}:remind:{iso(at(11))}@")
    assert job.run_at == at(10)  # RESERVATION_REMINDER_BEFORE: an hour by default
    assert str(job.status) == "queued"
    assert job.user_id == uuid.UUID(await user_id_of(user))  # it acts for the holder
    assert job.args["reservation_id"] == reservation["id"]

    # A slot whose reminder time has passed (09:00 - 1 h = now) gets none.
    soon = (await book(user, service, at(9))).json()
    await _confirm(admin, soon["id"])
    assert len(await _jobs(app)) == 1


async def test_canceling_cancels_the_reminder(
    app: FastAPI,
    admin: httpx.AsyncClient,
    signed_in: SignedIn,
    make_service: ServiceFactory,
    clock: Clock,
) -> None:
    service = await make_service()
    user = await signed_in()
    reservation = (await book(user, service, at(11))).json()
    await _confirm(admin, reservation["id"])
    canceled = await user.patch(
        f"/api/reservations/{reservation['id']}", json={"status": "canceled"}
    )
    assert canceled.status_code == 200
    [job] = await _jobs(app)
    assert str(job.status) == "canceled"


async def test_moving_cancels_the_old_reminder_and_enqueues_a_new_one(
    app: FastAPI,
    admin: httpx.AsyncClient,
    signed_in: SignedIn,
    make_service: ServiceFactory,
    clock: Clock,
) -> None:
    service = await make_service()
    user = await signed_in()
    reservation = (await book(user, service, at(11))).json()
    await _confirm(admin, reservation["id"])
    moved = await user.patch(
        f"/api/reservations/{reservation['id']}", json={"time_slot": iso(at(14))}
    )
    assert moved.status_code == 200, moved.text
    prefix = f"reservation:{reservation['id']}:remind:"
    summary = _summary(await _jobs(app))
    assert [(key.rpartition("@")[0], status, run_at) for key, status, run_at in summary] == [
        (prefix + iso(at(11)), "canceled", at(10)),
        (prefix + iso(at(14)), "queued", at(13)),
    ]
    # And back: a reminder again for 11:00 (a new job; the canceled one stays canceled).
    back = await user.patch(
        f"/api/reservations/{reservation['id']}", json={"time_slot": iso(at(11))}
    )
    assert back.status_code == 200
    summary = _summary(await _jobs(app))
    assert [(status, run_at) for _, status, run_at in summary] == [
        ("canceled", at(10)),
        ("canceled", at(13)),
        ("queued", at(10)),
    ]


@pytest.mark.parametrize(("before", "expected"), [("0", None), ("30m", at(10, 30))])
async def test_reminders_can_be_turned_off_or_given_another_lead(
    app_with: AppWith, before: str, expected: datetime | None
) -> None:
    running = await app_with(reservation_reminder_before=before, reservations_auto_confirm=True)
    fix_clock(running.app)
    admin, user = running.client(), running.client()
    for client in (admin, user):
        await sign_up(client)
    await promote(running.app, admin)
    service = await admin.post("/api/services", json={"name": "x", "duration_minutes": 60})
    booked = await book(user, service.json(), at(11))
    assert booked.status_code == 201, booked.text
    assert booked.json()["status"] == "confirmed"  # booked confirmed: reminded at once
    found = [job.run_at for job in await _jobs(running.app, "reservations.remind")]
    assert found == ([] if expected is None else [expected])


async def _queue(
    admin: httpx.AsyncClient,
    signed_in: SignedIn,
    make_service: ServiceFactory,
    clock: Clock,
    size: int,
) -> tuple[str, list[dict[str, Any]]]:
    service = await make_service(capacity=size)
    entries = []
    users = [await signed_in() for _ in range(size)]
    for user in users:
        reservation = (await book(user, service, at(9))).json()
        await _confirm(admin, reservation["id"])
    clock.now = at(9)
    for user in users:
        joined = await user.post(f"/api/queues/{service['id']}/join")
        assert joined.status_code == 201, joined.text
        entries.append(joined.json())
    return service["id"], entries


def _notice_key(entry: dict[str, Any], what: str) -> str:
    return f"reservation:{entry['reservation_id']}:queue:{entry['id']}:{what}"


async def test_advance_enqueues_your_turn_and_the_nth_place(
    app: FastAPI,
    admin: httpx.AsyncClient,
    signed_in: SignedIn,
    make_service: ServiceFactory,
    clock: Clock,
) -> None:
    service_id, entries = await _queue(admin, signed_in, make_service, clock, 4)
    assert await _jobs(app, "reservations.queue_notice") == []  # joining tells nobody
    assert (await admin.post(f"/api/queues/{service_id}/advance")).status_code == 200
    # The first is called; the third is now 2 places from the front (the second is next).
    keys = {job.key for job in await _jobs(app, "reservations.queue_notice")}
    assert keys == {_notice_key(entries[0], "turn"), _notice_key(entries[2], "place:2")}
    assert (await admin.post(f"/api/queues/{service_id}/skip")).status_code == 200
    keys = {job.key for job in await _jobs(app, "reservations.queue_notice")}
    assert keys == {
        _notice_key(entries[0], "turn"),
        _notice_key(entries[2], "place:2"),
        _notice_key(entries[1], "turn"),
        _notice_key(entries[3], "place:2"),
    }
    for job in await _jobs(app, "reservations.queue_notice"):
        owner = next(e["user_id"] for e in entries if e["id"] in (job.key or ""))
        assert job.user_id == uuid.UUID(owner)


async def test_two_admins_clicking_at_once_notify_each_place_once(
    app: FastAPI,
    admin: httpx.AsyncClient,
    signed_in: SignedIn,
    make_service: ServiceFactory,
    clock: Clock,
) -> None:
    service_id, entries = await _queue(admin, signed_in, make_service, clock, 5)
    other_admin = await signed_in()
    await promote(app, other_admin)
    url = f"/api/queues/{service_id}/advance"
    answers = await asyncio.gather(admin.post(url), other_admin.post(url))
    assert sorted(a.status_code for a in answers) == [200, 200]
    keys = [job.key for job in await _jobs(app, "reservations.queue_notice")]
    assert len(keys) == len(set(keys))
    # Two advances, in some order: the first two called, the third and fourth each 2nd once.
    assert set(keys) == {
        _notice_key(entries[0], "turn"),
        _notice_key(entries[1], "turn"),
        _notice_key(entries[2], "place:2"),
        _notice_key(entries[3], "place:2"),
    }


async def test_walk_ins_and_position_zero_tell_nobody(app_with: AppWith) -> None:
    running = await app_with(reservation_notify_position=0)
    fix_clock(running.app)
    admin = running.client()
    await sign_up(admin)
    await promote(running.app, admin)
    service = (await admin.post("/api/services", json={"name": "x", "duration_minutes": 60})).json()
    for label in ("a", "b", "c"):
        await admin.post(f"/api/queues/{service['id']}/join", json={"label": label})
    await admin.post(f"/api/queues/{service['id']}/advance")
    assert await _jobs(running.app) == []
