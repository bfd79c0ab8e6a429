"""Redis and the database go away mid-load: no turn lost, no 500, and Parley says so.

Real Redis and PostgreSQL, each behind a TCP proxy the test cuts and restores.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import redis

from tests.fakes.background import poll_async
from tests.fakes.tcp_proxy import TcpProxy
from tests.live import LiveServer, Serve
from tests.sse import collect
from tests.storage.databases import create_postgres_database, drop_postgres_database

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

REDIS_PORT = 6379
KEY = "sk-resilience-0123456789"


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture
def proxies() -> Iterator[tuple[TcpProxy, TcpProxy]]:
    with TcpProxy("127.0.0.1", REDIS_PORT) as to_redis, TcpProxy("127.0.0.1", 5432) as to_db:
        yield to_redis, to_db


@pytest.fixture
def server(serve: Serve, database: str, proxies: tuple[TcpProxy, TcpProxy]) -> LiveServer:
    to_redis, to_db = proxies
    parts = urlsplit(database)
    return serve(
        database_url=urlunsplit(parts._replace(netloc=f"postgres@127.0.0.1:{to_db.port}")),
        database_migrate_on_start=True,
        redis_url=f"redis://127.0.0.1:{to_redis.port}/0",
        rate_limit_per_client="1000/minute",
        rate_limit_per_key="1000/minute",
    )


def device() -> dict[str, str]:
    return {"X-Parley-Device": secrets.token_hex(32)}


async def turn(http: httpx.AsyncClient, who: dict[str, str], **extra: Any) -> httpx.Response:
    body = {"message": "Where do I start?", "apiKey": KEY, "sessionId": str(uuid.uuid4()),
            **extra}
    return await http.post("/api/conversation", json=body, headers=who)


async def test_turns_survive_redis_and_the_database_going_away(
    server: LiveServer, proxies: tuple[TcpProxy, TcpProxy]
) -> None:
    to_redis, to_db = proxies
    me = device()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        before = await turn(http, me)
        assert before.status_code == 200 and before.json()["saved"] is True
        assert (await http.get("/api/ready")).status_code == 200

        to_redis.cut()
        to_db.cut()
        during = await asyncio.gather(*(turn(http, me) for _ in range(30)))
        assert [r.status_code for r in during] == [200] * 30
        assert {r.json()["saved"] for r in during} == {False}
        # A stream says it in its done event.
        async with http.stream("POST", "/api/conversation", headers=me, json={
            "message": "And then?", "apiKey": KEY, "sessionId": str(uuid.uuid4()),
            "stream": True,
        }) as streamed:
            done = [data for name, data in await collect(streamed) if name == "done"]
        assert done and done[0]["saved"] is False
        # Turns without history are untouched; the rate limit counts in memory meanwhile.
        plain = await http.post("/api/conversation", json={"message": "hi", "apiKey": KEY})
        assert plain.status_code == 200 and "saved" not in plain.json()

        history = await http.get("/api/sessions", headers=me)
        assert history.status_code == 503
        assert history.json()["error"]["code"] == "storage_unavailable"
        assert int(history.headers["retry-after"]) >= 1
        health = await http.get("/api/health")
        assert health.status_code == 200
        report = health.json()
        assert report["status"] == "degraded"
        assert report["components"]["database"]["status"] == "down"
        assert report["components"]["redis"]["status"] == "down"
        assert report["components"]["database"]["since"]
        ready = await http.get("/api/ready")
        assert ready.status_code == 503 and ready.json()["error"]["code"] == "not_ready"

        to_redis.restore()
        to_db.restore()

        async def ready_again() -> bool:
            return (await http.get("/api/ready")).status_code == 200

        for _ in range(100):  # the probes look every few seconds
            if await ready_again():
                break
            await asyncio.sleep(0.2)
        assert await ready_again()
        after = await turn(http, me)
        assert after.status_code == 200 and after.json()["saved"] is True
        assert (await http.get("/api/health")).json()["status"] == "ok"
        assert (await http.get("/api/sessions", headers=me)).status_code == 200


async def test_the_limiter_goes_back_to_redis(
    server: LiveServer, proxies: tuple[TcpProxy, TcpProxy]
) -> None:
    to_redis, _ = proxies
    shared = redis.Redis(port=REDIS_PORT)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        to_redis.cut()
        assert (await http.post("/api/conversation",
                                json={"message": "hi", "apiKey": KEY})).status_code == 200
        to_redis.restore()
        await poll_async(lambda: to_redis.up, 1)
        for _ in range(100):
            if (await http.get("/api/ready")).status_code == 200:
                break
            await asyncio.sleep(0.2)
        keys_before = set(shared.scan_iter("parley*"))
        assert (await http.post("/api/conversation",
                                json={"message": "hi", "apiKey": "sk-back-in-redis-01234"}
                                )).status_code == 200
        keys_after = set(shared.scan_iter("parley*"))
    shared.close()
    assert keys_after - keys_before, "the limit was not counted in Redis again"
