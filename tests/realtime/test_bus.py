"""The bus and its broker messages, against a broker stand-in (no network needed)."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from pydantic import ValidationError

from everything_app.core.changes import Change
from everything_app.realtime import payload
from everything_app.realtime.bus import RealtimeBus
from everything_app.realtime.outbox import Outbox
from everything_app.realtime.protocol import result_frame
from everything_app.settings import Settings

USER = uuid.uuid4()


def _change(table: str = "api_keys", **data: object) -> Change:
    return Change(table, "update", uuid.uuid4(), USER, dict(data))


def test_messages_round_trip_in_order_and_split_at_the_limit() -> None:
    changes = [_change(n=i) for i in range(200)]
    messages = payload.encode("me", itertools.count(1), changes, limit=1000)
    assert len(messages) > 1
    assert all(len(m.encode()) <= 1000 for m in messages)
    decoded = [c for m in messages for c in payload.decode(m).changes]
    assert decoded == changes
    shared = Change("services", "insert", uuid.uuid4(), None)
    (one,) = payload.encode("me", itertools.count(1), [shared], limit=1000)
    assert payload.decode(one).changes == [shared]


def test_oversized_data_travels_without_it() -> None:
    big = _change(text="x" * 10_000)
    (message,) = payload.encode("me", itertools.count(1), [big], limit=7900)
    (decoded,) = payload.decode(message).changes
    assert (decoded.table, decoded.row_id, decoded.data) == (big.table, big.row_id, {})


@pytest.mark.parametrize(
    "text", ["", "nope", "[]", '{"o": 1}', '{"o": "x", "c": [["t", "explode", "x", null, {}]]}']
)
def test_foreign_messages_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="not a change message"):
        payload.decode(text)


class StandInBroker:
    """Records what is sent; fails while `down`; lets a test deliver messages."""

    max_payload_bytes = 7_900

    def __init__(self) -> None:
        self.connected = asyncio.Event()
        self.sent: list[str] = []
        self.down = False
        self.deliver: Callable[[str], None] = lambda _text: None
        self.reconnected: Callable[[], None] = lambda: None
        self.sent_event = asyncio.Event()
        self.attempted = asyncio.Event()

    async def start(
        self, on_message: Callable[[str], None], on_reconnect: Callable[[], None]
    ) -> None:
        self.deliver, self.reconnected = on_message, on_reconnect
        self.connected.set()

    async def send(self, messages: list[str]) -> None:
        self.attempted.set()
        if self.down:
            raise ConnectionError("down")
        self.sent.extend(messages)
        self.sent_event.set()

    async def aclose(self) -> None:
        return None

    async def wait_sent(self, count: int) -> list[str]:
        async with asyncio.timeout(5):
            while len(self.sent) < count:
                self.sent_event.clear()
                await self.sent_event.wait()
        return self.sent


async def test_local_first_then_broker_and_no_echo() -> None:
    broker = StandInBroker()
    bus = RealtimeBus(broker)
    heard: list[Sequence[Change]] = []
    bus.listen(heard.append)
    await bus.start()
    try:
        change = _change()
        await bus.publish([change])
        assert heard == [[change]]  # delivered locally before anything is sent
        (sent,) = await broker.wait_sent(1)
        broker.deliver(sent)  # our own message coming back from the broker
        assert heard == [[change]]
        other = payload.encode("someone-else", itertools.count(1), [change], 7900)[0]
        broker.deliver(other)
        assert heard == [[change], [change]]
    finally:
        await bus.aclose()


async def test_failed_sends_make_every_other_instance_resync() -> None:
    broker = StandInBroker()
    bus = RealtimeBus(broker)
    resyncs: list[str] = []
    bus.on_resync(resyncs.append)
    await bus.start()
    try:
        broker.down = True
        await bus.publish([_change()])
        async with asyncio.timeout(5):
            await broker.attempted.wait()  # and failed
        broker.down = False
        broker.connected.set()
        broker.reconnected()  # this instance missed what others sent meanwhile
        assert resyncs == ["broker_reconnected"]
        (resync,) = await broker.wait_sent(1)
        assert payload.decode(resync).resync  # and the others must resync for what we lost
        peer = payload.encode_resync("someone-else", 1)
        broker.deliver(peer)
        assert resyncs == ["broker_reconnected", "peer_reconnected"]
    finally:
        await bus.aclose()


async def test_a_full_send_queue_drops_and_asks_for_resync() -> None:
    broker = StandInBroker()
    broker.connected.clear()
    bus = RealtimeBus(broker, queue_limit=2)
    broker.start = _no_start  # type: ignore[method-assign]
    await bus.start()
    try:
        for _ in range(5):
            await bus.publish([_change()])
        broker.connected.set()
        sent = await broker.wait_sent(3)
        assert payload.decode(sent[0]).resync
        assert len(sent) == 3  # the resync request, then the two that fitted
    finally:
        await bus.aclose()


async def _no_start(on_message: Callable[[str], None], on_reconnect: Callable[[], None]) -> None:
    return None


async def test_the_outbox_keeps_only_the_latest_result_per_subscription() -> None:
    outbox = Outbox(control_limit=2)
    for version in range(1, 100):
        outbox.put_result("a", result_frame("a", version, f'{{"n":{version}}}'))
    outbox.put_result("b", result_frame("b", 1, "[]"))
    assert len(outbox) == 2
    assert outbox.coalesced == 98
    assert outbox.put("one")
    assert outbox.put("two")
    assert not outbox.put("three")  # over the cap: the caller treats it as a slow consumer
    first = await outbox.get(1)
    assert first == '{"type":"result","id":"a","version":99,"data":{"n":99}}'
    assert await outbox.get(0) is not None
    outbox.drop_result("nothing")
    assert [await outbox.get(0), await outbox.get(0)] == ["one", "two"]
    assert await outbox.get(0) is None


async def test_a_patch_goes_out_only_if_the_client_has_its_base() -> None:
    outbox = Outbox()
    outbox.put_result("a", "whole 2", "patch 1→2")
    assert await outbox.get(0) == "patch 1→2"  # sent: the client now holds version 2
    outbox.put_result("a", "whole 3", "patch 2→3")
    outbox.put_result("a", "whole 4", "patch 3→4")  # 3 was never sent: 4 goes out whole
    assert await outbox.get(0) == "whole 4"
    assert outbox.coalesced == 1


def test_broker_settings_are_checked(tmp_path: Path) -> None:
    sqlite = f"sqlite:///{tmp_path / 'x.db'}"
    assert Settings(database_url=sqlite).realtime_broker_kind == "memory"
    postgres = "postgresql://u@h/db"
    assert Settings(database_url=postgres).realtime_broker_kind == "postgres"
    with_redis = Settings(database_url=postgres, redis_url="redis://h")
    assert with_redis.realtime_broker_kind == "redis"
    with pytest.raises(ValidationError, match="REALTIME_BROKER=postgres"):
        Settings(database_url=sqlite, realtime_broker="postgres")
    with pytest.raises(ValidationError, match="REALTIME_BROKER=redis needs REDIS_URL"):
        Settings(database_url=sqlite, realtime_broker="redis")
