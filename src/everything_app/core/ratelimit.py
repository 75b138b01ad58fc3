"""Rate limits on the `limits` library: in memory by default, in Redis when REDIS_URL is set.

When Redis is unreachable the limiter falls back to per-process memory counters rather than
letting requests through: a sign-in limit must never become "unlimited" because a cache is
down. Each instance then enforces the limit on its own until Redis answers again.
"""

from __future__ import annotations

import math
import time
from collections import deque
from functools import lru_cache

from limits import RateLimitItem, WindowStats, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import Redis

from everything_app.core.errors import TooManyRequests
from everything_app.core.logging import get_logger
from everything_app.core.metrics import count_rate_limited

log = get_logger(__name__)
REDIS_RETRY_SECONDS = 5.0
SWEEP_SECONDS = 60.0  # how often windows nobody hit lately are dropped from memory


@lru_cache(maxsize=64)
def rule(text: str) -> RateLimitItem:
    return parse(text)


class MemoryWindows:
    """Moving windows in this process's memory, with `MovingWindowRateLimiter`'s methods.

    Why not `limits`' own `MemoryStorage`: after every hit it starts a task that expires
    old entries with one thread-pool round trip per key (`asyncio.to_thread`), which cost the
    gateway more CPU per request than the rest of its rate limiting, and a hop through the
    thread pool before each first token. Here a window is a deque of hit times, expired as
    it is read.
    """

    def __init__(self) -> None:
        # Per key: the hit times still inside its window, and the window's length.
        self._windows: dict[str, tuple[deque[float], int]] = {}
        self._next_sweep = time.time() + SWEEP_SECONDS

    async def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        now = time.time()
        hits = self._window(item, identifiers, now)
        if len(hits) >= item.amount:
            return False
        hits.append(now)
        if now >= self._next_sweep:
            self._sweep(now)
        return True

    async def test(self, item: RateLimitItem, *identifiers: str) -> bool:
        return len(self._window(item, identifiers, time.time())) < item.amount

    async def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        now = time.time()
        hits = self._window(item, identifiers, now)
        start = hits[0] if hits else now
        return WindowStats(start + item.get_expiry(), item.amount - len(hits))

    def _window(
        self, item: RateLimitItem, identifiers: tuple[str, ...], now: float
    ) -> deque[float]:
        key = item.key_for(*identifiers)
        found = self._windows.get(key)
        if found is None:
            found = self._windows[key] = (deque(), item.get_expiry())
        hits, period = found
        while hits and hits[0] <= now - period:
            hits.popleft()
        return hits

    def _sweep(self, now: float) -> None:
        """Forget windows with no hit left in them; the others expire as they are read."""
        self._next_sweep = now + SWEEP_SECONDS
        idle = [
            k for k, (hits, period) in self._windows.items() if not hits or hits[-1] <= now - period
        ]
        for key in idle:
            del self._windows[key]


class RateLimiter:
    def __init__(self, redis: Redis | None = None, namespace: str = "ea") -> None:
        """`redis` is the app's shared client; its connection pool is reused, not copied."""
        self.namespace = namespace
        self._memory = MemoryWindows()
        self._redis: MovingWindowRateLimiter | None = None
        if redis is not None:
            storage = RedisStorage(
                "async+redis://",
                implementation="redispy",
                # limits types options as scalars; redis-py's client takes the pool itself.
                connection_pool=redis.connection_pool,  # type: ignore[arg-type]
            )
            self._redis = MovingWindowRateLimiter(storage)
        self._redis_down_until = 0.0

    @property
    def backend(self) -> str:
        return "redis" if self._redis is not None else "memory"

    def _limiter(self) -> MovingWindowRateLimiter | MemoryWindows:
        if self._redis is not None and time.monotonic() >= self._redis_down_until:
            return self._redis
        return self._memory

    async def _call(self, op: str, item: RateLimitItem, keys: tuple[str, ...]) -> bool:
        limiter = self._limiter()
        try:
            if op == "hit":
                return await limiter.hit(item, self.namespace, *keys)
            return await limiter.test(item, self.namespace, *keys)
        except Exception as exc:  # Redis down or timing out: fall back, never fail open
            if limiter is self._memory:
                raise
            self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
            log.warning("rate_limit_redis_unavailable", error=type(exc).__name__)
            return await self._call(op, item, keys)

    async def _retry_after(self, item: RateLimitItem, keys: tuple[str, ...]) -> int:
        limiter = self._limiter()
        try:
            stats = await limiter.get_window_stats(item, self.namespace, *keys)
        except Exception:
            return item.get_expiry()
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def _rejected(self, item: RateLimitItem, keys: tuple[str, ...]) -> TooManyRequests:
        # Labelled by the rule's name (its first key, e.g. "sign-in-ip"), never by the IP,
        # email or id that follows it: those would be unbounded and personal.
        count_rate_limited(keys[0] if keys else "unnamed")
        return TooManyRequests(await self._retry_after(item, keys))

    async def hit(self, limit: str, *keys: str) -> None:
        """Count one request against `limit` for `keys`; raise 429 when it is exhausted."""
        item = rule(limit)
        if not await self._call("hit", item, keys):
            raise await self._rejected(item, keys)

    async def check(self, limit: str, *keys: str) -> None:
        """Raise 429 if `limit` is already exhausted for `keys`, without counting."""
        item = rule(limit)
        if not await self._call("test", item, keys):
            raise await self._rejected(item, keys)
