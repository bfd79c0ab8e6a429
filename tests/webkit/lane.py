"""The WebKit lane's machinery: Xvfb on a free display, WebKitWebDriver on a free port, and
phone-sized WebKitGTK sessions (tests/webkit/phone_browser.py) driven through Selenium."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import httpx
from selenium.webdriver import Remote
from selenium.webdriver.remote.client_config import ClientConfig
from selenium.webdriver.remote.remote_connection import RemoteConnection
from selenium.webdriver.webkitgtk.options import Options

from tests.live import free_port

PHONE_BROWSER = Path(__file__).with_name("phone_browser.py")
WEBDRIVER = "/usr/bin/WebKitWebDriver"
# The phone browser is a PyGObject program: Debian's python3 with python3-gi runs it.
SYSTEM_PYTHON = "/usr/bin/python3"
BROWSER_NAME = "ParleyPhone"  # what phone_browser.py reports; the driver matches it
SKIP_REASON = (
    "WebKit lane skipped: install webkit2gtk-driver, xvfb, xauth, gir1.2-webkit2-4.1, "
    "python3-gi and the GStreamer plugins (scripts/ensure-system.sh)"
)
STARTUP_SECONDS = 15
COMMAND_SECONDS = 60  # a single WebDriver command; waits in tests are much shorter


def missing() -> str | None:
    """Why the lane cannot run here, or None when everything it needs is installed."""
    if not (Path(WEBDRIVER).exists() and shutil.which("Xvfb") and Path(SYSTEM_PYTHON).exists()):
        return SKIP_REASON
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('WebKit2', '4.1'); "
                              "gi.require_version('Gtk', '3.0')"],
        capture_output=True, timeout=30, check=False,
    )
    return SKIP_REASON if probe.returncode else None


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


class Lane:
    """Xvfb and WebKitWebDriver, started together and always stopped together."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.display = ""
        self.port = 0
        self._xvfb: subprocess.Popen[bytes] | None = None
        self._driver: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Lane:
        self.logs.mkdir(parents=True, exist_ok=True)
        try:
            self._start_xvfb()
            self._start_driver()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_xvfb(self) -> None:
        # -displayfd: Xvfb picks a free display and writes its number once it accepts clients.
        read, write = os.pipe()
        try:
            with (self.logs / "xvfb.log").open("wb") as log:
                self._xvfb = subprocess.Popen(
                    ["Xvfb", "-displayfd", str(write), "-screen", "0", "1024x900x24",
                     "-nolisten", "tcp"],
                    pass_fds=[write], stdout=subprocess.DEVNULL, stderr=log,
                )
            os.close(write)
            write = -1
            # Read up to the newline: Xvfb may write the number and "\n" separately, and
            # dies ("Cannot write display number") if the pipe is closed in between.
            answer = b""
            deadline = time.monotonic() + STARTUP_SECONDS
            while not answer.endswith(b"\n"):
                left = deadline - time.monotonic()
                ready, _, _ = select.select([read], [], [], max(left, 0))
                chunk = os.read(read, 64) if ready else b""
                if not chunk:
                    raise RuntimeError(f"Xvfb did not start; see {self.logs / 'xvfb.log'}")
                answer += chunk
            self.display = ":" + answer.decode().strip()
        finally:
            os.close(read)
            if write >= 0:
                os.close(write)

    def _start_driver(self) -> None:
        self.port = free_port()
        # Each browser sets its own locale (phone_browser.py --locale).
        env = {**os.environ, "DISPLAY": self.display, "NO_AT_BRIDGE": "1"}
        with (self.logs / "webdriver.log").open("wb") as log:
            self._driver = subprocess.Popen(
                [WEBDRIVER, f"--port={self.port}", "--host=local"],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self._driver.poll() is not None:
                raise RuntimeError(f"WebKitWebDriver exited; see {self.logs / 'webdriver.log'}")
            try:
                if httpx.get(f"{self.url}/status", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"WebKitWebDriver did not answer within {STARTUP_SECONDS} s")

    def session(self, args: Sequence[str]) -> Remote:
        """A new browser session: phone_browser.py with these arguments, its own process."""
        options = Options()
        options.binary_location = str(PHONE_BROWSER)
        # The driver launches the binary with exactly these arguments: nothing implies
        # --automation, which lets the browser accept an automation session.
        for arg in ("--automation", *args):
            options.add_argument(arg)
        options.set_capability("browserName", BROWSER_NAME)
        config = ClientConfig(remote_server_addr=self.url, timeout=COMMAND_SECONDS)
        # A connection object, not a URL: with a URL Selenium warns about its own call.
        driver = Remote(command_executor=RemoteConnection(client_config=config), options=options)
        driver.set_page_load_timeout(20)
        driver.set_script_timeout(20)
        return driver

    def stop(self) -> None:
        _stop(self._driver)
        _stop(self._xvfb)
        self._driver = self._xvfb = None

    def __enter__(self) -> Lane:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
