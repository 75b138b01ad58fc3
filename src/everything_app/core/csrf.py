"""Origin check for cookie-authenticated writes (better-auth's CSRF defence)."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from everything_app.core.errors import error_body
from everything_app.core.middleware import send_json_error

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _origin_of(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


class OriginCheckMiddleware:
    """A state-changing request that carries our session cookie must come from a trusted origin.

    Browsers attach cookies to cross-site requests, so the cookie alone proves nothing about
    who sent the request. Bearer tokens and API keys are not sent automatically, so requests
    without our cookie are left alone.
    """

    def __init__(
        self, app: ASGIApp, trusted: frozenset[str], cookie_names: tuple[str, ...]
    ) -> None:
        self.app = app
        self.trusted = trusted
        self.cookie_markers = tuple(f"{name}=".encode() for name in cookie_names)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        cookie = headers.get(b"cookie", b"")
        if not any(marker in cookie for marker in self.cookie_markers):
            await self.app(scope, receive, send)
            return
        raw = headers.get(b"origin") or headers.get(b"referer") or b""
        value = raw.decode("latin-1")
        if not value or value == "null":
            code, message = "missing_or_null_origin", "Missing or null Origin"
        elif _origin_of(value) not in self.trusted:
            code, message = "invalid_origin", "Invalid origin"
        else:
            await self.app(scope, receive, send)
            return
        for message_part in send_json_error(403, error_body(scope["path"], code, message)):
            await send(message_part)
