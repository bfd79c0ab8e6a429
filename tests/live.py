"""Running a real Parley server for tests: uvicorn in a thread, or `parley serve` in a process."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

import httpx
import uvicorn

from parley.app import create_app
from parley.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def free_socket() -> socket.socket:
    """A listening-ready TCP socket on 127.0.0.1 with an OS-chosen port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def free_port() -> int:
    with free_socket() as sock:
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """Parley served by uvicorn on a free loopback port, in a background thread."""

    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings)
        self._sock = free_socket()
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_config=None, lifespan="on", timeout_graceful_shutdown=2,
            proxy_headers=False,  # as `parley serve`: the app handles X-Forwarded-*
            access_log=False,
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self._thread.is_alive():
                raise RuntimeError("Parley failed to start; see the log above")
            if time.monotonic() > deadline:
                raise TimeoutError("Parley did not start within 30 s")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=15)
        self._sock.close()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# The `serve` fixture's type: start a LiveServer with some settings changed.
Serve = Callable[..., LiveServer]


def device() -> dict[str, str]:
    """Headers for a brand-new device: a random 256-bit history secret."""
    return {"X-Parley-Device": secrets.token_hex(32)}


class ParleyProcess:
    """`parley serve` (or another `command` reading PARLEY_HOST/PORT) in a child process."""

    def __init__(
        self, env: Mapping[str, str], log_path: Path, *,
        command: Sequence[str] = (sys.executable, "-m", "parley.cli", "serve"),
        cwd: Path = ROOT,
    ) -> None:
        self.port = free_port()
        self.log_path = log_path
        self._command = list(command)
        self._cwd = cwd
        self._env = {**os.environ, **env, "PARLEY_HOST": "127.0.0.1", "PARLEY_PORT": str(self.port)}
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError("not started")
        return self._proc.pid

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 60) -> ParleyProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self._proc = subprocess.Popen(
            self._command, env=self._env, cwd=self._cwd, stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"Parley exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"Parley did not become ready within {timeout} s")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
