"""The ASGI responses that run one completion against the provider and tell the client.

`CompletionResponse` renders our provider events (any provider, streamed or not);
`RelayResponse` passes an OpenAI upstream's own chunks on to a streaming OpenAI client.

Why response classes of their own rather than `StreamingResponse`:
- the status is decided by the provider's first event: a failure before anything was
  generated is an HTTP error (the SDK raises `APIStatusError`), a later one an in-stream
  `{"error": …}` event;
- a client that disconnects stops the upstream at once, even while the provider is silent
  (Starlette only notices a disconnect on some servers, and only when a write fails);
- whatever happened, the outcome is recorded once the answer is over.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from everything_app.ai import Finish, OpenAIChunk, ProviderError, StreamEvent, Usage
from everything_app.core.errors import openai_error_body
from everything_app.core.logging import get_logger
from everything_app.core.sse import json_bytes, until_disconnect
from everything_app.gateway import wire
from everything_app.gateway.inflight import InFlight
from everything_app.gateway.usage import UsageStatus

log = get_logger(__name__)

_SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # nginx and friends: pass each event straight on
]


@dataclass
class Outcome:
    """What is known when the answer ends; `canceled` until it finishes or fails."""

    usage: Usage | None = None
    status: UsageStatus = "canceled"


OnDone = Callable[[Outcome], Awaitable[None]]


class _GatewayResponse(Response):
    """Runs `_produce` until it ends or the client leaves, then reports the outcome."""

    def __init__(self, *, on_done: OnDone, inflight: InFlight) -> None:
        super().__init__()
        # Only headers other code adds (dependencies' response headers) are kept; the body's
        # own are chosen once the outcome (a stream, a JSON answer or an error) is known.
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self._on_done = on_done
        self._inflight = inflight
        self._reported = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._inflight.enter()
        outcome = Outcome()
        try:
            await until_disconnect(self._produce(send, outcome), receive)
        except Exception:
            outcome.status = "error"  # a bug of ours; the middleware answers 500 if it can
            raise
        finally:
            # An answer cut short (the client left, a bug) is reported here.
            await self._report(outcome)
        if self.background is not None:
            await self.background()

    async def _report(self, outcome: Outcome) -> None:
        """The usage row, once. Shielded: a server shutting down must not lose the row of an
        answer it served."""
        if self._reported:
            return
        self._reported = True
        done = asyncio.ensure_future(self._on_done(outcome))
        done.add_done_callback(lambda _: self._inflight.exit())
        await asyncio.shield(done)

    async def _end(self, send: Send, outcome: Outcome, body: bytes) -> None:
        """The body's last bytes, after the usage row (never before the first byte): a client
        holding the whole answer can read its usage at once (`GET /api/usage`)."""
        await self._report(outcome)
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def _produce(self, send: Send, outcome: Outcome) -> None:
        raise NotImplementedError

    async def _start_stream(self, send: Send) -> None:
        start = {
            "type": "http.response.start",
            "status": 200,
            "headers": self._all_headers(_SSE_HEADERS),
        }
        await send(start)

    async def _send_error(self, send: Send, outcome: Outcome, error: ProviderError) -> None:
        outcome.status = "error"
        body = _error_object(error)
        await self._send_json(send, outcome, error.status_code, body, error.headers)

    async def _send_json(
        self,
        send: Send,
        outcome: Outcome,
        status: int,
        body: dict[str, Any],
        extra: dict[str, str] | None = None,
    ) -> None:
        payload = json_bytes(body)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (extra or {}).items()),
        ]
        await send(
            {"type": "http.response.start", "status": status, "headers": self._all_headers(headers)}
        )
        await self._end(send, outcome, payload)

    def _all_headers(self, own: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        return [*own, *self.raw_headers]


class RelayResponse(_GatewayResponse):
    """An OpenAI upstream's stream passed on to an OpenAI client, chunk for chunk.

    No conversion to our events and back: each network read's chunks are parsed once
    (pydantic-core), get our model id, and go out in one write. The status is still decided
    by the upstream's first meaningful chunk (an earlier failure is an HTTP error), a later
    failure is an in-stream error event, and `[DONE]` is ours, sent only for a finished
    answer.
    """

    def __init__(
        self,
        chunks: AsyncGenerator[list[OpenAIChunk], None],
        *,
        model: str,
        include_usage: bool,
        on_done: OnDone,
        inflight: InFlight,
    ) -> None:
        super().__init__(on_done=on_done, inflight=inflight)
        self._chunks = chunks
        self._relay = wire.ChunkRelay(model, include_usage=include_usage)

    async def _produce(self, send: Send, outcome: Outcome) -> None:
        relay = self._relay
        async with aclosing(self._chunks) as chunks:
            try:
                first = await anext(chunks, None)
            except ProviderError as error:
                await self._send_error(send, outcome, error)
                return
            await self._start_stream(send)
            # Every write passes the whole middleware stack: what comes once the answer has
            # finished (finish reason, usage, [DONE]) goes out with the end of the body.
            tail = b""
            try:
                batch = first
                while batch is not None:
                    data = relay.encode(batch)
                    outcome.usage = relay.usage
                    if relay.finished:
                        tail += data
                    elif data:
                        await _body(send, data)
                    batch = await anext(chunks, None)
            except Exception as exc:
                outcome.status = "error"
                tail = wire.sse(_error_object(exc))
            else:
                outcome.status = "complete"
                tail += relay.end()
        await self._end(send, outcome, tail)


class CompletionResponse(_GatewayResponse):
    def __init__(
        self,
        events: AsyncGenerator[StreamEvent, None],
        *,
        model: str,
        stream: bool,
        include_usage: bool,
        on_done: OnDone,
        inflight: InFlight,
    ) -> None:
        super().__init__(on_done=on_done, inflight=inflight)
        self._events = events
        self._model = model
        self._stream = stream
        self._include_usage = include_usage

    async def _produce(self, send: Send, outcome: Outcome) -> None:
        if self._stream:
            await self._produce_stream(send, outcome)
        else:
            await self._produce_json(send, outcome)

    async def _produce_stream(self, send: Send, outcome: Outcome) -> None:
        encoder = wire.ChunkEncoder(self._model, include_usage=self._include_usage)
        async with aclosing(self._events) as events:
            try:
                first = await anext(events, None)
            except ProviderError as error:
                await self._send_error(send, outcome, error)
                return
            await self._start_stream(send)
            head = encoder.start() + (encoder.event(first) if first is not None else b"")
            outcome.usage = first if isinstance(first, Usage) else None
            await _body(send, head)
            # Every write passes the whole middleware stack: the last chunks (finish reason,
            # usage, [DONE]) and the end of the body go out as one.
            tail = b""
            try:
                async for event in events:
                    if isinstance(event, Usage):
                        outcome.usage = event
                    data = encoder.event(event)
                    if isinstance(event, Finish):
                        tail = data
                    elif data:
                        await _body(send, data)
            except Exception as exc:
                outcome.status = "error"
                tail = wire.sse(_error_object(exc))
            else:
                outcome.status = "complete"
                tail += encoder.end(outcome.usage)
        await self._end(send, outcome, tail)

    async def _produce_json(self, send: Send, outcome: Outcome) -> None:
        builder = wire.CompletionBuilder(self._model)
        async with aclosing(self._events) as events:
            try:
                async for event in events:
                    if isinstance(event, Usage):
                        outcome.usage = event
                    builder.feed(event)
            except ProviderError as error:
                await self._send_error(send, outcome, error)
                return
        outcome.status = "complete"
        await self._send_json(send, outcome, 200, builder.body(outcome.usage))


def _error_object(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, ProviderError):
        return openai_error_body(exc.status_code, exc.code, exc.message)
    # A bug of ours after the stream started: logged, and the client still gets a clean end.
    log.error("gateway_stream_failed", error=type(exc).__name__, exc_info=exc)
    return openai_error_body(500, "internal_error", "The gateway failed while answering.")


async def _body(send: Send, data: bytes) -> None:
    await send({"type": "http.response.body", "body": data, "more_body": True})
