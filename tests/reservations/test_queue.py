"""The service queue: check-in rules, what users and admins see, advance and skip, events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import httpx
from fastapi import FastAPI

from everything_app.core.changes import Change
from tests.conftest import SignedIn
from tests.reservations.conftest import Clock, ServiceFactory, at, book, user_id_of


async def _confirmed(
    admin: httpx.AsyncClient, user: httpx.AsyncClient, service: dict[str, Any], hour: int = 9
) -> str:
    reservation_id: str = (await book(user, service, at(hour))).json()["id"]
    confirmed = await admin.patch(
        f"/api/reservations/{reservation_id}", json={"status": "confirmed"}
    )
    assert confirmed.status_code == 200
    return reservation_id


async def test_check_in_needs_a_confirmed_reservation_for_now(
    admin: httpx.AsyncClient, signed_in: SignedIn, make_service: ServiceFactory, clock: Clock
) -> None:
    service = await make_service()
    url = f"/api/queues/{service['id']}/join"
    user = await signed_in()

    nothing = await user.post(url)
    assert (nothing.status_code, nothing.json()["error"]["code"]) == (409, "no_reservation_now")
    pending = (await book(user, service, at(9))).json()
    clock.now = at(8, 50)
    refused = await user.post(url)
    assert refused.json()["error"]["code"] == "reservation_not_confirmed"
    await admin.patch(f"/api/reservations/{pending['id']}", json={"status": "confirmed"})

    clock.now = at(8, 44)  # check-in opens 15 minutes before the slot
    early = await user.post(url, json={"reservation_id": pending["id"]})
    assert (early.status_code, early.json()["error"]["code"]) == (409, "outside_checkin_window")
    clock.now = at(8, 45)
    joined = await user.post(url, json={})
    assert joined.status_code == 201, joined.text
    entry = joined.json()
    assert (entry["position"], entry["status"], entry["ahead"]) == (1, "waiting", 0)
    assert entry["reservation_id"] == pending["id"]
    assert entry["user_id"] == await user_id_of(user)
    again = await user.post(url, json={"reservation_id": pending["id"]})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_in_queue")


async def test_check_in_window_closes_at_the_end_of_the_slot(
    admin: httpx.AsyncClient, signed_in: SignedIn, make_service: ServiceFactory, clock: Clock
) -> None:
    service = await make_service()
    user = await signed_in()
    reservation_id = await _confirmed(admin, user, service)
    url = f"/api/queues/{service['id']}/join"
    clock.now = at(10)
    late = await user.post(url, json={"reservation_id": reservation_id})
    assert late.json()["error"]["code"] == "outside_checkin_window"
    assert (await user.post(url)).json()["error"]["code"] == "no_reservation_now"
    clock.now = at(9, 59)
    assert (await user.post(url)).status_code == 201


async def test_check_in_of_someone_elses_or_another_services_reservation(
    admin: httpx.AsyncClient, signed_in: SignedIn, make_service: ServiceFactory, clock: Clock
) -> None:
    cut, wash = await make_service(name="cut"), await make_service(name="wash")
    alice, bob = await signed_in(), await signed_in()
    alices = await _confirmed(admin, alice, cut)
    clock.now = at(9)
    stolen = await bob.post(f"/api/queues/{cut['id']}/join", json={"reservation_id": alices})
    assert (stolen.status_code, stolen.json()["error"]["code"]) == (404, "reservation_not_found")
    wrong = await alice.post(f"/api/queues/{wash['id']}/join", json={"reservation_id": alices})
    assert wrong.status_code == 422
    assert wrong.json()["error"]["code"] == "reservation_for_another_service"
    unknown = await alice.post(f"/api/queues/{uuid.uuid4()}/join")
    assert unknown.json()["error"]["code"] == "service_not_found"
    # An admin may check a user in at the desk.
    desk = await admin.post(f"/api/queues/{cut['id']}/join", json={"reservation_id": alices})
    assert desk.status_code == 201
    assert desk.json()["user_id"] == await user_id_of(alice)


async def test_users_see_their_own_place_admins_the_whole_queue(
    admin: httpx.AsyncClient, signed_in: SignedIn, make_service: ServiceFactory, clock: Clock
) -> None:
    service = await make_service(capacity=5)
    url = f"/api/queues/{service['id']}"
    alice, bob = await signed_in(), await signed_in()
    for user in (alice, bob):
        await _confirmed(admin, user, service)
    clock.now = at(9)
    walk_in = (await admin.post(f"{url}/join", json={"label": "Mr. Smith"})).json()
    assert (walk_in["position"], walk_in["label"], walk_in["user_id"]) == (1, "Mr. Smith", None)
    assert (await alice.post(f"{url}/join")).json()["ahead"] == 1
    assert (await bob.post(f"{url}/join")).json()["ahead"] == 2

    bobs_view = (await bob.get(url)).json()
    assert (bobs_view["now_serving"], bobs_view["waiting_count"]) == (None, 3)
    [mine] = bobs_view["entries"]
    assert (mine["position"], mine["ahead"], mine["user_id"]) == (3, 2, await user_id_of(bob))

    await admin.post(f"{url}/advance")  # the walk-in is served
    full = (await admin.get(url)).json()
    assert (full["now_serving"], full["waiting_count"]) == (1, 2)
    assert [(e["position"], e["status"], e["ahead"]) for e in full["entries"]] == [
        (1, "in_service", 0),
        (2, "waiting", 0),
        (3, "waiting", 1),
    ]
    assert (await bob.get(url)).json()["entries"][0]["ahead"] == 1
    stranger = await signed_in()
    assert (await stranger.get(url)).json() | {"entries": None} == {
        "service_id": service["id"],
        "now_serving": 1,
        "waiting_count": 2,
        "entries": None,
    }
    assert (await stranger.get(f"/api/queues/{uuid.uuid4()}")).status_code == 404


async def test_advance_and_skip(
    admin: httpx.AsyncClient, make_service: ServiceFactory, clock: Clock
) -> None:
    service = await make_service()
    url = f"/api/queues/{service['id']}"
    empty = await admin.post(f"{url}/advance")
    assert (empty.status_code, empty.json()["error"]["code"]) == (409, "queue_empty")
    nobody = await admin.post(f"{url}/skip")
    assert (nobody.status_code, nobody.json()["error"]["code"]) == (409, "nobody_in_service")
    ids = [
        (await admin.post(f"{url}/join", json={"label": f"w{i}"})).json()["id"] for i in range(4)
    ]

    first = (await admin.post(f"{url}/advance")).json()
    assert first["finished"] is None
    assert (first["called"]["id"], first["called"]["status"]) == (ids[0], "in_service")
    second = (await admin.post(f"{url}/advance")).json()
    assert (second["finished"]["id"], second["finished"]["status"]) == (ids[0], "completed")
    assert second["called"]["id"] == ids[1]

    # A no-show waiting further back is skipped without disturbing the one in service.
    skipped = (await admin.post(f"{url}/skip", json={"entry_id": ids[2]})).json()
    assert (skipped["finished"]["status"], skipped["called"]) == ("skipped", None)
    assert (skipped["now_serving"], skipped["waiting_count"]) == (2, 1)  # still position 2
    # The one called did not come: skip them, and the next is called.
    no_show = (await admin.post(f"{url}/skip")).json()
    assert (no_show["finished"]["id"], no_show["finished"]["status"]) == (ids[1], "skipped")
    assert no_show["called"]["id"] == ids[3]
    done = (await admin.post(f"{url}/skip", json={"entry_id": ids[0]})).json()
    assert done["error"]["code"] == "entry_not_active"
    unknown = await admin.post(f"{url}/skip", json={"entry_id": str(uuid.uuid4())})
    assert unknown.json()["error"]["code"] == "queue_entry_not_found"

    last = (await admin.post(f"{url}/advance")).json()
    assert (last["finished"]["id"], last["called"], last["now_serving"]) == (ids[3], None, None)
    assert (await admin.post(f"{url}/advance")).json()["error"]["code"] == "queue_empty"
    view = (await admin.get(url)).json()
    assert (view["now_serving"], view["waiting_count"], view["entries"]) == (None, 0, [])
    # Positions continue after the queue emptied; they are never reused.
    assert (await admin.post(f"{url}/join")).json()["position"] == 5


async def test_canceling_leaves_the_queue(
    admin: httpx.AsyncClient, signed_in: SignedIn, make_service: ServiceFactory, clock: Clock
) -> None:
    service = await make_service()
    url = f"/api/queues/{service['id']}"
    user = await signed_in()
    reservation_id = await _confirmed(admin, user, service, hour=9)
    clock.now = at(8, 50)
    await admin.post(f"{url}/join", json={"label": "first"})
    await user.post(f"{url}/join")
    canceled = await user.patch(f"/api/reservations/{reservation_id}", json={"status": "canceled"})
    assert canceled.status_code == 200
    view = (await admin.get(url)).json()
    assert [e["label"] for e in view["entries"]] == ["first"]
    assert (await user.get(url)).json()["entries"] == []


async def test_advance_tells_whose_turn_it_is(
    app: FastAPI,
    admin: httpx.AsyncClient,
    signed_in: SignedIn,
    make_service: ServiceFactory,
    clock: Clock,
) -> None:
    service = await make_service()
    url = f"/api/queues/{service['id']}"
    alice, bob = await signed_in(), await signed_in()
    for user in (alice, bob):
        await _confirmed(admin, user, service)
    clock.now = at(9)
    alices = (await alice.post(f"{url}/join")).json()
    bobs = (await bob.post(f"{url}/join")).json()
    heard: list[Change] = []

    def listener(changes: Sequence[Change]) -> None:
        heard.extend(c for c in changes if c.table in ("queue_entries", "queues"))

    stop = app.state.changes.listen(listener)
    try:
        await admin.post(f"{url}/advance")
        await admin.post(f"{url}/advance")
    finally:
        stop()
    alice_id, bob_id = uuid.UUID(await user_id_of(alice)), uuid.UUID(await user_id_of(bob))
    summary = [
        (c.table, c.row_id, c.owner_id, c.data.get("status"), c.data.get("now_serving"))
        for c in heard
    ]
    service_id = uuid.UUID(service["id"])
    assert summary == [
        # First advance: Alice's turn; the queue's head moved (everyone's place changed).
        ("queue_entries", uuid.UUID(alices["id"]), alice_id, "in_service", None),
        ("queues", service_id, None, None, 1),
        # Second: Alice done, Bob's turn.
        ("queue_entries", uuid.UUID(alices["id"]), alice_id, "completed", None),
        ("queue_entries", uuid.UUID(bobs["id"]), bob_id, "in_service", None),
        ("queues", service_id, None, None, 2),
    ]
    assert all(c.data["service_id"] == service["id"] for c in heard)
    assert heard[-1].data["waiting"] == 0


async def test_now_serving_is_one_representation_everywhere(
    admin: httpx.AsyncClient, signed_in: SignedIn, make_service: ServiceFactory, clock: Clock
) -> None:
    """`now_serving` is the position in service (a number or null) on every route that
    answers it, and the same number the queue read shows after each move."""
    service = await make_service()
    url = f"/api/queues/{service['id']}"
    for i in range(3):
        assert (await admin.post(f"{url}/join", json={"label": f"w{i}"})).status_code == 201
    user = await signed_in()
    for move in ("advance", "advance", "skip", "advance"):
        answer = (await admin.post(f"{url}/{move}")).json()
        for view in ((await admin.get(url)).json(), (await user.get(url)).json()):
            assert view["now_serving"] == answer["now_serving"], (move, answer, view)
            assert view["waiting_count"] == answer["waiting_count"]
        serving = answer["now_serving"]
        assert serving is None or isinstance(serving, int)
        called = answer["called"]
        assert serving == (called["position"] if called else None)
    assert answer["now_serving"] is None  # the last advance emptied it


async def test_joining_too_early_says_when_check_in_opens(
    admin: httpx.AsyncClient, signed_in: SignedIn, make_service: ServiceFactory, clock: Clock
) -> None:
    service = await make_service()
    url = f"/api/queues/{service['id']}/join"
    user = await signed_in()
    later = await _confirmed(admin, user, service, hour=11)
    await _confirmed(admin, user, service, hour=14)
    clock.now = at(8, 30)
    bodies: list[dict[str, Any] | None] = [{}, None]  # `{}` as seed 004 sends it; no body
    for body in bodies:
        early = await user.post(url, json=body) if body is not None else await user.post(url)
        assert early.status_code == 409
        error = early.json()["error"]
        assert error["code"] == "outside_checkin_window"
        # The caller's next reservation, and its window, in UTC.
        assert error["details"] == [
            {
                "reservation_id": later,
                "time_slot": "2030-01-07T11:00:00Z",
                "checkin_opens_at": "2030-01-07T10:45:00Z",
                "checkin_closes_at": "2030-01-07T12:00:00Z",
                "status": "confirmed",
            }
        ]
        assert "opens at 2030-01-07T10:45:00Z" in error["message"]
    named = await user.post(url, json={"reservation_id": later})
    assert named.json()["error"]["details"][0]["checkin_opens_at"] == "2030-01-07T10:45:00Z"
    clock.now = at(10, 45)  # the moment it opens
    assert (await user.post(url, json={})).status_code == 201
