"""An aiohttp app served on loopback from a background thread with its own event loop.

The fakes are real servers a test (synchronous or async) can start, script and poll without
sharing its event loop: Parley under test, Playwright's browser and the fake each run their
own.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Self

from aiohttp import web


def poll(predicate: Callable[[], bool], seconds: float) -> bool:
    """Poll `predicate` until it holds (True) or `seconds` pass (False), blocking."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


async def poll_async(predicate: Callable[[], bool], seconds: float) -> bool:
    """Like `poll`, without blocking the caller's event loop."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.01)
    return True


class BackgroundServer:
    """Start, stop and poll; subclasses say what to serve (`_app`) and how to wind down."""

    label = "fake server"  # for messages: "The fake OpenAI server failed to start."
    wait_seconds = 2.0  # how long `wait_for` polls by default
    shutdown_grace = 1.0  # seconds aiohttp gives open requests when stopping

    def __init__(self, port: int = 0, *, host: str = "127.0.0.1") -> None:
        self._host = host
        self._wanted_port = port
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._startup_error: BaseException | None = None

    # -- what subclasses provide ------------------------------------------------------------

    def _app(self) -> web.Application:
        raise NotImplementedError

    def _before_start(self) -> None:
        """Work to do in the caller's thread before the loop runs (nothing by default)."""

    def _thread_context(self) -> AbstractContextManager[object]:
        """A context the server thread runs inside (none by default)."""
        return contextlib.nullcontext()

    async def _on_serving(self) -> None:
        """Called in the server's loop before it accepts connections."""

    async def _on_stopping(self) -> None:
        """Called in the server's loop before open requests are cut off."""

    async def _on_stopped(self) -> None:
        """Called in the server's loop after the app has shut down."""

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start serving in a background thread; returns once the port accepts connections."""
        if self._thread is not None:
            raise RuntimeError(f"The {self.label} is already running.")
        self._before_start()
        sock = socket.create_server((self._host, self._wanted_port))
        self._port = sock.getsockname()[1]
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(sock, ready), name=f"{self.label}-{self._port}", daemon=True
        )
        self._thread.start()
        ready.wait()
        if self._startup_error is not None:
            self._thread.join()
            self._thread = None
            raise RuntimeError(f"The {self.label} failed to start.") from self._startup_error

    def stop(self) -> None:
        """Stop serving: hanging requests are cut off and the thread is joined."""
        thread, loop, stop_event = self._thread, self._loop, self._stop_event
        if thread is None:
            return
        if loop is not None and stop_event is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed after a crash
                loop.call_soon_threadsafe(stop_event.set)
        thread.join()
        self._thread = self._loop = self._stop_event = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _run(self, sock: socket.socket, ready: threading.Event) -> None:
        try:
            with self._thread_context():
                asyncio.run(self._serve(sock, ready))
        except BaseException as exc:  # reported to start(), which re-raises it
            self._startup_error = exc
        finally:
            sock.close()  # a no-op once the server owned and closed it
            ready.set()

    async def _serve(self, sock: socket.socket, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        await self._on_serving()
        runner = web.AppRunner(self._app(), access_log=None, shutdown_timeout=self.shutdown_grace)
        await runner.setup()
        try:
            await web.SockSite(runner, sock).start()
            ready.set()
            await self._stop_event.wait()
        finally:
            await self._on_stopping()
            await runner.cleanup()
            await self._on_stopped()

    # -- addresses and polling ----------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the server listens on."""
        if self._port is None:
            raise RuntimeError(f"The {self.label} has not been started.")
        return self._port

    def wait_for(self, predicate: Callable[[], bool], timeout: float | None = None) -> bool:
        """Poll `predicate` until it holds (True) or `timeout` seconds pass (False)."""
        return poll(predicate, self.wait_seconds if timeout is None else timeout)

    async def wait_for_async(self, predicate: Callable[[], bool],
                             seconds: float | None = None) -> bool:
        """Like `wait_for`, without blocking the caller's event loop."""
        return await poll_async(predicate, self.wait_seconds if seconds is None else seconds)
