"""POST /api/speech: text in, spoken audio out, streamed while it is made."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from parley import errors
from parley.deps import AccessCodeDep, BearerKeyDep, RegistryDep, SettingsDep
from parley.routes.schemas import MAX_TEXT, CleanText
from parley.speech.base import MEDIA_TYPES, TextToSpeech, media_type
from parley.speech.choice import choose_engine
from parley.speech.services import SpeechDep

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
    api_key: SecretStr | None = Field(
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
    body: SpeechIn,
    settings: SettingsDep,
    registry: RegistryDep,
    services: SpeechDep,
    bearer: BearerKeyDep,
    code: AccessCodeDep,
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
    user_key = body.api_key.get_secret_value().strip() if body.api_key else None
    choice = choose_engine(
        "tts",
        openai=services.openai_tts,
        local=services.local_tts,
        explicit=body.provider,
        user_key=user_key or bearer,
        access_code=code,
        registry=registry,
    )
    engine = choice.engine
    fmt = body.audio_format or engine.formats[0]
    check_options(engine, fmt, body.voice)
    audio = engine.synthesize(text, voice=body.voice, fmt=fmt, api_key=choice.api_key)
    # Wait for the first bytes before answering: an upstream 401 or 429 must still become an
    # HTTP error, which is impossible once a 200 has started streaming.
    try:
        first = await anext(audio)
    except StopAsyncIteration:
        first = b""
    return StreamingResponse(
        _continue(first, audio),
        media_type=media_type(fmt),
        headers={"Cache-Control": "no-store", "X-Parley-Speech-Engine": engine.name},
    )


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


async def _continue(first: bytes, audio: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    try:
        if first:
            yield first
        async for chunk in audio:
            yield chunk
    except errors.ParleyError as exc:
        # Headers are gone: all that is left is to end the audio early, and say why in the log.
        log.warning("speech stream stopped early: %s", exc.code)
    finally:
        # Engines are async generators; closing one now (not at garbage collection) stops
        # its upstream request or subprocess when the listener goes away.
        close = getattr(audio, "aclose", None)
        if close is not None:
            await close()
