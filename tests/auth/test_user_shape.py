"""One user object on every auth path, and the admin list's bounds."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from everything_app.auth.models import User
from tests.conftest import (
    PASSWORD,
    ClientFactory,
    make_admin,
    privileged_db,
    sign_up,
    unique_email,
)

USER_KEYS = {
    *("id", "email", "name", "image", "emailVerified", "role", "createdAt", "updatedAt"),
    *("banned", "banReason", "banExpires"),  # the admin plugin's fields
}


async def test_the_user_object_is_the_same_on_every_path(
    new_client: ClientFactory, app: FastAPI
) -> None:
    email = unique_email()
    client = new_client()
    seen: dict[str, dict[str, Any]] = {}
    seen["sign-up"] = (await sign_up(client, email=email))["user"]
    signed = await client.post(
        "/api/auth/sign-in/email", json={"email": email, "password": PASSWORD}
    )
    seen["sign-in"] = signed.json()["user"]
    assert "url" not in signed.json()  # better-auth leaves it out when there is none
    seen["get-session"] = (await client.get("/api/auth/get-session")).json()["user"]
    updated = await client.post("/api/auth/update-user", json={"name": "Renamed", "image": None})
    assert updated.json() == {"status": True}
    seen["after update-user"] = (await client.get("/api/auth/get-session")).json()["user"]
    changed = await client.post(
        "/api/auth/change-password",
        json={"currentPassword": PASSWORD, "newPassword": PASSWORD + "!"},
    )
    seen["change-password"] = changed.json()["user"]
    async with privileged_db(app) as db:
        row = (await db.execute(select(User).where(User.email == email))).scalar_one()
    await make_admin(app, row.id)
    users = (await client.get("/api/auth/admin/list-users")).json()["users"]
    seen["admin/list-users"] = next(u for u in users if u["email"] == email)
    for path, user in seen.items():
        assert set(user) == USER_KEYS, path
        assert user["image"] is None, path


async def test_admin_list_offset_is_bounded(new_client: ClientFactory, app: FastAPI) -> None:
    client = new_client()
    email = (await sign_up(client))["user"]["email"]
    async with privileged_db(app) as db:
        row = (await db.execute(select(User).where(User.email == email))).scalar_one()
    await make_admin(app, row.id)
    largest = await client.get("/api/auth/admin/list-users", params={"offset": 2**31 - 1})
    assert largest.status_code == 200
    assert largest.json()["users"] == []
    for offset in (2**31, 2**63, 10**30):
        beyond = await client.get("/api/auth/admin/list-users", params={"offset": offset})
        # A validation error, as better-auth's paths render one (400 VALIDATION_ERROR).
        assert beyond.status_code == 400, (offset, beyond.text)
        assert beyond.json()["code"] == "VALIDATION_ERROR"
