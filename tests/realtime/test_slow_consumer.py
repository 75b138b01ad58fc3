"""A client that stops reading costs bounded memory, stalls no one, and is disconnected."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

from everything_app.chat import service as chat_service
from everything_app.chat.models import Message
from everything_app.core.changes import commit_and_publish
from everything_app.core.db import open_unit_of_work
from tests.realtime.conftest import InstanceFactory
from tests.realtime.support import WAIT, Instance, User, live, new_user

BIG = 2_000_000  # characters per message: a few results fill the socket buffers


async def _big_message(instance: Instance, user: User) -> tuple[uuid.UUID, uuid.UUID]:
    app = instance.app
    async with await open_unit_of_work(app.state.sessionmaker, write=True, user_id=user.id) as db:
        session, _ = await chat_service.get_or_create_session(db, user.id, uuid.uuid4(), "offline")
        message = await chat_service.add_message(db, session, role="assistant", content="")
        await commit_and_publish(db, app.state.changes)
    return session.id, message.id


async def _rewrite(instance: Instance, user: User, message_id: uuid.UUID, marker: str) -> None:
    app = instance.app
    async with await open_unit_of_work(app.state.sessionmaker, write=True, user_id=user.id) as db:
        message = await db.get(Message, message_id)
        assert message is not None
        message.content = marker + "x" * BIG
        chat_service.message_changed(db, message)
        await commit_and_publish(db, app.state.changes)


def _starts_with(marker: str) -> Callable[[Any], bool]:
    return lambda data: bool(data["data"][0]["content"].startswith(marker))


async def test_a_slow_consumer_is_bounded_and_dropped(make_instance: InstanceFactory) -> None:
    instance = await make_instance(realtime_send_timeout_seconds=0.5)
    user = await new_user(instance)
    session_id, message_id = await _big_message(instance, user)
    args = {"session_id": str(session_id)}
    # Neither side compresses (the text would shrink to nothing) and the slow client buffers
    # at most one message before it stops reading from its socket.
    options: dict[str, Any] = {"compression": None, "max_size": None}
    async with (
        live(instance, user=user, **options) as fast,
        live(instance, user=user, via="cookie", max_queue=1, **options) as slow,
    ):
        await fast.subscribe("m", "chat.messages", **args)
        await slow.subscribe("m", "chat.messages", **args)
        (slow_conn,) = [c for c in instance.hub.connections if c.identity.via == "cookie"]

        rounds = 0
        while not slow_conn.closing.is_set():
            rounds += 1
            assert rounds <= 200, "the slow client was never detected"
            marker = f"<{rounds}>"
            await _rewrite(instance, user, message_id, marker)
            # The fast client gets every result, however stuck the slow one is.
            await fast.result("m", _starts_with(marker))
            # The slow one holds at most its latest result, never a backlog.
            assert len(slow_conn.outbox) <= 1

        assert slow_conn.close_reason == (4008, "slow_consumer")
        assert slow_conn.outbox.coalesced > 0
        code, reason = await slow.closed()
        # Its close frame waited behind the data it did not read; it gets it if it reads
        # in time, else the connection is simply dropped.
        assert (code, reason) in ((4008, "slow_consumer"), (None, None))
        async with asyncio.timeout(WAIT):
            await fast.barrier()
