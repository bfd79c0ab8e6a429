"""Prometheus metrics at /metrics, only when enabled."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.fakes.openai_server import FakeOpenAI, Script
from tests.live import LiveServer


async def test_metrics_are_off_by_default(client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics")).status_code == 404


async def test_metrics_count_requests_first_tokens_errors_and_limits(
    serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    server = serve(metrics_enabled=True, rate_limit_per_client="3/minute")
    body = {"message": "hi", "apiKey": "sk-test-metrics-123456"}
    async with httpx.AsyncClient(base_url=server.url) as http:
        fake.script(Script(reply="One idea."))
        assert (await http.post("/api/conversation", json=body)).status_code == 200
        fake.script(Script(fault="401"))
        assert (await http.post("/api/conversation", json=body)).status_code == 401
        assert (await http.post("/api/conversation", json=body)).status_code == 200
        assert (await http.post("/api/conversation", json=body)).status_code == 429
        text = (await http.get("/metrics")).text
    assert 'parley_requests_total{method="POST",route="/api/conversation",status="200"} 2.0' in text
    assert 'parley_requests_total{method="POST",route="/api/conversation",status="429"} 1.0' in text
    assert 'parley_first_token_seconds_count{provider="openai"} 2.0' in text
    assert 'parley_upstream_errors_total{code="invalid_api_key",provider="openai"} 1.0' in text
    assert 'parley_rate_limited_total{reason="rate"} 1.0' in text
    assert "parley_active_streams 0.0" in text
    assert "sk-test-metrics" not in text


async def test_metrics_need_the_token_when_one_is_set(
    serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    server = serve(metrics_enabled=True, metrics_token="scrape-me-0123456789")
    async with httpx.AsyncClient(base_url=server.url) as http:
        bare = await http.get("/metrics")
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        right = await http.get("/metrics",
                               headers={"Authorization": "Bearer scrape-me-0123456789"})
    assert bare.status_code == 401 and bare.json()["error"]["code"] == "unauthenticated"
    assert wrong.status_code == 401
    assert right.status_code == 200 and "parley_requests_total" in right.text
    assert "scrape-me" not in bare.text + wrong.text


async def test_without_a_token_only_this_machine_reads_metrics(
    serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    server = serve(metrics_enabled=True, trusted_proxies="127.0.0.1")
    async with httpx.AsyncClient(base_url=server.url) as http:
        local = await http.get("/metrics")
        remote = await http.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"})
    assert local.status_code == 200
    assert remote.status_code == 401
