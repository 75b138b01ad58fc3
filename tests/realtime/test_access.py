"""Who may open a socket, who keeps it, and whose data reaches it."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import delete

from everything_app.auth.models import Session
from everything_app.core import rls
from everything_app.core.db import open_unit_of_work
from everything_app.core.route_index import RouteIndex
from tests.conftest import PASSWORD, fastapi_only
from tests.realtime.conftest import InstanceFactory
from tests.realtime.support import Instance, User, create_key, ids, live, new_user

Closed = tuple[int | None, str | None]  # a socket's close code and reason


async def _refused(instance: Instance, **options: object) -> tuple[int | None, str | None]:
    async with live(instance, **options) as client:  # type: ignore[arg-type]
        return await client.closed()


async def test_handshakes_without_valid_credentials_are_closed(instance: Instance) -> None:
    user = await new_user(instance)
    assert await _refused(instance) == (4401, "unauthenticated")
    bad_token = {"Authorization": "Bearer not-a-session"}
    assert await _refused(instance, headers=bad_token) == (4401, "unauthenticated")
    bad_key = {"Authorization": "Bearer ea_" + "x" * 43}
    assert await _refused(instance, headers=bad_key) == (4401, "invalid_api_key")
    forged = {"Cookie": user.cookie[:-4] + "AAA%3D"}  # a signature that does not match
    assert await _refused(instance, headers=forged) == (4401, "unauthenticated")
    in_url = await _refused(instance, user=user, query="?token=x")
    assert in_url == (4400, "credentials_in_query")


async def test_cookie_sockets_need_a_trusted_origin(instance: Instance) -> None:
    user = await new_user(instance)
    foreign = await _refused(instance, user=user, via="cookie", origin="https://evil.example")
    assert foreign == (4403, "invalid_origin")
    missing = await _refused(instance, user=user, via="cookie", origin=None)
    assert missing == (4403, "missing_or_null_origin")
    async with live(instance, user=user, via="cookie") as client:
        assert (await client.subscribe("k", "keys.list"))["type"] == "result"


async def test_handshakes_read_the_cookie_as_requests_do(instance: Instance) -> None:
    """One cookie reader (auth.cookies): every Cookie header counts, names are trimmed."""
    user = await new_user(instance)
    name, _, value = user.cookie.partition("=")
    for cookie in (
        [("Cookie", "theme=dark"), ("Cookie", user.cookie)],
        [("Cookie", f"{name} ={value}")],
    ):
        foreign = await _refused(instance, headers=cookie, origin="https://EVIL.example")
        assert foreign == (4403, "invalid_origin")
        async with live(instance, headers=cookie, origin="HTTP://TestServer:80") as client:
            assert (await client.subscribe("k", "keys.list"))["type"] == "result"


async def test_bearer_tokens_and_api_keys_need_no_origin(instance: Instance) -> None:
    user = await new_user(instance)
    key = await create_key(instance, user, "script")
    async with live(instance, user=user, origin=None) as by_token:
        assert (await by_token.subscribe("k", "keys.list"))["type"] == "result"
    by_key_headers = {"Authorization": f"Bearer {key['key']}"}
    async with live(instance, origin="https://anywhere.example", headers=by_key_headers) as c:
        result = await c.subscribe("k", "keys.list")
        assert ids(result["data"]) == [key["id"]]


async def test_user_b_never_receives_user_a_data(instance: Instance) -> None:
    alice, bob = await new_user(instance), await new_user(instance)
    async with live(instance, user=alice) as a, live(instance, user=bob) as b:
        await a.subscribe("k", "keys.list")
        await b.subscribe("k", "keys.list")
        await a.subscribe("s", "chat.sessions")
        await b.subscribe("s", "chat.sessions")
        runs = instance.hub.stats.runs
        secret = await create_key(instance, alice, "alice-only")
        await a.result("k", lambda d: d["data"])
        assert instance.hub.stats.runs - runs == 1  # Bob's query was not even re-run
        assert await b.barrier() == []

        mine = await create_key(instance, bob, "bob's")
        seen = await b.result("k", lambda d: d["data"])
        assert ids(seen["data"]) == [mine["id"]]
        assert secret["id"] not in str(b.pending)


async def test_sign_out_closes_the_session_socket(instance: Instance) -> None:
    user = await new_user(instance)
    async with live(instance, user=user, via="cookie") as client:
        await client.subscribe("k", "keys.list")
        async with instance.http(Cookie=user.cookie) as http:
            assert (await http.post("/api/auth/sign-out")).status_code == 200
        assert await client.closed() == (4401, "session_revoked")


async def test_revoking_a_session_elsewhere_closes_its_socket(instance: Instance) -> None:
    user = await new_user(instance)
    async with instance.http() as http:
        other = await http.post(
            "/api/auth/sign-in/email", json={"email": user.email, "password": PASSWORD}
        )
    other_token = other.json()["token"]
    async with (
        live(instance, user=user) as doomed,
        live(instance, headers={"Authorization": f"Bearer {other_token}"}) as survivor,
    ):
        await doomed.subscribe("k", "keys.list")
        await survivor.subscribe("k", "keys.list")
        async with instance.http(Authorization=f"Bearer {other_token}") as http:
            revoked = await http.post("/api/auth/revoke-other-sessions")
        assert revoked.status_code == 200
        assert await doomed.closed() == (4401, "session_revoked")
        assert await survivor.barrier() == []  # the other device stays connected


async def test_revoking_an_api_key_closes_its_socket(instance: Instance) -> None:
    user = await new_user(instance)
    key = await create_key(instance, user, "ci")
    async with live(instance, headers={"Authorization": f"Bearer {key['key']}"}) as client:
        await client.subscribe("k", "keys.list")
        async with instance.http(**user.bearer) as http:
            assert (await http.delete(f"/api/keys/{key['id']}")).status_code == 200
        assert await client.closed() == (4401, "api_key_revoked")


async def test_deleting_the_account_closes_its_sockets(instance: Instance) -> None:
    user = await new_user(instance)
    async with live(instance, user=user) as client:
        await client.subscribe("k", "keys.list")
        async with instance.http(**user.bearer) as http:
            gone = await http.post("/api/auth/delete-user", json={"password": PASSWORD})
        assert gone.status_code == 200
        assert await client.closed() == (4401, "session_revoked")


async def test_a_session_removed_without_an_event_is_caught_by_revalidation(
    instance: Instance,
) -> None:
    """The backstop: a session row deleted behind the app's back (no change event)."""
    user = await new_user(instance)
    async with live(instance, user=user) as client:
        await client.subscribe("k", "keys.list")
        app = instance.app
        async with await open_unit_of_work(app.state.sessionmaker, write=True) as db:
            await rls.act_as_system(db, tables=("sessions",), reason="test")
            await db.execute(delete(Session).where(Session.user_id == user.id))
            await db.commit()  # no change recorded, none published
        await instance.hub.revalidate()  # the round REALTIME_REVALIDATE_SECONDS would run
        assert await client.closed() == (4401, "credentials_expired")


