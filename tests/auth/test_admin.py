"""better-auth's admin endpoints: who may call them, what they change, bans, the last
administrator, and the log of who did what."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from everything_app.auth import admin
from everything_app.auth.models import AdminAction, ApiKey, Role, Session, User
from everything_app.core.db import unit_of_work, utcnow
from tests.conftest import (
    PASSWORD,
    PG_URL,
    ClientFactory,
    make_admin,
    privileged_db,
    sign_up,
    unique_email,
)

ADMIN = "/api/auth/admin"


async def new_admin(new_client: ClientFactory, app: FastAPI) -> tuple[httpx.AsyncClient, str]:
    client = new_client()
    user_id = (await sign_up(client))["user"]["id"]
    await make_admin(app, user_id)
    return client, user_id


async def new_user(new_client: ClientFactory) -> tuple[httpx.AsyncClient, dict[str, Any]]:
    client = new_client()
    return client, (await sign_up(client))["user"]


async def stored(app: FastAPI, user_id: str) -> User | None:
    async with privileged_db(app) as db:
        return await db.get(User, uuid.UUID(user_id))


async def session_count(app: FastAPI, user_id: str) -> int:
    async with privileged_db(app) as db:
        count = await db.execute(
            select(func.count()).select_from(Session).where(Session.user_id == uuid.UUID(user_id))
        )
        return int(count.scalar_one())


def _calls(target: str) -> list[tuple[str, str, dict[str, Any], str]]:
    """(method, path, json body or query, better-auth's 403 code) of every admin endpoint."""
    return [
        ("GET", "list-users", {"limit": 5}, "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS"),
        ("GET", "get-user", {"id": target}, "YOU_ARE_NOT_ALLOWED_TO_GET_USER"),
        (
            "POST",
            "create-user",
            {"email": unique_email(), "password": PASSWORD, "name": "X", "role": "admin"},
            "YOU_ARE_NOT_ALLOWED_TO_CREATE_USERS",
        ),
        (
            "POST",
            "update-user",
            {"userId": target, "data": {"name": "Hijacked"}},
            "YOU_ARE_NOT_ALLOWED_TO_UPDATE_USERS",
        ),
        (
            "POST",
            "set-role",
            {"userId": target, "role": "admin"},
            "YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE",
        ),
        ("POST", "ban-user", {"userId": target}, "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS"),
        ("POST", "unban-user", {"userId": target}, "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS"),
        (
            "POST",
            "list-user-sessions",
            {"userId": target},
            "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS_SESSIONS",
        ),
        (
            "POST",
            "revoke-user-session",
            {"sessionToken": target},
            "YOU_ARE_NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS",
        ),
        (
            "POST",
            "revoke-user-sessions",
            {"userId": target},
            "YOU_ARE_NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS",
        ),
        ("POST", "remove-user", {"userId": target}, "YOU_ARE_NOT_ALLOWED_TO_DELETE_USERS"),
        (
            "POST",
            "set-user-password",
            {"userId": target, "newPassword": "another password!"},
            "YOU_ARE_NOT_ALLOWED_TO_SET_USERS_PASSWORD",
        ),
        ("GET", "list-actions", {}, "YOU_ARE_NOT_ALLOWED_TO_LIST_ADMIN_ACTIONS"),
    ]


async def _call(
    client: httpx.AsyncClient, method: str, path: str, payload: dict[str, Any]
) -> httpx.Response:
    if method == "GET":
        return await client.get(f"{ADMIN}/{path}", params=payload)
    return await client.post(f"{ADMIN}/{path}", json=payload)


async def test_a_non_admin_is_refused_every_endpoint_and_nothing_changes(
    new_client: ClientFactory, app: FastAPI
) -> None:
    caller, _ = await new_user(new_client)
    target_client, target = await new_user(new_client)
    await new_admin(new_client, app)  # an administrator exists: refusals are about the caller
    sessions_before = await session_count(app, target["id"])
    anonymous = new_client()
    for method, path, payload, code in _calls(target["id"]):
        refused = await _call(caller, method, path, payload)
        assert refused.status_code == 403, (path, refused.text)
        assert refused.json()["code"] == code, path
        assert (await _call(anonymous, method, path, payload)).status_code == 401, path
    row = await stored(app, target["id"])
    assert row is not None
    assert (row.role, row.banned, row.name) == (Role.USER, False, "Test User")
    assert await session_count(app, target["id"]) == sessions_before
    assert (await target_client.get("/api/auth/get-session")).json() is not None
    async with privileged_db(app) as db:
        assert (await db.execute(select(func.count()).select_from(User))).scalar_one() == 3
        assert (await db.execute(select(AdminAction))).first() is None
    # Asking about one's own permissions is open to anyone signed in.
    asked = await caller.post(f"{ADMIN}/has-permission", json={"permissions": {"user": ["ban"]}})
    assert asked.json() == {"error": None, "success": False}


async def test_bad_input_is_a_clear_4xx(new_client: ClientFactory, app: FastAPI) -> None:
    client, _ = await new_admin(new_client, app)
    _, user = await new_user(new_client)
    cases: list[tuple[str, str, dict[str, Any], int, str]] = [
        ("POST", "set-role", {"userId": user["id"], "role": "owner"}, 400,
         "YOU_ARE_NOT_ALLOWED_TO_SET_NON_EXISTENT_VALUE"),
        ("POST", "set-role", {"userId": "not-an-id", "role": "user"}, 404, "USER_NOT_FOUND"),
        ("POST", "ban-user", {"userId": str(uuid.uuid4())}, 404, "USER_NOT_FOUND"),
        ("POST", "ban-user", {"userId": user["id"], "banExpiresIn": -5}, 400, "VALIDATION_ERROR"),
        ("POST", "update-user", {"userId": user["id"], "data": {}}, 400, "NO_DATA_TO_UPDATE"),
        ("POST", "update-user", {"userId": user["id"], "data": {"password": "x" * 12}}, 400,
         "PASSWORD_CANNOT_BE_UPDATED_VIA_UPDATE_USER"),
        ("POST", "update-user", {"userId": user["id"], "data": {"banned": True}}, 400,
         "INVALID_FIELD"),
        ("POST", "create-user", {"email": user["email"], "password": PASSWORD, "name": "Dup"},
         400, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL"),
        ("POST", "create-user", {"email": "not an email", "name": "N"}, 400, "INVALID_EMAIL"),
        ("POST", "set-user-password", {"userId": user["id"], "newPassword": "short"}, 400,
         "PASSWORD_TOO_SHORT"),
        ("GET", "list-users", {"sortBy": "passwordHash"}, 400, "INVALID_FIELD"),
        ("GET", "list-users", {"filterField": "banned", "filterValue": "maybe"}, 400,
         "INVALID_FILTER_VALUE"),
        ("GET", "list-users", {"filterValue": "x", "filterOperator": "regex"}, 400,
         "INVALID_OPERATOR"),
        ("GET", "list-users", {"searchField": "password", "searchValue": "x"}, 400,
         "VALIDATION_ERROR"),
    ]  # fmt: skip
    for method, path, payload, status, code in cases:
        response = await _call(client, method, path, payload)
        assert (response.status_code, response.json()["code"]) == (status, code), (
            path,
            payload,
            response.text,
        )
    row = await stored(app, user["id"])
    assert row is not None
    assert (row.role, row.banned) == (Role.USER, False)


async def test_a_ban_ends_sessions_and_refuses_sign_in_until_lifted(
    new_client: ClientFactory, app: FastAPI
) -> None:
    client, admin_id = await new_admin(new_client, app)
    target_client, target = await new_user(new_client)
    key = (await target_client.post("/api/keys", json={"name": "ci"})).json()["key"]
    banned = await client.post(
        f"{ADMIN}/ban-user", json={"userId": target["id"], "banReason": "spam"}
    )
    assert banned.status_code == 200
    user = banned.json()["user"]
    assert (user["banned"], user["banReason"], user["banExpires"]) == (True, "spam", None)
    assert (await target_client.get("/api/auth/get-session")).json() is None
    assert await session_count(app, target["id"]) == 0
    by_key = new_client()
    by_key.headers["Authorization"] = f"Bearer {key}"
    assert (await by_key.get("/api/keys")).status_code == 401
    sign_in = await new_client().post(
        "/api/auth/sign-in/email", json={"email": target["email"], "password": PASSWORD}
    )
    assert sign_in.status_code == 403
    assert sign_in.json() == {
        "code": "BANNED_USER",
        "message": "You have been banned from this application. "
        "Please contact support if you believe this is an error.",
    }
    wrong = await new_client().post(
        "/api/auth/sign-in/email", json={"email": target["email"], "password": "wrong password"}
    )
    assert wrong.status_code == 401  # a ban is not revealed to someone without the password
    assert (await client.post(f"{ADMIN}/ban-user", json={"userId": admin_id})).json()[
        "code"
    ] == "YOU_CANNOT_BAN_YOURSELF"

    lifted = await client.post(f"{ADMIN}/unban-user", json={"userId": target["id"]})
    assert lifted.json()["user"]["banned"] is False
    assert (await by_key.get("/api/keys")).status_code == 200
    again = await new_client().post(
        "/api/auth/sign-in/email", json={"email": target["email"], "password": PASSWORD}
    )
    assert again.status_code == 200


async def test_a_ban_with_an_expiry_lapses_by_itself(
    new_client: ClientFactory, app: FastAPI
) -> None:
    client, _ = await new_admin(new_client, app)
    target_client, target = await new_user(new_client)
    key = (await target_client.post("/api/keys", json={"name": "ci"})).json()["key"]
    banned = await client.post(
        f"{ADMIN}/ban-user", json={"userId": target["id"], "banExpiresIn": 3600}
    )
    expires = banned.json()["user"]["banExpires"]
    assert expires is not None
    assert banned.json()["user"]["banReason"] == "No reason"
    by_key = new_client()
    by_key.headers["Authorization"] = f"Bearer {key}"
    assert (await by_key.get("/api/keys")).status_code == 401
    body = {"email": target["email"], "password": PASSWORD}
    assert (await new_client().post("/api/auth/sign-in/email", json=body)).status_code == 403
    # The hour passes (the clock is the database row's: moved back rather than waited for).
    async with privileged_db(app) as db:
        await db.execute(
            update(User)
            .where(User.id == uuid.UUID(target["id"]))
            .values(ban_expires=utcnow() - timedelta(seconds=1))
        )
        await db.commit()
    assert (await by_key.get("/api/keys")).status_code == 200
    signed = await new_client().post("/api/auth/sign-in/email", json=body)
    assert signed.status_code == 200
    assert (signed.json()["user"]["banned"], signed.json()["user"]["banExpires"]) == (False, None)
    row = await stored(app, target["id"])
    assert row is not None
    assert (row.banned, row.ban_reason, row.ban_expires) == (False, None, None)


async def test_the_last_admin_is_never_demoted_banned_or_removed(
    new_client: ClientFactory, app: FastAPI
) -> None:
    alice, alice_id = await new_admin(new_client, app)
    demote_self = await alice.post(f"{ADMIN}/set-role", json={"userId": alice_id, "role": "user"})
    assert (demote_self.status_code, demote_self.json()["code"]) == (409, "LAST_ADMIN")
    via_update = await alice.post(
        f"{ADMIN}/update-user", json={"userId": alice_id, "data": {"role": "user"}}
    )
    assert (via_update.status_code, via_update.json()["code"]) == (409, "LAST_ADMIN")
    remove_self = await alice.post(f"{ADMIN}/remove-user", json={"userId": alice_id})
    assert remove_self.json()["code"] == "YOU_CANNOT_REMOVE_YOURSELF"
    own_account = await alice.post("/api/auth/delete-user", json={"password": PASSWORD})
    assert (own_account.status_code, own_account.json()["code"]) == (409, "LAST_ADMIN")
    row = await stored(app, alice_id)
    assert row is not None
    assert row.role == Role.ADMIN

    bob, bob_id = await new_admin(new_client, app)
    # A banned administrator does not count: banning Bob leaves Alice the last one.
    assert (await alice.post(f"{ADMIN}/ban-user", json={"userId": bob_id})).status_code == 200
    again = await alice.post(f"{ADMIN}/set-role", json={"userId": alice_id, "role": "user"})
    assert again.status_code == 409
    await alice.post(f"{ADMIN}/unban-user", json={"userId": bob_id})
    # Two counting administrators: one may go, the other then may not.
    assert (
        await alice.post(f"{ADMIN}/set-role", json={"userId": alice_id, "role": "user"})
    ).status_code == 200
    bob = new_client()
    signed = await bob.post(
        "/api/auth/sign-in/email",
        json={"email": (await stored(app, bob_id)).email, "password": PASSWORD},  # type: ignore[union-attr]
    )
    assert signed.status_code == 200
    last = await bob.post(f"{ADMIN}/ban-user", json={"userId": bob_id})
    assert last.json()["code"] == "YOU_CANNOT_BAN_YOURSELF"
    demote = await bob.post(f"{ADMIN}/set-role", json={"userId": bob_id, "role": "user"})
    assert (demote.status_code, demote.json()["code"]) == (409, "LAST_ADMIN")
    # Alice, no longer an administrator, can not act at all.
    refused = await alice.post(f"{ADMIN}/remove-user", json={"userId": bob_id})
    assert refused.status_code == 403


async def test_two_admins_demoting_each_other_at_once_leave_one(
    new_client: ClientFactory, app: FastAPI
) -> None:
    for _ in range(4):
        (a, a_id), (b, b_id) = await new_admin(new_client, app), await new_admin(new_client, app)
        async with privileged_db(app) as db:
            others = [a_id, b_id]
            await db.execute(
                update(User)
                .where(User.role == Role.ADMIN, User.id.not_in([uuid.UUID(i) for i in others]))
                .values(role=Role.USER)
            )
            await db.commit()
        results = await asyncio.gather(
            a.post(f"{ADMIN}/set-role", json={"userId": b_id, "role": "user"}),
            b.post(f"{ADMIN}/set-role", json={"userId": a_id, "role": "user"}),
        )
        statuses = sorted(r.status_code for r in results)
        assert statuses in ([200, 403], [200, 409]), [r.text for r in results]
        async with privileged_db(app) as db:
            admins = await db.execute(select(User.id).where(User.role == Role.ADMIN))
            assert len(admins.all()) == 1


async def _waiting_on_lock(pid: int) -> bool:
    conn = await asyncpg.connect(PG_URL)
    try:
        event = await conn.fetchval(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", pid
        )
    finally:
        await conn.close()
    return bool(event == "Lock")


async def test_the_last_admin_check_waits_for_a_concurrent_demotion(
    new_client: ClientFactory, app: FastAPI, database_url: str
) -> None:
    """The interleaving that loses an admin without the lock, forced step by step: the
    second demotion must wait for the first to commit, then count again and refuse."""
    if not database_url.startswith("postgres"):
        pytest.skip("SQLite serialises writing units of work at BEGIN (no interleaving)")
    _, a_id = await new_admin(new_client, app)
    _, b_id = await new_admin(new_client, app)
    a, b = uuid.UUID(a_id), uuid.UUID(b_id)
    maker = app.state.sessionmaker
    async with unit_of_work(maker, write=True, user_id=a, admin=True) as first:
        actor_a = await first.get(User, a)
        assert actor_a is not None
        await admin.set_role(first, actor_a, b, Role.USER)  # holds the lock, not committed

        async def second() -> None:
            async with unit_of_work(maker, write=True, user_id=b, admin=True) as db:
                pid.set_result((await db.execute(select(func.pg_backend_pid()))).scalar_one())
                actor_b = await db.get(User, b)
                assert actor_b is not None
                await admin.set_role(db, actor_b, a, Role.USER)

        pid: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(second())
        backend = await asyncio.wait_for(pid, 10)
        for _ in range(500):  # polling a condition (PostgreSQL's own view), up to 10 s
            if await _waiting_on_lock(backend):
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("the second demotion never waited on the lock")
        assert not task.done()
    with pytest.raises(admin.LastAdmin):
        await asyncio.wait_for(task, 10)
    async with privileged_db(app) as db:
        admins = (await db.execute(select(User.id).where(User.role == Role.ADMIN))).scalars()
        assert list(admins) == [a]


async def test_sessions_passwords_and_removal(
    new_client: ClientFactory, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_lines: list[tuple[str, dict[str, Any]]] = []

    class Recorder:
        def info(self, event: str, **fields: Any) -> None:
            log_lines.append((event, fields))

    monkeypatch.setattr(admin, "log", Recorder())
    client, admin_id = await new_admin(new_client, app)
    target_client, target = await new_user(new_client)
    other = new_client()
    body = {"email": target["email"], "password": PASSWORD}
    assert (await other.post("/api/auth/sign-in/email", json=body)).status_code == 200
    listed = await client.post(f"{ADMIN}/list-user-sessions", json={"userId": target["id"]})
    sessions = listed.json()["sessions"]
    assert len(sessions) == 2
    assert {s["userId"] for s in sessions} == {target["id"]}
    assert all(s["token"] == s["id"] for s in sessions)  # never a real token
    own = (await target_client.get("/api/auth/get-session")).json()["session"]["id"]
    revoked = await client.post(f"{ADMIN}/revoke-user-session", json={"sessionToken": own})
    assert revoked.json() == {"success": True}
    assert (await target_client.get("/api/auth/get-session")).json() is None
    assert (await other.get("/api/auth/get-session")).json() is not None

    changed = await client.post(
        f"{ADMIN}/set-user-password",
        json={"userId": target["id"], "newPassword": "a brand new password"},
    )
    assert changed.json() == {"status": True}
    # better-auth keeps the user's sessions on set-user-password.
    assert (await other.get("/api/auth/get-session")).json() is not None
    assert (await new_client().post("/api/auth/sign-in/email", json=body)).status_code == 401
    body["password"] = "a brand new password"
    assert (await new_client().post("/api/auth/sign-in/email", json=body)).status_code == 200

    await other.post("/api/keys", json={"name": "doomed"})
    removed = await client.post(f"{ADMIN}/remove-user", json={"userId": target["id"]})
    assert removed.json() == {"success": True}
    assert await stored(app, target["id"]) is None
    assert (await other.get("/api/auth/get-session")).json() is None
    async with privileged_db(app) as db:
        keys = await db.execute(select(ApiKey).where(ApiKey.user_id == uuid.UUID(target["id"])))
        assert keys.first() is None
    missing = await client.post(f"{ADMIN}/remove-user", json={"userId": target["id"]})
    assert (missing.status_code, missing.json()["code"]) == (404, "USER_NOT_FOUND")

    log = (await client.get(f"{ADMIN}/list-actions")).json()
    actions = [(row["action"], row["actorId"], row["targetId"]) for row in log["data"]]
    assert actions == [
        ("remove-user", admin_id, target["id"]),
        ("set-user-password", admin_id, target["id"]),
        ("revoke-user-session", admin_id, target["id"]),
    ]
    logged = [
        (line["action"], line["actor_id"], line["target_id"])
        for event, line in log_lines
        if event == "admin_action"
    ]
    assert logged == actions[::-1]
    paged = (await client.get(f"{ADMIN}/list-actions", params={"limit": 2})).json()
    assert len(paged["data"]) == 2
    assert paged["next_cursor"] is not None
    rest = await client.get(
        f"{ADMIN}/list-actions", params={"limit": 2, "cursor": paged["next_cursor"]}
    )
    assert [r["action"] for r in rest.json()["data"]] == ["revoke-user-session"]


async def test_get_session_carries_the_admin_fields(
    new_client: ClientFactory, app: FastAPI
) -> None:
    client, _ = await new_admin(new_client, app)
    user = (await client.get("/api/auth/get-session")).json()["user"]
    assert (user["role"], user["banned"], user["banReason"], user["banExpires"]) == (
        "admin",
        False,
        None,
        None,
    )
