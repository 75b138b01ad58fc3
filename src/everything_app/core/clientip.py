"""The client's address, believing X-Forwarded-For only from configured proxies."""

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
