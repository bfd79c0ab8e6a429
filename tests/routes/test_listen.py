"""WS /api/listen: the recorder path's live ear, end to end over a real WebSocket."""

from __future__ import annotations

import json
from typing import Any

import pytest
import websockets

from tests.fakes.openai_server import DEFAULT_TRANSCRIPT, FakeOpenAI
from tests.live import LiveServer, Serve
from tests.speech.audio import spoken_pcm
from tests.speech.engines import use_local_models

KEY = "sk-test-listen-0123456789"
FRAME_BYTES = 1024  # 512 samples: what the page's AudioWorklet posts


async def converse(server: LiveServer, start: dict[str, Any], pcm: bytes, *, end: str = "end",
                   origin: str | None = None) -> list[dict[str, Any]]:
    """Stream a turn as the page does; every message Parley sent back."""
    url = f"ws://127.0.0.1:{server.port}/api/listen"
    received: list[dict[str, Any]] = []
    headers = {"Origin": origin} if origin else None
    async with websockets.connect(url, additional_headers=headers, open_timeout=10) as ws:
        await ws.send(json.dumps({"type": "start", **start}))
        first = json.loads(await ws.recv())
        received.append(first)
        if first["type"] != "ready":
            return received
        try:
            for at in range(0, len(pcm), FRAME_BYTES):
                await ws.send(pcm[at:at + FRAME_BYTES])
            await ws.send(json.dumps({"type": end}))
        except websockets.ConnectionClosed:
            pass  # Parley refused the turn part-way: what it said is read below
        try:
            async for raw in ws:
                received.append(json.loads(raw))
        except websockets.ConnectionClosedError:
            pass  # closed with an error code after saying why
    return received


@pytest.mark.speech_models
async def test_a_turn_heard_live_by_the_offline_whisper(server: LiveServer) -> None:
    use_local_models(server)
    pcm = spoken_pcm(0.5, "I want to redesign", 1.0, "the onboarding flow", 0.5)
    got = await converse(server, {"language": "en-US"}, pcm)
    kinds = [m["type"] for m in got]
    assert kinds[0] == "ready" and got[0]["words"] is True
    assert kinds.count("speech") == 2 and kinds.count("pause") == 2
    assert kinds[-1] == "transcript"
    words = [m["text"].lower() for m in got if m["type"] == "words"]
    assert words and any("redesign" in w for w in words)
    final = got[-1]
    assert "onboarding" in final["text"].lower()
    # The silence around the speech was not transcribed.
    assert final["duration_ms"] < len(pcm) / 2 / 16


async def test_with_a_key_the_words_go_to_openai_as_wav(
    server: LiveServer, fake: FakeOpenAI
) -> None:
    pcm = spoken_pcm(0.3, "Where would you start?", 0.6)
    got = await converse(server, {"apiKey": KEY, "words": False}, pcm)
    assert got[0] == {"type": "ready", "words": False}
    assert got[-1]["type"] == "transcript" and got[-1]["text"] == DEFAULT_TRANSCRIPT
    (sent,) = fake.requests_for("transcriptions")
    assert sent.api_key == KEY and sent.upload is not None
    assert sent.upload.content_type == "audio/wav" and sent.upload.data[:4] == b"RIFF"


async def test_cancel_transcribes_nothing(server: LiveServer, fake: FakeOpenAI) -> None:
    got = await converse(server, {"apiKey": KEY}, spoken_pcm("Never mind"), end="cancel")
    assert [m["type"] for m in got if m["type"] == "transcript"] == []
    assert fake.requests_for("transcriptions") == []


async def test_a_wrong_access_code_is_refused_like_everywhere(
    serve: Serve, fake: FakeOpenAI
) -> None:
    server = serve(openai_api_key="sk-operator-listen-0123456", access_code="listen-code-2026")
    got = await converse(server, {"accessCode": "nope-nope-nope"}, b"")
    assert got == [{"type": "error", "code": "access_code_required",
                    "message": got[0]["message"]}]
    assert "not right" in got[0]["message"]


async def test_too_long_a_turn_is_refused(serve: Serve, fake: FakeOpenAI) -> None:
    server = serve(max_audio_seconds=1)
    got = await converse(server, {"apiKey": KEY}, spoken_pcm(1.5))
    assert got[-1]["type"] == "error" and got[-1]["code"] == "audio_too_long"


async def test_another_sites_page_cannot_listen(server: LiveServer) -> None:
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        await converse(server, {"apiKey": KEY}, b"", origin="https://evil.example")
    assert refused.value.response.status_code == 403
