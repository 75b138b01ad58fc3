"""Subscribe, write through REST (or the service layer), receive: results, versions, rows that
stop matching, unsubscribing, chat sessions and messages, and shared query runs."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from typing import Any

from everything_app.chat import service as chat_service
from everything_app.chat.models import Message
from everything_app.core.changes import Change, commit_and_publish, record_change
from everything_app.core.db import open_unit_of_work
from everything_app.keys import service as keys_service
from everything_app.realtime.connection import Connection
from everything_app.realtime.identity import Identity
from tests.realtime.conftest import InstanceFactory
from tests.realtime.support import Instance, User, create_key, ids, live, new_user


async def test_subscribe_then_rest_writes_arrive_in_order(instance: Instance) -> None:
    user = await new_user(instance)
    async with live(instance, user=user) as client:
        first = await client.subscribe("k", "keys.list")
        assert first["type"] == "result"
        assert first["version"] == 1
        assert first["data"] == {"data": [], "next_cursor": None}

        key = await create_key(instance, user, "laptop")
        second = await client.result("k")
        assert second["version"] == 2
        assert ids(second["data"]) == [key["id"]]
        assert second["data"]["data"][0]["name"] == "laptop"
        assert "key" not in second["data"]["data"][0]  # never the secret

        async with instance.http(**user.bearer) as http:
            assert (await http.delete(f"/api/keys/{key['id']}")).status_code == 200
        third = await client.result("k")
        assert third["version"] == 3
        assert third["data"]["data"][0]["status"] == "revoked"


async def test_a_row_that_stops_matching_leaves_the_result(instance: Instance) -> None:
    user = await new_user(instance)
    async with live(instance, user=user) as client:
        assert (await client.subscribe("active", "keys.list", revoked=False))["version"] == 1
        assert (await client.subscribe("revoked", "keys.list", revoked=True))["version"] == 1
        key = await create_key(instance, user, "temp")
        assert ids((await client.result("active", lambda d: d["data"]))["data"]) == [key["id"]]

        async with instance.http(**user.bearer) as http:
            await http.delete(f"/api/keys/{key['id']}")
        gone = await client.result("active", lambda d: not d["data"])
        assert gone["version"] == 3
        moved = await client.result("revoked", lambda d: d["data"])
        assert ids(moved["data"]) == [key["id"]]


async def test_unsubscribed_queries_send_nothing_more(instance: Instance) -> None:
    user = await new_user(instance)
    async with live(instance, user=user) as quitter, live(instance, user=user) as stayer:
        await quitter.subscribe("k", "keys.list")
        await stayer.subscribe("k", "keys.list")
        await quitter.send(type="unsubscribe", id="k")
        assert await quitter.barrier() == []  # the unsubscribe has been handled

        await create_key(instance, user, "after")
        await stayer.result("k", lambda d: d["data"])
        # Both sockets' results are queued in the same step, so had the quitter still been
        # subscribed, its result would come before the pong.
        assert await quitter.barrier() == []
        # The same id can be used again.
        again = await quitter.subscribe("k", "keys.list")
        assert again["version"] == 1
        assert len(again["data"]["data"]) == 1


async def test_identical_subscriptions_share_one_query_run(instance: Instance) -> None:
    user = await new_user(instance)
    hub = instance.hub
    async with asyncio.TaskGroup() as group:
        sockets = [group.create_task(_open(instance, user)) for _ in range(20)]
    clients = [task.result() for task in sockets]
    try:
        for client in clients:
            await client[1].subscribe("k", "keys.list")
        await clients[0][1].subscribe("small", "keys.list", limit=5)  # other args: own run
        runs = hub.stats.runs
        await create_key(instance, user, "shared")
        for _, client in clients:
            assert (await client.result("k", lambda d: d["data"]))["version"] == 2
        await clients[0][1].result("small", lambda d: d["data"])
        assert hub.stats.runs - runs == 2  # one per distinct (query, args, user)
        assert len(hub.groups) == 2
        for _, client in clients:
            await client.send(type="unsubscribe", id="k")
            await client.barrier()
        assert len(hub.groups) == 1  # the last subscriber gone, the group goes too
    finally:
        for context, _ in clients:
            await context.__aexit__(None, None, None)


async def _open(instance: Instance, user: User) -> Any:
    context = live(instance, user=user)
    return context, await context.__aenter__()


async def test_a_burst_of_changes_runs_the_query_once(instance: Instance) -> None:
    user = await new_user(instance)
    app = instance.app
    async with live(instance, user=user) as client:
        await client.subscribe("k", "keys.list")
        runs = instance.hub.stats.runs
        db = await open_unit_of_work(app.state.sessionmaker, write=True, user_id=user.id)
        async with db:
            await keys_service.create_key(
                db, user.id, name="one", expires_in_days=None, prefix="ea_"
            )
            for _ in range(20):  # a burst: 21 changes reach the hub before it runs anything
                record_change(db, Change("api_keys", "update", uuid.uuid4(), user.id))
            await commit_and_publish(db, app.state.changes)
        result = await client.result("k", lambda d: d["data"])
        assert result["version"] == 2
        assert instance.hub.stats.runs - runs == 1
        assert await client.barrier() == []


async def test_server_heartbeats(make_instance: InstanceFactory) -> None:
    instance = await make_instance(realtime_heartbeat_seconds=0.05)
    user = await new_user(instance)
    async with live(instance, user=user) as client:
        await client.subscribe("k", "keys.list")
        async with asyncio.timeout(10):
            while (await client.ws.recv()) != '{"type":"ping"}':
                pass
        await client.send(type="pong")  # answering is allowed, and ignored
        assert await client.barrier() == []


async def _new_chat(instance: Instance, user: User) -> tuple[uuid.UUID, uuid.UUID]:
    """A session with one user message and an assistant answer still streaming."""
    app = instance.app
    async with await open_unit_of_work(app.state.sessionmaker, write=True, user_id=user.id) as db:
        session, _ = await chat_service.get_or_create_session(db, user.id, uuid.uuid4(), "offline")
        await chat_service.add_message(db, session, role="user", content="Hello?")
        answer = await chat_service.add_message(
            db, session, role="assistant", content="", status="streaming"
        )
        await commit_and_publish(db, app.state.changes)
    return session.id, answer.id


async def _flush_answer(
    instance: Instance, user: User, session_id: uuid.UUID, message_id: uuid.UUID, text: str
) -> None:
    """What the chat feature does while an answer streams: write the text so far, commit."""
    app = instance.app
    async with await open_unit_of_work(app.state.sessionmaker, write=True, user_id=user.id) as db:
        message = await db.get(Message, message_id)
        assert message is not None
        message.content = text
        chat_service.message_changed(db, message)
        await commit_and_publish(db, app.state.changes)


def _last_message_is(text: str) -> Callable[[Any], bool]:
    return lambda data: bool(data["data"][-1]["content"] == text)


async def test_chat_messages_follow_a_streaming_answer(instance: Instance) -> None:
    user = await new_user(instance)
    async with live(instance, user=user) as client:
        assert (await client.subscribe("s", "chat.sessions"))["data"]["data"] == []
        session_id, answer_id = await _new_chat(instance, user)
        sessions = await client.result("s", lambda d: d["data"])
        assert ids(sessions["data"]) == [str(session_id)]

        first = await client.subscribe("m", "chat.messages", session_id=str(session_id))
        assert [m["role"] for m in first["data"]["data"]] == ["user", "assistant"]
        assert first["data"]["has_more"] is False

        for text in ("Hel", "Hello the", "Hello there!"):
            await _flush_answer(instance, user, session_id, answer_id, text)
            update = await client.result("m", _last_message_is(text))
            assert update["data"]["data"][-1]["status"] == "streaming"
        # A message write changes no session row: chat.sessions stays quiet.
        assert await client.barrier() == []

        window = await client.subscribe(
            "last", "chat.messages", session_id=str(session_id), limit=1
        )
        assert [m["role"] for m in window["data"]["data"]] == ["assistant"]
        assert window["data"]["has_more"] is True

        async with instance.http(**user.bearer) as http:
            deleted = await http.delete(f"/api/chat/sessions/{session_id}")
        assert deleted.status_code == 204
        ended = await client.error("m")
        assert ended["code"] == "not_found"
        await client.result("s", lambda d: d["data"] == [])


async def test_chat_messages_of_another_users_session_is_not_found(instance: Instance) -> None:
    owner, other = await new_user(instance), await new_user(instance)
    session_id, _ = await _new_chat(instance, owner)
    async with live(instance, user=other) as client:
        error = await client.subscribe("m", "chat.messages", session_id=str(session_id))
        assert error["type"] == "error"
        assert error["code"] == "not_found"
        missing = await client.subscribe("x", "chat.messages", session_id=str(uuid.uuid4()))
        assert missing["code"] == "not_found"


async def test_chat_through_the_api_shows_up_live(instance: Instance) -> None:
    user = await new_user(instance)
    session_id = uuid.uuid4()
    async with live(instance, user=user) as client:
        await client.subscribe("s", "chat.sessions")
        async with instance.http(**user.bearer) as http:
            reply = await http.post(
                "/api/chat",
                json={
                    "content": "Hi there",
                    "model": "offline",
                    "session_id": str(session_id),
                    "stream": False,
                },
            )
        assert reply.status_code == 200, reply.text
        await client.result("s", lambda d: ids(d) == [str(session_id)])
        done = await client.subscribe("m", "chat.messages", session_id=str(session_id))
        if done["data"]["data"][-1]["status"] != "complete":
            # The answer's final write may land just after the reply: wait for it, live.
            done = await client.result("m", lambda d: d["data"][-1]["status"] == "complete")
        rows = done["data"]["data"]
        assert [m["role"] for m in rows] == ["user", "assistant"]
        assert rows[1]["content"] == reply.json()["messages"][0]["text"]


async def test_session_rows_only_for_their_session(instance: Instance) -> None:
    """A message of another of the user's sessions does not re-run chat.messages."""
    user = await new_user(instance)
    first_id, _ = await _new_chat(instance, user)
    async with live(instance, user=user) as client:
        await client.subscribe("m", "chat.messages", session_id=str(first_id))
        runs = instance.hub.stats.runs
        second_id, answer_id = await _new_chat(instance, user)
        await _flush_answer(instance, user, second_id, answer_id, "elsewhere")
        assert await client.barrier() == []
        assert instance.hub.stats.runs == runs


