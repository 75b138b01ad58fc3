"""`/v1` (OpenAI's Chat Completions and Models, for API keys) and `/api/usage`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import Response

from everything_app.auth import CurrentUser, require_user
from everything_app.core.db import SessionDep
from everything_app.core.logging import get_logger
from everything_app.core.params import StrictQuery
from everything_app.core.timestamps import UtcTimestamp
from everything_app.gateway import service, usage
from everything_app.gateway.convert import find_model
from everything_app.gateway.deps import LimitedPrincipal, app_inflight, gateway_principal
from everything_app.gateway.inflight import InFlight
from everything_app.gateway.schemas import ChatCompletionRequest, UsageReport

log = get_logger(__name__)
SHUTDOWN_GRACE_SECONDS = 10.0


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    inflight = app.state.gateway_inflight = InFlight()
    yield
    # Runs before the app's own lifespan disposes of the engine: answers still ending get to
    # write their usage rows.
    try:
        await asyncio.wait_for(inflight.wait_idle(), SHUTDOWN_GRACE_SECONDS)
    except TimeoutError:
        log.warning("gateway_shutdown_with_completions_running", count=inflight.count)


router = APIRouter(
    prefix="/v1",
    tags=["gateway"],
    dependencies=[Depends(gateway_principal)],
    lifespan=_lifespan,
)


@router.post(
    "/chat/completions",
    response_model=None,
    responses={200: {"content": {"application/json": {}, "text/event-stream": {}}}},
)
async def create_chat_completion(
    body: ChatCompletionRequest, principal: LimitedPrincipal, request: Request
) -> Response:
    """OpenAI's Chat Completions, streamed (`stream: true`, SSE) or not, for any model in
    `GET /v1/models`. Errors use OpenAI's shape, so the `openai` SDKs work unchanged."""
    state = request.app.state
    return service.start_completion(
        body,
        principal,
        registry=state.models,
        providers=state.providers,
        sessionmaker=state.sessionmaker,
        inflight=app_inflight(request),
    )


@router.get("/models")
async def list_models(request: Request) -> dict[str, Any]:
    """The models this server offers, as OpenAI lists models."""
    return service.model_list(request.app.state.models)


@router.get("/models/{model_id}")
async def get_model(model_id: str, request: Request) -> dict[str, Any]:
    """One model, as OpenAI describes one; 404 `model_not_found` naming the valid ids."""
    return service.model_object(find_model(request.app.state.models, model_id))


usage_router = APIRouter(
    prefix="/api/usage", tags=["gateway"], dependencies=[Depends(require_user), StrictQuery]
)


@usage_router.get("", response_model=UsageReport)
async def get_usage(
    user: CurrentUser,
    db: SessionDep,
    start: Annotated[
        UtcTimestamp | None, Query(description="Inclusive; default 30 days before end")
    ] = None,
    end: Annotated[UtcTimestamp | None, Query(description="Exclusive; default now")] = None,
) -> UsageReport:
    """Your gateway usage (requests and tokens) in a date range, by model and by API key."""
    start, end = usage.report_range(start, end)
    return await usage.summarize(db, user.id, start=start, end=end)
