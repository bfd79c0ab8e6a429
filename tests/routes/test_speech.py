"""POST /api/speech on a live server: OpenAI (fake), Piper and espeak-ng, streamed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest

from parley.speech.piper_local import PiperTTS
from tests import errors
from tests.fakes.openai_server import FakeOpenAI, Script, speech_audio
from tests.live import LiveServer, Serve
from tests.speech import engines
from tests.speech.audio import decode_pcm, heard, words

KEY = "sk-test-speech-route-5555"
SENTENCES = [
    "Start with the first screen people see.",
    "What do they need to decide there?",
    "Cut everything that does not help them decide.",
    "Then test it with five people.",
    "Watch where they hesitate.",
    "That is where the design is unclear.",
]
TEXT = " ".join(SENTENCES)


async def speak(server: LiveServer, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        return await http.post("/api/speech", json=body, **kwargs)


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    return errors.assert_error(response, status, code, secrets=(KEY,))


# --- OpenAI, through the fake ----------------------------------------------------------


async def test_a_key_speaks_with_openai(server: LiveServer, fake: FakeOpenAI) -> None:
    text = "Start with the first screen people see."
    response = await speak(server, {"text": text}, headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/mpeg"
    assert response.headers["x-parley-speech-engine"] == "openai"
    assert response.content == speech_audio("mp3", len(text))
    (sent,) = fake.requests_for("speech")
    assert sent.api_key == KEY
    assert sent.json == {
        "input": text, "model": "gpt-4o-mini-tts", "voice": "marin", "response_format": "mp3"
    }


@pytest.mark.parametrize(("fmt", "media"), [("wav", "audio/wav"), ("opus", "audio/ogg"),
                                            ("pcm", "audio/L16;rate=24000;channels=1")])
async def test_formats_and_voices_are_passed_on(
    server: LiveServer, fake: FakeOpenAI, fmt: str, media: str
) -> None:
    response = await speak(server, {"text": "Hello.", "format": fmt, "voice": "cedar",
                                    "apiKey": KEY})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == media
    assert response.content == speech_audio(fmt, len("Hello."))
    sent = fake.requests_for("speech")[0].json
    assert (sent["voice"], sent["response_format"]) == ("cedar", fmt)


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [("401", 401, "invalid_api_key"), ("429", 429, "upstream_rate_limited"),
     ("500", 502, "upstream_error")],
)
async def test_upstream_errors_are_http_errors_not_broken_audio(
    server: LiveServer, fake: FakeOpenAI, fault: Any, status: int, code: str
) -> None:
    fake.script(Script(fault=fault), "speech")
    response = await speak(server, {"text": "Hello.", "apiKey": KEY})
    assert_error(response, status, code)


async def test_openai_audio_streams_through(server: LiveServer, fake: FakeOpenAI) -> None:
    # The fake holds its second chunk back for 30 s: the first one must come through alone.
    fake.script(Script(token_delay=30), "speech")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        async with http.stream("POST", "/api/speech", json={"text": TEXT, "apiKey": KEY}) as r:
            assert r.status_code == 200
            first = await anext(r.aiter_raw())
    assert speech_audio("mp3", len(TEXT)).startswith(first)
    # The listener left (barge-in): Parley hangs up on OpenAI as well.
    assert await fake.wait_for_async(lambda: fake.stats("speech").disconnects == 1, 10)


async def test_an_upstream_that_breaks_mid_stream_ends_the_audio_early(
    server: LiveServer, fake: FakeOpenAI
) -> None:
    fake.script(Script(fault="drop", fault_after=1), "speech")
    response = await speak(server, {"text": TEXT, "apiKey": KEY})
    assert response.status_code == 200
    assert 0 < len(response.content) < len(speech_audio("mp3", len(TEXT)))


# --- Choosing an engine and checking the request -----------------------------------------


async def test_no_key_and_no_voice_installed_says_what_to_do(server: LiveServer) -> None:
    error = assert_error(await speak(server, {"text": "Hello."}), 503, "speech_unavailable")
    assert "API key" in error["message"] and "parley[piper]" in error["message"]


@pytest.mark.parametrize(
    ("body", "status", "code", "says"),
    [
        ({"text": ""}, 422, "invalid_request", "text"),
        ({"text": "   \n "}, 422, "invalid_request", "empty"),
        ({"text": "x" * 1001}, 413, "payload_too_large", "1000 characters"),
        ({"text": "Hi.", "format": "ogg"}, 422, "invalid_request", "format"),
        ({"text": "Hi.", "voice": "darth"}, 422, "invalid_request", "darth"),
        ({"text": "Hi\u0000."}, 422, "invalid_request", "text"),
        ({"text": "Hi.", "provider": "robot"}, 422, "invalid_request", "provider"),
    ],
)
async def test_bad_requests_are_explained(
    server: LiveServer, body: dict[str, Any], status: int, code: str, says: str
) -> None:
    response = await speak(server, {**body, "apiKey": KEY})
    assert says in assert_error(response, status, code)["message"]


@pytest.mark.parametrize("key", ["sk-ключ", "sk-a\nb", "sk-§", "sk-a b"])
async def test_a_key_that_cannot_be_sent_is_the_persons_to_fix(
    server: LiveServer, key: str
) -> None:
    response = await speak(server, {"text": "Hi.", "apiKey": key})
    assert "apiKey" in assert_error(response, 422, "invalid_request")["message"]


async def test_espeak_is_the_last_resort(serve: Serve) -> None:
    server = serve(local_tts="espeak")
    response = await speak(server, {"text": "Hello from the fallback voice."})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["x-parley-speech-engine"] == "espeak"
    rate, samples = decode_pcm(response.content)
    assert rate == 22_050 and samples > 22_050
    mp3 = await speak(server, {"text": "Hello.", "format": "mp3", "voice": "en-gb"})
    assert mp3.headers["content-type"] == "audio/mpeg" and decode_pcm(mp3.content)[1] > 0
    opus = await speak(server, {"text": "Hello.", "format": "opus"})
    assert "wav, mp3" in assert_error(opus, 422, "invalid_request")["message"]


async def test_a_key_still_wins_over_the_local_voice(serve: Serve, fake: FakeOpenAI) -> None:
    server = serve(local_tts="espeak")
    response = await speak(server, {"text": "Hello.", "apiKey": KEY})
    assert response.headers["x-parley-speech-engine"] == "openai"
    local = await speak(server, {"text": "Hello.", "apiKey": KEY, "provider": "local"})
    assert local.headers["x-parley-speech-engine"] == "espeak"
    assert len(fake.requests_for("speech")) == 1


# --- Piper: streamed a sentence at a time ------------------------------------------------


class GatedVoice:
    """The real Piper voice, holding sentence 2 back until the listener has heard audio.

    If the server gathered the audio before answering, the listener would never hear the
    first sentence and the gate would only open at its deadline, failing the test.
    """

    def __init__(self, voice: Any) -> None:
        self._voice = voice
        self.config = voice.config
        self.made = 0
        self.heard = threading.Event()
        self.timed_out = False
        self.closed = threading.Event()

    def synthesize(self, text: str, syn_config: Any = None) -> Iterator[Any]:
        sentences = iter(self._voice.synthesize(text, syn_config))
        try:
            for chunk in sentences:
                self.made += 1
                yield chunk
                if self.made == 1 and not self.heard.wait(timeout=10):  # deadlock breaker
                    self.timed_out = True
        finally:
            self.closed.set()


@pytest.mark.speech_models
@pytest.mark.parametrize("fmt", ["wav", "mp3"])
async def test_piper_streams_the_first_sentence_before_making_the_rest(
    server: LiveServer, fmt: str
) -> None:
    voice = GatedVoice(engines.piper_voice())
    tts = PiperTTS(cast(Any, voice), formats=("wav", "mp3"))
    engines.use_local_models(server, tts=tts)
    received = b""
    made_when_heard = None
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        async with http.stream("POST", "/api/speech", json={"text": TEXT, "format": fmt}) as r:
            assert r.status_code == 200
            assert r.headers["x-parley-speech-engine"] == "piper"
            async for chunk in r.aiter_raw():
                received += chunk
                if made_when_heard is None and len(received) > 1_000:
                    made_when_heard = voice.made
                    voice.heard.set()
    await tts.aclose()
    assert made_when_heard == 1 and not voice.timed_out
    assert voice.made == len(SENTENCES)
    rate, samples = decode_pcm(received)
    assert rate == 22_050 and samples > 22_050 * 8


@pytest.mark.speech_models
async def test_a_listener_who_leaves_stops_piper(server: LiveServer) -> None:
    voice = GatedVoice(engines.piper_voice())
    tts = PiperTTS(cast(Any, voice), formats=("wav",))
    engines.use_local_models(server, tts=tts)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        async with http.stream("POST", "/api/speech", json={"text": TEXT * 3}) as r:
            async for _ in r.aiter_raw():
                break  # barge-in: the phone stops listening after the first audio
    voice.heard.set()
    assert voice.closed.wait(timeout=10)
    await tts.aclose()
    assert voice.made < len(SENTENCES) * 3


@pytest.mark.speech_models
async def test_piper_speech_is_understood_by_whisper(server: LiveServer) -> None:
    engines.use_local_models(server)
    sentence = "Let's compare two navigation patterns for the settings page."
    spoken = await speak(server, {"text": sentence, "format": "mp3", "voice": "joe"})
    assert spoken.status_code == 200 and spoken.headers["content-type"] == "audio/mpeg"
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        heard_back = await http.post(
            "/api/transcribe", files={"audio": ("reply.mp3", spoken.content, "audio/mpeg")}
        )
    assert heard_back.status_code == 200, heard_back.text
    assert heard(sentence, heard_back.json()["text"]) >= len(words(sentence)) - 2
