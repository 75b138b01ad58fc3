"""Live queries."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings


class RealtimeSettings(BaseSettings):
    # The broker carries committed changes between instances: auto = Redis when REDIS_URL is
    # set, else PostgreSQL LISTEN/NOTIFY on PostgreSQL, else in-process (one instance only).
    realtime_broker: Literal["auto", "memory", "postgres", "redis"] = "auto"
    realtime_heartbeat_seconds: float = Field(default=25.0, gt=0, le=300)
    # How often live sockets re-check their session or API key (revocations also close them
    # at once through change events; this is the backstop).
    realtime_revalidate_seconds: float = Field(default=5.0, gt=0, le=3600)
    # A socket whose client reads nothing for this long is closed as a slow consumer.
    realtime_send_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    realtime_max_connections: int = Field(default=10_000, ge=1)
    realtime_max_connections_per_user: int = Field(default=100, ge=1)
    realtime_max_subscriptions: int = Field(default=100, ge=1, le=10_000)
    realtime_max_message_bytes: int = Field(default=65_536, ge=1024, le=16_777_216)
    # Changes arriving within this window re-run an affected query once.
    realtime_debounce_ms: int = Field(default=5, ge=0, le=5000)
    realtime_query_concurrency: int = Field(default=4, ge=1, le=200)
