"""POST /api/transcribe on a live server: OpenAI (fake), local Whisper, and every bad upload."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests import errors
from tests.fakes.openai_server import DEFAULT_TRANSCRIPT, FakeOpenAI, Script
from tests.live import LiveServer, Serve
from tests.speech.audio import QUESTION, RECORDINGS, heard, recorded, silent_wav, words
from tests.speech.engines import use_local_models

KEY = "sk-test-transcribe-4321"


def upload(
    audio: bytes, content_type: str = "audio/webm;codecs=opus", filename: str = "q.webm"
) -> dict[str, Any]:
    return {"audio": (filename, audio, content_type)}


async def post(
    server: LiveServer, files: dict[str, Any] | None = None, **kwargs: Any
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        return await http.post("/api/transcribe", files=files, **kwargs)


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    return errors.assert_error(response, status, code, secrets=(KEY,))


# --- OpenAI, through the fake ----------------------------------------------------------


async def test_a_key_sends_the_recording_to_openai(server: LiveServer, fake: FakeOpenAI) -> None:
    audio = recorded("webm")
    response = await post(
        server, upload(audio), data={"language": "en-US"},
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"text": DEFAULT_TRANSCRIPT, "language": "en", "duration_ms": 3000}
    (sent,) = fake.requests_for("transcriptions")
    assert sent.api_key == KEY
    assert sent.form is not None
    assert (sent.form["model"], sent.form["language"]) == ("gpt-4o-mini-transcribe", "en")
    assert sent.upload is not None and sent.upload.data == audio
    # Parameters like ;codecs=opus are dropped and the name carries the real extension.
    assert (sent.upload.content_type, sent.upload.filename) == ("audio/webm", "recording.webm")


async def test_the_key_may_come_as_a_form_field(server: LiveServer, fake: FakeOpenAI) -> None:
    response = await post(server, upload(recorded("mp4"), "audio/mp4", "q.m4a"),
                          data={"apiKey": KEY})
    assert response.status_code == 200, response.text
    (sent,) = fake.requests_for("transcriptions")
    assert sent.api_key == KEY and sent.upload is not None
    assert sent.upload.filename == "recording.m4a"


async def test_the_operator_key_needs_the_access_code(serve: Serve, fake: FakeOpenAI) -> None:
    server = serve(openai_api_key="sk-operator-0000", access_code="let-me-in-please")
    response = await post(server, upload(recorded("webm")),
                          headers={"X-Parley-Access-Code": "let-me-in-please"})
    assert response.status_code == 200, response.text
    assert fake.requests_for("transcriptions")[0].api_key == "sk-operator-0000"
    wrong = await post(server, upload(recorded("webm")), headers={"X-Parley-Access-Code": "no"})
    assert_error(wrong, 401, "access_code_required")
    missing = await post(server, upload(recorded("webm")))
    assert_error(missing, 401, "access_code_required")


@pytest.mark.parametrize(
    ("script", "status", "code"),
    [
        (Script(fault="401"), 401, "invalid_api_key"),
        (Script(fault="429", retry_after=2), 429, "upstream_rate_limited"),
        (Script(fault="500"), 502, "upstream_error"),
        (Script(status=400), 422, "audio_unreadable"),
    ],
)
async def test_upstream_errors_keep_the_contract_shape(
    server: LiveServer, fake: FakeOpenAI, script: Script, status: int, code: str
) -> None:
    fake.script(script, "transcriptions")
    response = await post(server, upload(recorded("webm")),
                          headers={"Authorization": f"Bearer {KEY}"})
    assert_error(response, status, code)
    if status == 429:
        assert response.headers["Retry-After"] == "2"


async def test_no_key_and_no_local_model_says_what_to_do(server: LiveServer) -> None:
    error = assert_error(await post(server, upload(recorded("webm"))), 503, "speech_unavailable")
    assert "API key" in error["message"] and "parley[whisper]" in error["message"]


async def test_asking_for_local_when_it_is_not_installed(server: LiveServer) -> None:
    response = await post(server, upload(recorded("webm")), data={"provider": "local"},
                          headers={"Authorization": f"Bearer {KEY}"})
    assert_error(response, 422, "provider_unavailable")


# --- Bad uploads: all 4xx, never 5xx, and refused before any engine runs -----------------


@pytest.mark.parametrize(
    ("files", "status", "code"),
    [
        (upload(b""), 422, "audio_unreadable"),
        (upload(b"\x00garbage bytes that are not audio" * 40, "audio/mp4", "q.mp4"),
         422, "audio_unreadable"),
        (upload(recorded("wav"), "audio/mp4", "q.mp4"), 415, "unsupported_media_type"),
        (upload(recorded("mp4"), "audio/webm", "q.webm"), 415, "unsupported_media_type"),
        (upload(recorded("wav"), "text/plain", "q.txt"), 415, "unsupported_media_type"),
        (upload(recorded("wav"), "video/webm", "q.webm"), 415, "unsupported_media_type"),
        ({"recording": ("q.wav", recorded("wav"), "audio/wav")}, 422, "invalid_request"),
    ],
)
async def test_bad_uploads_are_refused_clearly(
    server: LiveServer, files: dict[str, Any], status: int, code: str
) -> None:
    response = await post(server, files, headers={"Authorization": f"Bearer {KEY}"})
    error = assert_error(response, status, code)
    assert error["message"].endswith(".")


async def test_a_mislabelled_upload_names_both_types(server: LiveServer) -> None:
    response = await post(server, upload(recorded("wav"), "audio/mp4", "q.mp4"))
    error = assert_error(response, 415, "unsupported_media_type")
    assert "audio/mp4" in error["message"] and "WAV" in error["message"]


async def test_an_unlabelled_upload_is_judged_by_its_bytes(
    server: LiveServer, fake: FakeOpenAI
) -> None:
    # curl -F audio=@q.m4a sends application/octet-stream: the bytes say what it is.
    response = await post(server, upload(recorded("mp4"), "application/octet-stream", "q.m4a"),
                          headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 200, response.text
    sent = fake.requests_for("transcriptions")[0].upload
    assert sent is not None
    assert (sent.filename, sent.content_type) == ("recording.m4a", "audio/mp4")


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"json": {"audio": "UklGRg=="}}, 415, "unsupported_media_type"),
        ({"content": b"--x\r\n\r\n", "headers": {"Content-Type": "multipart/form-data"}},
         422, "invalid_request"),
        ({"content": b"--x\r\ngarbage", "headers": {"Content-Type": "multipart/form-data; "
                                                                      "boundary=x"}},
         422, "invalid_request"),
        ({"data": {"audio": "not a file"}, "files": {"other": ("a", b"b", "text/plain")}},
         422, "invalid_request"),
        # The body ends inside the file part: Starlette's own parser would leak a temp file.
        ({"content": b'--x\r\nContent-Disposition: form-data; name="audio"; filename="q.wav"'
                     b"\r\nContent-Type: audio/wav\r\n\r\nRIFF\0\0\0\0WAVE",
          "headers": {"Content-Type": "multipart/form-data; boundary=x"}},
         422, "invalid_request"),
    ],
)
async def test_malformed_requests_are_4xx(
    server: LiveServer, kwargs: dict[str, Any], status: int, code: str
) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        response = await http.post("/api/transcribe", **kwargs)
    assert_error(response, status, code)


async def test_a_bad_provider_is_named(server: LiveServer) -> None:
    response = await post(server, upload(recorded("webm")), data={"provider": "x"})
    assert "provider" in assert_error(response, 422, "invalid_request")["message"]


@pytest.mark.parametrize("hint", ["C", "English!", "POSIX", "12"])
async def test_an_unusable_language_hint_is_dropped_not_the_turn(
    server: LiveServer, fake: FakeOpenAI, hint: str
) -> None:
    # WebKitGTK under LANG=C.UTF-8 reports navigator.language as "C".
    response = await post(server, upload(recorded("webm")), data={"language": hint},
                          headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 200, response.text
    (sent,) = fake.requests_for("transcriptions")
    assert sent.form is not None and "language" not in sent.form


async def test_a_recording_over_the_length_cap_is_refused(serve: Serve, fake: FakeOpenAI) -> None:
    server = serve(max_audio_seconds=1)
    response = await post(server, upload(recorded("webm")),
                          headers={"Authorization": f"Bearer {KEY}"})
    assert "longer than 1 second." in assert_error(response, 422, "audio_too_long")["message"]
    assert fake.requests_for("transcriptions") == []


async def test_the_rate_limit_is_checked_before_the_upload_is_read(serve: Serve) -> None:
    server = serve(rate_limit_per_client="1/minute")
    await post(server, upload(recorded("webm")))  # spends the one allowed
    # Headers promise 3 MB that never come: the refusal must not wait for them.
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        b"POST /api/transcribe HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 3000000\r\n\r\n"
    )
    await writer.drain()
    async with asyncio.timeout(10):
        status_line = await reader.readline()
    writer.close()
    assert b" 429 " in status_line


async def test_a_form_key_that_cannot_be_sent_is_the_persons_to_fix(server: LiveServer) -> None:
    response = await post(server, upload(recorded("webm")), data={"apiKey": "sk-clé"})
    assert "Paste it again" in assert_error(response, 401, "invalid_api_key")["message"]


# --- Size: the Vercel-sized limit, from the header and while reading ---------------------


async def test_a_declared_size_over_the_limit_is_refused(server: LiveServer) -> None:
    # 4,000,000 bytes of audio is the default: this upload is 4.2 MB.
    too_big = b"RIFF\0\0\0\0WAVE" + bytes(4_200_000)
    response = await post(server, upload(too_big, "audio/wav", "q.wav"))
    error = assert_error(response, 413, "payload_too_large")
    assert " MB" in error["message"]


async def test_the_size_is_checked_before_the_body_is_read(server: LiveServer) -> None:
    # Headers promising 50 MB and no body at all: an answer proves nothing was waited for.
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        b"POST /api/transcribe HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 50000000\r\n\r\n"
    )
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), timeout=10)
    writer.close()
    await writer.wait_closed()
    assert status_line.startswith(b"HTTP/1.1 413")


async def test_a_chunked_upload_is_cut_off_at_the_limit(serve: Serve) -> None:
    server = serve(max_audio_bytes=20_000)
    boundary = b"parley-test"
    head = (b"--" + boundary + b"\r\nContent-Disposition: form-data; name=\"audio\"; "
            b"filename=\"q.wav\"\r\nContent-Type: audio/wav\r\n\r\nRIFF\0\0\0\0WAVE")

    async def body() -> AsyncIterator[bytes]:
        # No Content-Length: the server must count what it reads.
        yield head
        for _ in range(20):
            yield bytes(10_000)

    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        response = await http.post(
            "/api/transcribe", content=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary.decode()}"},
        )
    assert_error(response, 413, "payload_too_large")


# --- The local Whisper model: real speech in every recorder format -----------------------


@pytest.mark.speech_models
@pytest.mark.parametrize("name", sorted(RECORDINGS))
async def test_local_whisper_hears_every_recorder_format(server: LiveServer, name: str) -> None:
    use_local_models(server)
    recording = RECORDINGS[name]
    response = await post(
        server, upload(recorded(name), recording.content_type, recording.filename),
        data={"language": "en"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert heard(QUESTION, body["text"]) >= len(words(QUESTION)) - 2, body["text"]
    assert body["language"] == "en"
    assert abs(body["duration_ms"] - 2_430) < 150


@pytest.mark.speech_models
async def test_local_whisper_detects_the_language(server: LiveServer) -> None:
    use_local_models(server)
    response = await post(server, upload(recorded("ogg"), "audio/ogg", "q.ogg"))
    assert response.status_code == 200 and response.json()["language"] == "en"


@pytest.mark.speech_models
@pytest.mark.parametrize(
    ("audio", "content_type"),
    [
        (silent_wav(0), "audio/wav"),
        (recorded("mp4")[:2_000], "audio/mp4"),
        (b"\x1a\x45\xdf\xa3" + bytes(2_000), "audio/webm"),
    ],
    ids=["zero-seconds", "truncated-mp4", "empty-webm"],
)
async def test_local_whisper_refuses_unreadable_audio_with_422(
    server: LiveServer, audio: bytes, content_type: str
) -> None:
    use_local_models(server)
    assert_error(await post(server, upload(audio, content_type)), 422, "audio_unreadable")


@pytest.mark.speech_models
async def test_local_whisper_answers_silence_with_no_words(server: LiveServer) -> None:
    use_local_models(server)
    response = await post(server, upload(silent_wav(1.5), "audio/wav", "q.wav"))
    assert response.status_code == 200
    assert response.json() == {"text": "", "language": None, "duration_ms": 1500}
