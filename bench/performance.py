"""`make bench`: Parley's own cost, each figure beside the direct path to the fake OpenAI.

Everything runs on loopback: the fake OpenAI and Parley in their own processes, wrk (C) as
the load generator for latency and throughput, an asyncio client for the stream figures.
Bounded: every phase has a fixed duration or count.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.harness import fake_openai, parley, rss_mb, wait_quiet
from tests.fakes.openai_server import FakeOpenAI, Script
from tests.live import ROOT

KEY = "sk-bench-0123456789abcdef"
MESSAGE = "How do I make onboarding less overwhelming?"
WRK_SECONDS = int(os.environ.get("WRK_SECONDS", "8"))  # shorter for a quick look


@dataclass
class WrkResult:
    p50_ms: float
    p99_ms: float
    per_second: float
    errors: int


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


@contextmanager
def _wrk_script(body: dict[str, object], accept: str, pause_ms: int) -> Iterator[str]:
    lua = (
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(json.dumps(body))}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Accept"] = "{accept}"\n'
        f'wrk.headers["Authorization"] = "Bearer {KEY}"\n'
    )
    if pause_ms:
        # Answers of equal length keep a closed loop's connections in step: all of them
        # would send at the same instant, every time, and measure a 50-request burst rather
        # than 50 people talking. A random pause between requests (not counted in latency)
        # spreads them out, as real turns are.
        lua += (
            "local threads = 0\n"
            "function setup(thread) threads = threads + 1; thread:set('seed', threads) end\n"
            "function init(args) math.randomseed(seed * 7919 + os.time()) end\n"
            f"function delay() return math.random(0, {pause_ms}) end\n"
        )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(lua)
    try:
        yield handle.name
    finally:
        Path(handle.name).unlink()


def wrk(url: str, body: dict[str, object], concurrency: int, *, sse: bool,
        pause_ms: int = 0) -> WrkResult:
    """Closed-loop load at a fixed concurrency for WRK_SECONDS; latency to the last byte."""
    accept = "text/event-stream" if sse else "application/json"
    with _wrk_script(body, accept, pause_ms) as script:
        out = subprocess.run(
            ["wrk", "-t", str(min(concurrency, 2)), "-c", str(concurrency),
             "-d", f"{WRK_SECONDS}s", "--latency", "-s", script, url],
            capture_output=True, text=True, timeout=WRK_SECONDS + 60,
        ).stdout
    p50 = re.search(r"\n\s+50%\s+(\S+)", out)
    p99 = re.search(r"\n\s+99%\s+(\S+)", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       out)
    errors = int(non2xx.group(1)) if non2xx else 0
    errors += sum(int(n) for n in socket.groups()) if socket else 0
    if not (p50 and p99 and rps):
        raise RuntimeError(f"wrk said:\n{out}")
    return WrkResult(_ms(p50.group(1)), _ms(p99.group(1)), float(rps.group(1)), errors)


def latency_table(parley_url: str, fake_url: str, levels: tuple[int, ...] = (1, 50, 200),
                  upstream: str = "instant", pause_ms: int = 0) -> list[str]:
    """Added latency of /api/conversation (JSON and SSE) at each concurrency level."""
    rows = []
    direct_body = {"model": "gpt-4.1-mini", "stream": True,
                   "stream_options": {"include_usage": True},
                   "messages": [{"role": "user", "content": MESSAGE}]}
    for concurrency in levels:
        direct = wrk(f"{fake_url}/chat/completions", direct_body, concurrency, sse=True,
                     pause_ms=pause_ms)
        wait_quiet(0.5)
        for sse in (False, True):
            through = wrk(f"{parley_url}/api/conversation", {"message": MESSAGE},
                          concurrency, sse=sse, pause_ms=pause_ms)
            wait_quiet(0.5)
            added_50 = through.p50_ms - direct.p50_ms
            added_99 = through.p99_ms - direct.p99_ms
            rows.append(
                f"| {upstream} | {'SSE' if sse else 'JSON'} | {concurrency} | "
                f"{direct.p50_ms:.2f} / "
                f"{direct.p99_ms:.2f} | {through.p50_ms:.2f} / {through.p99_ms:.2f} | "
                f"**{added_50:+.2f} / {added_99:+.2f}** | "
                f"{through.per_second:.0f} ({direct.per_second:.0f}) | {through.errors} |"
            )
    return rows


async def _sentence_gaps(parley_url: str, fake: FakeOpenAI, streams: int) -> list[float]:
    """For each sentence event: ms from the fake writing its last token to its arrival."""
    writes: list[tuple[bytes, float]] = []
    fake.on_write(lambda data, at: writes.append((data, at)))
    gaps: list[float] = []
    async with aiohttp.ClientSession() as http:
        for _ in range(streams):
            writes.clear()
            arrivals: list[tuple[str, float]] = []
            async with http.post(f"{parley_url}/api/conversation",
                                 json={"message": MESSAGE, "apiKey": KEY, "stream": True}) as r:
                event = ""
                async for raw in r.content:
                    line = raw.decode().strip()
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:") and event == "sentence":
                        arrivals.append((json.loads(line[5:])["text"], time.monotonic()))
            pieces = [(json.loads(data.split(b"data: ", 1)[1])["choices"][0]["delta"]
                       .get("content", ""), at) for data, at in writes
                      if b'"content"' in data and b"[DONE]" not in data]
            text = ""
            ends: list[float] = []
            for piece, at in pieces:
                text += piece
                if piece.strip().endswith((".", "?", "!")):
                    ends.append(at)
            for (_, arrived), written in zip(arrivals, ends, strict=False):
                gaps.append((arrived - written) * 1000)
    fake.on_write(None)
    return gaps


def sentence_latency() -> str:
    """Time from the upstream's last token of a sentence to the `sentence` event."""
    reply = ("Let them see their money first. Could step one be linking an account? "
             "What is the one number a student cares about on day one?")
    with FakeOpenAI(defaults=Script(reply=reply, token_delay=0.01), record=False) as fake, \
            parley({"PARLEY_OPENAI_BASE_URL": fake.base_url}, "sentences") as p:
        gaps = asyncio.run(_sentence_gaps(p.url, fake, 60))
    p50, p99 = _percentiles(gaps)
    return (f"| sentence event after the upstream's last token of the sentence | "
            f"{len(gaps)} sentences | **{p50:.2f} ms** | **{p99:.2f} ms** | goal p99 ≤ 2 ms |")


