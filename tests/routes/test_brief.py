"""POST /api/brief: a conversation becomes a Markdown design brief."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.fakes.openai_server import FakeOpenAI, Script
from tests.live import LiveServer
from tests.sse import collect

KEY = "sk-test-brief-0123456789abcdef"
HISTORY = [
    {"role": "user", "content": "Onboarding for a student budgeting app feels heavy."},
    {"role": "assistant", "content": "What is the one number a student cares about?"},
    {"role": "user", "content": "How much they can spend this week."},
]
BRIEF = "# Student budgeting onboarding\n\n## Problem\n- Seven steps before any value.\n"


async def test_brief_as_json(client: httpx.AsyncClient, fake: FakeOpenAI) -> None:
    fake.script(Script(reply=BRIEF))
    response = await client.post("/api/brief", json={"apiKey": KEY, "history": HISTORY})
    assert response.status_code == 200
    assert response.json()["reply"] == BRIEF
    sent = fake.requests_for("chat")[0].json["messages"]
    assert [m["role"] for m in sent] == ["system", "user"]
    assert "## Open questions" in sent[0]["content"]
    assert "Designer: Onboarding for a student budgeting app feels heavy." in sent[1]["content"]
    assert "Parley: What is the one number a student cares about?" in sent[1]["content"]


async def test_brief_streams_text_without_sentence_events(
    client: httpx.AsyncClient, fake: FakeOpenAI
) -> None:
    fake.script(Script(reply=BRIEF))
    async with client.stream(
        "POST", "/api/brief", json={"apiKey": KEY, "history": HISTORY, "stream": True}
    ) as response:
        got = await collect(response)
    names = {name for name, _ in got}
    assert names == {"delta", "done"}
    assert "".join(d["text"] for n, d in got if n == "delta") == BRIEF


async def test_brief_needs_something_to_brief(
    client: httpx.AsyncClient, fake: FakeOpenAI
) -> None:
    response = await client.post("/api/brief", json={"apiKey": KEY, "history": []})
    assert response.status_code == 422
    assert "nothing to brief" in response.json()["error"]["message"]
    assert fake.requests == []


@pytest.mark.local_model
async def test_the_offline_brief_is_bounded_by_the_setting(
    serve: Callable[..., LiveServer],
) -> None:
    server = serve(local_model="auto", brief_max_tokens=64)
    history = [{"role": "user", "content": "We are redesigning onboarding for students."},
               {"role": "assistant", "content": "Who drops off first?"}]
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        answer = await http.post("/api/brief", json={"history": history})
    assert answer.status_code == 200, answer.text
    assert answer.json()["usage"]["completion_tokens"] <= 64
