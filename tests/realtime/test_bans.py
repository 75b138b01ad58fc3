"""A ban (auth.admin) closes the banned user's live connections at once, on every instance,
whether opened with a session or an API key, and their next request is a 401."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import PASSWORD, make_admin
from tests.realtime.conftest import InstanceFactory
from tests.realtime.support import create_key, live, new_user

pytestmark = pytest.mark.slow  # two instances and a broker


@pytest.fixture
def shared_changes(database_url: str, request: pytest.FixtureRequest) -> dict[str, object]:
    """Settings for two instances that hear each other's changes, with credentials trusted
    for an hour and no periodic re-check: only the ban's change events can make either refuse.
    (Sync: finding Redis runs an event loop of its own.)"""
    overrides: dict[str, object] = {
        "auth_cache_seconds": 3600.0,
        "realtime_revalidate_seconds": 3600.0,
    }
    if database_url.startswith("postgres"):
        overrides["realtime_broker"] = "postgres"
    else:  # two instances on one SQLite file share their changes through Redis
        overrides |= {
            "realtime_broker": "redis",
            "redis_url": request.getfixturevalue("redis_url"),
            "redis_prefix": f"t{uuid.uuid4().hex[:10]}",
        }
    return overrides


async def test_a_ban_closes_every_socket_of_the_user_on_every_instance(
    make_instance: InstanceFactory, shared_changes: dict[str, object]
) -> None:
    overrides = shared_changes
    a = await make_instance(**overrides)
    b = await make_instance(**overrides)
    admin = await new_user(a)
    await make_admin(a.app, admin.id)
    target = await new_user(a)
    bystander = await new_user(a)
    key = await create_key(a, target, "ci")
    key_auth = {"Authorization": f"Bearer {key['key']}"}
    async with b.http(**target.bearer) as http:  # cached on B before the ban
        assert (await http.get("/api/auth/get-session")).json() is not None
    async with (
        live(b, user=target) as by_session,
        live(b, headers=key_auth) as by_key,
        live(a, user=target, via="cookie") as on_a,
        live(b, user=bystander) as other,
    ):
        for client in (by_session, by_key, on_a, other):
            await client.subscribe("k", "keys.list")
        async with a.http(**admin.bearer) as http:
            banned = await http.post(
                "/api/auth/admin/ban-user", json={"userId": str(target.id), "banReason": "abuse"}
            )
        assert banned.status_code == 200, banned.text
        ended = {(4401, "session_revoked"), (4401, "account_banned")}
        assert await by_session.closed() in ended
        assert await on_a.closed() in ended
        assert await by_key.closed() == (4401, "account_banned")
        assert await other.barrier() == []  # nobody else is affected
    for instance in (a, b):
        async with instance.http(**target.bearer) as http:
            assert (await http.get("/api/keys")).status_code == 401
        async with instance.http(**key_auth) as http:
            assert (await http.get("/api/keys")).status_code == 401
        async with instance.http() as http:
            refused = await http.post(
                "/api/auth/sign-in/email", json={"email": target.email, "password": PASSWORD}
            )
            assert (refused.status_code, refused.json()["code"]) == (403, "BANNED_USER")
