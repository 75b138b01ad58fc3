"""uvicorn's httptools protocol, with what a connection writes in one turn of the event loop
sent as one write.

uvicorn writes a response's head and its body with a `transport.write` each: two `send`
system calls for every response, a tenth of a cached task list's CPU under load. Here the
connection's transport holds the writes made while the current callback runs and sends them
together as soon as it returns (`loop.call_soon`), so nothing waits longer than that
callback: a stream's events still leave on the turn they are written. A WebSocket writes
each frame whole, so an upgraded connection gets the socket's own transport back (held
writes would only make a frame sent to 1,000 sockets wait for all of them).

`everything-app serve` runs uvicorn with `http=HTTP_PROTOCOL`, and so do the tests' servers
of the app (`everything_app.testing.serve(..., http=HTTP_PROTOCOL)`).
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HTTP_PROTOCOL = "everything_app.core.http_protocol:CoalescingHttpToolsProtocol"


class CoalescingTransport:
    """A transport that sends a turn's writes as one; everything else is the real one's.

    Closing sends what is held first; aborting drops it, as aborting drops the real
    transport's buffer. Writes held when the connection is lost are dropped with it."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.real = transport
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        # A copy of anything mutable: the caller may reuse its buffer once write returns.
        chunk = data if isinstance(data, bytes) else bytes(data)
        if self._held is None:
            self._held = [chunk]
            self._loop.call_soon(self.flush)
        else:
            self._held.append(chunk)

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        held, self._held = self._held, None
        if held and not self._transport.is_closing():
            self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def get_write_buffer_size(self) -> int:
        held = sum(len(chunk) for chunk in self._held or ())
        return held + self._transport.get_write_buffer_size()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held = None
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # No isinstance check: uvloop's TCP transport (EVENT_LOOP=uvloop) has every method
        # of an asyncio.Transport without being one.
        coalescing: Any = CoalescingTransport(cast(asyncio.Transport, transport), self.loop)
        super().connection_made(coalescing)

    def handle_websocket_upgrade(self) -> None:
        coalescing = self.transport
        assert isinstance(coalescing, CoalescingTransport)
        coalescing.flush()
        self.transport = coalescing.real
        super().handle_websocket_upgrade()
