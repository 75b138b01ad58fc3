"""Origins and redirect targets, parsed the way a browser parses them (WHATWG URL rules).

One parser for every question about where a URL points: the CSRF check (Origin, Referer),
the WebSocket/SSE handshake's Origin, CORS's list of trusted origins, and redirect targets
such as better-auth's `callbackURL`. Python's `urllib.parse` answers differently from a
browser (`/\\evil.example` and `/<TAB>/evil.example` are paths to it, `//evil.example` to a
browser), and a check is only as good as its agreement with whoever follows the URL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ada_url import URL, check_url
from starlette.requests import HTTPConnection

from everything_app.core.clientip import client_scheme

if TYPE_CHECKING:  # settings import this module (to validate origins): no import at run time
    from everything_app.settings import Settings

WEB_SCHEMES = frozenset({"http:", "https:"})


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


MISSING_ORIGIN = Refusal("missing_or_null_origin", "Missing or null Origin")
INVALID_ORIGIN = Refusal("invalid_origin", "Invalid origin")


class UntrustedURL(ValueError):
    """The URL does not parse, or does not lead to a trusted origin."""


def _parse(value: str, base: str | None = None) -> URL | None:
    try:
        return URL(value, base=base) if base is not None else URL(value)
    except ValueError:
        return None


def normalize_origin(value: str) -> str | None:
    """The serialized origin (`scheme://host[:port]`, lower-case host, IDNA, no default
    port) of an http(s) URL or origin, as a browser would send it in `Origin`; else None
    (opaque origins such as `null`, `data:` or `javascript:` included)."""
    url = _parse(value)
    if url is None or url.protocol not in WEB_SCHEMES or not url.host:
        return None
    return str(url.origin)


def trusted_origin_set(origins: Iterable[str]) -> frozenset[str]:
    """Configured origins in the form `normalize_origin` gives, so comparisons are exact."""
    normalized = set()
    for origin in origins:
        value = normalize_origin(origin)
        if value is None:
            raise ValueError(f"{origin!r} is not an http(s) origin")
        normalized.add(value)
    return frozenset(normalized)


def origin_refusal(value: str | None, trusted_origins: frozenset[str]) -> Refusal | None:
    """Why a request whose `Origin` (or `Referer`) header is `value` is not from a trusted
    origin, or None when it is (CSRF and the realtime handshakes)."""
    if not value or value == "null":
        return MISSING_ORIGIN
    if normalize_origin(value) not in trusted_origins:
        return INVALID_ORIGIN
    return None


# Characters no host[:port] has; a Host header holding one names no origin of ours.
_NOT_IN_HOST = frozenset("/\\?#@ \t\r\n")


def request_origin(conn: HTTPConnection, settings: Settings) -> str | None:
    """The origin the client addressed: its scheme (X-Forwarded-Proto from a trusted proxy,
    core.clientip) and the Host header, serialized as `normalize_origin` does; None without a
    usable Host."""
    host = conn.headers.get("host", "")
    if not host or _NOT_IN_HOST.intersection(host):
        return None
    return normalize_origin(
        f"{client_scheme(conn.scope, settings.trusted_proxy_networks)}://{host}"
    )


def connection_origin_refusal(
    conn: HTTPConnection, value: str | None, settings: Settings
) -> Refusal | None:
    """Why the `Origin` (or `Referer`) `value` of a request or handshake is not trusted, or
    None when it is: BASE_URL's origin, TRUSTED_ORIGINS, or the request's own origin. The one
    rule for the CSRF check (auth.deps) and the realtime handshakes (realtime.identity).

    The request's own origin (same-origin) is trusted so that the web app works at whatever
    address it is opened (`http://127.0.0.1:8000` while BASE_URL says `localhost`, a LAN
    address) without configuration. This is safe: the check exists because browsers attach
    our session cookie to requests that other sites' pages make, and
    - a page cannot choose the Origin its browser sends: it is the page's own origin, so an
      Origin equal to the Host we were addressed at comes from a page served by that address,
      which is this server (its own web app), and a cross-site page always sends its own,
      different, origin;
    - a page cannot choose the Host header either (the browser sets it from the URL), and
      cookies are kept per host: a request addressed at another name (DNS rebinding: a hostile
      name resolving to us) carries that name's cookies, never the session of the user's own
      address, so trusting it authenticates nothing it could not already reach without
      cookies;
    - the scheme is the connection's own, or X-Forwarded-Proto from a trusted proxy only, so an
      `http` page cannot pass for the `https` site (cookies marked Secure stay with https).
    A different port, host or scheme is another origin and stays refused unless configured.
    """
    if value and value != "null" and normalize_origin(value) == request_origin(conn, settings):
        return None
    return origin_refusal(value, settings.all_trusted_origins)


def trusted_redirect(url: str, base_url: str, trusted_origins: frozenset[str]) -> str:
    """`url` as a redirect target that can only lead to a trusted origin; else UntrustedURL.

    `url` is resolved against `base_url` as a browser would (backslashes are slashes, tabs
    and newlines vanish, `//host` names a host, `javascript:` has no origin), and the result
    must be an http(s) URL, without user info, on one of `trusted_origins` (normalized, as
    from `trusted_origin_set`). The answer is re-serialized, so nobody downstream has to parse
    it again the same way: an absolute URL stays absolute; a relative one becomes a path
    from the root (`/dashboard?tab=1`) that means the same on whichever trusted origin the
    client resolves it, or the absolute URL when its path would begin with `//`.
    """
    resolved = _parse(url, base_url)
    if (
        resolved is None
        or resolved.protocol not in WEB_SCHEMES
        or not resolved.host
        or resolved.username
        or resolved.password
        or not str(resolved.href).startswith(str(resolved.origin))
        or str(resolved.origin) not in trusted_origins
    ):
        raise UntrustedURL(url)
    href, origin = str(resolved.href), str(resolved.origin)
    if check_url(url):  # absolute on its own
        return href
    path = href[len(origin) :]  # no user info, so the href is the origin, then the path
    return href if path.startswith("//") else path
