"""OpenAI transcription with the caller's key, through the app's shared AsyncOpenAI client."""

from __future__ import annotations

import asyncio
import logging
from typing import ClassVar

import openai
from openai import AsyncOpenAI

from parley import errors
from parley.providers.upstream import translate_openai_error
from parley.speech import extras
from parley.speech.base import Transcript
from parley.speech.formats import SNIFF_BYTES, Container, sniff

log = logging.getLogger(__name__)


class OpenAISTT:
    """`POST /v1/audio/transcriptions`; the model is operator configuration."""

    name: ClassVar[str] = "openai"
    needs_key: ClassVar[bool] = True

    def __init__(self, client: AsyncOpenAI, *, model: str, timeout: float = 45.0) -> None:
        self._client = client
        self._model = model
        self._timeout = timeout

    @property
    def label(self) -> str:
        return self._model

    async def transcribe(
        self,
        audio: bytes,
        *,
        content_type: str,
        filename: str,
        api_key: str | None,
        language: str | None = None,
    ) -> Transcript:
        """The words in one recording, as OpenAI hears them."""
        if not api_key:
            raise errors.ApiKeyRequired()
        client = self._client.with_options(api_key=api_key)
        try:
            result = await client.audio.transcriptions.create(
                file=(filename, audio, content_type),
                model=self._model,
                response_format="json",
                language=language or openai.omit,
                timeout=self._timeout,
            )
        except openai.BadRequestError:
            # OpenAI says "Invalid file format" or "Audio file might be corrupted": never
            # pass its words on (error text can quote the key), say what to do instead.
            raise errors.AudioUnreadable(
                "OpenAI could not read that recording. Try recording again."
            ) from None
        except openai.OpenAIError as exc:
            raise translate_openai_error(exc) from None
        detected = result.languages[0].code if result.languages else None
        return Transcript(
            text=result.text.strip(),
            language=detected or language,
            duration_ms=await _duration_ms(result, audio),
        )


async def _duration_ms(result: openai.types.audio.Transcription, audio: bytes) -> int:
    # whisper-1 bills by duration and says how long the audio was; the gpt-4o models bill
    # by tokens and do not, so measure the recording here when PyAV is installed.
    usage = result.usage
    if usage is not None and usage.type == "duration":
        return round(usage.seconds * 1000)
    container = sniff(audio[:SNIFF_BYTES])
    if container is None or not extras.pyav_installed():
        return 0
    return await asyncio.to_thread(_probe, audio, container) or 0


def _probe(audio: bytes, container: Container) -> int | None:
    from parley.speech.codec import probe_duration_ms

    return probe_duration_ms(audio, container)
