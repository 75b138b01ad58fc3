"""`/api/realtime`: live queries over WebSocket, and one query over SSE.

The WebSocket authenticates itself (a WebSocket handshake cannot go through the request
unit of work, and must answer with close codes); the SSE route uses the usual dependencies.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from everything_app.auth import CurrentPrincipal
from everything_app.core.deps import SettingsDep
from everything_app.core.errors import AppError, BadRequest, Forbidden
from everything_app.core.routers import SELF_AUTHENTICATED
from everything_app.core.validation import MAX_JSON_DEPTH, too_deep
from everything_app.realtime.identity import Identity, Refused, check_origin
from everything_app.realtime.setup import Realtime
from everything_app.realtime.sse import EventStream, first_message
from everything_app.realtime.websocket import realtime_socket

router = APIRouter(prefix="/api/realtime", tags=["realtime"])
router.add_api_websocket_route(
    "", realtime_socket, name="realtime", dependencies=[SELF_AUTHENTICATED]
)


def _args(raw: str) -> dict[str, Any]:
    if too_deep(raw):
        raise BadRequest(
            f"`args` is nested more than {MAX_JSON_DEPTH} levels deep.", code="json_too_deep"
        )
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise BadRequest("`args` is not valid JSON.", code="invalid_json") from exc
    if not isinstance(value, dict):
        raise BadRequest("`args` must be a JSON object.", code="invalid_args")
    return value


@router.get(
    "/events",
    response_class=EventStream,
    status_code=200,  # EventStream's constructor declares none, which OpenAPI needs
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def events(
    request: Request,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    subscribe: Annotated[str, Query(min_length=1, max_length=100, description="Query name")],
    args: Annotated[str, Query(max_length=4000, description="JSON object")] = "{}",
) -> EventStream:
    """Subscribe to one live query as Server-Sent Events: each event's data is a protocol
    message (`result`, `error`, `resync`) as on the WebSocket."""
    if principal.via == "cookie":
        try:
            check_origin(request, settings, required=False)
        except Refused as refused:
            raise Forbidden("Invalid origin", code=refused.reason) from None
    raw_args = _args(args)
    realtime: Realtime = request.app.state.realtime
    conn = realtime.hub.connect(Identity.of(principal), "sse")
    if isinstance(conn, str):
        raise AppError("Too many live connections; try again later.", code=conn, status_code=503)
    try:
        realtime.hub.subscribe(conn, subscribe, subscribe, raw_args)
        first = await first_message(conn, subscribe)
    except BaseException:
        realtime.hub.disconnect(conn)
        raise
    return EventStream(
        realtime.hub,
        conn,
        first,
        heartbeat=settings.realtime_heartbeat_seconds,
        timeout=settings.realtime_send_timeout_seconds,
    )
