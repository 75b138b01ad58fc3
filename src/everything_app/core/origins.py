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

from ada_url import URL, check_url

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
