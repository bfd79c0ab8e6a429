"""The lean limit: a minimal relay beside Parley, both on one core, against the same upstream.

Run with `python -m bench.lean_relay` (part of `make bench`). The relay below is what a turn
costs with nothing else: raw aiohttp, no auth, no limits, no logging, no checks, the same
wire format as `POST /api/conversation` (JSON, or `delta`/`sentence`/`done` SSE events). It
is written for this benchmark only and is never served.

Both servers are pinned to core 1 (`taskset`); the fake OpenAI (instant answer) and wrk share
core 0, so each server's requests per second is per core. Parley runs as `make run` would,
with its defaults (request log, rate limits on with generous budgets; metrics off).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

from aiohttp import ClientSession, ClientTimeout, web

from bench.harness import LOGS, fake_openai, parley, wait_quiet
from bench.performance import MESSAGE, WRK_SECONDS, wrk
from tests.live import ParleyProcess

MODEL = "gpt-4.1-mini"
GOAL_RATIO = 0.6
CONCURRENCY = 50
_SENTENCE_END = re.compile(r"[.!?](\s|$)")
_SESSION: web.AppKey[ClientSession] = web.AppKey("session", ClientSession)
_UPSTREAM: web.AppKey[str] = web.AppKey("upstream", str)


def _frame(event: str, data: object) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


async def _turn(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    started = time.perf_counter()
    upstream = {"model": MODEL, "stream": True, "stream_options": {"include_usage": True},
                "messages": [{"role": "user", "content": body["message"]}]}
    headers = {"Authorization": request.headers.get("Authorization", "")}
    sse = "text/event-stream" in request.headers.get("Accept", "")
    out: web.StreamResponse | None = None
    if sse:
        out = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await out.prepare(request)
    reply, pending, index, usage, first_ms = "", "", 0, None, None
    async with request.app[_SESSION].post(f"{request.app[_UPSTREAM]}/chat/completions",
                                          json=upstream, headers=headers) as answer:
        async for raw in answer.content:
            line = raw.strip()
            if not line.startswith(b"data: {"):
                continue
            chunk = json.loads(line[6:])
            usage = chunk.get("usage") or usage
            if not chunk["choices"]:
                continue
            text = chunk["choices"][0]["delta"].get("content") or ""
            if not text:
                continue
            if first_ms is None:
                first_ms = (time.perf_counter() - started) * 1000
            reply += text
            pending += text
            if out is not None:
                await out.write(_frame("delta", {"text": text}))
                while (end := _SENTENCE_END.search(pending)) is not None:
                    sentence, pending = pending[: end.end()].strip(), pending[end.end():]
                    await out.write(_frame("sentence", {"index": index, "text": sentence}))
                    index += 1
    done = {"reply": reply, "provider": "openai", "model": MODEL, "usage": usage,
            "timings": {"first_token_ms": first_ms,
                        "total_ms": (time.perf_counter() - started) * 1000}}
    if out is None:
        return web.json_response(done)
    if pending.strip():
        await out.write(_frame("sentence", {"index": index, "text": pending.strip()}))
    await out.write(_frame("done", done))
    await out.write_eof()
    return out


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def relay_app(upstream: str) -> web.Application:
    app = web.Application()
    app[_UPSTREAM] = upstream

    async def session(app: web.Application) -> AsyncIterator[None]:
        app[_SESSION] = ClientSession(timeout=ClientTimeout(total=60))
        yield
        await app[_SESSION].close()

    app.cleanup_ctx.append(session)
    app.router.add_post("/api/conversation", _turn)
    app.router.add_get("/api/health", _health)  # what ParleyProcess waits for
    return app


@contextmanager
def relay(upstream: str) -> Iterator[ParleyProcess]:
    """The relay in its own process on core 1 (ParleyProcess runs any command on a port)."""
    command = ["taskset", "-c", "1", sys.executable, "-m", "bench.lean_relay", "--serve",
               "--upstream", upstream]
    server = ParleyProcess({}, LOGS / "lean-relay.log", command=command).start()
    try:
        yield server
    finally:
        server.stop()


def measure(url: str) -> dict[str, float]:
    target = f"{url}/api/conversation"
    wrk(target, {"message": MESSAGE}, 10, sse=False)  # warm-up
    wait_quiet(0.5)
    figures = {}
    for sse in (False, True):
        figures["SSE" if sse else "JSON"] = wrk(target, {"message": MESSAGE}, CONCURRENCY,
                                                sse=sse).per_second
        wait_quiet(0.5)
    one = wrk(target, {"message": MESSAGE}, 1, sse=False)
    figures["JSON p50 at c=1"] = one.p50_ms
    return figures


def main() -> None:
    print("## Parley beside a minimal relay (the lean limit), one core each\n")
    print(f"wrk, closed loop, concurrency {CONCURRENCY}, {WRK_SECONDS} s a point; the fake "
          "OpenAI answers at once; the server alone on core 1, wrk and the fake on core 0.\n")
    mine = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {0})  # wrk and the fake (children) inherit core 0
    try:
        with fake_openai() as fake_url:
            with relay(fake_url) as lean:
                lean_figures = measure(lean.url)
            # As `make run` serves: the request log on (INFO), rate limits on.
            with parley({"PARLEY_OPENAI_BASE_URL": fake_url, "PARLEY_LOG_LEVEL": "INFO"},
                        "lean-parley", pin_core=1) as server:
                parley_figures = measure(server.url)
    finally:
        os.sched_setaffinity(0, mine)
    print("| | minimal relay | Parley | ratio | goal | |")
    print("| --- | --- | --- | --- | --- | --- |")
    for kind in ("JSON", "SSE"):
        ratio = parley_figures[kind] / lean_figures[kind]
        verdict = "met" if ratio >= GOAL_RATIO else "**not met**"
        print(f"| req/s per core, {kind} | {lean_figures[kind]:.0f} | {parley_figures[kind]:.0f} "
              f"| {ratio:.2f} | ≥ {GOAL_RATIO} | {verdict} |")
    added = parley_figures["JSON p50 at c=1"] - lean_figures["JSON p50 at c=1"]
    verdict = "met" if added <= 1 else "**not met**"
    print(f"| JSON p50 at one request at a time | {lean_figures['JSON p50 at c=1']:.2f} ms | "
          f"{parley_figures['JSON p50 at c=1']:.2f} ms | {added:+.2f} ms | ≤ +1 ms | {verdict} |")


def _serve() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lean_relay")
    parser.add_argument("--serve", action="store_true", help="run the relay (for the bench)")
    parser.add_argument("--upstream", default="http://127.0.0.1:9100/v1")
    args = parser.parse_args()
    if not args.serve:
        main()
        return
    host, port = os.environ["PARLEY_HOST"], int(os.environ["PARLEY_PORT"])
    web.run_app(relay_app(args.upstream), host=host, port=port, access_log=None,
                print=None)


if __name__ == "__main__":
    _serve()
