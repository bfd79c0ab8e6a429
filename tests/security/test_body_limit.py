"""Request bodies over the limit get 413 before they are read."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx

from tests.fakes.openai_server import FakeOpenAI
from tests.live import LiveServer


async def test_declared_length_over_the_limit_is_refused(
    serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    # /api/conversation takes pictures, so its limit is the picture-sized one.
    server = serve(max_body_bytes=2048, max_image_body_bytes=2048)
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post(
            "/api/conversation", json={"message": "x" * 3000, "apiKey": "sk-test-1234567"}
        )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert "2 KB" in response.json()["error"]["message"]
    assert fake.requests == []


async def test_a_chunked_body_is_counted_as_it_arrives(
    serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    server = serve(max_body_bytes=2048)

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"message": "'
        for _ in range(100):
            yield b"y" * 100
        yield b'"}'

    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post(
            "/api/conversation", content=chunks(), headers={"content-type": "application/json"}
        )
    assert response.status_code == 413
    assert fake.requests == []
    async with httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get("/api/health")).status_code == 200


async def test_a_kept_turn_may_carry_pictures_other_history_may_not(
    serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    server = serve(max_body_bytes=2048, max_image_body_bytes=8192)
    body = {"sender": "user", "text": "x" * 3000}
    async with httpx.AsyncClient(base_url=server.url) as http:
        kept_turn = await http.post("/api/sessions/abc/messages", json=body)
        rename = await http.patch("/api/sessions/abc", json={"title": "x" * 3000})
        too_big = await http.post("/api/sessions/abc/messages", json=body | {"text": "x" * 9000})
    # Past the plain limit, within the pictures' one: read, then refused as history is off.
    assert kept_turn.json()["error"]["code"] == "storage_disabled"
    assert rename.status_code == 413
    assert too_big.status_code == 413
