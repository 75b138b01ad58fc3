"""Pure ASGI middleware (no response buffering, so streams pass straight through)."""

from __future__ import annotations

import json
import logging
import os
import re
import time
from typing import Any

import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from everything_app.core.clientip import client_ip
from everything_app.core.db import database_unavailable
from everything_app.core.errors import CodedHTTPException, ServiceUnavailable, error_body
from everything_app.core.logging import get_logger, write_info_line
from everything_app.core.metrics import observe_request
from everything_app.core.validation import JsonDepth, is_json_media_type
from everything_app.settings import Settings

log = get_logger("everything_app.access")
_ACCESS_LOGGER = logging.getLogger("everything_app.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def send_json_error(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> list[Message]:
    payload = json.dumps(body).encode()
    extra = [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
    return [
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *extra,
            ],
        },
        {"type": "http.response.body", "body": payload},
    ]


# Everything is data, except the /docs page, which sets its own CSP (core.docs). API answers
# are per-user data: never let a shared cache keep them (Cache-Control).
_SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
)
_HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")


class RequestContextMiddleware:
    """Request id, client IP, security headers, one access log line per request, and the
    last-resort 500.

    It sits outside the app's own handlers so that a crash still yields our error shape
    with the request id and the security headers (Starlette's own 500 page would bypass
    every middleware). A database that cannot be reached right now (restarting, say) is no
    crash: 503 with Retry-After, wherever in the request it was found.

    The security headers go on every response, errors included; a header the response set
    itself is kept. Raw pairs, encoded once, added in the one pass over the response's own
    headers that also adds the request id.
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.hsts = settings.secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else os.urandom(16).hex()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["client_ip"] = client_ip(scope, self.settings.trusted_proxy_networks)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        defaults = _SECURITY_HEADERS
        if self.hsts or scope.get("scheme") == "https":
            defaults = (*defaults, _HSTS)

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(pair for pair in defaults if pair[0] not in present)
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = headers
            elif message["type"] == "websocket.accept":
                status = 101  # logged as the handshake's outcome; the socket lives on
            elif message["type"] == "websocket.close" and status == 500:
                status = 403  # closed before it was accepted: the handshake was refused
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            if scope["type"] == "http" and not response_started:
                for message in _error_response(exc, scope.get("path", ""), request_id):
                    await send_wrapper(message)
            else:
                log.exception("unhandled_error", path=scope.get("path"))
        finally:
            elapsed = time.perf_counter() - started
            method = scope.get("method", "WS")
            route = getattr(scope.get("route"), "path", None)  # the template, never the path
            # A socket's lifetime is no latency: WebSockets are counted, not timed.
            observe_request(method, route, status, elapsed if scope["type"] == "http" else None)
            access = {
                "method": method,
                "route": route,
                "path": scope.get("path"),
                "status": status,
                "latency_ms": round(elapsed * 1000, 2),
                "user_id": state.get("user_id"),
                "client_ip": state["client_ip"],
            }
            write_info_line(_ACCESS_LOGGER, "request", access)


def _error_response(exc: Exception, path: str, request_id: str) -> list[Message]:
    if database_unavailable(exc):  # met outside the app's own handlers
        log.warning("database_unavailable", path=path, error=repr(exc))
        error = ServiceUnavailable()
        body = error_body(path, error.code, error.message, status=error.status_code)
        return send_json_error(error.status_code, body, error.headers)
    log.exception("unhandled_error", path=path)
    message = f"Internal server error. Quote request id {request_id} when reporting it."
    return send_json_error(500, error_body(path, "internal_error", message, status=500))


def _parsed_as_json(content_type: bytes) -> bool:
    """Whether FastAPI will parse this body as JSON: with no content type, or a JSON one."""
    return not content_type or is_json_media_type(content_type.decode("latin-1"))


class BodyLimitMiddleware:
    """413 in our error shape for bodies over the limit, declared or streamed; 400
    `json_too_deep` for a JSON body nested deeper than MAX_JSON_DEPTH, found while the body
    streams in, before anything parses or validates it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            body = error_body(
                scope["path"], "payload_too_large", "The request body is too large.", status=413
            )
            for message in send_json_error(413, body):
                await send(message)
            return
        received = 0
        depth = JsonDepth() if _parsed_as_json(headers.get(b"content-type", b"")) else None

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                # An HTTPException passes through FastAPI's body parsing to our 413 handler.
                raise HTTPException(413, "The request body is too large.")
            if depth is not None and chunk and depth.feed(chunk):
                raise CodedHTTPException(
                    400,
                    f"The JSON body is nested more than {depth.limit} levels deep.",
                    code="json_too_deep",
                )
            return message

        await self.app(scope, counting_receive, send)
