"""One worker thread per local speech model: jobs run one at a time, off the event loop."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from parley import errors

P = ParamSpec("P")
T = TypeVar("T")


class SerialWorker:
    """Runs blocking model calls in one thread, in order, refusing work past a short queue.

    On 2 cores two Whisper or Piper runs side by side are each slower than one after the
    other, and neither model is documented as safe to call from two threads at once.
    """

    def __init__(self, name: str, *, max_waiting: int = 4) -> None:
        self._name = name
        self._max_waiting = max_waiting
        self._pending = 0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"parley-{name}")

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(*args)` in the worker thread; a call cancelled before it starts is dropped."""
        if self._pending > self._max_waiting:
            raise errors.ModelBusy(
                f"The offline {self._name} engine is busy. Try again in a few seconds.",
                retry_after=2,
            )
        self._pending += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._executor, functools.partial(fn, *args, **kwargs)
            )
        finally:
            self._pending -= 1

    def after_current(self, fn: Callable[[], object]) -> None:
        """Run `fn` in the worker once the job in hand is done, without waiting for it."""
        try:
            self._executor.submit(fn)
        except RuntimeError:  # shut down: the process is closing anyway
            pass

    async def aclose(self) -> None:
        """Drop queued jobs, let the running one finish, and stop the thread."""
        await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)
