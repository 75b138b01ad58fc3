"""`GET /api/realtime/events`: one live query as a Server-Sent Events stream.

For clients without WebSocket (EventSource, curl). Each event's `data` is one protocol
message, exactly as on the WebSocket; a `: ping` comment is the heartbeat. Errors known
before the stream starts (unknown query, bad arguments, another user's session) are plain
HTTP errors instead, so EventSource stops rather than reconnecting forever.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from everything_app.core.errors import AppError
from everything_app.core.sse import PING, event, until_disconnect
from everything_app.realtime.connection import Connection
from everything_app.realtime.hub import Hub
from everything_app.realtime.protocol import CLOSE_GOING_AWAY, CLOSE_SLOW_CONSUMER, error_frame

FIRST_RESULT_SECONDS = 30.0
HEADERS = {"X-Accel-Buffering": "no"}  # nginx would otherwise buffer the stream
_STATUS = {
    "unknown_query": 400,
    "invalid_args": 422,
    "forbidden": 403,
    "not_found": 404,
    "rate_limited": 429,
}


async def first_message(conn: Connection, sub_id: str) -> str | None:
    """Wait for the subscription's first result; raise its error as an HTTP error."""
    text = await conn.outbox.get(FIRST_RESULT_SECONDS)
    if sub_id in conn.subscriptions or text is None:
        return text
    error: dict[str, Any] = json.loads(text)
    code = error.get("code", "bad_request")
    raise AppError(
        error.get("message"),
        code=code,
        status_code=_STATUS.get(code, 400),
        details=error.get("details") or (),
    )


async def _nothing() -> AsyncIterator[bytes]:  # pragma: no cover - never iterated
    return
    yield b""


class EventStream(StreamingResponse):
    """Streams a hub connection's outbox; ends when the client leaves, the connection is
    closed (revoked session, shutdown) or the client stops reading."""

    media_type = "text/event-stream"

    def __init__(
        self, hub: Hub, conn: Connection, first: str | None, *, heartbeat: float, timeout: float
    ) -> None:
        super().__init__(_nothing(), headers=HEADERS)
        self.hub, self.conn, self.first = hub, conn, first
        self.heartbeat, self.timeout = heartbeat, timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if await until_disconnect(self._pump(send), receive):
                self.conn.close(CLOSE_GOING_AWAY, "client_left")
        finally:
            self.hub.disconnect(self.conn)

    async def _pump(self, send: Send) -> None:
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async for chunk in self._events():
                async with asyncio.timeout(self.timeout):
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except (TimeoutError, OSError):
            self.conn.close(CLOSE_SLOW_CONSUMER, "slow_consumer")

    async def _events(self) -> AsyncIterator[bytes]:
        if self.first is not None:
            yield event(self.first)
        while self.conn.close_reason is None:
            text = await self.conn.outbox.get(self.heartbeat)
            if self.conn.close_reason is not None:
                break
            yield event(text) if text is not None else PING
        code, reason = self.conn.close_reason
        if reason != "client_left":
            closed = error_frame(None, reason, f"The stream was closed ({code}).")
            yield event(closed)
