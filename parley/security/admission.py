"""Letting a model call in: the rate limits first, then a slot under the concurrent-stream cap."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from parley import errors
from parley.security.ratelimit import RateLimiter
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

    async def check(self, client: str, api_key: str | None) -> None:
        """Count one request against the rate limits; 429 when over a budget."""
        try:
            await self.limiter.check(client, api_key)
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
