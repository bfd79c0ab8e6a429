"""WS /api/listen: the recorder path's live ear. The page streams the microphone; Parley hears
where speech starts and pauses (Silero VAD), a quick look at the words at each pause, and the
whole turn's words when the page says it is over.

The page, not the server, decides when the turn is over (`voice/turn-end.js` reads these
events as it reads the browser recognizer's). Protocol, JSON text messages and binary audio:

    page   {"type": "start", "apiKey"?, "accessCode"?, "language"?, "provider"?, "words"?}
    Parley {"type": "ready", "words": bool}
    page   <16 kHz 16-bit mono PCM, any number of binary messages>
    Parley {"type": "speech", "at"} | {"type": "pause", "at", "spokeAt"}
           | {"type": "words", "text", "spokeAt"}
    page   {"type": "end"}   (or "cancel": nothing is transcribed)
    Parley {"type": "transcript", "text", "language", "duration_ms"}, then closes
    Parley {"type": "error", "code", "message"} on any failure, then closes

`at` and `spokeAt` are milliseconds of audio since the start, counted in samples; a pause's
`spokeAt` is where its speech ended (`at` is where the VAD was sure of the silence).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import wave
from typing import Any, Literal, cast

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from parley import errors
from parley.deps import WsServicesDep, WsSpeechDep, person_key, websocket_client
from parley.routes.errors import error_body
from parley.routes.transcribe import language_hint
from parley.security.keys import check_key_shape
from parley.services import Services
from parley.speech.base import SpeechToText, Transcript
from parley.speech.choice import choose_engine
from parley.speech.services import SpeechServices

log = logging.getLogger(__name__)
router = APIRouter()

START_SECONDS = 10.0  # to say how to listen, after connecting
IDLE_SECONDS = 15.0  # with nothing arriving, the page is gone
MAX_MESSAGE_BYTES = 64 * 1024  # a frame is 1 KB; a burst after a stall a few dozen

NOT_HERE = ("Live listening isn't available on this server. Parley will record the turn "
            "and send it instead.")


@router.websocket("/api/listen")
async def listen(websocket: WebSocket, services: WsServicesDep, speech: WsSpeechDep) -> None:
    """One live turn: speech and pause events while the person talks, then their words."""
    await websocket.accept()
    try:
        await _listen(websocket, services, speech)
    except errors.ParleyError as exc:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            problem = error_body(exc.code, exc.message)["error"]
            await websocket.send_json({"type": "error", **problem})
            await websocket.close(code=1008)
    except (WebSocketDisconnect, TimeoutError):
        pass  # the page went away (or said nothing): nothing to answer


async def _listen(websocket: WebSocket, services: Services, speech: SpeechServices) -> None:
    client = websocket_client(websocket)
    await services.admission.client(client)
    if not speech.stream:
        raise errors.SpeechUnavailable(NOT_HERE)
    async with asyncio.timeout(START_SECONDS):
        start = json.loads(await websocket.receive_text())
    if not isinstance(start, dict) or start.get("type") != "start":
        raise errors.InvalidRequest("Start with a {\"type\": \"start\"} message.")
    code = start.get("accessCode")
    access = await services.access.check(client, code if isinstance(code, str) else None)
    user_key = person_key(_text(start.get("apiKey")), None)
    if user_key:
        check_key_shape(user_key)
    provider = start.get("provider")
    explicit = cast(Literal["openai", "local"] | None,
                    provider if provider in ("openai", "local") else None)
    choice = choose_engine(
        "stt", openai=speech.openai_stt, local=speech.local_stt, explicit=explicit,
        user_key=user_key, access=access, keys=services.keys,
    )
    await services.admission.key(choice.api_key)
    language = language_hint(_text(start.get("language")))
    # A first look at the words at each pause needs the offline Whisper (any key or none).
    quick = speech.local_stt if start.get("words", True) else None
    from parley.speech.listening import Listening
    from parley.speech.vad import SileroVad

    turn = Listening(SileroVad(), max_seconds=services.settings.max_audio_seconds)
    await websocket.send_json({"type": "ready", "words": quick is not None})
    looking: asyncio.Task[None] | None = None
    try:
        while True:
            async with asyncio.timeout(IDLE_SECONDS):
                message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes")
            if data is not None:
                if len(data) > MAX_MESSAGE_BYTES:
                    raise errors.PayloadTooLarge("Send the audio in smaller pieces.")
                for event in turn.feed(data):
                    if event.kind == "speech":
                        await websocket.send_json({"type": "speech", "at": event.at_ms})
                        continue
                    await websocket.send_json(
                        {"type": "pause", "at": event.at_ms, "spokeAt": event.spoke_at_ms})
                    # One look at a time: a pause while the last is still being read waits
                    # for the next one (the words of both come together then).
                    if quick is not None and (looking is None or looking.done()) \
                            and event.audio is not None:
                        looking = asyncio.create_task(
                            _look(websocket, quick, event.audio, event.spoke_at_ms)
                        )
                continue
            command = json.loads(message.get("text") or "{}").get("type")
            if command == "cancel":
                await websocket.close()
                return
            if command == "end":
                break
        if looking is not None:
            # The words of the last pause come before the turn's (a look is a fraction of
            # a second, and the page may still be waiting for them).
            await asyncio.gather(looking, return_exceptions=True)
        transcript = await _words(turn, choice.engine, choice.api_key, language)
        await websocket.send_json({
            "type": "transcript", "text": transcript.text, "language": transcript.language,
            "duration_ms": transcript.duration_ms,
        })
        await websocket.close()
    finally:
        if looking is not None and not looking.done():
            looking.cancel()


async def _look(websocket: WebSocket, stt: SpeechToText, audio: Any, spoke_at: float) -> None:
    quick = getattr(stt, "quick_words", None)
    if quick is None:
        return
    text = await quick(audio)
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await websocket.send_json({"type": "words", "text": text, "spokeAt": spoke_at})


async def _words(
    turn: Any, engine: SpeechToText, api_key: str | None, language: str | None
) -> Transcript:
    """The whole turn's words, from its audio without the silence around the speech."""
    samples = turn.trimmed()
    if not turn.heard_speech or len(samples) == 0:
        return Transcript(text="", language=None, duration_ms=0)
    local = getattr(engine, "transcribe_samples", None)
    if api_key is None and local is not None:
        result: Transcript = await local(samples, language)
        return result
    return await engine.transcribe(
        _wav(samples), content_type="audio/wav", filename="recording.wav", api_key=api_key,
        language=language,
    )


def _wav(samples: Any) -> bytes:
    import numpy as np

    pcm = np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2").tobytes()
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(16_000)
        writer.writeframes(pcm)
    return out.getvalue()


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
