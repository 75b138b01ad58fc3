"""Server-sent events, written one way, and the race every stream runs against its client.

Three streams speak SSE: the OpenAI-compatible gateway (`data: {chunk}` … `data: [DONE]`), the
AI SDK's UI message stream (the same framing) and the live-query event stream (`data:` frames
and `: ping` comments). They frame events with `event()`, encode JSON with `json_bytes()`
(pydantic-core's Rust encoder), and run their producer with `until_disconnect()`, so a
client that leaves cancels the work done for it (a model stream upstream, a subscription).

FastAPI's `EventSourceResponse` fits none of them as they are: each decides its status from
the first upstream event, relays bytes it already holds, or times out a client that stops
reading; so they are plain ASGI responses sharing these pieces.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from typing import Any

from starlette.types import Receive

from everything_app.core import fastjson

__all__ = ["DONE", "PING", "event", "json_bytes", "until_disconnect"]

DONE = b"data: [DONE]\n\n"
"""The end of an OpenAI-style stream (the gateway's and the AI SDK's)."""
PING = b": ping\n\n"
"""A comment: keeps idle connections (and the proxies between) open; clients ignore it."""


def event(data: bytes | str) -> bytes:
    """One `data:` event. `data` is one line (JSON is: it escapes newlines)."""
    return b"data: " + (data.encode() if isinstance(data, str) else data) + b"\n\n"


def json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON (core.fastjson: a fraction of the stdlib's time)."""
    try:
        return fastjson.dumps(value)
    except TypeError:
        # A lone surrogate (a model may send one as an escape) is not UTF-8: escaped instead.
        return json.dumps(value, separators=(",", ":")).encode()


async def until_disconnect(produce: Awaitable[None], receive: Receive) -> bool:
    """Run `produce` until it ends or the client goes away, whichever is first; True when the
    client left (`produce` was cancelled). An error `produce` raised is raised here."""
    producer = asyncio.ensure_future(produce)
    listener = asyncio.ensure_future(_disconnected(receive))
    try:
        await asyncio.wait({producer, listener}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (producer, listener):
            task.cancel()
        await asyncio.gather(producer, listener, return_exceptions=True)
    if producer.cancelled():
        return True
    error = producer.exception()
    if error is not None:
        raise error
    return False


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
