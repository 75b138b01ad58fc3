"""Who may call the gateway, and the per-key rate limit."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from everything_app.auth import OptionalPrincipal, Principal
from everything_app.core.deps import LimiterDep, SettingsDep
from everything_app.core.errors import Unauthorized
from everything_app.gateway.inflight import InFlight


async def gateway_principal(request: Request, principal: OptionalPrincipal) -> Principal:
    """An API key (or a session); refusals worded as OpenAI's, which clients show as they are.

    A bad `ea_` key is refused by auth itself (401 `invalid_api_key`); this adds the cases
    where nothing usable was sent.
    """
    if principal is not None:
        return principal
    if request.headers.get("authorization"):
        raise Unauthorized("Incorrect API key provided.", code="invalid_api_key")
    raise Unauthorized(
        "You didn't provide an API key. You need to provide your API key in an Authorization "
        "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        code="invalid_api_key",
    )


GatewayPrincipal = Annotated[Principal, Depends(gateway_principal)]


async def rate_limited_principal(
    principal: GatewayPrincipal, limiter: LimiterDep, settings: SettingsDep
) -> Principal:
    """Counts the call against its key (or, for a session, its user): 429 with Retry-After."""
    if principal.api_key is not None:
        bucket = ("gateway-key", str(principal.api_key.id))
    else:
        bucket = ("gateway-user", str(principal.account.id))
    await limiter.hit(settings.rate_limit_gateway_key, *bucket)
    return principal


LimitedPrincipal = Annotated[Principal, Depends(rate_limited_principal)]


async def _inflight(request: Request) -> InFlight:
    inflight: InFlight = request.app.state.gateway_inflight
    return inflight


InFlightDep = Annotated[InFlight, Depends(_inflight)]
