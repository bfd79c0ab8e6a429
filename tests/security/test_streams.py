"""The concurrent-stream cap: 503 with Retry-After when full, slots returned afterwards."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.fakes.openai_server import FakeOpenAI, Script
from tests.live import LiveServer
from tests.sse import events


async def test_full_instance_answers_503_then_recovers(
    serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    server = serve(max_concurrent_streams=1)
    fake.script(Script(reply="word " * 100, token_delay=0.02))
    body = {"message": "hi", "apiKey": "sk-test-streams", "stream": True}
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        async with http.stream("POST", "/api/conversation", json=body) as first:
            # Keep the reader referenced: a collected one would close the stream early.
            reader = events(first)
            async for name, _ in reader:
                if name == "delta":
                    break
            busy = await http.post("/api/conversation", json=body)
            await reader.aclose()
        assert busy.status_code == 503
        assert busy.json()["error"]["code"] == "server_busy"
        assert busy.headers["retry-after"] == "2"
        # The first stream was abandoned mid-way: its slot came back.
        assert await fake.wait_for_async(lambda: fake.open_streams == 0, 2.0)
        again = await http.post("/api/conversation", json={**body, "stream": False})
    assert again.status_code == 200
    assert server.app.state.services.admission.streams.active == 0


async def test_failed_turns_give_their_slot_back(
    serve: Callable[..., LiveServer], fake: FakeOpenAI
) -> None:
    server = serve(max_concurrent_streams=1, retry_budget=0.0)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        for _ in range(3):
            fake.script(Script(fault="401"))
            response = await http.post(
                "/api/conversation", json={"message": "hi", "apiKey": "sk-test-slot"}
            )
            assert response.status_code == 401
    assert server.app.state.services.admission.streams.active == 0
