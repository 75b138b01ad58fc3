"""Booking slots: validity, capacity, per-user limits, privacy, status transitions, listing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from everything_app.core.changes import Change
from tests.conftest import AppWith, SignedIn, sign_up
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


async def test_book_get_list(
    signed_in: SignedIn, make_service: ServiceFactory, clock: Clock
) -> None:
    service = await make_service()
    user = await signed_in()
    created = await book(user, service, at(10))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "pending"
    assert body["time_slot"] == "2030-01-07T10:00:00Z"
    assert body["service_id"] == service["id"]
    assert body["user_id"] == await user_id_of(user)
    assert (await user.get(f"/api/reservations/{body['id']}")).json() == body
    assert (await user.get("/api/reservations")).json() == {"data": [body], "next_cursor": None}


async def test_a_slot_given_with_any_offset_is_the_same_instant(
    signed_in: SignedIn, make_service: ServiceFactory, clock: Clock
) -> None:
    service = await make_service()
    user = await signed_in()
    body = {"service_id": service["id"], "time_slot": "2030-01-07T11:00:00+01:00"}
    created = await user.post("/api/reservations", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["time_slot"] == "2030-01-07T10:00:00Z"


@pytest.mark.parametrize(
    ("slot", "code"),
    [
        ("2030-01-07T09:30:00Z", "slot_not_offered"),  # misaligned (60-minute slots)
        ("2030-01-07T08:00:00Z", "slot_not_offered"),  # before opening
        ("2030-01-07T17:00:00Z", "slot_not_offered"),  # closing time
        ("2030-01-12T10:00:00Z", "slot_not_offered"),  # Saturday
        ("2030-01-07T10:00:30Z", "slot_not_offered"),  # not on the minute
        ("2030-01-04T10:00:00Z", "slot_in_past"),  # last Friday
        ("2030-06-03T10:00:00Z", "slot_too_far"),  # beyond the 90-day horizon
        ("2030-01-07T10:00:00", "validation_error"),  # no offset: ambiguous
        ("tomorrow at ten", "validation_error"),
    ],
)
async def test_invalid_slots_are_refused(
    signed_in: SignedIn, make_service: ServiceFactory, clock: Clock, slot: str, code: str
) -> None:
    service = await make_service()
    user = await signed_in()
    response = await user.post(
        "/api/reservations", json={"service_id": service["id"], "time_slot": slot}
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code
    assert (await user.get("/api/reservations")).json()["data"] == []


async def test_started_slot_is_past(
    signed_in: SignedIn, make_service: ServiceFactory, clock: Clock
) -> None:
    service = await make_service()
    user = await signed_in()
    clock.now = at(10, 1)
    response = await book(user, service, at(10))
    assert response.json()["error"]["code"] == "slot_in_past"


async def test_unknown_service_is_404(signed_in: SignedIn, clock: Clock) -> None:
    user = await signed_in()
    response = await user.post(
        "/api/reservations", json={"service_id": str(uuid.uuid4()), "time_slot": iso(at(10))}
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "service_not_found"


async def test_one_active_reservation_per_slot_and_cancel_then_rebook(
    signed_in: SignedIn, make_service: ServiceFactory, clock: Clock
) -> None:
    service = await make_service()
    user = await signed_in()
    first = (await book(user, service, at(10))).json()
    again = await book(user, service, at(10))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_reserved"
    canceled = await user.patch(f"/api/reservations/{first['id']}", json={"status": "canceled"})
    assert canceled.json()["status"] == "canceled"
    rebooked = await book(user, service, at(10))
    assert rebooked.status_code == 201
    statuses = [r["status"] for r in (await user.get("/api/reservations")).json()["data"]]
    assert sorted(statuses) == ["canceled", "pending"]


async def test_full_slot_and_cancel_frees_a_place_at_once(
    signed_in: SignedIn, make_service: ServiceFactory, clock: Clock
) -> None:
    service = await make_service(capacity=2)
    alice, bob, carol = await signed_in(), await signed_in(), await signed_in()
    alices = (await book(alice, service, at(10))).json()
    assert (await book(bob, service, at(10))).status_code == 201
    full = await book(carol, service, at(10))
    assert full.status_code == 409
    assert full.json()["error"]["code"] == "slot_full"
    await alice.patch(f"/api/reservations/{alices['id']}", json={"status": "canceled"})
    assert (await book(carol, service, at(10))).status_code == 201
    assert (await book(alice, service, at(10))).json()["error"]["code"] == "slot_full"


async def _app_with(
    app_with: AppWith, **overrides: Any
) -> tuple[httpx.AsyncClient, Clock, dict[str, Any]]:
    """An app with other settings, its clock, an admin client and a service."""
    running = await app_with(**overrides)
    clock = fix_clock(running.app)
    admin = running.client()
    await sign_up(admin)
    await promote(running.app, admin)
    service = (await admin.post("/api/services", json={"name": "x", "duration_minutes": 60})).json()
    return admin, clock, service


async def test_limit_on_future_reservations(app_with: AppWith) -> None:
    admin, clock, service = await _app_with(app_with, max_future_reservations=2)
    first = (await book(admin, service, at(10))).json()
    assert (await book(admin, service, at(11))).status_code == 201
    refused = await book(admin, service, at(12))
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "too_many_reservations"
    # Past reservations do not count, nor do canceled ones.
    await admin.patch(f"/api/reservations/{first['id']}", json={"status": "canceled"})
    assert (await book(admin, service, at(12))).status_code == 201
    clock.now = at(11, 30)
    assert (await book(admin, service, at(13))).status_code == 201


async def test_auto_confirm_setting(app_with: AppWith) -> None:
    admin, _, service = await _app_with(app_with, reservations_auto_confirm=True)
    assert (await book(admin, service, at(10))).json()["status"] == "confirmed"


async def test_another_users_reservation_is_404(
    signed_in: SignedIn, make_service: ServiceFactory, clock: Clock
) -> None:
    service = await make_service()
    alice, bob = await signed_in(), await signed_in()
    alices = (await book(alice, service, at(10))).json()
    for response in (
        await bob.get(f"/api/reservations/{alices['id']}"),
        await bob.patch(f"/api/reservations/{alices['id']}", json={"status": "canceled"}),
        await bob.patch(f"/api/reservations/{alices['id']}", json={"status": "confirmed"}),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "reservation_not_found"
    assert (await bob.get("/api/reservations")).json()["data"] == []
    # Asking for Alice's reservations by her id shows Bob nothing either.
    alice_id = await user_id_of(alice)
    assert (await bob.get(f"/api/reservations?user_id={alice_id}")).json()["data"] == []
    assert (await alice.get(f"/api/reservations/{alices['id']}")).json()["status"] == "pending"


async def test_status_transitions(
    admin: httpx.AsyncClient, signed_in: SignedIn, make_service: ServiceFactory, clock: Clock
) -> None:
    service = await make_service()
    user = await signed_in()
    reservation = (await book(user, service, at(10))).json()
    url = f"/api/reservations/{reservation['id']}"

    refused = await user.patch(url, json={"status": "confirmed"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "admin_required"
    assert (await admin.patch(url, json={"status": "confirmed"})).json()["status"] == "confirmed"
    twice = await admin.patch(url, json={"status": "confirmed"})
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "invalid_status_transition"
    assert (await user.patch(url, json={"status": "canceled"})).json()["status"] == "canceled"
    for actor, status in ((user, "canceled"), (admin, "confirmed"), (admin, "canceled")):
        final = await actor.patch(url, json={"status": status})
        assert final.status_code == 409
        assert final.json()["error"]["code"] == "reservation_canceled"
    bad = await admin.patch(url, json={"status": "pending"})
    assert bad.status_code == 422


async def test_only_an_admin_cancels_once_the_slot_started(
    admin: httpx.AsyncClient, signed_in: SignedIn, make_service: ServiceFactory, clock: Clock
) -> None:
    service = await make_service()
    user = await signed_in()
    reservation = (await book(user, service, at(10))).json()
    url = f"/api/reservations/{reservation['id']}"
    clock.now = at(10, 5)
    late = await user.patch(url, json={"status": "canceled"})
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "reservation_started"
    assert (await admin.patch(url, json={"status": "canceled"})).json()["status"] == "canceled"


async def test_listing_filters_and_calendar_order(
    admin: httpx.AsyncClient, signed_in: SignedIn, make_service: ServiceFactory, clock: Clock
) -> None:
    cut, wash = await make_service(name="cut"), await make_service(name="wash")
    alice, bob = await signed_in(), await signed_in()
    a_tue = (await book(alice, cut, at(9, days=1))).json()
    a_mon = (await book(alice, wash, at(15))).json()
    a_mon2 = (await book(alice, cut, at(12))).json()
    b_mon = (await book(bob, cut, at(12))).json()
    await alice.patch(f"/api/reservations/{a_mon2['id']}", json={"status": "canceled"})

    async def ids(client: httpx.AsyncClient, query: str = "") -> list[str]:
        response = await client.get(f"/api/reservations?{query}")
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["data"]]

    assert await ids(alice) == [a_mon2["id"], a_mon["id"], a_tue["id"]]
    assert await ids(alice, "status=pending") == [a_mon["id"], a_tue["id"]]
    assert await ids(alice, "date=2030-01-08") == [a_tue["id"]]
    # 2030-01-07 in Tokyo ends at 15:00 UTC: the 15:00 UTC reservation is on the 8th there.
    assert await ids(alice, "date=2030-01-07&tz=Asia/Tokyo") == [a_mon2["id"]]
    assert await ids(alice, f"service_id={wash['id']}") == [a_mon["id"]]
    assert await ids(bob) == [b_mon["id"]]

    everyone = await ids(admin)
    assert set(everyone) == {a_tue["id"], a_mon["id"], a_mon2["id"], b_mon["id"]}
    assert everyone[-1] == a_tue["id"]
    bob_id = await user_id_of(bob)
    assert await ids(admin, f"user_id={bob_id}") == [b_mon["id"]]
    assert await ids(admin, f"service_id={cut['id']}&status=canceled") == [a_mon2["id"]]
    assert (await admin.get(f"/api/reservations/{a_tue['id']}")).status_code == 200

    bad = await alice.get("/api/reservations?status=lost")
    assert bad.status_code == 422
    assert (await alice.get("/api/reservations?tz=Nowhere")).json()["error"]["code"] == (
        "invalid_timezone"
    )


async def test_listing_pages_in_calendar_order(
    signed_in: SignedIn, make_service: ServiceFactory, clock: Clock
) -> None:
    service = await make_service(capacity=1)
    user = await signed_in()
    expected = []
    for hour in (14, 9, 12, 10, 16):
        expected.append((iso(at(hour)), (await book(user, service, at(hour))).json()["id"]))
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await user.get("/api/reservations", params=params)).json()
        seen += [r["id"] for r in page["data"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == [rid for _, rid in sorted(expected)]
    bad = await user.get("/api/reservations", params={"cursor": "garbage!"})
    assert bad.json()["error"]["code"] == "invalid_cursor"


async def test_reservation_writes_are_announced_to_their_owner(
    app: FastAPI,
    admin: httpx.AsyncClient,
    signed_in: SignedIn,
    make_service: ServiceFactory,
    clock: Clock,
) -> None:
    service = await make_service()
    user = await signed_in()
    heard: list[Change] = []

    def listener(changes: Sequence[Change]) -> None:
        heard.extend(c for c in changes if c.table == "reservations")

    stop = app.state.changes.listen(listener)
    try:
        reservation = (await book(user, service, at(10))).json()
        await admin.patch(f"/api/reservations/{reservation['id']}", json={"status": "confirmed"})
        await book(user, service, at(10))  # refused: announces nothing
    finally:
        stop()
    owner = uuid.UUID(await user_id_of(user))
    assert [(c.op, c.owner_id, c.data["status"]) for c in heard] == [
        ("insert", owner, "pending"),
        ("update", owner, "confirmed"),
    ]
    assert heard[0].data["service_id"] == service["id"]
    assert heard[0].row_id == uuid.UUID(reservation["id"])
