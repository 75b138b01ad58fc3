"""The better-auth session cookie: `better-auth.session_token`, signed, URL-encoded."""

from __future__ import annotations

from urllib.parse import quote, unquote

from starlette.requests import HTTPConnection, cookie_parser
from starlette.responses import Response

from everything_app.core.security import sign, unsign
from everything_app.settings import Settings

COOKIE_NAME = "better-auth.session_token"
SECURE_COOKIE_NAME = "__Secure-" + COOKIE_NAME


def cookie_name(settings: Settings) -> str:
    return SECURE_COOKIE_NAME if settings.secure_cookies else COOKIE_NAME


def _header(settings: Settings, value: str, max_age: int | None) -> str:
    parts = [f"{cookie_name(settings)}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if settings.secure_cookies:
        parts.append("Secure")
    return "; ".join(parts)


def set_session_cookie(
    response: Response, settings: Settings, token: str, *, remember: bool = True
) -> None:
    # Written by hand: better-auth encodes with encodeURIComponent, whereas Python's cookie
    # module would wrap the signature's base64 padding in quotes.
    value = quote(sign(token, settings.secret), safe="")
    max_age = settings.session_ttl_seconds if remember else None
    response.headers.append("set-cookie", _header(settings, value, max_age))


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.headers.append("set-cookie", _header(settings, "", 0))


def read_session_cookie(conn: HTTPConnection, settings: Settings) -> str | None:
    """The token inside a validly signed session cookie, else None.

    The one reading of the cookie: HTTP requests (auth.deps, which also decides CSRF from it)
    and realtime handshakes both come here. Every `Cookie` header counts, joined as HTTP/2
    prescribes (Starlette's `conn.cookies` reads only the first), and Starlette's parser
    trims names, so `name =value` is the cookie `name`, as browsers and better-auth read it.
    """
    header = "; ".join(conn.headers.getlist("cookie"))
    raw = cookie_parser(header).get(cookie_name(settings))
    if not raw:
        return None
    key = (settings.secret, raw)
    token = _VERIFIED.get(key)
    if token is None:
        token = unsign(unquote(raw) if "%" in raw else raw, settings.secret)
        if token is not None:
            if len(_VERIFIED) >= _VERIFIED_MAX:
                _VERIFIED.clear()
            _VERIFIED[key] = token
    return token


# Cookies whose signature checked out, and their tokens: a browser sends the same cookie on
# every request, and its HMAC is the same every time. Only validly signed values get in (so
# nobody can fill it without the secret); what the token is worth (revoked, expired) is
# decided after, on every request, by the credential cache.
_VERIFIED: dict[tuple[str, str], str] = {}
_VERIFIED_MAX = 10_000
