"""OpenAI transcription and speech against the fake OpenAI server (real HTTP, real SDK)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from openai import AsyncOpenAI

from parley import errors
from parley.speech.openai_stt import OpenAISTT
from parley.speech.openai_tts import FORMATS, OpenAITTS
from tests.fakes.openai_server import (
    DEFAULT_TRANSCRIPT,
    FakeOpenAI,
    Fault,
    Script,
    speech_audio,
)
from tests.speech.audio import recorded

KEY = "sk-test-speech-9876"


@pytest.fixture
async def client(fake: FakeOpenAI) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(api_key="unused", base_url=fake.base_url, max_retries=0) as openai:
        yield openai


async def test_transcription_sends_model_file_and_the_callers_key(
    fake: FakeOpenAI, client: AsyncOpenAI
) -> None:
    stt = OpenAISTT(client, model="gpt-4o-mini-transcribe")
    audio = recorded("webm")
    transcript = await stt.transcribe(
        audio, content_type="audio/webm", filename="recording.webm", api_key=KEY,
        language="en",
    )
    assert transcript.text == DEFAULT_TRANSCRIPT
    assert transcript.language == "en"
    # The fake bills by duration (3 s); that beats measuring the file.
    assert transcript.duration_ms == 3_000
    (sent,) = fake.requests_for("transcriptions")
    assert sent.api_key == KEY
    assert sent.form is not None and sent.form["model"] == "gpt-4o-mini-transcribe"
    assert sent.form["language"] == "en"
    assert sent.upload is not None and sent.upload.data == audio
    assert (sent.upload.filename, sent.upload.content_type) == ("recording.webm", "audio/webm")


@pytest.mark.parametrize(
    ("script", "error", "status"),
    [
        (Script(fault="401"), errors.InvalidApiKey, 401),
        (Script(fault="429", retry_after=3), errors.UpstreamRateLimited, 429),
        (Script(fault="429_quota"), errors.UpstreamRateLimited, 429),
        (Script(fault="500"), errors.UpstreamError, 502),
        (Script(status=400), errors.AudioUnreadable, 422),
    ],
)
async def test_transcription_errors_are_translated(
    fake: FakeOpenAI, client: AsyncOpenAI, script: Script, error: type[errors.ParleyError],
    status: int,
) -> None:
    fake.script(script, "transcriptions")
    stt = OpenAISTT(client, model="whisper-1")
    with pytest.raises(error) as caught:
        await stt.transcribe(
            recorded("wav"), content_type="audio/wav", filename="q.wav", api_key=KEY
        )
    assert caught.value.status == status
    assert KEY[-4:] not in caught.value.message  # OpenAI's 401 quotes the key's end
    if script.fault == "429":
        assert caught.value.retry_after == 3


async def test_transcription_needs_a_key(client: AsyncOpenAI) -> None:
    with pytest.raises(errors.ApiKeyRequired):
        await OpenAISTT(client, model="whisper-1").transcribe(
            recorded("wav"), content_type="audio/wav", filename="q.wav", api_key=None
        )


@pytest.mark.parametrize("fmt", FORMATS)
async def test_speech_streams_what_openai_sends(
    fake: FakeOpenAI, client: AsyncOpenAI, fmt: str
) -> None:
    tts = OpenAITTS(client, model="gpt-4o-mini-tts", voice="marin")
    text = "Start with the first screen people see."
    chunks = [c async for c in tts.synthesize(text, voice=None, fmt=fmt, api_key=KEY)]
    assert b"".join(chunks) == speech_audio(fmt, len(text))
    (sent,) = fake.requests_for("speech")
    assert sent.api_key == KEY
    assert sent.json == {
        "input": text, "model": "gpt-4o-mini-tts", "voice": "marin", "response_format": fmt
    }


async def test_speech_chunks_are_passed_on_as_they_arrive(
    fake: FakeOpenAI, client: AsyncOpenAI
) -> None:
    # The fake sends its first chunk at once and the next one only after 30 s: the first
    # chunk can only arrive here if it is passed on, not gathered with the rest.
    fake.script(Script(token_delay=30), "speech")
    tts = OpenAITTS(client, model="gpt-4o-mini-tts", voice="marin")
    text = "A reply long enough to be sent in several audio chunks by the fake."
    audio = tts.synthesize(text, voice="cedar", fmt="mp3", api_key=KEY)
    first = await anext(audio)
    whole = speech_audio("mp3", len(text))
    assert 0 < len(first) < len(whole) and whole.startswith(first)
    assert fake.requests_for("speech")[0].json["voice"] == "cedar"
    # Closing the stream (a barge-in) closes the upstream request too.
    await audio.aclose()  # type: ignore[attr-defined]
    assert await fake.wait_for_async(lambda: fake.stats("speech").disconnects == 1)


def test_the_configured_voice_is_the_default_and_listed_first(client: AsyncOpenAI) -> None:
    tts = OpenAITTS(client, model="gpt-4o-mini-tts", voice="cedar")
    assert tts.voices[0] == "cedar" and "marin" in tts.voices and len(set(tts.voices)) == 13
    assert tts.formats[0] == "mp3"


@pytest.mark.parametrize(
    ("fault", "error"),
    [("401", errors.InvalidApiKey), ("429", errors.UpstreamRateLimited),
     ("500", errors.UpstreamError)],
)
async def test_speech_errors_are_translated(
    fake: FakeOpenAI, client: AsyncOpenAI, fault: Fault, error: type[errors.ParleyError]
) -> None:
    fake.script(Script(fault=fault), "speech")
    tts = OpenAITTS(client, model="gpt-4o-mini-tts", voice="marin")
    with pytest.raises(error) as caught:
        async for _ in tts.synthesize("Hello.", voice=None, fmt="mp3", api_key=KEY):
            pass
    assert KEY[-4:] not in caught.value.message
