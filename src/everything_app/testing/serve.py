"""Run an ASGI app on a real uvicorn server inside the current event loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import uvicorn
from starlette.types import ASGIApp


@contextlib.asynccontextmanager
async def serve(
    app: ASGIApp,
    *,
    shutdown_timeout: int = 5,
    ws: str = "none",
    http: str = "httptools",
    backlog: int = 128,
) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1 at a free port; yields the base URL (`http://127.0.0.1:N`).
    `ws` is uvicorn's WebSocket implementation ("none": plain HTTP only), `http` its HTTP
    protocol (the app's own: `everything_app.core.http_protocol.HTTP_PROTOCOL`).

    The socket is bound and listening before uvicorn starts, so the URL is usable the moment it
    is yielded: connections made early wait in the listen backlog. No polling of
    `server.started` is needed, and there is no race for the port.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Accepted connections inherit this: without it, small streamed chunks on a reused
    # connection can wait ~40 ms for Nagle's algorithm on the plain asyncio loop.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(backlog)
    sock.setblocking(False)
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_config=None,
        log_level="warning",
        http=http,
        ws=ws,
        timeout_graceful_shutdown=shutdown_timeout,
        # Above clients' idle timeouts (httpx and Node: 5 s), as `serve` does: a request sent
        # on a connection the server is closing would be reset.
        timeout_keep_alive=75,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=shutdown_timeout + 1)
        except TimeoutError:
            server.force_exit = True
            await task
        sock.close()
