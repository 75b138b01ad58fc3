"""`WS /api/realtime`: one reader and one writer per socket, around a hub Connection.

The reader parses client messages and answers through the connection's outbox; the writer
is the only one that sends. A send that does not complete within the send timeout (the
client stopped reading and the TCP buffers are full) ends the socket as a slow consumer.
"""

from __future__ import annotations

import asyncio
import contextlib

from starlette.websockets import WebSocket

from everything_app.core.logging import get_logger
from everything_app.realtime.connection import Connection
from everything_app.realtime.hub import Hub
from everything_app.realtime.identity import Refused, authenticate
from everything_app.realtime.protocol import (
    CLOSE_INTERNAL_ERROR,
    CLOSE_SLOW_CONSUMER,
    CLOSE_TRY_AGAIN_LATER,
    PONG_FRAME,
    Ping,
    ProtocolError,
    Subscribe,
    Unsubscribe,
    parse_client_message,
)
from everything_app.realtime.setup import Realtime
from everything_app.settings import Settings

log = get_logger(__name__)
CLOSE_TIMEOUT_SECONDS = 2.0


async def realtime_socket(websocket: WebSocket) -> None:
    """Live queries over WebSocket (protocol in the README)."""
    realtime: Realtime = websocket.app.state.realtime
    settings = realtime.settings
    try:
        # Gated: a reconnect storm (every client of a restarted instance at once) queues
        # here instead of taking the whole database pool from the REST API.
        async with realtime.hub.handshakes:
            identity = await authenticate(
                websocket, settings, websocket.app.state.sessionmaker, websocket.app.state.changes
            )
    except Refused as refused:
        # Accept, then close with a code: a browser is never shown a refused handshake's
        # HTTP status, only the close code. Nothing is sent before the close.
        await websocket.accept()
        await websocket.close(refused.code, refused.reason)
        return
    except Exception:
        log.exception("realtime_handshake_failed")
        await websocket.accept()
        await websocket.close(CLOSE_INTERNAL_ERROR, "try_again")
        return
    websocket.state.user_id = str(identity.user_id)  # for the access log
    conn = realtime.hub.connect(identity, "websocket")
    await websocket.accept()
    if isinstance(conn, str):
        await websocket.close(CLOSE_TRY_AGAIN_LATER, conn)
        return
    try:
        reader = asyncio.create_task(_read(websocket, conn, realtime.hub, settings))
        writer = asyncio.create_task(_write(websocket, conn, settings))
        await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
        for task in (reader, writer):
            task.cancel()
        await asyncio.gather(reader, writer, return_exceptions=True)
    finally:
        realtime.hub.disconnect(conn)
    if conn.close_reason is not None and conn.close_reason[0] == CLOSE_SLOW_CONSUMER:
        log.warning("realtime_slow_consumer", user_id=str(identity.user_id))


async def _read(websocket: WebSocket, conn: Connection, hub: Hub, settings: Settings) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text is None:
            try:
                text = (message.get("bytes") or b"").decode()
            except UnicodeDecodeError:
                conn.send_error(None, "invalid_message", "Send JSON text messages.")
                continue
        try:
            handle_message(hub, conn, text, settings.realtime_max_message_bytes)
        except Exception:  # a bug met by one message must not end the connection
            log.exception("realtime_message_failed")
            conn.send_error(None, "internal_error", "The message could not be handled.")


def handle_message(hub: Hub, conn: Connection, text: str, max_bytes: int) -> None:
    try:
        message = parse_client_message(text, max_bytes)
    except ProtocolError as error:
        conn.send_error(error.sub_id, error.code, error.message)
        return
    if isinstance(message, Subscribe):
        hub.subscribe(conn, message.id, message.query, message.args, patch=message.patch)
    elif isinstance(message, Unsubscribe):
        hub.unsubscribe(conn, message.id)
    elif isinstance(message, Ping):
        conn.send(PONG_FRAME)
    # A pong (the answer to our heartbeat) needs nothing.


async def _write(websocket: WebSocket, conn: Connection, settings: Settings) -> None:
    """Send what the outbox holds. No timer per message: the hub's watchdog sends heartbeats
    to idle sockets and interrupts a send blocked longer than the send timeout (`stall`),
    since an `asyncio.timeout` around every send and every wait cost more than the send."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    conn.writer = task
    conn.last_sent = loop.time()
    while conn.close_reason is None:
        text = await conn.outbox.get()
        if conn.close_reason is not None:
            break  # a revoked session gets nothing more, not even what is queued
        if text is None:
            continue
        conn.sending_since = loop.time()
        try:
            await websocket.send_text(text)
        except asyncio.CancelledError:
            # `stall` (the slow-consumer close is set): go on to close; anything else: end.
            stalled = conn.close_reason is not None and conn.close_reason[0] == CLOSE_SLOW_CONSUMER
            if not stalled or task is None or task.uncancel() > 0:
                raise
            break
        conn.last_sent = loop.time()
        conn.sending_since = 0.0
    code, reason = conn.close_reason or (CLOSE_SLOW_CONSUMER, "slow_consumer")
    # The close frame queues behind unsent data: a client that never reads never gets it,
    # and the socket is dropped when this handler returns.
    with contextlib.suppress(Exception):
        async with asyncio.timeout(
            max(CLOSE_TIMEOUT_SECONDS, settings.realtime_send_timeout_seconds)
        ):
            await websocket.close(code, reason)
