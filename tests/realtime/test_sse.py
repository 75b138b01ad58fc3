"""The SSE fallback: one live query per stream, same messages as the WebSocket."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx

from tests.conftest import PASSWORD
from tests.realtime.conftest import InstanceFactory
from tests.realtime.support import WAIT, Instance, create_key, ids, live, new_user


async def _events(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The stream's messages; heartbeat comments skipped."""
    async for line in response.aiter_lines():
        if line.startswith("data: "):
            yield json.loads(line[len("data: ") :])


async def test_sse_streams_results(instance: Instance) -> None:
    user = await new_user(instance)
    async with instance.http(**user.bearer) as http:
        params = {"subscribe": "keys.list", "args": json.dumps({"limit": 10})}
        async with http.stream("GET", "/api/realtime/events", params=params) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["cache-control"] == "no-store"
            events = _events(response)
            async with asyncio.timeout(WAIT):
                first = await anext(events)
                assert (first["type"], first["id"], first["version"]) == (
                    "result",
                    "keys.list",
                    1,
                )
                key = await create_key(instance, user, "over sse")
                second = await anext(events)
                assert second["version"] == 2
                assert ids(second["data"]) == [key["id"]]


async def test_sse_errors_before_the_stream_are_http_errors(instance: Instance) -> None:
    owner, other = await new_user(instance), await new_user(instance)
    async with instance.http() as anonymous:
        denied = await anonymous.get("/api/realtime/events", params={"subscribe": "keys.list"})
        assert denied.status_code == 401
    async with instance.http(**other.bearer) as http:
        unknown = await http.get("/api/realtime/events", params={"subscribe": "nope.nothing"})
        assert (unknown.status_code, unknown.json()["error"]["code"]) == (400, "unknown_query")
        bad = await http.get(
            "/api/realtime/events", params={"subscribe": "keys.list", "args": '{"limit": 0}'}
        )
        assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_args")
        not_json = await http.get(
            "/api/realtime/events", params={"subscribe": "keys.list", "args": "{"}
        )
        assert not_json.status_code == 400
        missing = await http.get(
            "/api/realtime/events",
            params={
                "subscribe": "chat.messages",
                "args": json.dumps({"session_id": str(uuid.uuid4())}),
            },
        )
        assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
    async with instance.http(Cookie=owner.cookie, Origin="https://evil.example") as foreign:
        refused = await foreign.get("/api/realtime/events", params={"subscribe": "keys.list"})
        assert refused.status_code == 403
    assert instance.hub.connections == set()


async def test_sse_stream_ends_when_the_session_is_revoked(instance: Instance) -> None:
    user = await new_user(instance)
    async with instance.http(Cookie=user.cookie) as http:
        params = {"subscribe": "keys.list"}
        async with http.stream("GET", "/api/realtime/events", params=params) as response:
            events = _events(response)
            async with asyncio.timeout(WAIT):
                assert (await anext(events))["type"] == "result"
                async with instance.http(**user.bearer) as other:
                    await other.post("/api/auth/sign-out")
                last = await anext(events)
                assert (last["type"], last["code"]) == ("error", "session_revoked")
                assert [event async for event in events] == []  # and the stream ends


async def test_deleting_the_account_ends_its_api_key_socket_and_stream_at_once(
    make_instance: InstanceFactory,
) -> None:
    """The deletion announces the end of the account's keys, as revoking one does: no
    periodic re-check runs in these tests, so only that announcement can close them."""
    instance = await make_instance()
    user = await new_user(instance)
    key = await create_key(instance, user, "script")
    by_key = {"Authorization": f"Bearer {key['key']}"}
    params = {"subscribe": "keys.list"}
    async with (
        live(instance, headers=by_key) as socket,
        instance.http(**by_key) as http,
        http.stream("GET", "/api/realtime/events", params=params) as response,
    ):
        await socket.subscribe("k", "keys.list")
        events = _events(response)
        async with asyncio.timeout(WAIT):
            assert (await anext(events))["type"] == "result"
            async with instance.http(**user.bearer) as owner:
                gone = await owner.post("/api/auth/delete-user", json={"password": PASSWORD})
            assert gone.status_code == 200
            assert await socket.closed() == (4401, "api_key_revoked")
            last = await anext(events)
            while last["type"] == "result":  # the key list may change once before the end
                last = await anext(events)
            assert (last["type"], last["code"]) == ("error", "api_key_revoked")
            assert [event async for event in events] == []
