"""The offline engines (the local model, Whisper, Piper) are shared by everyone: one client
gets one job at a time on each, and a job still waiting when its client hangs up is dropped.

On two cores one person's burst of requests would otherwise queue ahead of everyone else's
turns, and run for nobody once they had left.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from parley import errors

T = TypeVar("T")
# Waits until the client has hung up (returns only then).
Gone = Callable[[], Awaitable[object]]

# Requests one client may have waiting behind its running job on one engine (a reply's
# sentences, say), before the next is refused.
MAX_WAITING = 3


class ClientGone(errors.ParleyError):
    """The client hung up while its job waited; nobody is left to hear the answer."""

    status = 499  # nginx's "client closed request": logged, sent to nobody
    code = "client_closed_request"
    default_message = "The request was dropped: the client went away before it was answered."


async def unless_gone(work: Awaitable[T], gone: Gone) -> T:
    """`work`'s result; cancels it and raises ClientGone if the client hangs up first."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(gone())
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        # Cancelled from outside (a timeout): the work must be over before the caller goes
        # on, or closing what it was using (a generator mid-step) would fail.
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise
    finally:
        watcher.cancel()
    if not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise ClientGone()
    return task.result()


class LocalJobs:
    """One job per client per offline engine at a time."""

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._waiting: dict[tuple[str, str], int] = {}

    def waiting(self, client: str, engine: str) -> int:
        """How many of `client`'s requests wait behind its running job on `engine`."""
        return self._waiting.get((client, engine), 0)

    @asynccontextmanager
    async def slot(
        self, client: str, engine: str, gone: Gone, *, wait: float = 15.0
    ) -> AsyncIterator[None]:
        """Hold `client`'s place on `engine` for the block; waits (at most `wait` seconds)
        behind the client's own last job, then 503 `model_busy`."""
        key = (client, engine)
        lock = self._locks.setdefault(key, asyncio.Lock())
        if lock.locked() and self._waiting.get(key, 0) >= MAX_WAITING:
            raise errors.ModelBusy(
                "Parley is still working on your last few requests. Try again in a moment.",
                retry_after=2,
            )
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with asyncio.timeout(wait):
                await unless_gone(lock.acquire(), gone)
        except TimeoutError:
            raise errors.ModelBusy(
                "Parley is still answering your last request. Try again in a moment.",
                retry_after=max(1.0, wait / 2),
            ) from None
        finally:
            self._waiting[key] -= 1
        try:
            yield
        finally:
            lock.release()
            if not lock.locked() and not self._waiting.get(key):
                self._locks.pop(key, None)
                self._waiting.pop(key, None)
