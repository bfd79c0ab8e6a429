"""Real recordings for speech tests: espeak-ng speaks, PyAV re-encodes as browsers record."""

from __future__ import annotations

import functools
import io
import re
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from parley.speech.formats import Container

QUESTION = "I want to redesign the onboarding flow"


@dataclass(frozen=True)
class Recording:
    """How one browser family records: container, codec and the MIME type it labels with."""

    name: str
    content_type: str
    filename: str
    container: Container  # also the name of PyAV's muxer for it
    codec: str
    rate: int
    options: dict[str, str] | None = None


RECORDINGS = {
    r.name: r
    for r in (
        Recording("wav", "audio/wav", "q.wav", "wav", "pcm_s16le", 16_000),
        # Safari on iOS: AAC in MP4; Chrome's audio/mp4 recorder writes fragmented MP4.
        Recording("mp4", "audio/mp4", "q.m4a", "mp4", "aac", 44_100),
        Recording("mp4-fragmented", "audio/mp4", "q.mp4", "mp4", "aac", 48_000,
                  {"movflags": "frag_keyframe+empty_moov"}),
        # Chrome: Opus in WebM written live, so the file has no duration and no cues.
        Recording("webm", "audio/webm;codecs=opus", "q.webm", "webm", "libopus", 48_000,
                  {"live": "1"}),
        # Firefox: Opus in Ogg.
        Recording("ogg", "audio/ogg;codecs=opus", "q.ogg", "ogg", "libopus", 48_000),
        Recording("mp3", "audio/mpeg", "q.mp3", "mp3", "libmp3lame", 22_050),
    )
}


@functools.cache
def espeak_wav(text: str = QUESTION) -> bytes:
    """`text` spoken by espeak-ng, as a WAV file (22,050 Hz mono)."""
    spoken = subprocess.run(
        ["espeak-ng", "--stdout", "-v", "en-us", "--", text], check=True, capture_output=True
    ).stdout
    return spoken


def speech_then_silence(text: str, path: Path, silence_s: int = 4) -> None:
    """`text` in espeak-ng's voice, then silence, as a WAV file for Chromium's fake
    microphone (`--use-file-for-fake-audio-capture`, which loops the file)."""
    with wave.open(io.BytesIO(espeak_wav(text))) as spoken:
        params = spoken.getparams()
        frames = spoken.readframes(spoken.getnframes())
    with wave.open(str(path), "wb") as out:
        out.setparams(params)
        out.writeframes(frames + b"\0" * params.sampwidth * params.framerate * silence_s)


@functools.cache
def recorded(name: str, text: str = QUESTION) -> bytes:
    """`text` spoken, then encoded the way the `name` recorder would."""
    return encode(espeak_wav(text), RECORDINGS[name])


def encode(wav: bytes, recording: Recording) -> bytes:
    """Re-encode a WAV file into another container and codec, in memory."""
    out = io.BytesIO()
    with av.open(io.BytesIO(wav), "r") as source, av.open(
        out, "w", format=recording.container, options=recording.options or {}
    ) as target:
        stream: Any = target.add_stream(recording.codec, rate=recording.rate)
        stream.layout = "mono"
        resampler = av.AudioResampler(format=stream.format.name, layout="mono",
                                      rate=recording.rate)
        frames: list[Any] = [*source.decode(audio=0), None]
        for frame in frames:
            if frame is not None:
                frame.pts = None
            for resampled in resampler.resample(frame):
                target.mux(stream.encode(resampled))
        target.mux(stream.encode(None))
    return out.getvalue()


def silent_wav(seconds: float, rate: int = 16_000) -> bytes:
    """A WAV file of silence (0 seconds gives a header and no samples)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(bytes(int(seconds * rate) * 2))
    return out.getvalue()


def words(text: str) -> list[str]:
    """Lower-case words without punctuation."""
    return re.findall(r"[a-z']+", text.lower())


def heard(expected: str, transcript: str) -> int:
    """How many of the expected words appear in the transcript."""
    got = set(words(transcript))
    return sum(word in got for word in words(expected))


def decode_pcm(audio: bytes) -> tuple[int, int]:
    """(sample rate, number of samples) of a whole audio file, decoded with PyAV."""
    with av.open(io.BytesIO(audio), "r") as source:
        rate = source.streams.audio[0].codec_context.sample_rate
        samples = sum(frame.samples for frame in source.decode(audio=0))
    return rate, samples


def spoken_pcm(*parts: str | float) -> bytes:
    """16 kHz 16-bit mono PCM, as the page's AudioWorklet streams it: each string spoken by
    espeak-ng, each number that many seconds of silence."""
    import numpy as np

    from parley.speech.codec import decode_mono

    pieces = []
    for part in parts:
        if isinstance(part, str):
            pieces.append(decode_mono(espeak_wav(part), "wav", sample_rate=16_000,
                                      max_seconds=60))
        else:
            pieces.append(np.zeros(int(part * 16_000), dtype=np.float32))
    audio = np.concatenate(pieces)
    return np.clip(np.round(audio * 32767), -32768, 32767).astype("<i2").tobytes()
