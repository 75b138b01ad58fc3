"""Hundreds of simultaneous requests: capacity, per-user limits and the queue stay exact.

Requests run concurrently through the ASGI app, each on its own unit of work (a pooled
connection): on PostgreSQL they really overlap and meet at the service lock; on SQLite they
queue for the write lock. Either way the outcome must be exact, and never a 5xx.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from everything_app.reservations.models import QueueEntry, Reservation
from tests.conftest import SignedIn, privileged_db
from tests.reservations.conftest import Clock, ServiceFactory, Users, at, book, promote

pytestmark = pytest.mark.slow  # hundreds of concurrent requests


def _codes(responses: list[httpx.Response]) -> Counter[str]:
    return Counter(
        str(r.status_code) if r.status_code < 300 else r.json()["error"]["code"] for r in responses
    )


@pytest.mark.parametrize("round_", range(3))
async def test_two_hundred_bookings_for_five_places(
    app: FastAPI, many_users: Users, make_service: ServiceFactory, round_: int
) -> None:
    service = await make_service(capacity=5)
    users = await many_users(200)
    slot = at(10 + round_)
    responses = await asyncio.gather(*(book(user, service, slot) for user in users))
    assert _codes(responses) == {"201": 5, "slot_full": 195}
    async with privileged_db(app) as db:
        stored = await db.scalar(
            select(func.count()).select_from(Reservation).where(Reservation.time_slot == slot)
        )
    assert stored == 5


async def test_one_user_racing_for_one_slot_gets_it_once(
    signed_in: SignedIn, make_service: ServiceFactory, clock: Clock
) -> None:
    service = await make_service(capacity=50)
    user = await signed_in()
    responses = await asyncio.gather(*(book(user, service, at(10)) for _ in range(30)))
    assert _codes(responses) == {"201": 1, "already_reserved": 29}


async def test_one_user_racing_across_services_stops_at_the_limit(
    signed_in: SignedIn, make_service: ServiceFactory, clock: Clock
) -> None:
    # The limit (10) spans services, so one service's lock alone would not enforce it.
    services = [await make_service(name=f"s{i}") for i in range(4)]
    user = await signed_in()
    attempts = [(s, at(h)) for s in services for h in range(9, 14)]  # 20 distinct slots
    responses = await asyncio.gather(*(book(user, s, slot) for s, slot in attempts))
    assert _codes(responses) == {"201": 10, "too_many_reservations": 10}


async def test_cancels_and_bookings_racing_never_overfill(
    app: FastAPI, many_users: Users, make_service: ServiceFactory
) -> None:
    service = await make_service(capacity=3)
    holders, others = await many_users(3), await many_users(60)
    held = [(await book(u, service, at(10))).json()["id"] for u in holders]
    cancels = [
        u.patch(f"/api/reservations/{rid}", json={"status": "canceled"})
        for u, rid in zip(holders, held, strict=True)
    ]
    responses = await asyncio.gather(*cancels, *(book(u, service, at(10)) for u in others))
    assert all(r.status_code < 500 for r in responses)
    assert all(r.status_code == 200 for r in responses[:3])
    booked = sum(r.status_code == 201 for r in responses[3:])
    assert 0 <= booked <= 3
    async with privileged_db(app) as db:
        active = await db.scalar(
            select(func.count())
            .select_from(Reservation)
            .where(
                Reservation.service_id == uuid.UUID(service["id"]),
                Reservation.status != "canceled",
            )
        )
    assert active == booked


async def _queue_rows(app: FastAPI, service_id: str) -> list[QueueEntry]:
    async with privileged_db(app) as db:
        rows = await db.execute(
            select(QueueEntry)
            .where(QueueEntry.service_id == uuid.UUID(service_id))
            .order_by(QueueEntry.position)
        )
        return list(rows.scalars())


def _check_queue(entries: list[QueueEntry]) -> None:
    """No lost or duplicated position, one entry in service at most, and first come first
    served: every called entry precedes every waiting one."""
    assert [e.position for e in entries] == list(range(1, len(entries) + 1))
    called = [e.position for e in entries if e.status != "waiting"]
    waiting = [e.position for e in entries if e.status == "waiting"]
    assert sum(e.status == "in_service" for e in entries) <= 1
    assert not called or not waiting or max(called) < min(waiting)


async def test_concurrent_walk_ins_and_advances_keep_the_queue_consistent(
    app: FastAPI, admin: httpx.AsyncClient, make_service: ServiceFactory, signed_in: SignedIn
) -> None:
    service = await make_service()
    url = f"/api/queues/{service['id']}"
    admins = [admin, *[await signed_in() for _ in range(3)]]
    for extra in admins[1:]:
        await promote(app, extra)
    joins = [
        admins[i % len(admins)].post(f"{url}/join", json={"label": f"walk-in {i}"})
        for i in range(60)
    ]
    advances = [admins[i % len(admins)].post(f"{url}/advance") for i in range(25)]
    mixed: list[Any] = [c for pair in zip(joins, advances, strict=False) for c in pair]
    mixed += joins[len(advances) :]
    responses = await asyncio.gather(*mixed)
    assert all(r.status_code < 500 for r in responses), [r.text for r in responses]

    joined = [r for r in responses if r.request.url.path.endswith("/join")]
    moved = [r.json() for r in responses if r.request.url.path.endswith("/advance")]
    assert all(r.status_code == 201 for r in joined)
    ok = [m for m in moved if "error" not in m]
    assert all(m["error"]["code"] == "queue_empty" for m in moved if "error" in m)

    entries = await _queue_rows(app, service["id"])
    assert len(entries) == 60
    _check_queue(entries)
    # Every advance finished exactly the entry it reports, and called exactly one.
    finished = [m["finished"]["id"] for m in ok if m["finished"]]
    called = [m["called"]["id"] for m in ok if m["called"]]
    assert len(set(finished)) == len(finished)
    assert len(set(called)) == len(called)
    by_id = {str(e.id): e for e in entries}
    assert {i for i, e in by_id.items() if e.status == "completed"} == set(finished)
    assert {i for i, e in by_id.items() if e.status in ("completed", "in_service")} == set(called)


async def test_concurrent_check_ins_get_distinct_positions(
    app: FastAPI,
    admin: httpx.AsyncClient,
    many_users: Users,
    make_service: ServiceFactory,
    clock: Clock,
) -> None:
    service = await make_service(capacity=40)
    users = await many_users(40)
    reservations = [(await book(u, service, at(9))).json()["id"] for u in users]
    for rid in reservations:
        await admin.patch(f"/api/reservations/{rid}", json={"status": "confirmed"})
    clock.now = at(8, 50)  # check-in opens 15 minutes before the slot
    url = f"/api/queues/{service['id']}"
    # Everyone checks in twice at once, while the admin advances.
    calls = [u.post(f"{url}/join") for u in users for _ in range(2)]
    calls += [admin.post(f"{url}/advance") for _ in range(10)]
    responses = await asyncio.gather(*calls)
    codes = _codes(responses)
    assert codes["201"] == 40
    assert codes["already_in_queue"] == 40
    assert codes["200"] + codes["queue_empty"] == 10
    assert sum(codes.values()) == 90
    entries = await _queue_rows(app, service["id"])
    assert len(entries) == 40
    _check_queue(entries)
    positions = sorted(r.json()["position"] for r in responses if r.status_code == 201)
    assert positions == list(range(1, 41))
