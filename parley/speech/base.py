"""The speech interfaces: speech-to-text and text-to-speech engines, each one small Protocol."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import ClassVar, Protocol

# Every format any engine can produce, with the media type it is served as.
MEDIA_TYPES: dict[str, str] = {
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    # OpenAI's raw 24 kHz 16-bit little-endian mono samples.
    "pcm": "audio/L16;rate=24000;channels=1",
}


def too_long_message(max_seconds: float) -> str:
    """What a person hears about a recording over the cap."""
    if max_seconds >= 60:
        length = f"{max_seconds / 60:g} minute{'s' if max_seconds != 60 else ''}"
    else:
        length = f"{max_seconds:g} second{'s' if max_seconds != 1 else ''}"
    return f"That recording is longer than {length}. Say it in a few shorter turns."


def media_type(fmt: str) -> str:
    """The Content-Type for audio in format `fmt` (one of MEDIA_TYPES)."""
    return MEDIA_TYPES[fmt]


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    language: str | None
    duration_ms: int


class SpeechToText(Protocol):
    """Turns one recorded utterance into text; raises `ParleyError`s, never vendor types."""

    name: ClassVar[str]
    needs_key: ClassVar[bool]

    @property
    def label(self) -> str:
        """What /api/health calls this engine, e.g. `whisper-base`."""
        ...

    async def transcribe(
        self,
        audio: bytes,
        *,
        content_type: str,
        filename: str,
        api_key: str | None,
        language: str | None = None,
    ) -> Transcript: ...


class TextToSpeech(Protocol):
    """Speaks text; `synthesize` yields audio bytes as they are made (the first ones early)."""

    name: ClassVar[str]
    needs_key: ClassVar[bool]

    @property
    def formats(self) -> tuple[str, ...]:
        """The formats this engine can make (keys of MEDIA_TYPES); the first is the default."""
        ...

    @property
    def label(self) -> str:
        """What /api/health calls this engine, e.g. `piper:en_US-joe-medium`."""
        ...

    @property
    def voices(self) -> tuple[str, ...]:
        """The voices a request may name; the first is the default."""
        ...

    def synthesize(
        self, text: str, *, voice: str | None, fmt: str, api_key: str | None
    ) -> AsyncIterator[bytes]: ...
