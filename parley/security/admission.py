"""Letting a model call in: the rate limits first, then a slot under the concurrent-stream cap."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from parley import errors
from parley.security.ratelimit import FAST, Budget, RateLimiter, key_fingerprint
from parley.security.streams import StreamSlots

if TYPE_CHECKING:
    from parley.observability.metrics import Metrics


class Admission:
    """The budgets every paid or heavy call passes: per client, per key, streams in flight."""

    def __init__(
        self, limiter: RateLimiter, streams: StreamSlots, metrics: Metrics | None
    ) -> None:
        self.limiter = limiter
        self.streams = streams
        self._metrics = metrics

    async def check(
        self, client: str, api_key: str | None, *, operator_person: str | None = None
    ) -> None:
        """Count one request against the rate limits; 429 when over a budget.

        `operator_person` names the person (device, else address) when the operator's key
        pays: everyone behind the access code shares that key's budget otherwise.
        """
        await self.client(client)
        await self.key(api_key, operator_person=operator_person)

    async def client(self, client: str) -> None:
        """The client's own budget: checked first, before a body is read or a sign-in checked."""
        await self._spend(self.limiter.per_client, client)

    async def key(self, api_key: str | None, *, operator_person: str | None = None) -> None:
        """The budget of the key that pays, and of the person when it is the operator's."""
        if api_key:
            await self._spend(self.limiter.per_key, key_fingerprint(api_key))
        if operator_person is not None:
            await self._spend(self.limiter.per_person, operator_person)

    async def spend(self, budget: Budget, name: str, message: str) -> None:
        """Count one hit of another budget (realtime calls per person, ...)."""
        await self._spend(budget, name, message)

    async def _spend(self, budget: Budget, name: str, message: str = FAST) -> None:
        try:
            await self.limiter.spend(budget, name, message)
        except errors.RateLimited:
            if self._metrics is not None:
                self._metrics.rate_limited.labels("rate").inc()
            raise

    @contextmanager
    def stream_slot(self) -> Iterator[None]:
        """Hold one of this instance's stream slots for the block; 503 when all are taken."""
        try:
            self.streams.take()
        except errors.ServerBusy:
            if self._metrics is not None:
                self._metrics.rate_limited.labels("streams").inc()
            raise
        if self._metrics is not None:
            self._metrics.active_streams.inc()
        try:
            yield
        finally:
            self.streams.release()
            if self._metrics is not None:
                self._metrics.active_streams.dec()
