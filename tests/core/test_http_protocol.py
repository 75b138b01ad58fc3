"""core.http_protocol: a response's head and body leave in one write; a stream's events leave
on the turn they are written; closing sends what is held, aborting drops it; a real server
with the protocol answers HTTP, streams and WebSockets."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import uvloop
import websockets
from fastapi import FastAPI, WebSocket
from fastapi.responses import StreamingResponse
from uvicorn import Config
from uvicorn.server import ServerState

from everything_app.core.http_protocol import (
    HTTP_PROTOCOL,
    CoalescingHttpToolsProtocol,
    CoalescingTransport,
)
from everything_app.testing.serve import serve


class RecordingTransport(asyncio.Transport):
    """What a connection's socket would be sent, one entry per `write`."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.protocol: asyncio.BaseProtocol | None = None
        self.closed = False
        self.aborted = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_write_buffer_size(self) -> int:
        return 0

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.protocol = protocol

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 8000)}.get(name)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _turns(count: int = 3) -> None:
    """Let the loop run `count` turns (call_soon callbacks scheduled now run in the first)."""
    for _ in range(count):
        await asyncio.sleep(0)


async def _answer(app: FastAPI, request: bytes) -> RecordingTransport:
    """`request` through the protocol on a recording transport, until the app has answered."""
    config = Config(app, lifespan="off", log_config=None)
    config.load()
    transport = RecordingTransport()
    protocol = CoalescingHttpToolsProtocol(config, ServerState(), app_state={})
    protocol.connection_made(transport)
    protocol.data_received(request)
    for _ in range(100):
        await _turns()
        if transport.writes and transport.writes[-1].endswith(b"done"):
            break
    return transport


async def test_a_response_head_and_body_are_one_write() -> None:
    app = FastAPI()

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"greeting": "done"}

    transport = await _answer(app, b"GET /hello HTTP/1.1\r\nHost: test\r\n\r\n")
    assert len(transport.writes) == 1
    head, _, body = transport.writes[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert body == b'{"greeting":"done"}'


async def test_stream_events_leave_on_the_turn_they_are_written() -> None:
    """Each event waits for nothing but the turn it was sent in: one write per event."""
    app = FastAPI()
    release = [asyncio.Event() for _ in range(2)]

    async def events() -> Any:
        yield b"first"
        await release[0].wait()
        yield b"second"
        await release[1].wait()
        yield b"done"

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse(events(), media_type="text/plain")

    config = Config(app, lifespan="off", log_config=None)
    config.load()
    transport = RecordingTransport()
    protocol = CoalescingHttpToolsProtocol(config, ServerState(), app_state={})
    protocol.connection_made(transport)
    protocol.data_received(b"GET /stream HTTP/1.1\r\nHost: test\r\n\r\n")
    await _turns(10)
    assert len(transport.writes) == 1  # the head and the first event, together
    assert transport.writes[0].endswith(b"5\r\nfirst\r\n")
    release[0].set()
    await _turns(10)
    assert transport.writes[1:] == [b"6\r\nsecond\r\n"]
    release[1].set()
    await _turns(10)
    assert transport.writes[2:] == [b"4\r\ndone\r\n0\r\n\r\n"]


async def test_closing_sends_what_is_held_and_aborting_drops_it() -> None:
    loop = asyncio.get_running_loop()
    closed, aborted = RecordingTransport(), RecordingTransport()
    for real in (closed, aborted):
        coalescing = CoalescingTransport(real, loop)
        coalescing.write(b"head")
        coalescing.write(memoryview(b"body"))
        assert coalescing.get_write_buffer_size() == 8
        coalescing.close() if real is closed else coalescing.abort()
    await _turns()
    assert (closed.writes, closed.closed) == ([b"headbody"], True)
    assert (aborted.writes, aborted.aborted) == ([], True)


async def test_an_upgraded_connection_writes_through_its_own_transport() -> None:
    app = FastAPI()

    @app.websocket("/ws")
    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()

    config = Config(app, lifespan="off", log_config=None, ws="websockets-sansio")
    config.load()
    transport = RecordingTransport()
    protocol = CoalescingHttpToolsProtocol(config, ServerState(), app_state={})
    protocol.connection_made(transport)
    protocol.data_received(
        b"GET /ws HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    websocket = transport.protocol
    assert websocket is not None
    assert websocket is not protocol
    assert websocket.transport is transport  # type: ignore[attr-defined]
    for _ in range(20):
        await _turns()
        if transport.writes:
            break
    assert transport.writes[0].startswith(b"HTTP/1.1 101 Switching Protocols")


async def test_a_real_server_answers_requests_streams_and_websockets() -> None:
    await _answers_requests_streams_and_websockets()


def test_a_real_server_on_uvloop_answers_too() -> None:
    """EVENT_LOOP=uvloop: its transports are not asyncio.Transport subclasses, and every
    connection used to fail an isinstance check before its request was read."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_answers_requests_streams_and_websockets())


async def _answers_requests_streams_and_websockets() -> None:
    app = FastAPI()

    @app.get("/n/{n}")
    async def echo(n: int) -> dict[str, int]:
        return {"n": n}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> Any:
            for index in range(3):
                yield f"chunk {index}\n".encode()

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.websocket("/ws")
    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:
            await websocket.send_text((await websocket.receive_text()).upper())

    async with serve(app, ws="websockets-sansio", http=HTTP_PROTOCOL) as url:
        async with httpx.AsyncClient(base_url=url) as client:  # one kept-alive connection
            answers = [(await client.get(f"/n/{n}")).json() for n in range(20)]
            assert answers == [{"n": n} for n in range(20)]
            assert (await client.get("/stream")).text == "chunk 0\nchunk 1\nchunk 2\n"
        async with websockets.connect(url.replace("http", "ws") + "/ws") as ws:
            for word in ("one", "two"):
                await ws.send(word)
                assert await ws.recv() == word.upper()