async def test_a_lone_change_runs_at_once(make_instance: InstanceFactory) -> None:
    """The debounce window is for changes that arrive during a run, not a delay on every
    write."""
    instance = await make_instance(realtime_debounce_ms=5000)
    user = await new_user(instance)
    async with live(instance, user=user) as client:
        await client.subscribe("k", "keys.list")
        for n in range(3):
            await create_key(instance, user, f"key {n}")
            result = await client.result("k")
            assert len(result["data"]["data"]) == n + 1
        assert instance.hub.stats.debounced == 0


async def _forever() -> None:
    await asyncio.Event().wait()


async def test_the_watchdog_pings_idle_sockets_and_drops_stuck_ones(instance: Instance) -> None:
    user = await new_user(instance)
    hub = instance.hub
    identity = Identity(user_id=user.id, role="user", via="bearer")
    idle, stuck, busy = (hub.connect(identity, "websocket") for _ in range(3))
    assert isinstance(idle, Connection)
    assert isinstance(stuck, Connection)
    assert isinstance(busy, Connection)
    writer = asyncio.create_task(_forever())  # stands in for a socket's writer
    try:
        for conn in (idle, stuck, busy):
            conn.writer = writer
            conn.last_sent = 100.0
        stuck.sending_since = 101.0  # blocked since then
        busy.sending_since = 109.5  # sending, but not for long
        hub.watch(now=111.0, heartbeat=10.0, send_timeout=10.0)
        assert await idle.outbox.get(0) == '{"type":"ping"}'
        assert idle.close_reason is None
        assert stuck.close_reason == (4008, "slow_consumer")
        assert busy.close_reason is None
        assert len(busy.outbox) == 0  # a socket that is sending needs no heartbeat
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        assert writer.cancelled()  # the blocked send was interrupted
    finally:
        writer.cancel()
        for conn in (idle, stuck, busy):
            hub.disconnect(conn)
