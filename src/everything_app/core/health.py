"""Liveness and readiness probes (public).

`/readyz` answers 503 only when the database does not; what features add to its body
(`ReadinessDetails`, e.g. the last backup's outcome) informs an operator and never makes an
instance unready: a load balancer must not take every instance out because a backup failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from everything_app.core.db import unit_of_work
from everything_app.core.logging import get_logger
from everything_app.core.observability import operator_access
from everything_app.core.routers import PUBLIC

log = get_logger(__name__)
router = APIRouter(tags=["health"], dependencies=[PUBLIC])

# A detail reads what every instance sees (the database), on a read-only unit of work acting
# for nobody: tables under row-level security show it nothing.
DetailReader = Callable[[AsyncSession], Awaitable[Any]]
DETAIL_TIMEOUT = 2.0  # seconds: a probe answers quickly or says it could not tell


class ReadinessDetails:
    """What features add to `/readyz`'s body, by name (a registry kind, see core.features)."""

    def __init__(self) -> None:
        self._readers: dict[str, DetailReader] = {}

    def add(self, name: str, reader: DetailReader) -> None:
        if name in self._readers or name in ("status", "database"):
            raise ValueError(f"readiness detail {name!r} is added twice")
        self._readers[name] = reader

    def __iter__(self) -> Iterator[tuple[str, DetailReader]]:
        return iter(list(self._readers.items()))

    async def read(self, sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, reader in self:
            try:
                async with asyncio.timeout(DETAIL_TIMEOUT):
                    async with unit_of_work(sessionmaker) as db:
                        found[name] = await reader(db)
            except Exception as exc:  # a detail never fails the probe
                log.warning("readiness_detail_failed", detail=name, error=type(exc).__name__)
                found[name] = {"status": "unknown"}
        return found


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """The database answers (else 503). The body also carries details for operators, e.g.
    `backup`: the last scheduled backup's time, outcome, size and error; with `METRICS_TOKEN`
    set, only for `Authorization: Bearer <METRICS_TOKEN>` (an error names paths and hosts)."""
    engine: AsyncEngine = request.app.state.engine
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    body: dict[str, Any] = {"status": "ok", "database": "ok"}
    registry = getattr(request.app.state, "registry", None)
    if registry is not None and operator_access(request):
        body.update(await registry[ReadinessDetails].read(request.app.state.sessionmaker))
    return JSONResponse(body)
