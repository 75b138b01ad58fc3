"""Creating the realtime bus and hub in the app's lifespan."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from everything_app.core.logging import get_logger
from everything_app.realtime.brokers import PostgresBroker, RedisBroker, asyncpg_dsn
from everything_app.realtime.bus import Broker, RealtimeBus
from everything_app.realtime.hub import Hub
from everything_app.realtime.registry import QueryRegistry
from everything_app.settings import Settings

log = get_logger(__name__)


@dataclass
class Realtime:
    settings: Settings
    bus: RealtimeBus
    hub: Hub

    async def aclose(self) -> None:
        await self.hub.aclose()
        await self.bus.aclose()


def make_broker(settings: Settings, redis: Redis | None) -> Broker | None:
    channel = f"{settings.redis_prefix}:realtime"
    kind = settings.realtime_broker_kind
    if kind == "redis":
        assert settings.redis_url is not None
        assert redis is not None
        name = f"{settings.redis_prefix}-realtime-{uuid.uuid4().hex[:12]}"
        return RedisBroker(settings.redis_url, channel, redis, client_name=name)
    if kind == "postgres":
        return PostgresBroker(asyncpg_dsn(settings.resolved_database_url), channel)
    if settings.workers > 1:
        # Each worker would hear only its own writes.
        log.warning("realtime_in_process_with_workers", workers=settings.workers)
    return None


async def start_realtime(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis | None,
    queries: QueryRegistry,
) -> Realtime:
    """The bus and the hub serving `queries` (the app's live queries, core.features)."""
    bus = RealtimeBus(make_broker(settings, redis))
    hub = Hub(settings, sessionmaker, queries)
    bus.listen(hub.on_changes)
    bus.on_resync(hub.resync)
    await bus.start()
    await hub.start()
    log.info("realtime_started", broker=bus.kind, instance=bus.instance_id)
    return Realtime(settings=settings, bus=bus, hub=hub)
