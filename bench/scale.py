"""`make scale`: two Parley instances behind nginx, sharing Redis and PostgreSQL, on loopback.

Checks, and prints:
1. rate limits are shared: the combined allowance across both instances is exact;
2. history written through one instance is read through the other;
3. killing one instance mid-load fails only the requests that instance had in flight;
4. Redis and the database going away mid-load (a TCP proxy in front of each, cut, then
   restored) fail no turn: the limits count in memory meanwhile, turns kept on the server
   say `"saved": false`, and both instances go back to Redis and the database.
Clients are real distinct loopback addresses (127.0.x.y), never a forged X-Forwarded-For:
nginx overwrites that header with the address it sees, and only nginx is trusted.
Exits non-zero when a check fails. Every loop is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import redis

from bench.harness import LOGS, fake_openai, parley
from tests.fakes.tcp_proxy import TcpProxy
from tests.live import ParleyProcess, free_port
from tests.storage.databases import create_postgres_database, drop_postgres_database

REDIS_URL = os.environ.get("PARLEY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# 25 client addresses: each sends at most 16 of the load's 400 requests, under the allowance.
CLIENT_ADDRESSES = [f"127.0.1.{n}" for n in range(1, 26)]
OUTAGE_TURNS = 120
ALLOWANCE = 40  # per client per minute, shared by both instances
TRIES = 70
LOAD_REQUESTS = 400
LOAD_CONCURRENCY = 16

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    upstream parley {{
        server 127.0.0.1:{a} max_fails=1 fail_timeout=30s;
        server 127.0.0.1:{b} max_fails=1 fail_timeout=30s;
        keepalive 32;
        # Under uvicorn's 5 s: nginx must drop an idle connection before the instance
        # does, or a POST sent on one the instance is closing fails (502, not retried) and
        # marks the instance down; with the other one killed, nothing is left to answer.
        keepalive_timeout 4s;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://parley;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_buffering off;
            proxy_read_timeout 60s;
            proxy_next_upstream error timeout;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


@contextmanager
def nginx(a: int, b: int) -> Iterator[str]:
    """nginx (the system package) round-robining over two local ports."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    prefix = Path(tempfile.mkdtemp(prefix="parley-nginx-"))
    port = free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(NGINX_CONF.format(prefix=prefix, a=a, b=b, port=port))
    proc = subprocess.Popen([binary, "-c", str(conf), "-p", str(prefix)],
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield url
    finally:
        proc.send_signal(signal.SIGQUIT)
        proc.wait(timeout=10)
        shutil.rmtree(prefix, ignore_errors=True)


def host_port(url: str, default: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default


def via(url: str, port: int) -> str:
    """The same URL, pointed at a proxy on this machine's `port`."""
    parts = urlsplit(url)
    auth = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{auth}127.0.0.1:{port}"))


def clear_limits() -> None:
    """Forget earlier runs' counts (only Parley's keys)."""
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter("parley*"):
        client.delete(key)
    client.close()


@dataclass(frozen=True)
class Attempt:
    began: float
    ended: float
    upstream: str  # the port nginx sent it to ("" if unknown)
    ok: bool


async def shared_allowance(url: str) -> tuple[int, int]:
    """How many of TRIES requests through nginx were let in, and how many refused with 429."""
    body = {"message": "hi", "apiKey": "sk-scale-shared-0123"}
    allowed = refused = 0
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        for _ in range(TRIES):
            response = await http.post("/api/conversation", json=body)
            if response.status_code == 200:
                allowed += 1
            elif response.status_code == 429:
                refused += 1
    return allowed, refused


async def history_across(one: str, other: str) -> bool:
    """A conversation stored through one instance, read back through the other."""
    device = {"X-Parley-Device": secrets.token_hex(32)}
    session = str(uuid.uuid4())
    body = {"message": "Where do I start?", "apiKey": "sk-scale-history-0123",
            "sessionId": session}
    async with httpx.AsyncClient(timeout=30) as http:
        written = await http.post(f"{one}/api/conversation", json=body, headers=device)
        read = await http.get(f"{other}/api/sessions/{session}", headers=device)
        stranger = await http.get(f"{other}/api/sessions/{session}",
                                  headers={"X-Parley-Device": secrets.token_hex(32)})
    messages = read.json().get("messages", []) if read.status_code == 200 else []
    return (written.status_code == 200 and [m["sender"] for m in messages] == ["user", "bot"]
            and stranger.status_code == 404)


async def kill_mid_load(
    url: str, victim: ParleyProcess
) -> tuple[list[Attempt], float, float]:
    """Stream answers through nginx, SIGKILL one instance a third of the way through.

    Returns the attempts, when the kill was sent and when the instance was seen gone: in
    between, requests nginx sends it are accepted and lost with it.
    """
    attempts: list[Attempt] = []
    gate = asyncio.Semaphore(LOAD_CONCURRENCY)
    started = 0
    killed_at = 0.0
    gone_at = asyncio.get_running_loop().create_future()

    async def watch() -> None:
        for _ in range(5000):  # at most 5 s
            if not victim.running():
                break
            await asyncio.sleep(0.001)
        gone_at.set_result(time.monotonic())

    async def one(number: int) -> None:
        nonlocal started, killed_at
        async with gate:
            started += 1
            if started == LOAD_REQUESTS // 3 and not killed_at:
                os.kill(victim.pid, signal.SIGKILL)
                killed_at = time.monotonic()
                watcher.append(asyncio.create_task(watch()))
            began = time.monotonic()
            upstream = ""
            ok = False
            # Each request its own key, and one of many real client addresses, so this phase
            # measures failover, not the shared rate limit.
            body = {"message": "Talk to me", "apiKey": f"sk-scale-load-{number:04d}",
                    "stream": True}
            http = clients[number % len(clients)]
            try:
                async with http.stream("POST", "/api/conversation", json=body) as response:
                    upstream = response.headers.get("x-upstream", "").rsplit(":", 1)[-1]
                    last = ""
                    async for line in response.aiter_lines():
                        if line.startswith("event:"):
                            last = line
                    ok = response.status_code == 200 and last == "event: done"
            except httpx.HTTPError:
                pass
            attempts.append(Attempt(began, time.monotonic(), upstream, ok))

    watcher: list[asyncio.Task[None]] = []
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(client_at(url, address))
                   for address in CLIENT_ADDRESSES]
        await asyncio.gather(*(one(n) for n in range(LOAD_REQUESTS)))
    await asyncio.gather(*watcher)
    return attempts, killed_at, await gone_at


def client_at(url: str, address: str) -> httpx.AsyncClient:
    """An HTTP client whose connections come from `address` (any 127.x.y.z is this machine)."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=url, timeout=60, transport=transport)


async def outage_mid_load(
    url: str, redis_proxy: TcpProxy, database_proxy: TcpProxy
) -> tuple[int, int, int, int]:
    """Turns through nginx while Redis and the database are cut, then restored.

    Returns (turns, failed, unsaved while cut, saved after restore).
    """
    device = {"X-Parley-Device": secrets.token_hex(32)}
    results: list[tuple[bool, bool | None]] = []

    async def turn(http: httpx.AsyncClient, number: int) -> None:
        body = {"message": "Where do I start?", "apiKey": f"sk-scale-outage-{number:04d}",
                "sessionId": str(uuid.uuid4())}
        try:
            answer = await http.post("/api/conversation", json=body, headers=device)
            ok = answer.status_code == 200
            results.append((ok, answer.json().get("saved") if ok else None))
            if not ok:
                print(f"   turn {number}: {answer.status_code} {answer.text[:160]}")
        except httpx.HTTPError as exc:
            results.append((False, None))
            print(f"   turn {number}: {type(exc).__name__}")

    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(client_at(url, address))
                   for address in CLIENT_ADDRESSES]
        numbers = iter(range(OUTAGE_TURNS))

        async def wave(count: int) -> None:
            await asyncio.gather(*(turn(clients[n % len(clients)], n)
                                   for n in itertools.islice(numbers, count)))

        await wave(OUTAGE_TURNS // 4)
        redis_proxy.cut()
        database_proxy.cut()
        await wave(OUTAGE_TURNS // 2)
        cut_results = list(results[OUTAGE_TURNS // 4:])
        redis_proxy.restore()
        database_proxy.restore()
        # Each instance probes its dependencies every few seconds; wait for both (bounded).
        for _ in range(100):
            ready = [(await c.get("/api/ready")).status_code for c in clients[:4]]
            if all(status == 200 for status in ready):
                break
            await asyncio.sleep(0.2)
        before = len(results)
        await wave(OUTAGE_TURNS)
        after_results = results[before:]
    failed = sum(1 for ok, _ in results if not ok)
    unsaved = sum(1 for ok, saved in cut_results if ok and saved is False)
    saved_after = sum(1 for ok, saved in after_results if ok and saved is True)
    return len(results), failed, unsaved, saved_after


def main() -> int:
    database = create_postgres_database()
    checks: list[tuple[str, bool]] = []
    try:
        from parley.storage.db import upgrade

        asyncio.run(upgrade(database))
        clear_limits()
        with ExitStack() as stack:
            base = stack.enter_context(fake_openai("--token-delay", "0.01"))
            redis_proxy = stack.enter_context(TcpProxy(*host_port(REDIS_URL, 6379)))
            database_proxy = stack.enter_context(TcpProxy(*host_port(database, 5432)))
            env = {
                "PARLEY_OPENAI_BASE_URL": base,
                "PARLEY_REDIS_URL": via(REDIS_URL, redis_proxy.port),
                "PARLEY_DATABASE_URL": via(database, database_proxy.port),
                "PARLEY_TRUSTED_PROXIES": "127.0.0.1",
                "PARLEY_RATE_LIMIT_PER_CLIENT": f"{ALLOWANCE}/minute",
            }
            a = stack.enter_context(parley(env, "scale-a"))
            b = stack.enter_context(parley(env, "scale-b"))
            url = stack.enter_context(nginx(a.port, b.port))
            print(f"Two instances ({a.url}, {b.url}) behind nginx at {url}; "
                  f"shared Redis and PostgreSQL")

            allowed, refused = asyncio.run(shared_allowance(url))
            exact = allowed == ALLOWANCE and refused == TRIES - ALLOWANCE
            print(f"1. shared rate limit: {allowed} allowed, {refused} refused of {TRIES} "
                  f"(allowance {ALLOWANCE}/minute across both) -> {'exact' if exact else 'WRONG'}")
            checks.append(("shared rate limit", exact))

            clear_limits()
            across = asyncio.run(history_across(a.url, b.url))
            print(f"2. history written via A, read via B (and hidden from another device): "
                  f"{'yes' if across else 'NO'}")
            checks.append(("history across instances", across))

            clear_limits()
            attempts, killed_at, gone_at = asyncio.run(kill_mid_load(url, a))
            failed = [t for t in attempts if not t.ok]
            victim = str(a.port)
            # In flight on A when it died: sent to A, begun before it was seen gone, still
            # open when the kill was sent.
            in_flight = [t for t in attempts
                         if t.upstream == victim and t.began <= gone_at and t.ended >= killed_at]
            stray = [t for t in failed if t not in in_flight]
            print(f"3. killed instance A mid-load: {len(attempts) - len(failed)} of "
                  f"{LOAD_REQUESTS} streams completed, {len(failed)} failed; A had "
                  f"{len(in_flight)} in flight when killed; other failures: {len(stray)}")
            for t in stray:
                print(f"   stray failure: began {t.began - gone_at:+.3f}s after A was gone, "
                      f"ended {t.ended - gone_at:+.3f}s, upstream port {t.upstream or '?'}")
            contained = not stray
            checks.append(("only the killed instance's in-flight requests failed", contained))

            clear_limits()
            total, lost, unsaved, saved_after = asyncio.run(
                outage_mid_load(url, redis_proxy, database_proxy)
            )
            kept_going = lost == 0 and unsaved > 0 and saved_after > 0
            print(f"4. Redis and the database cut mid-load, then restored: {total - lost} of "
                  f"{total} turns answered, {lost} failed; {unsaved} answered with "
                  f'"saved": false while cut; {saved_after} saved again after -> '
                  f"{'no turn lost' if kept_going else 'TURNS LOST'}")
            checks.append(("turns through a Redis and database outage", kept_going))
    finally:
        drop_postgres_database(database)
    broken = [name for name, ok in checks if not ok]
    print("PASS" if not broken else f"FAIL: {', '.join(broken)}")
    print(f"(server logs in {LOGS})")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
