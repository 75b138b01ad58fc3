"""Admission control for answers (chat.admission): a bounded number generate at once, a short
line waits its turn, and past that a clear 503 `chat_busy` with Retry-After, never a hang."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest

from everything_app.chat.admission import Admission
from everything_app.chat.generation import Generations
from everything_app.core.errors import ServiceUnavailable
from everything_app.testing.script import Reply, Stall
from tests.chat.conftest import (
    ChatServer,
    parse_sse,
    signed_in_client,
    start_chat_server,
    ui_chat_body,
)


def _generations(server: ChatServer) -> Generations:
    generations: Generations = server.app.state.generations
    return generations


@pytest.fixture
async def one_at_a_time(database_url: str, tmp_path: Path) -> AsyncIterator[ChatServer]:
    """One answer at a time, one place in line, a long wait (the tests release the line)."""
    async with AsyncExitStack() as stack:
        yield await start_chat_server(
            stack,
            database_url,
            tmp_path,
            chat_max_generations=1,
            chat_queue_size=1,
            chat_queue_wait_seconds=60,
        )


def _assert_busy(response: httpx.Response) -> None:
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1
    error = response.json()["error"]
    assert error["code"] == "chat_busy"
    assert error["message"]
    assert "details" in error


async def _text(response: httpx.Response) -> str:
    events = parse_sse(response.text)
    assert events[-1] == "[DONE]"
    return "".join(e["delta"] for e in events if e != "[DONE]" and e["type"] == "text-delta")


async def test_a_full_line_is_refused_at_once_and_admitted_answers_complete(
    one_at_a_time: ChatServer,
) -> None:
    server = one_at_a_time
    script = server.openai.script
    admission = _generations(server).admission
    script.push(Stall(text_before="first ", then=Reply(text="answer")))
    async with signed_in_client(server) as client:
        first = asyncio.create_task(
            client.post("/api/chat", json=ui_chat_body("a-1", "go", model="gpt-test"))
        )
        await asyncio.wait_for(script.stalled.wait(), 10)  # generating: the only slot taken
        second = asyncio.create_task(
            client.post("/api/chat", json={"content": "queued", "model": "gpt-test"})
        )
        await asyncio.wait_for(admission.until_waiting(1), 10)  # the only place in line

        # The line is full: an AI SDK client and a seed-001 client both get the error at once.
        _assert_busy(
            await client.post("/api/chat", json=ui_chat_body("a-3", "go", model="gpt-test"))
        )
        _assert_busy(await client.post("/api/chat", json={"content": "x", "model": "gpt-test"}))
        sessions = (await client.get("/api/chat/sessions")).json()["data"]
        assert len(sessions) == 1  # a refused request wrote nothing

        script.release()
        done_first, done_second = await asyncio.wait_for(asyncio.gather(first, second), 10)
        assert done_first.status_code == 200
        assert await _text(done_first) == "first answer"
        assert done_second.status_code == 200
        assert await _text(done_second) == "Echo: queued"
    assert (admission.running, admission.waiting) == (0, 0)


async def test_waiting_too_long_is_refused(database_url: str, tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        server = await start_chat_server(
            stack,
            database_url,
            tmp_path,
            chat_max_generations=1,
            chat_queue_size=5,
            chat_queue_wait_seconds=0.05,
        )
        script = server.openai.script
        script.push(Stall(text_before="holding"))
        async with signed_in_client(server) as client:
            first = asyncio.create_task(
                client.post("/api/chat", json={"content": "hold", "model": "gpt-test"})
            )
            await asyncio.wait_for(script.stalled.wait(), 10)
            # The slot is held until released below, so this one cannot get it in time.
            _assert_busy(await client.post("/api/chat", json={"content": "x", "model": "gpt-test"}))
            script.release()
            assert (await asyncio.wait_for(first, 10)).status_code == 200
        assert _generations(server).admission.waiting == 0


async def test_json_clients_are_refused_in_the_same_shape(one_at_a_time: ChatServer) -> None:
    server = one_at_a_time
    server.openai.script.push(Stall(text_before="busy"))
    async with signed_in_client(server) as client:
        held = asyncio.create_task(
            client.post("/api/chat", json={"message": "hold", "stream": False, "model": "gpt-test"})
        )
        await asyncio.wait_for(server.openai.script.stalled.wait(), 10)
        queued = asyncio.create_task(
            client.post("/api/chat", json={"message": "next", "stream": False, "model": "gpt-test"})
        )
        await asyncio.wait_for(_generations(server).admission.until_waiting(1), 10)
        _assert_busy(
            await client.post(
                "/api/chat", json={"message": "no", "stream": False, "model": "gpt-test"}
            )
        )
        server.openai.script.release()
        replies = await asyncio.wait_for(asyncio.gather(held, queued), 10)
        assert [r.json()["status"] for r in replies] == ["complete", "complete"]


# The line itself, without a server.


def _busy(coro_result: BaseException | object) -> bool:
    return isinstance(coro_result, ServiceUnavailable) and coro_result.code == "chat_busy"


async def test_slots_go_to_the_line_in_order_and_are_counted_once() -> None:
    admission = Admission(limit=1, queue_size=2, queue_wait=60)
    held = admission.try_enter()
    assert held is not None
    assert admission.try_enter() is None
    second = asyncio.create_task(admission.enter())
    await admission.until_waiting(1)
    third = asyncio.create_task(admission.enter())
    await admission.until_waiting(2)
    with pytest.raises(ServiceUnavailable) as refused:
        await admission.enter()  # the line is full
    assert _busy(refused.value)

    held.release()
    held.release()  # a second release is a no-op
    second_slot = await second
    assert not third.done()
    assert (admission.running, admission.waiting) == (1, 1)
    second_slot.release()
    (await third).release()
    assert (admission.running, admission.waiting) == (0, 0)


async def test_a_client_leaving_the_line_gives_its_place_back() -> None:
    admission = Admission(limit=1, queue_size=1, queue_wait=60)
    held = admission.try_enter()
    assert held is not None
    leaving = asyncio.create_task(admission.enter())
    await admission.until_waiting(1)
    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert admission.waiting == 0
    await admission.quiet()  # low-priority work may go again
    held.release()
    assert admission.running == 0
    assert admission.try_enter() is not None


async def test_a_slot_handed_to_a_leaving_client_is_passed_on() -> None:
    admission = Admission(limit=1, queue_size=2, queue_wait=60)
    held = admission.try_enter()
    assert held is not None
    leaving = asyncio.create_task(admission.enter())
    await admission.until_waiting(1)
    staying = asyncio.create_task(admission.enter())
    await admission.until_waiting(2)
    held.release()  # hands the slot to `leaving`, which is cancelled before it runs
    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving
    (await staying).release()
    assert (admission.running, admission.waiting) == (0, 0)
