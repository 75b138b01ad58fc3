"""The app's one Redis client (optional): shared rate-limit counters and, later, fan-out."""

from __future__ import annotations

from redis.asyncio import Redis


def connect_redis(url: str) -> Redis:
    # Short timeouts: a Redis outage must degrade requests (see core.ratelimit), not hang them.
    return Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1, health_check_interval=30)
