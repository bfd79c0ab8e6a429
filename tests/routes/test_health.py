"""GET /api/health."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from parley import __version__
from tests.fakes.openai_server import FakeOpenAI
from tests.live import LiveServer


async def test_health_shape_without_calling_upstream(
    client: httpx.AsyncClient, fake: FakeOpenAI
) -> None:
    response = await client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert body["storage"] == "browser"
    assert body["providers"]["openai"]["ready"] is True
    assert body["providers"]["openai"]["operator_key"] is False
    assert body["providers"]["local"]["ready"] is False
    assert fake.requests == []


async def test_health_never_shows_the_operator_key(
    serve: Callable[..., LiveServer],
) -> None:
    server = serve(openai_api_key="sk-operator-secret-123456789", access_code="letmein-please-2026")
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.get("/api/health")
    body = response.json()
    assert body["providers"]["openai"]["operator_key"] is True
    assert body["providers"]["openai"]["access_code_required"] is True
    assert "sk-operator" not in response.text and "letmein" not in response.text
