"""Moving a reservation to another slot (PATCH `time_slot`): the rules of booking that slot."""

from __future__ import annotations

import uuid

import httpx

from tests.conftest import SignedIn
from tests.reservations.conftest import Clock, ServiceFactory, at, book, iso


def _code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


async def test_move_to_a_free_slot_keeps_the_status(
    signed_in: SignedIn, make_service: ServiceFactory, clock: Clock
) -> None:
    service = await make_service(capacity=1)
    user = await signed_in()
    reservation = (await book(user, service, at(10))).json()
    url = f"/api/reservations/{reservation['id']}"
    moved = await user.patch(url, json={"time_slot": "2030-01-07T13:00:00+02:00"})  # 11:00Z
    assert moved.status_code == 200, moved.text
    assert (moved.json()["time_slot"], moved.json()["status"]) == (iso(at(11)), "pending")
    # The old slot is free again, the new one taken (capacity 1).
    other = await signed_in()
    assert (await book(other, service, at(10))).status_code == 201
    assert _code(await book(other, service, at(11))) == (409, "slot_full")
    same = await user.patch(url, json={"time_slot": iso(at(11))})
    assert same.status_code == 200  # already there: nothing to do


async def test_move_refusals(
    admin: httpx.AsyncClient, signed_in: SignedIn, make_service: ServiceFactory, clock: Clock
) -> None:
    service = await make_service(capacity=1)
    user, other = await signed_in(), await signed_in()
    mine = (await book(user, service, at(10))).json()
    url = f"/api/reservations/{mine['id']}"
    assert (await book(other, service, at(12))).status_code == 201

    assert _code(await user.patch(url, json={"time_slot": iso(at(12))})) == (409, "slot_full")
    assert _code(await user.patch(url, json={"time_slot": iso(at(10, 30))})) == (
        422,
        "slot_not_offered",
    )
    assert _code(await user.patch(url, json={"time_slot": iso(at(7, days=-7))})) == (
        422,
        "slot_not_offered",  # a Monday at 07:00 is closed, whatever the date
    )
    assert _code(await user.patch(url, json={"time_slot": iso(at(9, days=-7))})) == (
        422,
        "slot_in_past",
    )
    assert _code(await user.patch(url, json={"time_slot": iso(at(9, days=7 * 52))})) == (
        422,
        "slot_too_far",
    )
    # Another user's reservation is a 404; one body changes one thing.
    stolen = await other.patch(url, json={"time_slot": iso(at(11))})
    assert _code(stolen) == (404, "reservation_not_found")
    both = await user.patch(url, json={"time_slot": iso(at(11)), "status": "canceled"})
    assert both.status_code == 422
    assert (await user.patch(url, json={})).status_code == 422
    assert (await user.patch(url, json={"time_slot": "soon"})).status_code == 422

    # Started: only an administrator moves it.
    clock.now = at(10, 5)
    assert _code(await user.patch(url, json={"time_slot": iso(at(11))})) == (
        409,
        "reservation_started",
    )
    assert (await admin.patch(url, json={"time_slot": iso(at(11))})).status_code == 200
    # Canceled stays where it is.
    assert (await admin.patch(url, json={"status": "canceled"})).status_code == 200
    assert _code(await user.patch(url, json={"time_slot": iso(at(13))})) == (
        409,
        "reservation_canceled",
    )


async def test_a_reservation_in_the_queue_does_not_move(
    admin: httpx.AsyncClient, signed_in: SignedIn, make_service: ServiceFactory, clock: Clock
) -> None:
    service = await make_service()
    user = await signed_in()
    reservation = (await book(user, service, at(9))).json()
    url = f"/api/reservations/{reservation['id']}"
    await admin.patch(url, json={"status": "confirmed"})
    clock.now = at(8, 50)
    assert (await user.post(f"/api/queues/{service['id']}/join")).status_code == 201
    assert _code(await user.patch(url, json={"time_slot": iso(at(11))})) == (
        409,
        "reservation_in_queue",
    )


async def test_holding_the_target_slot_already(
    signed_in: SignedIn, make_service: ServiceFactory, clock: Clock
) -> None:
    service = await make_service(capacity=3)
    user = await signed_in()
    first = (await book(user, service, at(10))).json()
    assert (await book(user, service, at(11))).status_code == 201
    moved = await user.patch(f"/api/reservations/{first['id']}", json={"time_slot": iso(at(11))})
    assert _code(moved) == (409, "already_reserved")
    unknown = await user.patch(f"/api/reservations/{uuid.uuid4()}", json={"time_slot": iso(at(12))})
    assert unknown.status_code == 404
