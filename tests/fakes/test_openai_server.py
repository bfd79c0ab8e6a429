"""The fake OpenAI server is faithful enough that the official SDK cannot tell the difference."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import subprocess
import sys
import time
import wave
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import openai
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openai import AsyncOpenAI
from PIL import Image

from parley.images import prepare_image
from parley.images.heif import heif_available
from tests.fakes.openai_server import (
    DEFAULT_TRANSCRIPT,
    FakeOpenAI,
    Script,
    StreamStats,
    default_reply,
    tokenize,
)
from tests.images import pictures

KEY = "sk-test-0123456789abcdefWXYZ"
QUESTION = "How should the onboarding flow start?"
MESSAGES: list[Any] = [{"role": "user", "content": QUESTION}]
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
async def client(fake: FakeOpenAI) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(base_url=fake.base_url, api_key=KEY, max_retries=0) as sdk:
        yield sdk


async def _stream(client: AsyncOpenAI, content: str = QUESTION, **kwargs: Any) -> list[Any]:
    stream = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": content}],
        stream=True,
        stream_options={"include_usage": True},
        **kwargs,
    )
    return [chunk async for chunk in stream]


def _text(chunks: list[Any]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def _finish_reasons(chunks: list[Any]) -> list[str]:
    return [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]


# ---------------------------------------------------------------------------------------------
# Reply text


@given(st.text())
def test_tokenize_pieces_join_back_to_the_text(text: str) -> None:
    assert "".join(tokenize(text)) == text


def test_tokenize_splits_like_a_tokenizer() -> None:
    assert tokenize("Let's see the screen. Why?") == [
        "Let", "'s", " see", " the", " screen", ".", " Why", "?",
    ]


def test_default_reply_quotes_the_question_and_has_several_sentences() -> None:
    reply = default_reply("x" * 60)
    assert f'"{"x" * 40}"' in reply
    assert reply.count(". ") >= 2 and reply.endswith("?")


# ---------------------------------------------------------------------------------------------
# Chat completions


async def test_stream_reassembles_the_reply_and_reports_usage(client: AsyncOpenAI) -> None:
    chunks = await _stream(client)

    assert _text(chunks) == default_reply(QUESTION)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert _finish_reasons(chunks) == ["stop"]
    assert len({c.id for c in chunks}) == 1 and chunks[0].id.startswith("chatcmpl-")
    assert chunks[-1].choices == []
    usage = chunks[-1].usage
    assert usage is not None
    assert usage.completion_tokens == len(tokenize(default_reply(QUESTION)))
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert all(c.usage is None for c in chunks[:-1])


async def test_stream_bytes_match_openai_wire_format(fake: FakeOpenAI) -> None:
    body = {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True,
            "stream_options": {"include_usage": True}}
    async with (
        httpx.AsyncClient() as http,
        http.stream("POST", f"{fake.base_url}/chat/completions", json=body,
                    headers={"Authorization": f"Bearer {KEY}"}) as response,
    ):
        raw = b"".join([part async for part in response.aiter_raw()]).decode()

    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["transfer-encoding"] == "chunked"
    assert response.headers["x-request-id"].startswith("req_")
    assert raw.endswith("\n\ndata: [DONE]\n\n")
    events = raw.split("\n\n")[:-1]
    assert all(e.startswith("data: ") and "\n" not in e for e in events)
    payloads = [json.loads(e.removeprefix("data: ")) for e in events[:-1]]
    for event, payload in zip(events, payloads, strict=False):
        compact = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        assert event == "data: " + compact
    first = payloads[0]
    assert list(first) == ["id", "object", "created", "model", "service_tier",
                           "system_fingerprint", "choices", "usage"]
    assert first["choices"][0] == {
        "index": 0, "delta": {"role": "assistant", "content": "", "refusal": None},
        "logprobs": None, "finish_reason": None,
    }
    assert payloads[-2]["choices"][0]["delta"] == {}
    assert payloads[-1]["choices"] == [] and payloads[-1]["usage"]["total_tokens"] > 0
    assert len({(p["id"], p["created"]) for p in payloads}) == 1


async def test_stream_without_include_usage_has_no_usage_key(fake: FakeOpenAI) -> None:
    body = {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True}
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{fake.base_url}/chat/completions", json=body,
                                   headers={"Authorization": f"Bearer {KEY}"})
    events = response.text.split("\n\n")[:-2]  # without [DONE]
    assert events and all('"usage"' not in e for e in events)


async def test_non_streaming_completion(client: AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    assert completion.object == "chat.completion"
    assert completion.model == "gpt-4o"
    assert completion.choices[0].message.content == default_reply(QUESTION)
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens > 0


async def test_max_tokens_cuts_the_reply_with_finish_reason_length(client: AsyncOpenAI) -> None:
    chunks = await _stream(client, max_completion_tokens=3)

    assert _text(chunks) == "".join(tokenize(default_reply(QUESTION))[:3])
    assert _finish_reasons(chunks) == ["length"]


async def test_scripts_apply_in_order_then_the_default(fake: FakeOpenAI,
                                                       client: AsyncOpenAI) -> None:
    fake.script(Script(pieces=["Hel", "lo", "!"], times=2))
    fake.script(Script(reply="Third answer."))

    replies = [_text(await _stream(client)) for _ in range(4)]

    assert replies == ["Hello!", "Hello!", "Third answer.", default_reply(QUESTION)]


async def test_scripted_pieces_arrive_as_separate_chunks(fake: FakeOpenAI,
                                                         client: AsyncOpenAI) -> None:
    fake.script(Script(pieces=["One", " two", " three."], token_delay=0.01))

    chunks = await _stream(client)

    assert [c.choices[0].delta.content for c in chunks[1:4]] == ["One", " two", " three."]


async def test_requests_are_recorded(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    await _stream(client)

    [recorded] = fake.requests
    assert (recorded.method, recorded.path, recorded.endpoint) == (
        "POST", "/v1/chat/completions", "chat")
    assert recorded.headers["authorization"] == f"Bearer {KEY}"
    assert recorded.api_key == KEY
    assert recorded.json["messages"] == [{"role": "user", "content": QUESTION}]
    assert recorded.json["stream_options"] == {"include_usage": True}


# ---------------------------------------------------------------------------------------------
# Errors before the answer


async def test_401_quotes_the_end_of_the_key(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.script(Script(fault="401"))

    with pytest.raises(openai.AuthenticationError) as caught:
        await _stream(client)

    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "invalid_api_key"
    assert caught.value.body["type"] == "invalid_request_error"
    assert KEY[-4:] in caught.value.message and KEY not in caught.value.message
    assert caught.value.response.headers["x-request-id"].startswith("req_")


async def test_fault_marker_in_the_message_triggers_the_fault(client: AsyncOpenAI) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        await _stream(client, content="Hello [[fault:401]]")

    assert caught.value.code == "invalid_api_key"


async def test_reply_and_delay_markers(client: AsyncOpenAI) -> None:
    chunks = await _stream(client, content="[[reply:Short answer.]][[delay:0.001]]")

    assert _text(chunks) == "Short answer."


async def test_unknown_marker_is_a_bad_request(client: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        await _stream(client, content="[[fault:melt]]")


async def test_missing_key_gets_openais_message(fake: FakeOpenAI) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{fake.base_url}/chat/completions",
                                   json={"model": "gpt-4o-mini", "messages": MESSAGES})

    assert response.status_code == 401
    assert response.json()["error"]["message"].startswith("You didn't provide an API key.")
    assert "x-request-id" in response.headers


async def test_accept_keys_refuses_other_keys() -> None:
    with FakeOpenAI(accept_keys={"sk-good-key-1234"}) as fake:
        async with AsyncOpenAI(base_url=fake.base_url, api_key=KEY, max_retries=0) as client:
            with pytest.raises(openai.AuthenticationError):
                await _stream(client)


async def test_429_carries_retry_after(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.script(Script(fault="429", retry_after=1.5))

    with pytest.raises(openai.RateLimitError) as caught:
        await _stream(client)

    headers = caught.value.response.headers
    assert (headers["retry-after"], headers["retry-after-ms"]) == ("2", "1500")
    assert caught.value.code == "rate_limit_exceeded"
    assert isinstance(caught.value.body, dict) and caught.value.body["type"] == "requests"


async def test_429_quota(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.script(Script(fault="429_quota"))

    with pytest.raises(openai.RateLimitError) as caught:
        await _stream(client)

    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == caught.value.body["type"] == "insufficient_quota"


@pytest.mark.parametrize(
    ("script", "error"),
    [
        (Script(fault="500"), openai.InternalServerError),
        (Script(fault="503"), openai.InternalServerError),
        (Script(status=404), openai.NotFoundError),
        (Script(status=400), openai.BadRequestError),
    ],
)
async def test_status_faults(fake: FakeOpenAI, client: AsyncOpenAI, script: Script,
                             error: type[openai.APIStatusError]) -> None:
    fake.script(script)

    with pytest.raises(error) as caught:
        await _stream(client)

    assert caught.value.status_code == (script.status or int(script.fault or 0))


async def test_500_message(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.script(Script(fault="500"))

    with pytest.raises(openai.InternalServerError) as caught:
        await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    assert isinstance(caught.value.body, dict) and caught.value.body["type"] == "server_error"
    assert "Sorry about that!" in caught.value.message


# ---------------------------------------------------------------------------------------------
# Faults in the middle of a stream


async def test_drop_cuts_the_stream(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.script(Script(fault="drop", fault_after=3))

    chunks: list[Any] = []
    with pytest.raises(openai.APIConnectionError):
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True)
        async for chunk in stream:
            chunks.append(chunk)

    assert _text(chunks) == "".join(tokenize(default_reply(QUESTION))[:3])
    assert _finish_reasons(chunks) == []
    assert await fake.wait_for_async(lambda: fake.completed_streams == 1, 1.0)
    assert fake.disconnects == 0


async def test_stall_goes_silent_after_some_text(fake: FakeOpenAI) -> None:
    fake.script(Script(fault="stall", fault_after=2))

    chunks: list[Any] = []
    async with AsyncOpenAI(base_url=fake.base_url, api_key=KEY, max_retries=0,
                           timeout=0.3) as client:
        with pytest.raises(openai.APITimeoutError):
            stream = await client.chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES, stream=True)
            async for chunk in stream:
                chunks.append(chunk)

    assert _text(chunks) == "".join(tokenize(default_reply(QUESTION))[:2])
    assert await fake.wait_for_async(lambda: fake.disconnects == 1, 1.0)


async def test_malformed_event_fails_to_parse(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.script(Script(fault="malformed"))

    with pytest.raises(ValueError, match="Expecting"):  # json.JSONDecodeError
        await _stream(client)


async def test_error_event_raises_api_error(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.script(Script(fault="error_event", fault_after=1))

    chunks: list[Any] = []
    with pytest.raises(openai.APIError) as caught:
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True)
        async for chunk in stream:
            chunks.append(chunk)

    assert not isinstance(caught.value, openai.APIStatusError)
    assert isinstance(caught.value.body, dict) and caught.value.body["type"] == "server_error"
    assert _text(chunks) == tokenize(default_reply(QUESTION))[0]


async def test_hang_times_out_and_counts_the_disconnect(fake: FakeOpenAI) -> None:
    fake.script(Script(fault="hang"))

    async with AsyncOpenAI(base_url=fake.base_url, api_key=KEY, max_retries=0,
                           timeout=0.3) as client:
        with pytest.raises(openai.APITimeoutError):
            await _stream(client)

    assert await fake.wait_for_async(lambda: fake.disconnects == 1, 1.0)
    assert fake.open_streams == 0 and fake.completed_streams == 0


async def test_hang_after_headers_times_out_while_reading(fake: FakeOpenAI) -> None:
    fake.script(Script(fault="hang_after_headers"))

    async with AsyncOpenAI(base_url=fake.base_url, api_key=KEY, max_retries=0,
                           timeout=0.3) as client:
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True)
        first = await stream.__anext__()
        with pytest.raises(openai.APITimeoutError):
            await stream.__anext__()
        await stream.close()

    assert first.choices[0].delta.role == "assistant"


async def test_slow_headers(fake: FakeOpenAI) -> None:
    fake.script(Script(fault="slow_headers", headers_delay=30))

    async with AsyncOpenAI(base_url=fake.base_url, api_key=KEY, max_retries=0,
                           timeout=0.2) as client:
        with pytest.raises(openai.APITimeoutError):
            await _stream(client)
        fake.script(Script(fault="slow_headers", headers_delay=0.01))
        assert _text(await _stream(client)) == default_reply(QUESTION)


# ---------------------------------------------------------------------------------------------
# Connection counters


async def test_closing_a_stream_early_counts_a_disconnect(fake: FakeOpenAI,
                                                          client: AsyncOpenAI) -> None:
    fake.script(Script(reply="word " * 200, token_delay=0.05))

    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True)
    for _ in range(3):
        await stream.__anext__()
    assert fake.open_streams == 1
    await stream.close()

    assert await fake.wait_for_async(lambda: fake.disconnects == 1, 1.0)
    assert (fake.open_streams, fake.completed_streams) == (0, 0)


async def test_finished_streams_count_as_completed(fake: FakeOpenAI,
                                                   client: AsyncOpenAI) -> None:
    await _stream(client)
    await _stream(client)

    assert await fake.wait_for_async(lambda: fake.completed_streams == 2, 1.0)
    assert (fake.disconnects, fake.open_streams) == (0, 0)


async def test_concurrent_streams_are_counted(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.script(Script(fault="hang_after_headers", times=3))

    streams = await asyncio.gather(*(
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
        for _ in range(3)
    ))
    assert await fake.wait_for_async(lambda: fake.open_streams == 3, 1.0)
    for stream in streams:
        await stream.close()

    assert await fake.wait_for_async(lambda: fake.disconnects == 3, 1.0)
    assert (fake.open_streams, fake.max_open_streams) == (0, 3)


async def test_reset_forgets_scripts_records_and_counters(fake: FakeOpenAI,
                                                          client: AsyncOpenAI) -> None:
    await _stream(client)
    fake.script(Script(fault="500"))

    fake.reset()

    assert fake.requests == [] and fake.completed_streams == 0
    assert _text(await _stream(client)) == default_reply(QUESTION)


async def test_requests_from_before_a_reset_do_not_count(fake: FakeOpenAI,
                                                          client: AsyncOpenAI) -> None:
    fake.script(Script(fault="hang_after_headers"))
    old = await client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True)
    assert await fake.wait_for_async(lambda: fake.open_streams == 1, 1.0)

    fake.reset()
    assert fake.stats() == StreamStats()
    await old.close()
    await asyncio.sleep(0.3)  # generous: the fake notices a disconnect within 0.1 s

    assert fake.stats() == StreamStats()


async def test_stop_cuts_off_a_hanging_request() -> None:
    fake = FakeOpenAI()
    fake.start()
    fake.script(Script(fault="hang"))
    async with AsyncOpenAI(base_url=fake.base_url, api_key=KEY, max_retries=0,
                           timeout=30) as client:
        pending = asyncio.create_task(_stream(client))
        assert await fake.wait_for_async(lambda: len(fake.requests) == 1, 2.0)
        started = time.monotonic()
        await asyncio.to_thread(fake.stop)
        stop_seconds = time.monotonic() - started
        with pytest.raises(openai.APIConnectionError):
            await pending

    assert stop_seconds < 2.0  # generous: stopping polls every 50 ms
    assert fake.disconnects == 0  # the fake left, not the client


# ---------------------------------------------------------------------------------------------
# Other endpoints


async def test_models(client: AsyncOpenAI) -> None:
    models = [model.id async for model in client.models.list()]

    assert "gpt-4o-mini" in models and "whisper-1" in models


async def test_transcription(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    audio = b"RIFF" + bytes(1000)

    result = await client.audio.transcriptions.create(
        model="whisper-1", file=("talk.wav", audio, "audio/wav"), language="en")

    assert result.text == DEFAULT_TRANSCRIPT
    [recorded] = fake.requests_for("transcriptions")
    assert recorded.upload is not None
    assert (recorded.upload.filename, recorded.upload.content_type, recorded.upload.size) == (
        "talk.wav", "audio/wav", len(audio))
    assert recorded.form == {"model": "whisper-1", "language": "en"}


async def test_transcription_script_queue_is_separate(fake: FakeOpenAI,
                                                      client: AsyncOpenAI) -> None:
    fake.script(Script(reply="Scripted words."), endpoint="transcriptions")
    fake.script(Script(fault="429", retry_after=3), endpoint="transcriptions")
    fake.script(Script(fault="500"))  # the chat queue: must not affect transcriptions

    first = await client.audio.transcriptions.create(model="whisper-1", file=("a.wav", b"x"))
    with pytest.raises(openai.RateLimitError) as caught:
        await client.audio.transcriptions.create(model="whisper-1", file=("a.wav", b"x"))

    assert first.text == "Scripted words."
    assert caught.value.response.headers["retry-after"] == "3"


async def _speech(client: AsyncOpenAI, text: str, response_format: str) -> tuple[bytes, Any]:
    async with client.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="alloy", input=text,
        response_format=response_format,  # type: ignore[arg-type]
    ) as response:
        parts = [part async for part in response.iter_bytes()]
        return b"".join(parts), response.headers


async def test_speech_wav_is_valid_and_grows_with_the_text(client: AsyncOpenAI) -> None:
    short, headers = await _speech(client, "Hi there.", "wav")
    long, _ = await _speech(client, "Hi there. " * 20, "wav")

    assert headers["content-type"] == "audio/wav"
    assert headers["transfer-encoding"] == "chunked"
    with wave.open(io.BytesIO(short)) as audio:
        assert (audio.getnchannels(), audio.getsampwidth(), audio.getframerate()) == (
            1, 2, 24_000)
        short_frames = audio.getnframes()
        assert short_frames > 0 and any(audio.readframes(short_frames))
    with wave.open(io.BytesIO(long)) as audio:
        assert audio.getnframes() > short_frames


@pytest.mark.parametrize(
    ("response_format", "content_type", "magic"),
    [("mp3", "audio/mpeg", b"\xff\xf3"), ("opus", "audio/ogg", b"OggS"),
     ("flac", "audio/flac", b"fLaC"), ("aac", "audio/aac", b"\xff\xf1"),
     ("pcm", "audio/pcm", b"")],
)
async def test_speech_formats(client: AsyncOpenAI, response_format: str, content_type: str,
                              magic: bytes) -> None:
    audio, headers = await _speech(client, "Hello.", response_format)

    assert headers["content-type"] == content_type
    assert audio.startswith(magic) and len(audio) > 1000


async def test_speech_drop_breaks_the_download(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.script(Script(fault="drop", fault_after=1), endpoint="speech")

    # The SDK passes httpx2's own error through for raw binary bodies instead of wrapping it.
    with pytest.raises((openai.APIConnectionError, httpx2.RemoteProtocolError),
                       match=r"incomplete chunked read|Connection error"):
        await _speech(client, "Hello there, this is long enough for chunks.", "wav")


async def test_speech_records_the_request(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    await _speech(client, "Hello.", "mp3")

    [recorded] = fake.requests_for("speech")
    assert recorded.json["input"] == "Hello." and recorded.json["voice"] == "alloy"
    # The client can read the last byte before the fake's handler has returned.
    assert await fake.wait_for_async(lambda: fake.stats("speech").completed == 1, 1.0)


async def test_realtime_client_secret(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    session: Any = {"type": "realtime", "model": "gpt-realtime", "instructions": "Be brief."}

    secret = await client.realtime.client_secrets.create(
        session=session, expires_after={"anchor": "created_at", "seconds": 600})

    assert secret.value.startswith("ek_fake_")
    assert abs(secret.expires_at - (time.time() + 600)) < 60
    assert secret.session.id is not None and secret.session.id.startswith("sess_")
    [recorded] = fake.requests_for("realtime")
    assert recorded.json["session"]["instructions"] == "Be brief."


async def test_realtime_fault(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.script(Script(fault="401"), endpoint="realtime")

    with pytest.raises(openai.AuthenticationError):
        await client.realtime.client_secrets.create(session={"type": "realtime"})


def test_script_rejects_faults_an_endpoint_cannot_play() -> None:
    with pytest.raises(ValueError, match="does not support"):
        FakeOpenAI().script(Script(fault="malformed"), endpoint="transcriptions")


# ---------------------------------------------------------------------------------------------
# Command line


def test_command_line_prints_the_base_url_and_serves() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.openai_server", "--port", "0"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        response = httpx.get(f"{base_url}/models", headers={"Authorization": f"Bearer {KEY}"})
        assert response.status_code == 200
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
        if process.stdout is not None:
            process.stdout.close()


# ---------------------------------------------------------------------------------------------
# Pictures in chat messages


def _png(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (37, 99, 235)).save(out, "PNG")
    return out.getvalue()


def _data_url(data: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def _looking_at(text: str, *urls: str, role: str = "user") -> list[Any]:
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}]
    parts += [{"type": "image_url", "image_url": {"url": url}} for url in urls]
    return [{"role": role, "content": parts}]


async def _ask(client: AsyncOpenAI, messages: list[Any], model: str = "gpt-4.1-mini",
               **kwargs: Any) -> Any:
    return await client.chat.completions.create(model=model, messages=messages, **kwargs)


async def _refusal(client: AsyncOpenAI, messages: list[Any], model: str = "gpt-4.1-mini",
                   ) -> dict[str, Any]:
    with pytest.raises(openai.BadRequestError) as caught:
        await _ask(client, messages, model)
    assert caught.value.status_code == 400
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["type"] == "invalid_request_error"
    return caught.value.body


async def test_content_parts_are_recorded_exactly_as_sent(fake: FakeOpenAI,
                                                          client: AsyncOpenAI) -> None:
    url = _data_url(_png())
    messages = [{"role": "system", "content": "Be brief."},
                *_looking_at("What about this screen?", url)]
    messages[1]["content"][1]["image_url"]["detail"] = "low"
    await _ask(client, messages)

    [recorded] = fake.requests
    assert [(p.message, p.role, p.type) for p in recorded.content_parts] == [
        (0, "system", "text"), (1, "user", "text"), (1, "user", "image_url")]
    [image] = recorded.images
    assert (image.url, image.media_type, image.detail) == (url, "image/png", "low")
    assert image.data == _png()
    assert image.image().size == (64, 48)
    assert "base64" not in repr(image)


async def test_upstream_gets_exactly_parleys_clean_picture(fake: FakeOpenAI,
                                                           client: AsyncOpenAI) -> None:
    # How a route test proves what went upstream: the recorded part is the prepared picture.
    prepared = prepare_image(pictures.data_url(pictures.phone_photo(), "image/jpeg"))
    await _ask(client, [{"role": "user", "content": [
        {"type": "text", "text": "Thoughts?"}, prepared.content_part()]}])

    [image] = fake.requests[0].images
    assert image.url == prepared.data_url and image.data == prepared.data
    seen = image.image()
    assert (seen.format, seen.size) == ("JPEG", (1512, 2016))
    assert not seen.getexif() and "exif" not in seen.info


async def test_the_vision_marker_describes_the_pictures(client: AsyncOpenAI) -> None:
    one = await _ask(client, _looking_at("Is this clear? [[vision]]", _data_url(_png())))
    assert one.choices[0].message.content == (
        "I see 1 image: a 64x48 PNG. What should we look at first?")

    two = await _ask(client, _looking_at("[[vision]] Compare these.", _data_url(_png()),
                                         _data_url(_png(20, 10))))
    assert two.choices[0].message.content.startswith("I see 2 images: a 64x48 PNG and a 20x10 PNG.")

    none = await _ask(client, [{"role": "user", "content": "Look at this [[vision]]"}])
    assert none.choices[0].message.content.startswith("I don't see an image")


async def test_a_script_can_describe_the_pictures_in_a_stream(fake: FakeOpenAI,
                                                              client: AsyncOpenAI) -> None:
    fake.script(Script(describe_images=True))
    stream = await _ask(client, _looking_at("Hm.", _data_url(_png())), stream=True)
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text.startswith("I see 1 image: a 64x48 PNG.")


async def test_only_pictures_in_the_last_user_message_are_described(client: AsyncOpenAI) -> None:
    earlier = _looking_at("First screen.", _data_url(_png(30, 30)))
    messages = [*earlier, {"role": "assistant", "content": "Noted."},
                *_looking_at("And this one? [[vision]]", _data_url(_png(40, 40)))]
    reply = await _ask(client, messages)
    assert reply.choices[0].message.content.startswith("I see 1 image: a 40x40 PNG.")


async def test_a_bad_vision_marker_is_a_bad_request(client: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        await _ask(client, [{"role": "user", "content": "[[vision:maybe]]"}])


async def test_pictures_count_in_the_prompt_tokens(client: AsyncOpenAI) -> None:
    text_only = await _ask(client, _looking_at("Same words."))
    with_image = await _ask(client, _looking_at("Same words.", _data_url(_png(1024, 1024))))
    assert text_only.usage is not None and with_image.usage is not None
    # OpenAI's tiles: 1024 x 1024 is scaled to 768 x 768, four 512 px tiles: 85 + 4 * 170.
    assert with_image.usage.prompt_tokens - text_only.usage.prompt_tokens == 765


async def test_a_model_that_cannot_see_is_refused_as_openai_does(client: AsyncOpenAI) -> None:
    body = await _refusal(client, _looking_at("Look.", _data_url(_png())), "gpt-3.5-turbo")
    assert body == {"message": "Invalid content type. image_url is only supported by certain "
                    "models.", "type": "invalid_request_error",
                    "param": "messages.[0].content.[1].type", "code": None}


async def test_vision_models_can_be_chosen() -> None:
    with FakeOpenAI(vision_models=["local-llava"]) as fake:
        async with AsyncOpenAI(base_url=fake.base_url, api_key=KEY, max_retries=0) as sdk:
            await _ask(sdk, _looking_at("Look.", _data_url(_png())), "local-llava")
            await _refusal(sdk, _looking_at("Look.", _data_url(_png())), "gpt-4o")


@pytest.mark.parametrize(("url", "problem"), [
    ("ftp://example.com/screen.png", "a value without the 'data:' prefix"),
    ("iVBORw0KGgoAAAANSUhEUg==", "a value without the 'data:' prefix"),
    ("data:text/plain;base64,aGVsbG8=", "unsupported MIME type 'text/plain'"),
    ("data:image/png;base64,", "empty base64-encoded bytes"),
])
async def test_an_image_url_that_is_neither_a_link_nor_a_data_url_is_invalid(
        client: AsyncOpenAI, url: str, problem: str) -> None:
    body = await _refusal(client, _looking_at("Look.", url))
    assert body["code"] == "invalid_value"
    assert body["param"] == "messages[0].content[1].image_url.url"
    assert body["message"] == (
        "Invalid image URL: 'messages[0].content[1].image_url.url'. Expected a base64-encoded "
        "data URL with an image MIME type (e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), "
        f"but got {problem}.")


async def test_a_link_is_taken_as_seen(client: AsyncOpenAI) -> None:
    reply = await _ask(client, _looking_at("[[vision]]", "https://example.com/screen.png"))
    assert reply.choices[0].message.content.startswith("I see 1 image: a linked image.")


@pytest.mark.parametrize("data", [
    b"not a picture at all",
    pictures.SVG_WITH_SCRIPT,
    pictures.encoded(pictures.photo_pixels(32, 32), "BMP"),
    pictures.encoded(pictures.photo_pixels(64, 48), "JPEG")[:300],  # cut short
    pictures.encoded(pictures.photo_pixels(64, 48), "HEIF", quality=50,
                     enc_params={"preset": "ultrafast"}) if heif_available() else b"ftypheic",
], ids=["text", "svg", "bmp", "truncated-jpeg", "heic"])
async def test_pictures_openai_cannot_decode_are_unsupported(client: AsyncOpenAI,
                                                             data: bytes) -> None:
    body = await _refusal(client, _looking_at("Look.", _data_url(data)))
    assert body == {"message": "You uploaded an unsupported image. Please make sure your image "
                    "has of one the following formats: ['png', 'jpeg', 'gif', 'webp'].",
                    "type": "invalid_request_error", "param": None,
                    "code": "invalid_image_format"}


async def test_pictures_only_in_user_messages(client: AsyncOpenAI) -> None:
    messages = _looking_at("Here is one I made.", _data_url(_png()), role="assistant")
    body = await _refusal(client, [{"role": "user", "content": "Hi"}, *messages])
    assert body["param"] == "messages[1]"
    assert body["message"] == (
        "Invalid 'messages[1]'. Image URLs are only allowed for messages with role 'user', but "
        "this message with role 'assistant' contains an image URL.")


@pytest.mark.parametrize(("part", "param", "code"), [
    ({"type": "picture", "url": "x"}, "messages[0].content[1].type", "invalid_value"),
    ({"type": "image_url", "image_url": "data:image/png;base64,AAAA"},
     "messages[0].content[1].image_url", "invalid_type"),
    ({"type": "image_url", "image_url": {}}, "messages[0].content[1].image_url.url",
     "missing_required_parameter"),
    ({"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "max"}},
     "messages[0].content[1].image_url.detail", "invalid_value"),
    ({"type": "text"}, "messages[0].content[1].text", "missing_required_parameter"),
])
async def test_malformed_parts_are_refused(fake: FakeOpenAI, part: dict[str, Any], param: str,
                                           code: str) -> None:
    messages = [{"role": "user", "content": [{"type": "text", "text": "Look."}, part]}]
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{fake.base_url}/chat/completions",
                                   json={"model": "gpt-4o", "messages": messages},
                                   headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["param"], error["code"]) == (param, code)


# Structured outputs ---------------------------------------------------------------------------

STRICT = {"type": "object", "properties": {"title": {"type": "string"},
                                           "items": {"type": "array", "items": {"type": "string"}},
                                           "turn": {"type": ["integer", "null"]}},
          "required": ["title", "items", "turn"], "additionalProperties": False}


async def test_structured_output_answers_the_smallest_instance_and_is_recorded_apart(
    client: AsyncOpenAI, fake: FakeOpenAI
) -> None:
    answer = await client.chat.completions.create(
        model="gpt-4.1-mini", messages=[{"role": "user", "content": "Update the brief."}],
        response_format={"type": "json_schema",
                         "json_schema": {"name": "brief", "strict": True, "schema": STRICT}},
    )
    assert json.loads(answer.choices[0].message.content or "") == {
        "title": "", "items": [], "turn": None}
    assert len(fake.requests_for("brief")) == 1 and not fake.requests_for("chat")


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ({**STRICT, "additionalProperties": True}, "'additionalProperties' is required"),
        ({**STRICT, "required": ["title"]}, "Missing 'items'"),
    ],
)
async def test_a_strict_schema_openai_would_refuse_is_400(
    client: AsyncOpenAI, schema: dict[str, Any], problem: str
) -> None:
    with pytest.raises(openai.BadRequestError, match=problem):
        await client.chat.completions.create(
            model="gpt-4.1-mini", messages=[{"role": "user", "content": "x"}],
            response_format={"type": "json_schema",
                             "json_schema": {"name": "brief", "strict": True, "schema": schema}},
        )