async def test_connections_are_limited_per_user_and_per_instance(
    make_instance: InstanceFactory,
) -> None:
    instance = await make_instance(realtime_max_connections=2, realtime_max_connections_per_user=1)
    alice, bob, carol = [await new_user(instance) for _ in range(3)]
    async with live(instance, user=alice) as first, live(instance, user=bob) as second:
        await first.subscribe("k", "keys.list")
        await second.subscribe("k", "keys.list")
        assert await _refused(instance, user=alice) == (1013, "too_many_connections_for_user")
        assert await _refused(instance, user=carol) == (1013, "too_many_connections")
        async with instance.http(**carol.bearer) as http:
            busy = await http.get("/api/realtime/events", params={"subscribe": "keys.list"})
        assert (busy.status_code, busy.json()["error"]["code"]) == (503, "too_many_connections")


async def test_a_cookie_socket_from_the_servers_own_origin_is_trusted(instance: Instance) -> None:
    """The web app opened at the address the server was reached at (not BASE_URL, which is
    http://testserver here): its socket's Origin is the handshake's own origin."""
    user = await new_user(instance)
    host, _, port = instance.host.rpartition(":")
    async with live(instance, user=user, via="cookie", origin=instance.url) as client:
        assert (await client.subscribe("k", "keys.list"))["type"] == "result"
    for foreign in (
        f"http://{host}:{int(port) + 1}",  # another port
        f"https://{instance.host}",  # another scheme
        f"http://localhost:{port}",  # another host
    ):
        refused = await _refused(instance, user=user, via="cookie", origin=foreign)
        assert refused == (4403, "invalid_origin"), foreign


async def test_a_handshake_is_not_logged_twice(
    instance: Instance, caplog: pytest.LogCaptureFixture
) -> None:
    """uvicorn's own line per WebSocket handshake is dropped (our access log has one, with
    the request id); its other lines are kept."""
    user = await new_user(instance)
    caplog.set_level(logging.INFO, logger="uvicorn.error")  # the test servers say warnings only
    async with live(instance, user=user) as client:
        assert (await client.subscribe("t", "tasks.list"))["type"] == "result"
        logging.getLogger("uvicorn.error").info("Application startup complete.")
    uvicorn_lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.error"]
    assert uvicorn_lines == ["Application startup complete."]


async def test_a_live_query_socket_answers_as_through_fastapi(instance: Instance) -> None:
    index = instance.app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    assert ("WEBSOCKET", "/api/realtime") in index.direct
    user = await new_user(instance)
    await _create_task(instance, user)

    async def session() -> tuple[Closed, list[str], Closed]:
        # Anonymous, from a foreign origin, and subscribed.
        async with live(instance) as anonymous:
            refused = await anonymous.closed()
        async with live(instance, user=user, via="cookie", origin="https://evil.example") as c:
            foreign = await c.closed()
        async with live(instance, user=user) as client:
            result = await client.subscribe("s", "tasks.list")
        return refused, ids(result["data"]), foreign

    direct = await session()
    with fastapi_only(instance.app):
        theirs = await session()
    assert direct == theirs
    assert direct[0] == (4401, "unauthenticated")
    assert len(direct[1]) == 1


async def _create_task(instance: Instance, user: User) -> None:
    async with instance.http(**user.bearer) as http:
        assert (await http.post("/api/tasks", json={"title": "live"})).status_code == 201
