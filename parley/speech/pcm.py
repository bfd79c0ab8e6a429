"""Local engines make 16-bit mono PCM; this turns it into a streamable WAV or MP3 body."""

from __future__ import annotations

import struct
from typing import Protocol

from parley.speech import extras

# RIFF and data sizes of a WAV stream whose length is not known yet. Chromium (FFmpeg's WAV
# demuxer) plays such a stream to its end; espeak-ng writes 0x7ffff000 for the same reason.
UNKNOWN_SIZE = 0xFFFFFFFF
WAV_HEADER_BYTES = 44


class PcmEncoder(Protocol):
    def encode(self, pcm: bytes) -> bytes:
        """Bytes to send for these samples (may be empty while the encoder buffers)."""
        ...

    def flush(self) -> bytes:
        """Whatever is left once the last samples are in."""
        ...


def wav_header(sample_rate: int, *, channels: int = 1, sample_width: int = 2) -> bytes:
    """A 44-byte PCM WAV header for a stream whose length is not known yet."""
    block = channels * sample_width
    fmt = struct.pack(
        "<IHHIIHH", 16, 1, channels, sample_rate, sample_rate * block, block, sample_width * 8
    )
    size = struct.pack("<I", UNKNOWN_SIZE)
    return b"RIFF" + size + b"WAVEfmt " + fmt + b"data" + size


def parse_wav_header(head: bytes) -> tuple[int, int, int] | None:
    """(sample_rate, channels, sample_width) of a canonical 44-byte PCM WAV header."""
    if len(head) < WAV_HEADER_BYTES or head[:4] != b"RIFF" or head[8:16] != b"WAVEfmt ":
        return None
    fmt, channels, rate, _, _, bits = struct.unpack("<HHIIHH", head[20:36])
    if fmt != 1 or head[36:40] != b"data" or bits % 8 or not channels:
        return None
    return rate, channels, bits // 8


class WavEncoder:
    """The header first, then the samples as they are."""

    def __init__(self, sample_rate: int) -> None:
        self._header = wav_header(sample_rate)

    def encode(self, pcm: bytes) -> bytes:
        header, self._header = self._header, b""
        return header + pcm

    def flush(self) -> bytes:
        # Nothing was spoken: still a valid (empty) WAV file.
        header, self._header = self._header, b""
        return header


def local_formats() -> tuple[str, ...]:
    """What local engines can stream here: WAV always, MP3 when PyAV has an MP3 encoder."""
    if extras.pyav_installed():
        from parley.speech import codec

        if codec.mp3_encoder_available():
            return ("wav", "mp3")
    return ("wav",)


def pcm_encoder(fmt: str, sample_rate: int) -> PcmEncoder:
    """An encoder for `fmt` (one of `local_formats()`)."""
    if fmt == "mp3":
        from parley.speech import codec

        return codec.Mp3Encoder(sample_rate)
    return WavEncoder(sample_rate)
