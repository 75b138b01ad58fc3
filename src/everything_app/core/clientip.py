"""The client's address and the scheme it used, believing X-Forwarded-For and
X-Forwarded-Proto only from configured proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _is_trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_ip(scope: Scope, proxies: Sequence[Network]) -> str:
    """The first untrusted hop, reading X-Forwarded-For from the right.

    Without trusted proxies the header is ignored: otherwise any client could forge its
    address and escape its rate-limit bucket.
    """
    peer = scope.get("client")
    direct = peer[0] if peer else "unknown"
    if not proxies or not _is_trusted(direct, proxies):
        return direct
    forwarded = b",".join(v for k, v in scope["headers"] if k == b"x-forwarded-for")
    hops = [hop.strip() for hop in forwarded.decode("latin-1").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, proxies):
            return hop
    return hops[0] if hops else direct


_SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}


def client_scheme(scope: Scope, proxies: Sequence[Network]) -> str:
    """`http` or `https`: what the client used to reach us. A trusted proxy's
    X-Forwarded-Proto says it when the proxy ended TLS; from anyone else (or when it is not one
    plain value) the header is ignored and the connection's own scheme answers, which behind a
    TLS-terminating proxy can only make an `https` client look foreign, never the reverse."""
    own = _SCHEMES.get(str(scope.get("scheme", "http")), "http")
    peer = scope.get("client")
    if not proxies or not peer or not _is_trusted(peer[0], proxies):
        return own
    values = [v for k, v in scope["headers"] if k == b"x-forwarded-proto"]
    if len(values) != 1:
        return own
    forwarded = values[0].decode("latin-1").strip().lower()
    return forwarded if forwarded in ("http", "https") else own
