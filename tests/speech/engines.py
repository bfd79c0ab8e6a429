"""The local speech models, loaded once per test run (each takes a second or two on 2 cores)."""

from __future__ import annotations

import dataclasses
import functools
import os
from typing import TYPE_CHECKING

from fastapi import Request, WebSocket

from parley.deps import get_speech, get_ws_speech
from parley.speech.base import SpeechToText, TextToSpeech
from parley.speech.pcm import local_formats
from parley.speech.piper_local import PiperTTS, load_voice
from parley.speech.services import SpeechServices
from parley.speech.whisper_local import WhisperSTT
from tests.live import LiveServer

if TYPE_CHECKING:
    from piper import PiperVoice


@functools.cache
def whisper() -> WhisperSTT:
    """The offline speech-to-text engine."""
    return WhisperSTT.load(threads=os.cpu_count() or 1)


@functools.cache
def piper_voice() -> PiperVoice:
    """The raw Piper voice, for tests that wrap it."""
    return load_voice()


@functools.cache
def piper() -> PiperTTS:
    """The offline voice engine."""
    return PiperTTS(piper_voice(), formats=local_formats())


def use_local_models(
    server: LiveServer, *, stt: SpeechToText | None = None, tts: TextToSpeech | None = None
) -> None:
    """Give a running server these local engines (default: the shared Whisper and Piper)."""

    def speech_with_models(request: Request) -> SpeechServices:
        built: SpeechServices = request.app.state.services.speech
        return dataclasses.replace(
            built, local_stt=stt or whisper(), local_tts=tts or piper(), closers=[]
        )

    async def ws_speech_with_models(websocket: WebSocket) -> SpeechServices:
        built: SpeechServices = websocket.app.state.services.speech
        return dataclasses.replace(
            built, local_stt=stt or whisper(), local_tts=tts or piper(), closers=[]
        )

    server.app.dependency_overrides[get_speech] = speech_with_models
    server.app.dependency_overrides[get_ws_speech] = ws_speech_with_models
