"""Per-client and per-key rate limits (moving window), in memory or shared through Redis."""

from __future__ import annotations

import hashlib
import logging
import math
import time

import redis.asyncio
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from parley import errors

log = logging.getLogger(__name__)


def key_fingerprint(key: str) -> str:
    """A stable, non-reversible name for an API key (never the key or a piece of it)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


class RateLimiter:
    """Spending budgets: each client address and each API key, over a moving window."""

    def __init__(
        self, storage: Storage, *, per_client: str, per_key: str,
        pool: redis.asyncio.ConnectionPool | None = None,
    ) -> None:
        self._pool = pool
        self._strategy = MovingWindowRateLimiter(storage)
        self._per_client: RateLimitItem = parse(per_client)
        self._per_key: RateLimitItem = parse(per_key)

    @classmethod
    def from_settings(cls, redis_url: str | None, *, per_client: str, per_key: str) -> RateLimiter:
        """In memory by default; with Redis, every instance shares one budget."""
        if not redis_url:
            return cls(MemoryStorage(), per_client=per_client, per_key=per_key)
        plain = redis_url.removeprefix("async+")
        # Our own pool, so shutdown can close its connections (limits never does).
        pool = redis.asyncio.ConnectionPool.from_url(plain)
        storage = RedisStorage(
            f"async+{plain}", implementation="redispy", key_prefix="parley",
            connection_pool=pool,  # type: ignore[arg-type]  # typed as scalar options only
        )
        return cls(storage, per_client=per_client, per_key=per_key, pool=pool)

    async def check(self, client: str, api_key: str | None) -> None:
        """Count one request; raise RateLimited (with Retry-After) when over a budget."""
        budgets = [(self._per_client, "client", client)]
        if api_key:
            budgets.append((self._per_key, "key", key_fingerprint(api_key)))
        for item, scope, name in budgets:
            if not await self._strategy.hit(item, scope, name):
                stats = await self._strategy.get_window_stats(item, scope, name)
                retry = max(1, math.ceil(stats.reset_time - time.time()))
                raise errors.RateLimited(
                    "You are going a bit fast. Wait a moment and try again.",
                    retry_after=retry,
                )

    async def aclose(self) -> None:
        """Close the Redis connections, if any."""
        if self._pool is not None:
            await self._pool.aclose()
