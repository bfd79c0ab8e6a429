"""POST /api/speech: text in, spoken audio out, streamed while it is made."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, aclosing
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from parley import errors
from parley.deps import (
    AccessDep,
    AdmitDep,
    BearerKeyDep,
    ClientDep,
    GoneDep,
    JobsDep,
    KeysDep,
    SettingsDep,
    SpeechDep,
    person_key,
)
from parley.routes.schemas import MAX_TEXT, ApiKey
from parley.routes.streaming import ClosingStreamingResponse
from parley.security.local_jobs import unless_gone
from parley.speech.base import MEDIA_TYPES, TextToSpeech, media_type
from parley.speech.choice import choose_engine
from parley.text import CleanText

log = logging.getLogger(__name__)
router = APIRouter()

AudioFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]


class SpeechIn(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    text: CleanText = Field(min_length=1, max_length=MAX_TEXT)
    voice: CleanText | None = Field(default=None, max_length=100)
    audio_format: AudioFormat | None = Field(
        default=None, alias="format",
        description="Defaults to the engine's first format: mp3 for OpenAI, wav offline.",
    )
    api_key: ApiKey | None = Field(
        default=None, alias="apiKey", max_length=500,
        description="The person's OpenAI key; may also come as `Authorization: Bearer`.",
    )
    provider: Literal["openai", "local"] | None = None


SPEECH_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "description": "Audio, streamed as it is made.",
        "content": {media: {} for media in MEDIA_TYPES.values()},
    },
}


@router.post("/api/speech", responses=SPEECH_RESPONSES, response_class=StreamingResponse)
async def speech(
    access: AccessDep,
    body: SpeechIn,
    settings: SettingsDep,
    keys: KeysDep,
    admission: AdmitDep,
    client: ClientDep,
    jobs: JobsDep,
    gone: GoneDep,
    services: SpeechDep,
    bearer: BearerKeyDep,
) -> StreamingResponse:
    """Speak a text with the caller's OpenAI voice or the offline one."""
    text = " ".join(body.text.split())
    if not text:
        raise errors.InvalidRequest("There is nothing to say: the text is empty.")
    if len(text) > settings.max_speech_chars:
        raise errors.PayloadTooLarge(
            f"That text is longer than {settings.max_speech_chars} characters. "
            "Send it a sentence or two at a time."
        )
    choice = choose_engine(
        "tts",
        openai=services.openai_tts,
        local=services.local_tts,
        explicit=body.provider,
        user_key=person_key(body.api_key, bearer),
        access=access,
        keys=keys,
    )
    engine = choice.engine
    fmt = body.audio_format or engine.formats[0]
    check_options(engine, fmt, body.voice)
    await admission.check(client, choice.api_key)
    audio = engine.synthesize(text, voice=body.voice, fmt=fmt, api_key=choice.api_key)
    if choice.api_key is None:
        # The offline voice is shared: one sentence per client at a time.
        audio = _held(audio, jobs.slot(client, "tts", gone))
    # Wait for the first bytes before answering: an upstream 401 or 429 must still become an
    # HTTP error, which is impossible once a 200 has started streaming. A sentence still
    # waiting when its listener hangs up is dropped.
    try:
        async with asyncio.timeout(settings.first_token_timeout):
            first = await unless_gone(anext(audio), gone)
    except StopAsyncIteration:
        first = b""
    except TimeoutError:
        await _close(audio)
        raise errors.UpstreamTimeout(
            "The voice took too long to start. Please try again."
        ) from None
    except BaseException:
        await _close(audio)
        raise
    return ClosingStreamingResponse(
        _continue(first, audio, idle=settings.first_token_timeout),
        media_type=media_type(fmt),
        headers={"Cache-Control": "no-store", "X-Parley-Speech-Engine": engine.name},
    )


async def _held(
    audio: AsyncIterator[bytes], slot: AbstractAsyncContextManager[None]
) -> AsyncIterator[bytes]:
    async with slot, aclosing(audio):  # type: ignore[type-var]  # an async generator
        async for chunk in audio:
            yield chunk


async def _close(audio: AsyncIterator[bytes]) -> None:
    close = getattr(audio, "aclose", None)
    if close is not None:
        await close()


def check_options(engine: TextToSpeech, fmt: str, voice: str | None) -> None:
    """422 for a format or voice this engine does not have, naming the ones it has."""
    if fmt not in engine.formats:
        raise errors.InvalidRequest(
            f"This voice cannot make {fmt} audio. Ask for one of: {', '.join(engine.formats)}."
        )
    if voice is not None and voice not in engine.voices:
        raise errors.InvalidRequest(
            f"There is no voice called {voice!r} here. Pick one of: {', '.join(engine.voices)}."
        )


async def _continue(
    first: bytes, audio: AsyncIterator[bytes], *, idle: float
) -> AsyncIterator[bytes]:
    try:
        if first:
            yield first
        while True:
            # The timeout wraps only the await, never the yield (see the chat provider).
            try:
                async with asyncio.timeout(idle):
                    chunk = await anext(audio)
            except StopAsyncIteration:
                break
            yield chunk
    except TimeoutError:
        log.warning("speech stream stalled for %.0f s and was ended", idle)
    except errors.ParleyError as exc:
        # Headers are gone: all that is left is to end the audio early, and say why in the log.
        log.warning("speech stream stopped early: %s", exc.code)
    except Exception:
        # The HTTP client raises its own errors (not the SDK's) when an upstream stream breaks
        # mid-body; the listener still gets a cleanly ended, shorter response.
        log.exception("speech stream failed")
    finally:
        # Engines are async generators; closing one now (not at garbage collection) stops
        # its upstream request or subprocess when the listener goes away.
        await _close(audio)
