"""Rate limits per client and per key: 429 with Retry-After, shared through Redis."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest

from parley.security.ratelimit import RateLimiter, key_fingerprint
from tests.fakes.openai_server import FakeOpenAI
from tests.live import LiveServer

REDIS = "redis://127.0.0.1:6379/0"


async def test_per_client_budget(serve: Callable[..., LiveServer], fake: FakeOpenAI) -> None:
    server = serve(rate_limit_per_client="3/minute")
    async with httpx.AsyncClient(base_url=server.url) as http:
        answers = [
            await http.post("/api/conversation", json={"message": "hi", "apiKey": f"sk-k{i}xyzw"})
            for i in range(4)
        ]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert len(fake.requests_for("chat")) == 3


async def test_per_key_budget(serve: Callable[..., LiveServer], fake: FakeOpenAI) -> None:
    server = serve(rate_limit_per_key="2/minute")
    async with httpx.AsyncClient(base_url=server.url) as http:
        same = [
            await http.post("/api/conversation", json={"message": "hi", "apiKey": "sk-same-key"})
            for _ in range(3)
        ]
        other = await http.post(
            "/api/conversation", json={"message": "hi", "apiKey": "sk-other-key"}
        )
    assert [a.status_code for a in same] == [200, 200, 429]
    assert other.status_code == 200


def test_key_fingerprint_hides_the_key() -> None:
    key = "sk-proj-secret-1234567890"
    fingerprint = key_fingerprint(key)
    assert len(fingerprint) == 32 and key[-6:] not in fingerprint
    assert fingerprint == key_fingerprint(key) != key_fingerprint(key + "x")


@pytest.mark.redis
async def test_instances_share_one_budget_through_redis() -> None:
    client = f"client-{uuid.uuid4().hex}"
    first = RateLimiter.from_settings(REDIS, per_client="5/minute", per_key="100/minute")
    second = RateLimiter.from_settings(REDIS, per_client="5/minute", per_key="100/minute")
    allowed = 0
    for limiter in (first, second) * 4:
        try:
            await limiter.check(client, None)
            allowed += 1
        except Exception as exc:  # counting refusals
            assert type(exc).__name__ == "RateLimited"
    await first.aclose()
    await second.aclose()
    assert allowed == 5
