"""Every route says who may call it, where its router is built.

A route is authenticated unless it says otherwise: a feature's router carries its auth
dependency (`APIRouter(dependencies=[Depends(require_user), ...])`), and a route anyone may
call says so with `PUBLIC` (sign-in, health, the docs), one that authenticates in its own
handshake with `SELF_AUTHENTICATED` (the realtime WebSocket). `tests/test_route_access.py`
walks every route the app serves: each one not marked must refuse an anonymous caller with a
401, so a route that forgot its dependency fails the suite rather than opening up.
"""

from __future__ import annotations

from fastapi import Depends


# Both markers are coroutines: FastAPI runs a plain `def` dependency in its thread pool, a
# thread hop on every request of every public route (get-session, health) for nothing.
async def public() -> None:
    """Marks a route (or a router) open to anyone, deliberately. Does nothing at run time."""


async def self_authenticated() -> None:
    """Marks a WebSocket route that authenticates in its handshake (closing the socket with
    an auth close code) rather than through a dependency. Does nothing at run time."""


PUBLIC = Depends(public)
SELF_AUTHENTICATED = Depends(self_authenticated)
