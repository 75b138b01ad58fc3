"""Bad messages get an error message, never a crash; the socket keeps working after them."""

from __future__ import annotations

import json

from fastapi import FastAPI

from everything_app.auth.deps import CurrentUser
from everything_app.core.changes import Change
from everything_app.core.db import SessionDep
from everything_app.core.errors import Conflict
from everything_app.keys import service as keys_service
from tests.realtime.conftest import InstanceFactory
from tests.realtime.support import Instance, create_key, ids, live, new_user


async def test_bad_messages_get_errors_and_the_socket_survives(instance: Instance) -> None:
    user = await new_user(instance)
    async with live(instance, user=user) as client:
        for raw, code in (
            ("not json", "invalid_json"),
            ("[1, 2]", "invalid_message"),
            ('{"type": "explode"}', "unknown_type"),
            ('{"no": "type"}', "unknown_type"),
            ('{"type": "subscribe", "query": "keys.list"}', "invalid_message"),
            (
                '{"type": "subscribe", "id": "x", "query": "keys.list", "args": [1]}',
                "invalid_message",
            ),
            ('{"type": "unsubscribe"}', "invalid_message"),
        ):
            await client.send_raw(raw)
            error = await client.until(lambda m: m["type"] == "error")
            assert error["code"] == code, raw

        unknown = await client.subscribe("u", "nope.nothing")
        assert (unknown["type"], unknown["code"]) == ("error", "unknown_query")
        bad = await client.subscribe("b", "keys.list", limit="many")
        assert (bad["code"], bad["details"][0]["loc"]) == ("invalid_args", ["limit"])
        extra = await client.subscribe("e", "keys.list", owner="someone-else")
        assert extra["code"] == "invalid_args"
        foreign = await client.subscribe("f", "chat.messages", session_id="not-a-uuid")
        assert foreign["code"] == "invalid_args"

        await client.send_raw("x" * 100_000)  # over REALTIME_MAX_MESSAGE_BYTES
        assert (await client.error(None))["code"] == "message_too_large"
        await client.send_raw(b"\xff\xfe")  # a binary frame that is not UTF-8
        assert (await client.error(None))["code"] == "invalid_message"
        await client.send_raw(json.dumps({"type": "ping"}).encode())  # binary JSON is fine
        await client.until(lambda m: m["type"] == "pong")

        assert (await client.subscribe("k", "keys.list"))["type"] == "result"
        again = await client.subscribe("k", "keys.list")
        assert again["code"] == "duplicate_id"
        key = await create_key(instance, user, "still works")
        assert ids((await client.result("k", lambda d: d["data"]))["data"]) == [key["id"]]


async def test_subscriptions_per_connection_are_limited(make_instance: InstanceFactory) -> None:
    instance = await make_instance(realtime_max_subscriptions=2)
    user = await new_user(instance)
    async with live(instance, user=user) as client:
        assert (await client.subscribe("a", "keys.list"))["type"] == "result"
        assert (await client.subscribe("b", "chat.sessions"))["type"] == "result"
        third = await client.subscribe("c", "keys.list", limit=1)
        assert third["code"] == "too_many_subscriptions"
        await client.send(type="unsubscribe", id="a")
        assert (await client.subscribe("c", "keys.list", limit=1))["type"] == "result"


async def test_a_rolled_back_write_publishes_nothing(instance: Instance) -> None:
    app: FastAPI = instance.app

    async def write_then_fail(user: CurrentUser, db: SessionDep) -> None:
        await keys_service.create_key(
            db, user.id, name="doomed", expires_in_days=None, prefix="ea_"
        )
        raise Conflict("Changed my mind.")

    app.add_api_route("/api/test/write-then-fail", write_then_fail, methods=["POST"])
    published: list[Change] = []
    app.state.changes.listen(published.extend)

    user = await new_user(instance)
    async with live(instance, user=user) as client:
        await client.subscribe("k", "keys.list")
        async with instance.http(**user.bearer) as http:
            failed = await http.post("/api/test/write-then-fail")
        assert failed.status_code == 409
        assert published == []
        assert await client.barrier() == []

        kept = await create_key(instance, user, "kept")
        result = await client.result("k", lambda d: d["data"])
        assert result["version"] == 2  # nothing came in between
        assert ids(result["data"]) == [kept["id"]]
        assert [c.table for c in published] == ["api_keys"]