async def _streams(url: str, headers: dict[str, str], body: dict[str, object],
                   count: int) -> tuple[int, list[float]]:
    errors = 0
    durations: list[float] = []
    connector = aiohttp.TCPConnector(limit=count + 50)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def one() -> None:
            nonlocal errors
            started = time.monotonic()
            try:
                async with http.post(url, json=body, headers=headers) as response:
                    last = b""
                    async for line in response.content:
                        if line.strip():
                            last = line
                    # The last event: [DONE] from the fake, `done` (with the reply) from Parley.
                    complete = b"[DONE]" in last or b"reply" in last
                    if response.status != 200 or not complete:
                        errors += 1
                        return
            except aiohttp.ClientError:
                errors += 1
                return
            durations.append((time.monotonic() - started) * 1000)

        await asyncio.gather(*(one() for _ in range(count)))
    return errors, durations


def thousand_streams() -> list[str]:
    """1,000 concurrent SSE streams of about 3 s each: errors, added delay, Parley's memory."""
    count = 1000
    with fake_openai("--token-delay", "0.05") as fake_url, \
            parley({"PARLEY_OPENAI_BASE_URL": fake_url}, "streams") as p:
        peak = [rss_mb(p.pid)]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.1):
                peak.append(rss_mb(p.pid))

        sampler = threading.Thread(target=sample)
        direct_errors, direct = asyncio.run(_streams(
            f"{fake_url}/chat/completions", {"Authorization": f"Bearer {KEY}"},
            {"model": "m", "stream": True, "messages": [{"role": "user", "content": MESSAGE}]},
            count))
        wait_quiet()
        idle = rss_mb(p.pid)
        sampler.start()
        errors, through = asyncio.run(_streams(
            f"{p.url}/api/conversation", {"Accept": "text/event-stream"},
            {"message": MESSAGE, "apiKey": KEY}, count))
        stop.set()
        sampler.join()
    d50, d99 = _percentiles(direct)
    t50, t99 = _percentiles(through)
    return [
        f"| {count} streams at once, direct to the fake | {direct_errors} errors | "
        f"p50 {d50:.0f} ms, p99 {d99:.0f} ms | |",
        f"| {count} streams at once, through Parley | **{errors} errors** | "
        f"p50 {t50:.0f} ms, p99 {t99:.0f} ms (added p50 {t50 - d50:+.0f} ms) | "
        f"RSS {idle:.0f} MB idle, **{max(peak):.0f} MB peak** |",
    ]


def _percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.99) - 1)]


def cold_start() -> str:
    """Import + create_app in a fresh interpreter, median of 7."""
    code = (
        "import time; t = time.perf_counter()\n"
        "from parley.app import create_app\nfrom parley.config import Settings\n"
        "create_app(Settings(local_model='off'))\n"
        "print((time.perf_counter() - t) * 1000)\n"
    )
    runs = sorted(
        float(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                             text=True, check=True, timeout=60).stdout)
        for _ in range(7)
    )
    median = statistics.median(runs)
    return (f"| cold start (import + create_app) | median of 7 | **{median:.0f} ms** "
            "| goal ≤ 300 ms |")


def main() -> None:
    print("## Parley's own cost against the fake OpenAI (loopback, 2 cores)\n")
    print("Latency to the last byte (wrk, closed loop, "
          f"{WRK_SECONDS} s a point); direct = the fake's own endpoint. An instant upstream "
          "answers at once (Parley's ceiling: req/s at concurrency 200 is its maximum); a "
          "model-like one waits 200 ms for the first token, then 20 ms a token, and each "
          "connection pauses 0-800 ms between requests so they do not arrive in lockstep.\n")
    print("| upstream | answer | concurrency | direct p50 / p99 ms | Parley p50 / p99 ms | "
          "added p50 / p99 ms | Parley req/s (direct) | errors |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    with fake_openai() as fake_url, parley({"PARLEY_OPENAI_BASE_URL": fake_url}) as p:
        wrk(f"{p.url}/api/conversation", {"message": MESSAGE}, 10, sse=False)  # warm-up
        for row in latency_table(p.url, fake_url):
            print(row, flush=True)
    with fake_openai("--first-token-delay", "0.2", "--token-delay", "0.02") as fake_url, \
            parley({"PARLEY_OPENAI_BASE_URL": fake_url}) as p:
        wrk(f"{p.url}/api/conversation", {"message": MESSAGE}, 10, sse=False)  # warm-up
        for row in latency_table(p.url, fake_url, (1, 50, 200), "model-like", pause_ms=800):
            print(row, flush=True)
    print("\n| figure | sample | result | | |")
    print("| --- | --- | --- | --- | --- |")
    print(sentence_latency(), flush=True)
    print(cold_start(), flush=True)
    print("\n| 1,000 concurrent streams | errors | duration | memory |")
    print("| --- | --- | --- | --- |")
    for row in thousand_streams():
        print(row, flush=True)


if __name__ == "__main__":
    main()
