"""Budgets over a moving window (the `limits` library), in memory or shared through Redis.

With Redis, every instance counts against one budget. When Redis does not answer, each
instance falls back to counting in its own memory (logged, shown in /api/health, counted in
metrics) and goes back to Redis as soon as it answers again: a limiter outage must never
turn every turn into an error.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from dataclasses import dataclass

import redis.asyncio
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from parley import errors
from parley.observability.components import Components

# How long one Redis call may take before the limiter counts in memory instead, and how
# often it then tries Redis again.
REDIS_TIMEOUT = 0.5
RETRY_PRIMARY_SECONDS = 5.0
FAST = "You are going a bit fast. Wait a moment and try again."


def key_fingerprint(key: str) -> str:
    """A stable, non-reversible name for a secret (never the secret or a piece of it)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Budget:
    """A named allowance, e.g. `Budget("client", parse("60/minute"))`."""

    scope: str
    item: RateLimitItem

    @classmethod
    def of(cls, scope: str, notation: str) -> Budget:
        return cls(scope, parse(notation))


class RateLimiter:
    """Counts hits against budgets; shared through Redis when configured."""

    def __init__(
        self,
        storage: Storage,
        *,
        per_client: str,
        per_key: str,
        per_person: str = "30/minute",
        pool: redis.asyncio.ConnectionPool | None = None,
        components: Components | None = None,
    ) -> None:
        self._primary = MovingWindowRateLimiter(storage)
        self._primary_storage = storage
        self._memory = MovingWindowRateLimiter(MemoryStorage())
        self._shared = pool is not None
        self._pool = pool
        self._components = components
        self._retry_primary_at = 0.0
        self.per_client = Budget.of("client", per_client)
        self.per_key = Budget.of("key", per_key)
        self.per_person = Budget.of("person", per_person)

    @classmethod
    def from_settings(
        cls, redis_url: str | None, *, per_client: str, per_key: str, per_person: str = "30/minute",
        components: Components | None = None,
    ) -> RateLimiter:
        """In memory by default; with Redis, every instance shares one budget."""
        if not redis_url:
            return cls(MemoryStorage(), per_client=per_client, per_key=per_key,
                       per_person=per_person)
        plain = redis_url.removeprefix("async+")
        # Our own pool (so shutdown can close its connections; limits never does), with
        # short timeouts: a Redis that stops answering must not hold a turn up.
        pool = redis.asyncio.ConnectionPool.from_url(
            plain, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT
        )
        storage = RedisStorage(
            f"async+{plain}", implementation="redispy", key_prefix="parley",
            wrap_exceptions=True,
            connection_pool=pool,  # type: ignore[arg-type]  # typed as scalar options only
        )
        return cls(storage, per_client=per_client, per_key=per_key, per_person=per_person,
                   pool=pool, components=components)

    async def check(self, client: str, api_key: str | None) -> None:
        """Count one request for the client (and the key); 429 when over a budget."""
        await self.spend(self.per_client, client)
        if api_key:
            await self.spend(self.per_key, key_fingerprint(api_key))

    async def spend(self, budget: Budget, name: str, message: str = FAST) -> None:
        """Count one hit of `budget` for `name`; RateLimited with Retry-After when over."""
        if not await self.hit(budget, name):
            raise errors.RateLimited(message, retry_after=await self.retry_after(budget, name))

    async def hit(self, budget: Budget, name: str) -> bool:
        """Count one hit of `budget` for `name`; False when it was already used up."""
        return await self._call("hit", budget, name)

    async def allows(self, budget: Budget, name: str) -> bool:
        """Whether `budget` has room for `name`, without counting a hit."""
        return await self._call("test", budget, name)

    async def retry_after(self, budget: Budget, name: str) -> int:
        """Seconds until `budget` has room for `name` again."""
        limiter = self._limiter()
        try:
            async with asyncio.timeout(REDIS_TIMEOUT * 2):
                stats = await limiter.get_window_stats(budget.item, budget.scope, name)
        except (StorageError, TimeoutError, OSError):
            return int(budget.item.get_expiry())
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def _call(self, verb: str, budget: Budget, name: str) -> bool:
        limiter = self._limiter()
        if limiter is self._primary and self._shared:
            try:
                async with asyncio.timeout(REDIS_TIMEOUT * 2):
                    result: bool = await getattr(limiter, verb)(budget.item, budget.scope, name)
            except (StorageError, TimeoutError, OSError) as exc:
                self._fall_back(exc)
                limiter = self._memory
            else:
                if self._components is not None:
                    self._components.up("redis")
                return result
        outcome: bool = await getattr(limiter, verb)(budget.item, budget.scope, name)
        return outcome

    def _limiter(self) -> MovingWindowRateLimiter:
        if not self._shared or time.monotonic() >= self._retry_primary_at:
            return self._primary
        return self._memory

    def _fall_back(self, exc: BaseException) -> None:
        self._retry_primary_at = time.monotonic() + RETRY_PRIMARY_SECONDS
        if self._components is not None:
            self._components.down("redis", type(exc).__name__)

    async def ping(self) -> None:
        """Ask the shared store whether it answers (the readiness probe); notes the answer."""
        if not self._shared:
            return
        try:
            async with asyncio.timeout(REDIS_TIMEOUT * 2):
                healthy = await self._primary_storage.check()
        except (StorageError, TimeoutError, OSError) as exc:
            self._fall_back(exc)
            return
        if not healthy:
            self._fall_back(ConnectionError("no answer"))
        else:
            self._retry_primary_at = 0.0
            if self._components is not None:
                self._components.up("redis")

    async def aclose(self) -> None:
        """Close the Redis connections, if any."""
        if self._pool is not None:
            await self._pool.aclose()
