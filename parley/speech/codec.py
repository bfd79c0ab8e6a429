"""Decoding recordings and encoding speech with PyAV (FFmpeg's libraries; no ffmpeg process).

PyAV comes with the `whisper` extra (faster-whisper depends on it). Import this module only
after `extras.pyav_installed()` says it is there.
"""

from __future__ import annotations

import io
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from parley import errors
from parley.speech.base import too_long_message
from parley.speech.formats import Container

# FFmpeg's demuxer for each container. Naming it stops FFmpeg from probing other demuxers:
# some (HLS, concat) follow URLs or file paths written inside the data.
DEMUXERS: dict[Container, str] = {
    "mp4": "mov", "webm": "matroska", "ogg": "ogg", "wav": "wav", "mp3": "mp3"
}
MP3_BIT_RATE = 64_000  # plenty for one voice at 22 kHz


def mp3_encoder_available() -> bool:
    """True when this PyAV build can encode MP3 (libmp3lame)."""
    return "libmp3lame" in av.codec.codecs_available


def decode_mono(
    audio: bytes, container: Container, *, sample_rate: int, max_seconds: float
) -> npt.NDArray[np.float32]:
    """The recording as mono float32 samples at `sample_rate`; raises AudioUnreadable."""
    limit = int(max_seconds * sample_rate)
    resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
    pieces: list[npt.NDArray[np.float32]] = []
    count = 0
    try:
        with _open(audio, container) as source:
            if not source.streams.audio:
                raise errors.AudioUnreadable("That file has no sound in it. Try recording again.")
            frames = source.decode(source.streams.audio[0])
            for frame in _frames_then_flush(frames):
                for out in resampler.resample(frame):
                    samples = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                    pieces.append(samples)
                    count += samples.size
                if count > limit:
                    raise errors.AudioTooLong(too_long_message(max_seconds))
    except av.FFmpegError:
        raise errors.AudioUnreadable() from None
    if count == 0:
        raise errors.AudioUnreadable("That recording has no sound in it. Try recording again.")
    return np.concatenate(pieces)


def _open(audio: bytes, container: Container) -> av.container.InputContainer:
    return av.open(
        io.BytesIO(audio), mode="r", format=DEMUXERS[container], metadata_errors="ignore"
    )


def _frames_then_flush(frames: Any) -> Any:
    # A None at the end flushes the resampler's buffered samples.
    yield from frames
    yield None


def probe_duration_ms(audio: bytes, container: Container) -> int | None:
    """How long a recording lasts, from its packets (no decoding), or None if unknown."""
    try:
        with _open(audio, container) as source:
            if not source.streams.audio:
                return None
            stream = source.streams.audio[0]
            # Chrome's MediaRecorder writes WebM without a duration: add up the packets.
            ticks = 0
            for packet in source.demux(stream):
                ticks += packet.duration or 0
            if ticks and stream.time_base is not None:
                return round(float(ticks * stream.time_base) * 1000)
            if source.duration is not None:
                return round(source.duration / 1000)
    except av.FFmpegError:
        return None
    return None


class Mp3Encoder:
    """Encodes 16-bit mono PCM to MP3 frames piece by piece, so speech can stream as MP3."""

    def __init__(self, sample_rate: int) -> None:
        self._rate = sample_rate
        self._codec = av.CodecContext.create("libmp3lame", "w")
        self._codec.sample_rate = sample_rate
        self._codec.layout = "mono"
        self._codec.format = "s16p"
        self._codec.bit_rate = MP3_BIT_RATE

    def encode(self, pcm: bytes) -> bytes:
        """MP3 bytes for these samples (the encoder keeps a few ms back until `flush`)."""
        samples = np.frombuffer(pcm, dtype="<i2").reshape(1, -1)
        if not samples.size:
            return b""
        frame = av.AudioFrame.from_ndarray(samples, format="s16p", layout="mono")
        frame.sample_rate = self._rate
        return b"".join(bytes(packet) for packet in self._codec.encode(frame))

    def flush(self) -> bytes:
        """The last MP3 frames."""
        return b"".join(bytes(packet) for packet in self._codec.encode(None))
