"""Processes for benchmarks and load runs: the fake OpenAI, Parley, and C load generators.

Everything listens on 127.0.0.1 and every run is bounded in count and time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.live import ROOT, ParleyProcess

LOGS = Path(tempfile.gettempdir()) / "parley-bench"


@contextmanager
def fake_openai(*args: str) -> Iterator[str]:
    """The fake OpenAI server in its own process (so it never competes for Parley's GIL)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.openai_server", "--port", "0", *args],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        if not base_url.startswith("http"):
            raise RuntimeError("the fake OpenAI server did not start")
        yield base_url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def parley(env: Mapping[str, str], name: str = "parley", *,
           pin_core: int | None = None) -> Iterator[ParleyProcess]:
    """`parley serve` with generous limits, logging only warnings."""
    defaults = {
        "PARLEY_LOG_LEVEL": "WARNING",
        "PARLEY_LOCAL_MODEL": "off",
        "PARLEY_LOCAL_STT": "off",
        "PARLEY_LOCAL_TTS": "off",
        "PARLEY_RATE_LIMIT_PER_CLIENT": "100000000/minute",
        "PARLEY_RATE_LIMIT_PER_KEY": "100000000/minute",
        "PARLEY_MAX_CONCURRENT_STREAMS": "5000",
    }
    command = [sys.executable, "-m", "parley.cli", "serve"]
    if pin_core is not None:  # one core for the server alone (`taskset`, util-linux)
        command = ["taskset", "-c", str(pin_core), *command]
    server = ParleyProcess({**defaults, **env}, LOGS / f"{name}.log", command=command).start()
    try:
        yield server
    finally:
        server.stop()


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


@dataclass
class AbResult:
    complete: int
    failed: int
    non_2xx: int
    per_second: float
    p50_ms: float
    p99_ms: float


def ab(url: str, body: Mapping[str, object], *, requests: int, concurrency: int,
       headers: Mapping[str, str] | None = None) -> AbResult:
    """ApacheBench: a fixed number of POSTs at a fixed concurrency (count-bounded)."""
    if shutil.which("ab") is None:
        raise RuntimeError("ab is missing: apt-get install apache2-utils")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(body, handle)
    args = ["ab", "-q", "-n", str(requests), "-c", str(concurrency), "-s", "60",
            "-p", handle.name, "-T", "application/json"]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    try:
        out = subprocess.run([*args, url], capture_output=True, text=True, timeout=900).stdout
    finally:
        os.unlink(handle.name)

    def number(pattern: str, default: float = 0.0) -> float:
        match = re.search(pattern, out)
        return float(match.group(1)) if match else default

    # ab counts a response whose length differs from the first one as "failed" (Length);
    # Parley's answers carry timings, so lengths vary. Real failures are the other kinds.
    real_failures = sum(
        int(number(rf"{kind}: (\d+)")) for kind in ("Connect", "Receive", "Exceptions")
    )
    return AbResult(
        complete=int(number(r"Complete requests:\s+(\d+)")),
        failed=real_failures,
        non_2xx=int(number(r"Non-2xx responses:\s+(\d+)")),
        per_second=number(r"Requests per second:\s+([\d.]+)"),
        p50_ms=number(r"\n\s+50%\s+(\d+)"),
        p99_ms=number(r"\n\s+99%\s+(\d+)"),
    )


def wait_quiet(seconds: float = 1.0) -> None:
    """Let the machine settle between phases."""
    time.sleep(seconds)
