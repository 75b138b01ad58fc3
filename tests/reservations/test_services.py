"""Services: anyone signed in reads them, administrators write them; availability by day."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import ClientFactory, SignedIn
from tests.reservations.conftest import Clock, ServiceFactory, at, book, iso


async def test_admin_creates_users_read(
    admin: httpx.AsyncClient, signed_in: SignedIn, make_service: ServiceFactory
) -> None:
    created = await make_service(description="Wash and cut", capacity=3)
    assert created["opening_hours"] == {
        day: [{"open": "09:00", "close": "17:00"}] for day in ("mon", "tue", "wed", "thu", "fri")
    }
    assert created["timezone"] == "UTC"
    user = await signed_in()
    assert (await user.get(f"/api/services/{created['id']}")).json() == created
    listed = (await user.get("/api/services")).json()
    assert listed == {"data": [created], "next_cursor": None}

    patched = await admin.patch(
        f"/api/services/{created['id']}",
        json={"capacity": 5, "description": None, "timezone": "Europe/Paris"},
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["capacity"], body["description"], body["timezone"]) == (5, None, "Europe/Paris")
    assert body["name"] == created["name"]

    assert (await admin.delete(f"/api/services/{created['id']}")).status_code == 204
    missing = await user.get(f"/api/services/{created['id']}")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "service_not_found"


async def test_list_is_keyset_paginated(
    admin: httpx.AsyncClient, make_service: ServiceFactory
) -> None:
    ids = [(await make_service(name=f"s{i}"))["id"] for i in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await admin.get("/api/services", params=params)).json()
        seen += [s["id"] for s in page["data"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == list(reversed(ids))


ADMIN_ROUTES = [
    ("POST", "/api/services", {"name": "x", "duration_minutes": 30}),
    ("PATCH", "/api/services/{sid}", {"capacity": 9}),
    ("DELETE", "/api/services/{sid}", None),
    ("POST", "/api/queues/{sid}/advance", None),
    ("POST", "/api/queues/{sid}/skip", None),
    ("POST", "/api/queues/{sid}/join", {"label": "walk-in"}),
]
USER_ROUTES = [
    ("GET", "/api/services", None),
    ("GET", "/api/services/{sid}", None),
    ("GET", "/api/services/{sid}/availability?date=2030-01-07", None),
    ("POST", "/api/reservations", {"service_id": "{sid}", "time_slot": "2030-01-07T09:00:00Z"}),
    ("GET", "/api/reservations", None),
    ("GET", f"/api/reservations/{uuid.uuid4()}", None),
    ("PATCH", f"/api/reservations/{uuid.uuid4()}", {"status": "canceled"}),
    ("GET", "/api/queues/{sid}", None),
    ("POST", "/api/queues/{sid}/join", None),
]


def _fill(value: Any, sid: str) -> Any:
    if isinstance(value, str):
        return value.replace("{sid}", sid)
    if isinstance(value, dict):
        return {k: _fill(v, sid) for k, v in value.items()}
    return value


async def test_admin_routes_refuse_users_with_403(
    signed_in: SignedIn, make_service: ServiceFactory
) -> None:
    service = await make_service()
    user = await signed_in()
    for method, path, body in ADMIN_ROUTES:
        response = await user.request(
            method, _fill(path, service["id"]), json=_fill(body, service["id"])
        )
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"]["code"] == "admin_required"
    assert (await user.get(f"/api/services/{service['id']}")).json()["capacity"] == 2


async def test_every_route_needs_a_session(
    new_client: ClientFactory, make_service: ServiceFactory
) -> None:
    service = await make_service()
    anonymous = new_client()
    for method, path, body in ADMIN_ROUTES + USER_ROUTES:
        response = await anonymous.request(
            method, _fill(path, service["id"]), json=_fill(body, service["id"])
        )
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "duration_minutes": 0},
        {"name": "x", "duration_minutes": 1441},
        {"name": " ", "duration_minutes": 30},
        {"name": "x", "duration_minutes": 30, "capacity": 0},
        {"name": "x", "duration_minutes": 30, "timezone": "Mars/Olympus"},
        {
            "name": "x",
            "duration_minutes": 30,
            "opening_hours": {"mon": [{"open": "10:00", "close": "09:00"}]},
        },
        {
            "name": "x",
            "duration_minutes": 30,
            "opening_hours": {"mon": [{"open": "9:00", "close": "10:00"}]},
        },
        {
            "name": "x",
            "duration_minutes": 30,
            "opening_hours": {"monday": [{"open": "09:00", "close": "10:00"}]},
        },
        {
            "name": "x",
            "duration_minutes": 30,
            "opening_hours": {
                "mon": [{"open": "09:00", "close": "12:00"}, {"open": "11:00", "close": "13:00"}]
            },
        },
        {"name": "x", "duration_minutes": 30, "owner": "me"},
    ],
)
async def test_service_input_is_validated(admin: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await admin.post("/api/services", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert (await admin.get("/api/services")).json()["data"] == []


async def test_patch_refuses_nulls_and_unknown_service(
    admin: httpx.AsyncClient, make_service: ServiceFactory
) -> None:
    service = await make_service()
    refused = await admin.patch(f"/api/services/{service['id']}", json={"name": None})
    assert refused.status_code == 422
    missing = await admin.patch(f"/api/services/{uuid.uuid4()}", json={"capacity": 3})
    assert missing.status_code == 404


async def test_delete_refused_while_future_reservations_exist(
    admin: httpx.AsyncClient, signed_in: SignedIn, make_service: ServiceFactory, clock: Clock
) -> None:
    service = await make_service()
    user = await signed_in()
    reservation = (await book(user, service, at(10))).json()
    refused = await admin.delete(f"/api/services/{service['id']}")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "service_has_reservations"
    await user.patch(f"/api/reservations/{reservation['id']}", json={"status": "canceled"})
    assert (await admin.delete(f"/api/services/{service['id']}")).status_code == 204
    assert (await user.get(f"/api/reservations/{reservation['id']}")).status_code == 404


async def test_availability_counts_reservations_per_slot(
    signed_in: SignedIn, make_service: ServiceFactory, clock: Clock
) -> None:
    service = await make_service(capacity=2)
    alice, bob = await signed_in(), await signed_in()
    for client in (alice, bob):
        assert (await book(client, service, at(10))).status_code == 201
    assert (await book(alice, service, at(11))).status_code == 201
    clock.now = at(9, 30)  # the 09:00 slot has started

    day = (await alice.get(f"/api/services/{service['id']}/availability?date=2030-01-07")).json()
    assert day["timezone"] == "UTC"
    slots = {s["start"]: s for s in day["slots"]}
    assert len(slots) == 8  # 09:00 ... 16:00
    assert slots[iso(at(9))]["available"] is False  # started
    assert slots[iso(at(10))] | {} == {
        "start": iso(at(10)),
        "end": iso(at(11)),
        "capacity": 2,
        "reserved": 2,
        "remaining": 0,
        "available": False,
    }
    assert (slots[iso(at(11))]["remaining"], slots[iso(at(11))]["available"]) == (1, True)
    assert (slots[iso(at(12))]["remaining"], slots[iso(at(12))]["available"]) == (2, True)

    weekend = await alice.get(f"/api/services/{service['id']}/availability?date=2030-01-12")
    assert weekend.json()["slots"] == []


async def test_availability_reads_the_day_in_the_requested_timezone(
    signed_in: SignedIn, make_service: ServiceFactory
) -> None:
    service = await make_service(timezone="Asia/Tokyo")  # 09:00-17:00 Tokyo = 00:00-08:00 UTC
    user = await signed_in()
    url = f"/api/services/{service['id']}/availability"
    own = (await user.get(url, params={"date": "2030-01-08"})).json()
    assert own["timezone"] == "Asia/Tokyo"
    assert own["slots"][0]["start"] == "2030-01-08T00:00:00Z"
    # A Los Angeles user's Monday evening holds Tokyo's Tuesday morning.
    la = (await user.get(url, params={"date": "2030-01-07", "tz": "America/Los_Angeles"})).json()
    assert la["timezone"] == "America/Los_Angeles"
    assert [s["start"] for s in la["slots"]] == [s["start"] for s in own["slots"]]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("date=2030-01-07&tz=Nowhere/City", "invalid_timezone"),
        ("date=2031-06-01", "date_out_of_range"),
        ("date=1999-01-01", "date_out_of_range"),
        ("date=8999-12-31", "date_out_of_range"),
        ("date=9999-12-31", "validation_error"),  # outside every date the API accepts
        ("date=2030-02-30", "validation_error"),
        ("", "validation_error"),
    ],
)
async def test_availability_validates_its_query(
    signed_in: SignedIn, make_service: ServiceFactory, query: str, code: str
) -> None:
    service = await make_service()
    user = await signed_in()
    response = await user.get(f"/api/services/{service['id']}/availability?{query}")
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code


async def test_availability_of_unknown_service_is_404(signed_in: SignedIn, clock: Clock) -> None:
    user = await signed_in()
    response = await user.get(f"/api/services/{uuid.uuid4()}/availability?date=2030-01-07")
    assert response.status_code == 404
