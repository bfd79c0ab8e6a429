"""A TCP proxy on loopback that a test can cut and restore: a dependency outage, for real.

Parley connects to Redis or PostgreSQL through it; `cut()` closes every open connection and
refuses new ones (as a crashed or partitioned server does), `restore()` lets them through
again. It runs on its own event loop in a background thread, so sync and async tests alike
can use it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import socket
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Self

CHUNK = 65536


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target host and port until cut."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.up = True

    def __enter__(self) -> Self:
        self._thread.start()
        self._call(self._serve()).result(timeout=5)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._call(self._close_all(stop=True)).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def cut(self) -> None:
        """Drop every connection and refuse new ones."""
        self._call(self._close_all(stop=True)).result(timeout=5)

    def restore(self) -> None:
        """Accept and forward connections again."""
        self._call(self._serve()).result(timeout=5)

    def _call(self, coroutine: Coroutine[Any, Any, None]) -> concurrent.futures.Future[None]:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    async def _serve(self) -> None:
        if self._server is not None:
            return
        # A fresh listening socket on the same port each time: while cut, nothing listens,
        # and connections are refused as by a server that is down.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self._sock.close()
        self._server = await asyncio.start_server(self._pipe, sock=sock)
        self.up = True

    async def _close_all(self, *, stop: bool) -> None:
        if stop and self._server is not None:
            self._server.close()
            self._server = None
            self.up = False
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, upstream_writer))
        await asyncio.gather(
            self._copy(reader, upstream_writer), self._copy(upstream_reader, writer)
        )

    async def _copy(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(CHUNK):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.transport.abort()
