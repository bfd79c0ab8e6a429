"""Letting a model turn in: rate limits first, then a slot under the concurrent-stream cap."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from parley import errors


async def admit(request: Request, api_key: str | None, *, holds_stream: bool = True
                ) -> Callable[[], None]:
    """Check the budgets; return the function that gives the stream slot back (idempotent)."""
    state = request.app.state
    metrics = state.metrics
    client = request.client.host if request.client else "unknown"
    try:
        await state.limiter.check(client, api_key)
    except errors.RateLimited:
        if metrics is not None:
            metrics.rate_limited.labels("rate").inc()
        raise
    if not holds_stream:
        return lambda: None
    try:
        state.streams.take()
    except errors.ServerBusy:
        if metrics is not None:
            metrics.rate_limited.labels("streams").inc()
        raise
    if metrics is not None:
        metrics.active_streams.inc()
    released = False

    def release() -> None:
        nonlocal released
        if released:
            return
        released = True
        state.streams.release()
        if metrics is not None:
            metrics.active_streams.dec()

    return release
