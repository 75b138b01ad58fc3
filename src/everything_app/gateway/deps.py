"""Who may call the gateway, and the per-key rate limit.

Each dependency takes only the request and calls the ones it builds on directly (the caller
is resolved once per request, see auth.deps): FastAPI 0.165 re-derives every node of a
route's dependency tree on every request, which was half of what a completion cost before
its upstream was called, when these were a tree of nine.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from everything_app.auth import Principal, optional_principal
from everything_app.core.deps import app_limiter, app_settings
from everything_app.core.errors import Unauthorized
from everything_app.gateway.inflight import InFlight


async def gateway_principal(request: Request) -> Principal:
    """An API key (or a session); refusals worded as OpenAI's, which clients show as they are.

    A bad `ea_` key is refused by auth itself (401 `invalid_api_key`); this adds the cases
    where nothing usable was sent.
    """
    principal = await optional_principal(request)
    if principal is not None:
        return principal
    if request.headers.get("authorization"):
        raise Unauthorized("Incorrect API key provided.", code="invalid_api_key")
    raise Unauthorized(
        "You didn't provide an API key. You need to provide your API key in an Authorization "
        "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        code="invalid_api_key",
    )


async def rate_limited_principal(request: Request) -> Principal:
    """Counts the call against its key (or, for a session, its user): 429 with Retry-After."""
    principal = await gateway_principal(request)
    if principal.api_key is not None:
        bucket = ("gateway-key", str(principal.api_key.id))
    else:
        bucket = ("gateway-user", str(principal.account.id))
    await app_limiter(request).hit(app_settings(request).rate_limit_gateway_key, *bucket)
    return principal


LimitedPrincipal = Annotated[Principal, Depends(rate_limited_principal)]


def app_inflight(request: Request) -> InFlight:
    """The completions this process is serving (waited for at shutdown)."""
    inflight: InFlight = request.app.state.gateway_inflight
    return inflight
