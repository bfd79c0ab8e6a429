"""A conversation turn that names a session is kept on the server, whole or interrupted."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import httpx

from tests.fakes.openai_server import FakeOpenAI, Script
from tests.live import LiveServer, device
from tests.sse import events

KEY = "sk-test-history-0123456789"
REPLY = "Start with the first screen. What do people decide there?"


def turn(session_id: str, **extra: object) -> dict[str, object]:
    return {"message": "Onboarding feels heavy.", "apiKey": KEY, "sessionId": session_id,
            "mode": "critique", **extra}


async def test_user_turn_and_reply_are_kept(
    serve: Callable[..., LiveServer], fake: FakeOpenAI, database_url: str
) -> None:
    server = serve(database_url=database_url)
    fake.script(Script(reply=REPLY))
    me = device()
    session = str(uuid.uuid4())
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        answer = await http.post("/api/conversation", json=turn(session), headers=me)
        assert answer.status_code == 200
        kept = (await http.get(f"/api/sessions/{session}", headers=me)).json()
    assert kept["mode"] == "critique"
    assert [(m["sender"], m["text"], m["interrupted"]) for m in kept["messages"]] == [
        ("user", "Onboarding feels heavy.", False),
        ("bot", REPLY, False),
    ]


async def test_a_reply_cut_off_by_a_disconnect_is_kept_as_interrupted(
    serve: Callable[..., LiveServer], fake: FakeOpenAI, database_url: str
) -> None:
    server = serve(database_url=database_url)
    fake.script(Script(reply="First part arrives. " + "more " * 200, token_delay=0.02))
    me = device()
    session = str(uuid.uuid4())
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        async with http.stream(
            "POST", "/api/conversation", json=turn(session, stream=True), headers=me
        ) as response:
            reader = events(response)
            async for name, _ in reader:
                if name == "sentence":
                    break
            await reader.aclose()
        assert await fake.wait_for_async(lambda: fake.disconnects == 1, 2.0)

        async def bot_messages() -> list[dict[str, object]]:
            kept = (await http.get(f"/api/sessions/{session}", headers=me)).json()
            return [m for m in kept["messages"] if m["sender"] == "bot"]

        for _ in range(100):  # the shielded write finishes just after the disconnect
            bots = await bot_messages()
            if bots:
                break
            await asyncio.sleep(0.02)
    [bot] = bots
    assert bot["interrupted"] is True
    assert str(bot["text"]).startswith("First part arrives.")
    assert len(str(bot["text"])) < len("First part arrives. " + "more " * 200)


async def test_another_devices_session_id_is_refused_before_any_model_call(
    serve: Callable[..., LiveServer], fake: FakeOpenAI, database_url: str
) -> None:
    server = serve(database_url=database_url)
    owner, stranger = device(), device()
    session = str(uuid.uuid4())
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        fake.script(Script(reply=REPLY))
        assert (await http.post("/api/conversation", json=turn(session),
                                headers=owner)).status_code == 200
        calls = len(fake.requests_for("chat"))
        intruder = await http.post("/api/conversation", json=turn(session), headers=stranger)
        assert intruder.status_code == 404
        assert len(fake.requests_for("chat")) == calls
        kept = (await http.get(f"/api/sessions/{session}", headers=owner)).json()
        assert len(kept["messages"]) == 2
        bad = await http.post("/api/conversation", json=turn(session),
                              headers={"X-Parley-Device": "not-a-secret"})
        assert bad.status_code == 400
        assert len(fake.requests_for("chat")) == calls
