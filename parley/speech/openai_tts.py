"""OpenAI speech with the caller's key, streamed: audio is passed on as OpenAI sends it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import ClassVar, Literal, cast, get_args

import httpx2
import openai
from openai import AsyncOpenAI

from parley import errors
from parley.providers.upstream import translate_openai_error

OpenAIFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]
FORMATS: tuple[str, ...] = get_args(OpenAIFormat)
# OpenAI's built-in voices (custom voice ids are not offered here).
VOICES = (
    "alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar",
    "fable", "onyx", "nova",
)


class OpenAITTS:
    """`POST /v1/audio/speech`; model and default voice are operator configuration."""

    name: ClassVar[str] = "openai"
    needs_key: ClassVar[bool] = True

    def __init__(self, client: AsyncOpenAI, *, model: str, voice: str) -> None:
        self._client = client
        self._model = model
        self._voices = (voice, *(v for v in VOICES if v != voice))

    @property
    def formats(self) -> tuple[str, ...]:
        return FORMATS

    @property
    def label(self) -> str:
        return self._model

    @property
    def voices(self) -> tuple[str, ...]:
        return self._voices

    async def synthesize(
        self, text: str, *, voice: str | None, fmt: str, api_key: str | None
    ) -> AsyncIterator[bytes]:
        """Audio in `fmt`, passed on chunk by chunk while OpenAI streams it."""
        client = self._client.with_options(api_key=api_key)
        try:
            async with client.audio.speech.with_streaming_response.create(
                input=text,
                model=self._model,
                voice=voice or self._voices[0],
                response_format=cast(OpenAIFormat, fmt),
            ) as response:
                async for chunk in response.iter_bytes():
                    yield chunk
        except openai.OpenAIError as exc:
            raise translate_openai_error(exc) from None
        except httpx2.HTTPError:
            # Once the body streams, a broken connection surfaces as the HTTP client's own
            # error, not as an SDK one.
            raise errors.UpstreamError("OpenAI's voice stopped mid-answer. Try again.") from None
