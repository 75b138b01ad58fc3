"""Fixtures for reservations: a fixed clock, an administrator, services, many users fast."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from everything_app.auth.models import User
from everything_app.auth.service import ClientInfo, SessionPolicy, create_session
from everything_app.core.clock import current_time
from everything_app.settings import Settings
from tests.conftest import (
    ClientFactory,
    SignedIn,
    make_admin,
    make_settings,
    privileged_db,
    unique_email,
)

# A Monday, an hour before the default opening time (09:00-17:00 Monday-Friday, UTC).
MONDAY = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)


def at(hour: int, minute: int = 0, *, days: int = 0) -> datetime:
    """An instant on MONDAY (+days), UTC."""
    return MONDAY.replace(hour=hour, minute=minute) + timedelta(days=days)


def iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


class Clock:
    """The app's "now" for reservation rules; tests move it instead of sleeping."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    async def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url,
        tmp_path,
        # A few tests sign up more users than the per-IP limit allows.
        rate_limit_sign_up_ip="10000/minute",
        # Ten transactions at once are plenty to race at the locks, and leave PostgreSQL
        # connections for the other test runs sharing the server (max_connections is 100).
        db_pool_size=10,
        db_max_overflow=0,
    )


def fix_clock(app: FastAPI) -> Clock:
    fixed = Clock(MONDAY)
    app.dependency_overrides[current_time] = fixed
    return fixed


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    return fix_clock(app)


async def promote(app: FastAPI, client: httpx.AsyncClient) -> None:
    me = (await client.get("/api/auth/get-session")).json()["user"]
    await make_admin(app, me["id"])


@pytest.fixture
async def admin(signed_in: SignedIn, app: FastAPI) -> httpx.AsyncClient:
    client = await signed_in()
    await promote(app, client)
    return client


async def user_id_of(client: httpx.AsyncClient) -> str:
    user_id: str = (await client.get("/api/auth/get-session")).json()["user"]["id"]
    return user_id


ServiceFactory = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def make_service(admin: httpx.AsyncClient, clock: Clock) -> ServiceFactory:
    """Services created by the admin; 60-minute slots, capacity 2, default hours, UTC."""

    async def factory(**overrides: Any) -> dict[str, Any]:
        body = {"name": "Haircut", "duration_minutes": 60, "capacity": 2, **overrides}
        response = await admin.post("/api/services", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    return factory


Users = Callable[[int], Awaitable[list[httpx.AsyncClient]]]


@pytest.fixture
def many_users(app: FastAPI, new_client: ClientFactory) -> Users:
    """`n` users with bearer-token clients, created directly (no password hashing), for
    tests that need hundreds of distinct users."""

    async def factory(n: int) -> list[httpx.AsyncClient]:
        policy = SessionPolicy(ttl=timedelta(days=1), update_age=timedelta(days=1))
        tokens = []
        async with privileged_db(app) as db:
            for _ in range(n):
                user = User(email=unique_email("bulk"), name="Bulk", password_hash="!")
                db.add(user)
                await db.flush()
                _, token = await create_session(db, user, ClientInfo(None, None), policy)
                tokens.append(token)
            await db.commit()
        clients = []
        for token in tokens:
            client = new_client()
            client.headers["Authorization"] = f"Bearer {token}"
            clients.append(client)
        return clients

    return factory


async def book(
    client: httpx.AsyncClient, service: dict[str, Any], slot: datetime
) -> httpx.Response:
    return await client.post(
        "/api/reservations", json={"service_id": service["id"], "time_slot": iso(slot)}
    )
