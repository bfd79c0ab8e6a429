"""Streams end cleanly however the client leaves: nothing is left open upstream or in Parley."""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.fakes.openai_server import FakeOpenAI, Script
from tests.live import LiveServer

STREAMS = 1000


def tcp_states(port: int) -> dict[str, int]:
    """This process's TCP connections to `port`, counted by state (from /proc/net/tcp)."""
    inodes = set()
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    names = {"01": "ESTABLISHED", "08": "CLOSE_WAIT", "06": "TIME_WAIT"}
    counts: dict[str, int] = {}
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].split(":")[1], 16)
            if remote_port == port and fields[9] in inodes:
                state = names.get(fields[3], fields[3])
                counts[state] = counts.get(state, 0) + 1
    return counts


async def server_tasks(server: LiveServer) -> int:
    """How many asyncio tasks the server's event loop is running."""
    loop = server.server.servers[0].get_loop()

    async def count() -> int:
        return len(asyncio.all_tasks())

    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(count(), loop))


async def test_a_thousand_abandoned_streams_leave_nothing_open(
    serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    server = serve(rate_limit_per_client="1000000/minute", rate_limit_per_key="1000000/minute",
                   max_concurrent_streams=STREAMS)
    fake.script(Script(reply="word " * 50, token_delay=0.004, times=STREAMS))
    idle_tasks = await server_tasks(server)
    rng = random.Random(20261124)
    body = {"message": "Talk", "apiKey": "sk-test-abandon-0123", "stream": True}
    gate = asyncio.Semaphore(100)

    async def abandon(http: httpx.AsyncClient, cut: int) -> None:
        async with gate, http.stream("POST", "/api/conversation", json=body) as response:
            if cut == 0:
                return  # hang up before reading anything
            seen = 0
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    seen += 1
                    if seen >= cut:
                        return

    limits = httpx.Limits(max_connections=100, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as http:
        await asyncio.gather(*(abandon(http, rng.randint(0, 45)) for _ in range(STREAMS)))

    assert await fake.wait_for_async(lambda: fake.open_streams == 0, 10.0)
    stats = fake.stats()
    assert stats.completed + stats.disconnects == STREAMS, stats  # every stream accounted for
    assert stats.disconnects >= STREAMS // 4, stats  # most hung up mid-stream
    assert server.app.state.services.admission.streams.active == 0
    for _ in range(100):
        if await server_tasks(server) <= idle_tasks:
            break
        await asyncio.sleep(0.05)
    assert await server_tasks(server) <= idle_tasks
    upstream = tcp_states(fake.port)
    # Idle keep-alive connections may stay pooled; none may be half-closed and left behind.
    assert upstream.get("CLOSE_WAIT", 0) == 0, upstream
    assert upstream.get("ESTABLISHED", 0) <= 200, upstream
    assert len(fake.requests_for("chat")) == STREAMS


async def test_upstream_connections_are_reused_between_turns(
    client: httpx.AsyncClient, fake: FakeOpenAI
) -> None:
    for _ in range(5):
        response = await client.post(
            "/api/conversation", json={"message": "hi", "apiKey": "sk-test-reuse-0123"}
        )
        assert response.status_code == 200
    # The body after [DONE] is read, so one pooled connection serves every turn.
    assert tcp_states(fake.port).get("ESTABLISHED", 0) == 1
