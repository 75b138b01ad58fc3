"""A streaming response that notices when the client goes away."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from starlette.responses import Response
from starlette.types import Receive, Scope, Send


class EventStreamResponse(Response):
    """Sends `body` as `text/event-stream`, watching for `http.disconnect` all the while.

    Starlette's `StreamingResponse` only learns of a disconnect when a write fails (ASGI spec
    2.4), so a stalled stream would never notice. Here a listener runs beside the producer;
    when the client leaves first, the producer is cancelled and `on_disconnect` runs.
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        body: AsyncIterator[bytes],
        *,
        on_disconnect: Callable[[], None],
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(
            headers={"cache-control": "no-cache", **(headers or {})},
            media_type=self.media_type,
        )
        # Content-Length 0 from the empty initial body would make clients stop reading at once.
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self._body_iterator = body
        self._on_disconnect = on_disconnect
        self._finished = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        producer = asyncio.create_task(self._produce(send))
        listener = asyncio.create_task(self._listen(receive))
        try:
            await asyncio.wait({producer, listener}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (producer, listener):
                task.cancel()
            await asyncio.gather(producer, listener, return_exceptions=True)
        error = None if producer.cancelled() else producer.exception()
        if error is not None:
            raise error

    async def _produce(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        async for chunk in self._body_iterator:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        self._finished = True

    async def _listen(self, receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                # After the last byte went out, a disconnect is a normal connection close.
                if not self._finished:
                    self._on_disconnect()
                return
