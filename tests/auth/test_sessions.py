"""Managing your own sessions, password changes, account deletion, CSRF and rate limits."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from everything_app.auth.models import ApiKey, Session, User
from tests.conftest import (
    PASSWORD,
    AppWith,
    ClientFactory,
    SignedIn,
    privileged_db,
    sign_up,
    unique_email,
)


async def _second_device(new_client: ClientFactory, email: str) -> httpx.AsyncClient:
    client = new_client()
    response = await client.post(
        "/api/auth/sign-in/email", json={"email": email, "password": PASSWORD}
    )
    assert response.status_code == 200
    return client


async def test_list_and_revoke_own_sessions(new_client: ClientFactory) -> None:
    email = unique_email()
    laptop = new_client()
    await sign_up(laptop, email=email)
    phone = await _second_device(new_client, email)
    sessions = (await laptop.get("/api/auth/list-sessions")).json()
    assert len(sessions) == 2
    assert all("token" not in s for s in sessions)  # never another session's token
    phone_id = (await phone.get("/api/auth/get-session")).json()["session"]["id"]
    revoked = await laptop.post("/api/auth/revoke-session", json={"id": phone_id})
    assert revoked.json() == {"status": True}
    assert (await phone.get("/api/auth/get-session")).json() is None
    assert (await laptop.get("/api/auth/get-session")).json() is not None


async def test_cannot_revoke_another_users_session(signed_in: SignedIn) -> None:
    alice, bob = await signed_in(), await signed_in()
    bob_session = (await bob.get("/api/auth/get-session")).json()["session"]["id"]
    response = await alice.post("/api/auth/revoke-session", json={"id": bob_session})
    assert response.status_code == 404
    assert (await bob.get("/api/auth/get-session")).json() is not None


async def test_revoke_other_sessions_keeps_current(new_client: ClientFactory) -> None:
    email = unique_email()
    laptop = new_client()
    await sign_up(laptop, email=email)
    phone = await _second_device(new_client, email)
    assert (await laptop.post("/api/auth/revoke-other-sessions")).status_code == 200
    assert (await phone.get("/api/auth/get-session")).json() is None
    assert (await laptop.get("/api/auth/get-session")).json() is not None


async def test_change_password_signs_out_other_devices(new_client: ClientFactory) -> None:
    email = unique_email()
    laptop = new_client()
    await sign_up(laptop, email=email)
    phone = await _second_device(new_client, email)
    wrong = await laptop.post(
        "/api/auth/change-password",
        json={"currentPassword": "not my password", "newPassword": "a new password"},
    )
    assert wrong.status_code == 400
    assert (await phone.get("/api/auth/get-session")).json() is not None
    changed = await laptop.post(
        "/api/auth/change-password",
        json={"currentPassword": PASSWORD, "newPassword": "a new password"},
    )
    assert changed.status_code == 200
    assert (await phone.get("/api/auth/get-session")).json() is None
    assert (await laptop.get("/api/auth/get-session")).json() is not None
    old = await new_client().post(
        "/api/auth/sign-in/email", json={"email": email, "password": PASSWORD}
    )
    assert old.status_code == 401
    new = await new_client().post(
        "/api/auth/sign-in/email", json={"email": email, "password": "a new password"}
    )
    assert new.status_code == 200


async def test_delete_account_removes_all_its_data(signed_in: SignedIn, app: FastAPI) -> None:
    doomed, other = await signed_in(), await signed_in()
    for client in (doomed, other):
        assert (await client.post("/api/keys", json={"name": "ci"})).status_code == 201
    refused = await doomed.post("/api/auth/delete-user", json={"password": "wrong password"})
    assert refused.status_code == 400
    deleted = await doomed.post("/api/auth/delete-user", json={"password": PASSWORD})
    assert deleted.json()["success"] is True
    assert (await doomed.get("/api/auth/get-session")).json() is None
    async with privileged_db(app) as db:
        assert (await db.execute(select(func.count()).select_from(User))).scalar_one() == 1
        assert (await db.execute(select(func.count()).select_from(Session))).scalar_one() == 1
        assert (await db.execute(select(func.count()).select_from(ApiKey))).scalar_one() == 1


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"Origin": "https://evil.example"}, "INVALID_ORIGIN"),
        ({"Origin": "null"}, "MISSING_OR_NULL_ORIGIN"),
        ({"Origin": "", "Referer": "https://evil.example/page"}, "INVALID_ORIGIN"),
    ],
)
async def test_cookie_writes_from_foreign_origins_are_refused(
    signed_in: SignedIn, headers: dict[str, str], code: str
) -> None:
    client = await signed_in()
    response = await client.post("/api/auth/sign-out", headers=headers)
    assert response.status_code == 403
    assert response.json()["code"] == code
    assert (await client.get("/api/auth/get-session")).json() is not None
    keys = await client.post("/api/keys", json={"name": "x"}, headers=headers)
    assert keys.status_code == 403
    assert keys.json()["error"]["code"] == code.lower()


async def test_missing_origin_on_cookie_write_is_refused(signed_in: SignedIn) -> None:
    client = await signed_in()
    del client.headers["Origin"]
    response = await client.post("/api/keys", json={"name": "x"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "missing_or_null_origin"


async def test_bearer_writes_need_no_origin(new_client: ClientFactory) -> None:
    token = (await sign_up(new_client()))["token"]
    bare = httpx.AsyncClient(transport=new_client()._transport, base_url="http://testserver")
    async with bare:
        response = await bare.post(
            "/api/keys",
            json={"name": "cli"},
            headers={"Authorization": f"Bearer {token}", "Origin": "https://evil.example"},
        )
    assert response.status_code == 201


async def _hammer_sign_in(client: httpx.AsyncClient, email: str, attempts: int) -> httpx.Response:
    response = None
    for _ in range(attempts):
        response = await client.post(
            "/api/auth/sign-in/email", json={"email": email, "password": "wrong password"}
        )
    assert response is not None
    return response


async def test_sign_in_failures_are_rate_limited(new_client: ClientFactory) -> None:
    email = unique_email()
    await sign_up(new_client(), email=email)
    client = new_client()
    last = await _hammer_sign_in(client, email, 5)
    assert last.status_code == 401
    limited = await _hammer_sign_in(client, email, 1)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["X-Retry-After"] == limited.headers["Retry-After"]
    assert limited.json()["code"] == "RATE_LIMITED"
    # Even the right password waits: the limit is on the account, not on wrong guesses.
    right = await client.post(
        "/api/auth/sign-in/email", json={"email": email, "password": PASSWORD}
    )
    assert right.status_code == 429


async def test_rate_limits_shared_through_redis(redis_url: str, app_with: AppWith) -> None:
    email = unique_email()
    # A prefix of its own, so concurrent test runs sharing this Redis never collide.
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    # Two app instances sharing one Redis: failures on either count against both.
    first = await app_with(redis_url=redis_url, redis_prefix=prefix)
    second = await app_with(redis_url=redis_url, redis_prefix=prefix)
    clients = [first.client(), second.client()]
    await sign_up(clients[0], email=email)
    await _hammer_sign_in(clients[0], email, 3)
    await _hammer_sign_in(clients[1], email, 2)
    limited = await _hammer_sign_in(clients[1], email, 1)
    assert limited.status_code == 429
    assert first.app.state.limiter.backend == "redis"


@pytest.mark.slow  # connection attempts to a Redis that is not there
async def test_redis_down_falls_back_to_memory_limits(app_with: AppWith) -> None:
    email = unique_email()
    # Port 1 on loopback: nothing listens, so every Redis call fails at once.
    client = (await app_with(redis_url="redis://127.0.0.1:1/0")).client()
    await sign_up(client, email=email)
    await _hammer_sign_in(client, email, 5)
    limited = await _hammer_sign_in(client, email, 1)
    assert limited.status_code == 429  # never unlimited because Redis is down
